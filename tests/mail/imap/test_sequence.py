"""Sequence sets: ``1,3:5,7:*`` names messages by number or UID."""

import pytest

from netsim.mail.imap.sequence import SequenceSet, SequenceSetError, format_set


def test_star_is_the_largest_number_in_use() -> None:
    """'*' stands for the last message, so '2:*' depends on the mailbox size."""
    assert SequenceSet.parse("2:*").resolve(4) == [2, 3, 4]
    assert SequenceSet.parse("*").resolve(9) == [9]


def test_ranges_may_run_backwards_and_overlap() -> None:
    """'5:3' equals '3:5', and repeats are counted once."""
    assert SequenceSet.parse("5:3,4,1").resolve(10) == [1, 3, 4, 5]


def test_uid_range_past_the_end_still_includes_the_last() -> None:
    """RFC 3501 6.4.8: '559:*' contains the last UID even if it is below 559."""
    assert SequenceSet.parse("559:*").contains(42, largest=42)


@pytest.mark.parametrize("text", ["", "0", "1:0", "a", "1,,2", "1:2:3", "-1", "4294967296", "1:"])
def test_malformed_sets_are_rejected(text: str) -> None:
    """Zero, junk and empty items are errors, answered with BAD."""
    with pytest.raises(SequenceSetError):
        SequenceSet.parse(text)


def test_format_collapses_runs() -> None:
    """Responses such as COPYUID write sets compactly."""
    assert format_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert format_set([]) == ""
