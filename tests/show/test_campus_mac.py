"""``show mac address-table`` on every switch of the campus, at ten random instants,
against the table rebuilt independently from mac_events.csv.

The show command prints each switch's own table, copied at that instant while the run
went on; mac_events.csv is the log of what the tables did. They must agree: a binding is
made by learn (or move) and undone by age-out, and nothing else changes what is shown.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

import netsim

ROOT = Path(__file__).resolve().parents[2]
CAMPUS = ROOT / "scenarios" / "campus.yaml"


def replay(events: pd.DataFrame, device: str, t: float) -> set[tuple[int, str, str]]:
    """(vlan, mac, port) of ``device``'s table at ``t``, from the event log alone."""
    table: dict[tuple[int, str], str] = {}
    mine = events[(events["device"] == device) & (events["time"] <= t)]
    for time, event, mac, port, vlan in zip(
        mine["time"], mine["event"], mine["mac"], mine["port"], mine["vlan"], strict=True
    ):
        assert time <= t
        if event in ("learn", "move", "refresh"):
            table[int(vlan), mac] = str(port)
        elif event == "age-out":
            table.pop((int(vlan), mac), None)
    return {(vlan, mac, port) for (vlan, mac), port in table.items()}


def shown(text: str) -> set[tuple[int, str, str]]:
    lines = text.splitlines()
    body = lines[lines.index("----    -----------       --------    -----") + 1 : -1]
    out = set()
    for line in body:
        vlan, mac, _kind, port = line.split()
        digits = mac.replace(".", "")
        colons = ":".join(digits[i : i + 2] for i in range(0, 12, 2))
        out.add((int(vlan), colons, port))
    assert lines[-1] == f"Total Mac Addresses for this criterion: {len(out)}"
    return out


def test_show_matches_the_replayed_event_log_on_every_campus_switch(tmp_path):
    scenario = netsim.load(CAMPUS)
    rng = random.Random(14)
    times = sorted(round(rng.uniform(0.0, scenario.model.duration), 6) for _ in range(10))
    results = netsim.run(scenario, snapshots=times)
    results.save(tmp_path)
    events = pd.read_csv(tmp_path / "mac_events.csv")
    switches = [n for n, spec in scenario.topology.nodes.items() if spec.kind == "switch"]
    assert len(switches) == 11
    non_empty = 0
    for t in times:
        for switch in switches:
            table = shown(results.show(switch, "mac address-table", at=t))
            assert table == replay(events, switch, t), (switch, t)
            non_empty += bool(table)
    assert non_empty > 50  # the tables fill as the PCs start their sessions
