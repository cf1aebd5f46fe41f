"""The command line's drawing commands: a topology picture, and a frame's ladder diagram
per switching mode; a frame that does not exist is one clear error."""

from __future__ import annotations

from pathlib import Path

from netsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def test_draw_writes_the_topology(tmp_path, capsys):
    out = tmp_path / "topo.png"
    assert main(["draw", str(ROOT / "scenarios" / "mail-office.yaml"), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)
    assert "9 devices" in capsys.readouterr().out


def test_ladder_draws_one_frame_in_the_three_modes(tmp_path, capsys):
    out = tmp_path / "ladder.png"
    args = ["ladder", str(ROOT / "scenarios" / "two-switches.yaml"), "--frame", "3", "-o", str(out)]
    assert main(args) == 0
    assert out.read_bytes().startswith(PNG)
    assert "store-and-forward, cut-through, fragment-free" in capsys.readouterr().out


def test_ladder_of_a_frame_that_never_was_is_an_error(tmp_path, capsys):
    args = [
        "ladder",
        str(ROOT / "scenarios" / "two-switches.yaml"),
        "--frame",
        "999",
        "-o",
        str(tmp_path / "x.png"),
    ]
    assert main(args) == 2
    assert "--frame 999: frame 999 never crossed a link" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
