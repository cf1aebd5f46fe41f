"""Start-up: a short command loads only what it uses.

``import netsim`` names its API lazily (PEP 562), ``netsim validate`` never touches
pandas, NumPy, networkx or matplotlib, and ``netsim run --no-plots`` of a switched
scenario without IMAP loads none of them, nor the IMAP server: its tables are lists of
plain values, written as CSV and summarised without pandas. A DataFrame (and pandas) is
made when a user asks for one. Time is measured by benchmarks/startup.py; this test
checks which modules a fresh interpreter has loaded, which does not depend on how busy
the machine is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALLEST = ROOT / "scenarios" / "two-switches.yaml"
HEAVY = ("matplotlib", "pandas", "pyarrow", "numpy", "networkx", "netsim.mail.imap", "netsim.api")


def _loaded_after(code: str) -> set[str]:
    """The heavy modules a fresh interpreter holds after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_netsim_loads_nothing_heavy():
    assert _loaded_after("import netsim; netsim.__version__") == set()


def test_the_api_names_still_resolve_on_first_use():
    loaded = _loaded_after("import netsim; netsim.run; netsim.Results; netsim.ScenarioError")
    assert "netsim.api" in loaded
    assert "matplotlib" not in loaded


def test_validate_imports_no_library_for_tables_graphs_or_figures():
    code = f"from netsim.cli import main; assert main(['validate', {str(SMALLEST)!r}]) == 0"
    assert _loaded_after(code) == set()


def test_a_run_without_figures_imports_no_table_graph_or_figure_library(tmp_path):
    out = tmp_path / "out"
    code = (
        "from netsim.cli import main; "
        f"assert main(['run', {str(SMALLEST)!r}, '--out', {str(out)!r}, '--quiet', "
        "'--no-plots']) == 0"
    )
    assert _loaded_after(code) == {"netsim.api"}
    assert (out / "frames.csv").is_file() and (out / "summary.json").is_file()


def test_the_api_makes_its_dataframes_on_first_use():
    run = f"import netsim; res = netsim.run(netsim.load({str(SMALLEST)!r}))"
    assert "pandas" not in _loaded_after(run)
    asked = _loaded_after(
        f"{run}; import pandas as pd; assert isinstance(res.frames, pd.DataFrame)"
    )
    assert "pandas" in asked


def test_background_load_brings_numpy_but_not_pandas(tmp_path):
    scenario = ROOT / "scenarios" / "labs" / "06-loaded-uplink.yaml"
    code = (
        "from netsim.cli import main; "
        f"assert main(['run', {str(scenario)!r}, '--out', {str(tmp_path)!r}, '--quiet', "
        "'--no-plots']) == 0"
    )
    loaded = _loaded_after(code)
    assert "numpy" in loaded and "pandas" not in loaded and "matplotlib" not in loaded


@pytest.mark.parametrize(
    ("command", "expected"), [(["serve-mail", "--help"], "--imap"), (["--help"], "serve-mail")]
)
def test_serve_mail_and_its_options_are_still_there(command, expected, capsys):
    from netsim.cli import main

    with pytest.raises(SystemExit) as done:
        main(command)
    assert done.value.code == 0
    assert expected in capsys.readouterr().out
