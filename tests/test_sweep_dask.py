"""``netsim sweep`` on a Dask cluster, and the sweep's Parquet copy.

Every point of a sweep is an ordinary deterministic run, so where it runs cannot change
what it produces: one local process, two, or the workers of a Dask cluster reached at a
``tcp://`` address must give byte-identical ``sweep.csv`` files and per-point folders.
The cluster here is a ``distributed.LocalCluster`` with two in-process workers, reached
over real TCP like a remote one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import netsim
from netsim.cli import main
from netsim.sweep import run_sweep, write_parquet

dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'netsim[dask]')")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (sweep.parquet)")

SCENARIO = """
name: sw
duration: 1ms
topology:
  defaults: {link: {speed: 100M, delay: 100ns}}
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, name: probe, from: h1, to: h2, size: [64, 1518], rate: 40%,
     pattern: poisson}
sweep:
  topology.defaults.switch.mode: [store-and-forward, cut-through]
  seed: [1, 2]
"""


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A two-worker Dask cluster in this process, listening on TCP."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


def _folder(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".json")
    }


def test_one_worker_two_workers_and_a_dask_cluster_give_identical_results(
    tmp_path, scheduler, capsys
):
    path = tmp_path / "sweep.yaml"
    path.write_text(SCENARIO)
    runs = {
        "one": ["--workers", "1"],
        "two": ["--workers", "2"],
        "dask": ["--scheduler", scheduler],
    }
    for name, extra in runs.items():
        assert main(["sweep", str(path), "--out", str(tmp_path / name), *extra]) == 0, name
    one, two, dask = (_folder(tmp_path / name) for name in runs)
    assert "sweep.csv" in one
    assert "000-mode=store-and-forward,seed=1/frames.csv" in one
    assert one == two == dask
    tables = [pd.read_parquet(tmp_path / name / "sweep.parquet") for name in runs]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    assert "sweep.parquet" in capsys.readouterr().out


def test_the_sweep_block_can_name_the_cluster(tmp_path, scheduler):
    """``dask: {scheduler: ...}`` in the sweep block does what ``--scheduler`` does."""
    path = tmp_path / "sweep.yaml"
    path.write_text(SCENARIO + f"  dask: {{scheduler: '{scheduler}'}}\n")
    scenario = netsim.load(path)
    assert scenario.model.sweep_cluster is not None
    assert list(scenario.model.sweep_grid) == ["topology.defaults.switch.mode", "seed"]
    on_cluster = run_sweep(scenario)
    local = run_sweep(netsim.loads(SCENARIO), workers=1)
    pd.testing.assert_frame_equal(on_cluster, local)


def test_the_parquet_file_holds_the_sweep_table(tmp_path):
    table = run_sweep(netsim.loads(SCENARIO), workers=1)
    write_parquet(table, tmp_path / "sweep.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sweep.parquet"), table)


def test_a_parameter_of_mixed_types_is_written_as_text(tmp_path):
    """Parquet columns have one type; ``[100M, 1000000]`` becomes text, as in sweep.csv."""
    table = pd.DataFrame({"point": [0, 1], "link.speed": ["100M", 1_000_000], "x": [1.0, 2.0]})
    write_parquet(table, tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert list(back["link.speed"]) == ["100M", "1000000"]
    assert list(back["x"]) == [1.0, 2.0]


@pytest.mark.parametrize(
    ("dask", "message"),
    [
        ("{scheduler: localhost}", "expected a Dask scheduler address like tcp://"),
        ("[tcp://a:1]", "sweep.dask says where to run the sweep"),
        ("{schedular: 'tcp://a:1'}", "did you mean 'scheduler'"),
    ],
)
def test_a_bad_dask_section_is_one_clear_message(tmp_path, capsys, dask, message):
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO + f"  dask: {dask}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert f"{path}:" in err
    assert "Traceback" not in err


def test_an_unreachable_scheduler_is_one_clear_message(tmp_path, capsys):
    """Nothing listens on the discard port: the sweep says so instead of a traceback."""
    path = tmp_path / "sweep.yaml"
    path.write_text(SCENARIO)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(
            ["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"]
        )
    assert code == 2
    err = capsys.readouterr().err
    assert "error: Dask scheduler tcp://127.0.0.1:9: cannot run the sweep there" in err
