"""The name:password user file."""

from pathlib import Path

import pytest

from netsim.mail.users import UserFileError, Users


def test_load_and_check(tmp_path: Path) -> None:
    """Comments and blank lines are skipped; passwords may contain colons."""
    path = tmp_path / "users"
    path.write_text("# staff\nalice:pa:ss\n\nbob:x\n")
    users = Users.load(path)
    assert users.names() == ["alice", "bob"]
    assert users.check("alice", "pa:ss") and not users.check("alice", "pa")
    assert not users.check("nobody", "x")


@pytest.mark.parametrize("text", ["alice\n", ":pw\n", "a:1\na:2\n", "", "a b:c\n"])
def test_bad_files_name_the_line(tmp_path: Path, text: str) -> None:
    """Each problem is one clear error naming the file."""
    path = tmp_path / "users"
    path.write_text(text)
    with pytest.raises(UserFileError, match=str(path)):
        Users.load(path)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is a UserFileError too, not an OSError traceback."""
    with pytest.raises(UserFileError):
        Users.load(tmp_path / "nope")
