"""The teaching notebooks run top to bottom in a fresh kernel, as committed.

Each notebook in notebooks/ is executed with nbclient in a new ``python3`` kernel (the
interpreter running the tests, where netsim is installed), with the notebook's folder as
the working directory. Any exception fails the test; so does a notebook that hangs, or
one committed with outputs (they belong to whoever runs it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = [
    "switching_modes",
    "hub_vs_switch",
    "mac_learning",
    "campus_mail",
    "vlans",
    "qos_span",
    "mail_protocols",
    "redundancy_availability",
]
CELL_TIMEOUT = 600
"""Seconds one cell (or the kernel's start) may take before it counts as hung: generous,
since a kernel took over 60 s just to start on a machine running ten other jobs."""

NOTEBOOK_BUDGET = 600.0
"""Seconds a whole notebook may take, kernel start included: long enough to catch a hang
only, never a busy machine (campus_mail took 71 s with ten other jobs on two cores). How
long each notebook takes is measured by benchmarks/notebooks.py, not asserted here."""


def execute(nb: nbformat.NotebookNode) -> float:
    """Run ``nb`` in place in a fresh python3 kernel; return the wall seconds it took."""
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        startup_timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def test_the_kernel_is_this_interpreter():
    """nbclient's python3 kernel resolves to the test's own interpreter (the venv with
    netsim and ipykernel), not some other Python on the machine."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys, netsim; print(sys.prefix)")]
    execute(nb)
    printed = nb.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.prefix).resolve()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name: str):
    """Every cell runs without error, nothing hangs, and figures appear."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    seconds = execute(nb)
    assert seconds < NOTEBOOK_BUDGET, f"{name} took {seconds:.1f} s"
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert images, f"{name} drew no figure"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean_and_as_built(name: str):
    """Committed without outputs, and identical to what build_notebooks.py writes."""
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build_notebooks
    finally:
        sys.path.remove(str(NOTEBOOKS))
    on_disk = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in on_disk.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
    built = build_notebooks.build(f"{name}.ipynb", build_notebooks.NOTEBOOKS[f"{name}.ipynb"])
    assert nbformat.writes(built) == nbformat.writes(on_disk), "run notebooks/build_notebooks.py"
