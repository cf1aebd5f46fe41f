"""DHCP in a running network: ``ip: dhcp`` hosts, a router's pools, relays across routers.

A campus of 72 hosts on six floors (three served directly by the core router, three
behind an edge router relaying with ``helper:``) must end with 72 distinct addresses,
each from its own floor's subnet. The first packets of a host, captured, are DISCOVER,
OFFER, REQUEST, ACK as tshark decodes them, with valid checksums. A pool too small for
its floor warns, and the hosts left without an address fail their traffic cleanly.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

import netsim
from netsim.cli import main
from netsim.metrics.pcap import write_pcap
from tests.l3.wire import CHECKS, TSHARK

FLOORS = 6
HOSTS_PER_FLOOR = 12


def campus(per_floor: int = HOSTS_PER_FLOOR, floor1_range: str = "") -> str:
    """Floors 1-3 on the core router, 4-6 on the edge router (relayed to the core)."""
    nodes, links = [], []
    for f in range(1, FLOORS + 1):
        nodes.append(f"    sw{f}: {{kind: switch, ports: {per_floor + 2}}}")
        for h in range(per_floor):
            nodes.append(f"    pc{f}x{h}: {{kind: host, ip: dhcp}}")
            links.append(f"    - endpoints: [pc{f}x{h}, sw{f}]")
        router, port = ("core", f - 1) if f <= 3 else ("edge", f - 4)
        links.append(f'    - endpoints: ["{router}:Gi0/{port}", sw{f}]')
    pools = "\n".join(
        f"        - {{name: floor{f}, network: 10.1.{f}.0/24, gateway: 10.1.{f}.1"
        + (floor1_range if f == 1 else "")
        + "}"
        for f in range(1, FLOORS + 1)
    )
    return f"""\
name: dhcp-campus
duration: 3s
topology:
  nodes:
    mail: {{kind: host, ip: 10.1.99.25/24, gateway: 10.1.99.1}}
    dc: {{kind: switch, ports: 4}}
{chr(10).join(nodes)}
    core:
      kind: router
      ports: 6
      interfaces:
        Gi0/0: {{ip: 10.1.1.1/24}}
        Gi0/1: {{ip: 10.1.2.1/24}}
        Gi0/2: {{ip: 10.1.3.1/24}}
        Gi0/3: {{ip: 10.1.0.1/30}}
        Gi0/4: {{ip: 10.1.99.1/24}}
      routes:
        - {{to: 10.1.4.0/22, via: 10.1.0.2}}
      dhcp:
{pools}
    edge:
      kind: router
      interfaces:
        Gi0/0: {{ip: 10.1.4.1/24, helper: 10.1.0.1}}
        Gi0/1: {{ip: 10.1.5.1/24, helper: 10.1.0.1}}
        Gi0/2: {{ip: 10.1.6.1/24, helper: 10.1.0.1}}
        Gi0/3: {{ip: 10.1.0.2/30}}
      routes: [{{to: default, via: 10.1.0.1}}]
  links:
    - endpoints: [mail, dc]
    - endpoints: ["core:Gi0/4", dc]
    - endpoints: ["core:Gi0/3", "edge:Gi0/3"]
{chr(10).join(links)}
"""


def test_72_campus_hosts_get_unique_addresses_from_their_own_subnets() -> None:
    res = netsim.run(netsim.loads(campus()))
    dhcp = res.extra["dhcp"]
    assert len(dhcp) == 72
    assert (dhcp["state"] == "bound").all()
    assert dhcp["address"].is_unique
    for row in dhcp.itertuples():
        floor = int(row.host[2 : row.host.index("x")])
        assert ipaddress.IPv4Interface(row.address).network == ipaddress.IPv4Network(
            f"10.1.{floor}.0/24"
        ), row
        assert row.gateway == f"10.1.{floor}.1"
    assert res.summary["dhcp"]["unconfigured"] == 0
    assert "warnings" not in res.summary["dhcp_pools"] or not res.summary["dhcp_pools"]["warnings"]


def test_an_exhausted_pool_warns_and_its_extra_hosts_fail_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Floor 1's pool has 8 addresses for 12 hosts: 4 stay unconfigured, nothing crashes,
    and a ping from one of them is a timeout, never a wrong answer."""
    text = campus(floor1_range=", range: [10.1.1.10, 10.1.1.17]")
    text += "traffic:\n" + "".join(
        f"  - {{kind: ping, from: pc1x{h}, to: mail, count: 2, start: 1s}}\n" for h in range(12)
    )
    res = netsim.run(netsim.loads(text))
    dhcp = res.extra["dhcp"].set_index("host")
    floor1 = dhcp.loc[[f"pc1x{h}" for h in range(12)]]
    assert floor1["address"].notna().sum() == 8
    assert (floor1[floor1["address"].isna()]["state"] == "selecting").all()
    pools = res.extra["dhcp_pools"].set_index("pool")
    assert pools.loc["floor1", "refused"] == 4
    assert res.summary["dhcp_pools"]["warnings"] == [
        "pool floor1 exhausted: 4 client(s) got no address"
    ]
    ping = res.ping
    unconfigured = set(floor1[floor1["address"].isna()].index)
    theirs = ping[ping["src"].isin(unconfigured)]
    assert len(theirs) == 8 and (theirs["outcome"] == "timeout").all()
    assert (ping[~ping["src"].isin(unconfigured)]["outcome"] == "reply").all()
    scenario = tmp_path / "exhausted.yaml"
    scenario.write_text(text)
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: DHCP pool floor1 exhausted: 4 client(s) got no address" in err


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_a_hosts_first_packets_are_discover_offer_request_ack(tmp_path: Path) -> None:
    """Captured on a relayed floor, decoded by tshark with IP and UDP checksums checked."""
    text = campus(per_floor=1) + 'measure:\n  capture: ["sw4:1"]\n'
    res = netsim.run(netsim.loads(text))
    pcap = tmp_path / "floor4.pcap"
    frames = [(t, f.to_bytes()[:-4]) for t, f in res.captures["sw4:1"]]
    write_pcap(pcap, frames)
    command = [str(TSHARK), "-n", "-r", str(pcap), *CHECKS, "-Y", "dhcp", "-T", "fields"]
    for field in (
        "dhcp.option.dhcp",
        "udp.srcport",
        "udp.dstport",
        "udp.checksum.status",
        "ip.checksum.status",
        "dhcp.ip.your",
        "dhcp.ip.relay",
        "_ws.malformed",
    ):
        command += ["-e", field]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line]
    assert rows == [
        ["1", "68", "67", "1", "1", "0.0.0.0", "0.0.0.0", ""],
        ["2", "67", "68", "1", "1", "10.1.4.2", "10.1.4.1", ""],
        ["3", "68", "67", "1", "1", "0.0.0.0", "0.0.0.0", ""],
        ["5", "67", "68", "1", "1", "10.1.4.2", "10.1.4.1", ""],
    ]


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "pc1x0: {kind: host, ip: dhcp}",
            "pc1x0: {kind: host, ip: dhcp, gateway: 10.1.1.1}",
            "topology.nodes.pc1x0.gateway",
            "gets its address and gateway by DHCP",
        ),
        (
            "network: 10.1.2.0/24, gateway: 10.1.2.1",
            "network: 10.1.2.0/24, gateway: 10.1.3.1",
            "topology.nodes.core.dhcp[1].gateway",
            "gateway 10.1.3.1 is outside 10.1.2.0/24",
        ),
        (
            "Gi0/0: {ip: 10.1.4.1/24, helper: 10.1.0.1}",
            "Gi0/0: {ip: 10.1.4.1/24, helper: core}",
            "topology.nodes.edge.interfaces.Gi0/0.helper",
            "not an IPv4 address: 'core'",
        ),
    ],
)
def test_bad_dhcp_settings_name_the_path(old: str, new: str, path: str, words: str) -> None:
    text = campus(per_floor=1)
    assert old in text
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text.replace(old, new))
    messages = [str(p) for p in caught.value.problems]
    assert any(path in m and words in m for m in messages), messages


def test_traffic_to_a_dhcp_host_is_refused_before_the_run() -> None:
    """Its address exists only once the run has started: one clear message."""
    text = campus(per_floor=1) + "traffic:\n  - {kind: ping, from: mail, to: pc1x0}\n"
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    (problem,) = caught.value.problems
    assert problem.path == "traffic[0].to"
    assert "pc1x0 takes its address by DHCP" in problem.message
