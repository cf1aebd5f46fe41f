"""IOS ``show`` commands over a run: the layout of a Catalyst's output, and its content.

The column headers and their order are those of real Catalyst 2960/3750 output as Cisco's
documentation and captured sessions print it (quoted below). The content is checked
against what the lesson scenarios make happen: ``learning-aging`` learns h1 at 6 us, h2
at 1 ms, ages both out 3 ms after they were last seen, then sees h2 again on another port.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netsim
from netsim.cli import main
from netsim.show import ShowError

ROOT = Path(__file__).resolve().parents[2]
LEARNING = ROOT / "scenarios" / "learning-aging.yaml"

# Real IOS output (Catalyst 2960, "show mac address-table dynamic"):
#           Mac Address Table
# -------------------------------------------
#
# Vlan    Mac Address       Type        Ports
# ----    -----------       --------    -----
#    1    0050.7966.6800    DYNAMIC     Gi0/1
# Total Mac Addresses for this criterion: 4
IOS_MAC_HEADER = ["Vlan", "Mac Address", "Type", "Ports"]
# "show interfaces status" (Catalyst 3850 / 2960 sessions):
# Port      Name               Status       Vlan       Duplex  Speed Type
# Gi1/0/2   pi4                connected    trunk      a-full a-1000 10/100/1000BaseTX
IOS_STATUS_HEADER = "Port      Name               Status       Vlan       Duplex  Speed Type"
# "show interfaces counters": an input block, a blank line, an output block.
IOS_COUNTERS_IN = ["Port", "InOctets", "InUcastPkts", "InMcastPkts", "InBcastPkts"]
IOS_COUNTERS_OUT = ["Port", "OutOctets", "OutUcastPkts", "OutMcastPkts", "OutBcastPkts"]


@pytest.fixture(scope="module")
def learning() -> netsim.Results:
    return netsim.run(netsim.load(LEARNING), snapshots=[0.0005, 0.002, 0.0045, 0.009])


def mac_rows(text: str) -> list[tuple[int, str, str, str]]:
    """(vlan, address, type, port) of each entry of ``show mac address-table`` output."""
    lines = text.splitlines()
    start = lines.index("----    -----------       --------    -----") + 1
    rows = []
    for line in lines[start:]:
        if line.startswith("Total Mac Addresses"):
            break
        vlan, mac, kind, port = line.split()
        rows.append((int(vlan), mac, kind, port))
    return rows


def test_mac_address_table_has_the_ios_layout(learning):
    """Title, rule, blank line, headers in IOS's columns, dashes under each, total."""
    text = learning.show("sw1", "mac address-table", at=0.002)
    lines = text.splitlines()
    assert lines[0] == "          Mac Address Table"
    assert lines[1] == "-" * 43
    assert lines[2] == ""
    header = lines[3]
    assert [header[0:4], header[8:19], header[26:30], header[38:43]] == IOS_MAC_HEADER
    assert lines[4] == "----    -----------       --------    -----"
    assert lines[5] == "   1    0200.0000.0001    DYNAMIC     1"
    assert lines[-1] == "Total Mac Addresses for this criterion: 2"


def test_mac_address_table_follows_learning_and_aging(learning):
    """Before h2 speaks only h1 is known; both after; none once aged; h2 on port 4 later."""
    assert mac_rows(learning.show("sw1", "mac address-table", at=0.0005)) == [
        (1, "0200.0000.0001", "DYNAMIC", "1")
    ]
    assert [r[1:] for r in mac_rows(learning.show("sw1", "mac addr", at=0.002))] == [
        ("0200.0000.0001", "DYNAMIC", "1"),
        ("0200.0000.0002", "DYNAMIC", "2"),
    ]
    assert mac_rows(learning.show("sw1", "mac address-table", at=0.0045)) == [
        (1, "0200.0000.0001", "DYNAMIC", "1")
    ]
    assert ("0200.0000.0002", "4") in {
        (mac, port) for _, mac, _, port in mac_rows(learning.show("sw1", "sh mac add", at=0.009))
    }


def test_snapshot_and_replay_give_the_same_table(learning):
    """At a snapshot the switch's own table is shown; elsewhere mac_events are replayed.
    A run without snapshots must print the same tables."""
    plain = netsim.run(netsim.load(LEARNING))
    for t in (0.0005, 0.002, 0.0045, 0.009):
        assert plain.show("sw1", "mac address-table", at=t) == learning.show(
            "sw1", "mac address-table", at=t
        )


def test_mac_address_table_filters(learning):
    """``interface``, ``address``, ``vlan`` and ``dynamic`` narrow the table as on IOS."""
    only_port_2 = mac_rows(learning.show("sw1", "mac address-table interface 2", at=0.002))
    assert only_port_2 == [(1, "0200.0000.0002", "DYNAMIC", "2")]
    by_address = learning.show("sw1", "mac address-table address 02:00:00:00:00:01", at=0.002)
    assert [r[1] for r in mac_rows(by_address)] == ["0200.0000.0001"]
    assert mac_rows(learning.show("sw1", "mac address-table vlan 7", at=0.002)) == []
    assert len(mac_rows(learning.show("sw1", "mac address-table dynamic", at=0.002))) == 2
    with pytest.raises(ShowError, match="expected a VLAN number"):
        learning.show("sw1", "mac address-table vlan x")


def test_interfaces_status_has_the_ios_columns(learning):
    """Header as IOS prints it; a cabled port is connected, at its speed and duplex."""
    lines = learning.show("sw1", "interfaces status").splitlines()
    assert lines[0] == IOS_STATUS_HEADER
    port1 = lines[1]
    assert port1.split() == ["1", "h1", "connected", "1", "full", "100", "10/100BaseTX"]
    # Columns start where the header's do.
    assert port1.index("connected") == lines[0].index("Status")
    assert port1.index("10/100BaseTX") == lines[0].index("Type")


def test_interfaces_counters_count_the_frames_a_port_saw(learning):
    """At 0.5 ms only h1's first frame has crossed sw1: in on port 1, flooded out of the
    others; 64 octets each. At the end the counters are ports.csv's."""
    text = learning.show("sw1", "interfaces counters", at=0.0005)
    blocks = text.split("\n\n")
    inbound, outbound = blocks[0].splitlines(), blocks[1].splitlines()
    assert inbound[0].split() == IOS_COUNTERS_IN
    assert outbound[0].split() == IOS_COUNTERS_OUT
    assert inbound[1].split() == ["1", "64", "1", "0", "0"]
    assert outbound[1].split() == ["1", "0", "0", "0", "0"]
    assert outbound[2].split() == ["2", "64", "1", "0", "0"]
    end = learning.show("sw1", "interfaces counters").split("\n\n")[0].splitlines()
    ports = learning.ports[learning.ports["device"] == "sw1"]
    for line, (_, row) in zip(end[1:], ports.iterrows(), strict=True):
        assert line.split() == [
            str(row["port"]),
            str(row["rx_octets"]),
            str(row["rx_unicast"]),
            str(row["rx_multicast"]),
            str(row["rx_broadcast"]),
        ]


def test_counters_at_a_time_not_recorded_say_how_to_record_them():
    results = netsim.run(netsim.load(LEARNING))
    with pytest.raises(ShowError, match=r"snapshots=\[0.002\]"):
        results.show("sw1", "interfaces counters", at=0.002)


def test_bad_device_and_command_are_one_clear_error(learning):
    with pytest.raises(ShowError, match="no device 'sw9'"):
        learning.show("sw9", "mac address-table")
    with pytest.raises(ShowError, match="unknown show command 'mac adress-table'"):
        learning.show("sw1", "mac adress-table")
    with pytest.raises(ShowError, match="h1 is a host, not a switch"):
        learning.show("h1", "mac address-table")


def test_cli_prints_the_table_at_a_time(capsys):
    status = main(["show", str(LEARNING), "--at", "2ms", "sw1", "mac", "address-table"])
    out = capsys.readouterr().out
    assert status == 0
    assert out.splitlines()[0] == "sw1#show mac address-table    ! at 0.002 s"
    assert [r[1] for r in mac_rows(out)] == ["0200.0000.0001", "0200.0000.0002"]


def test_cli_counters_at_a_time(capsys):
    assert main(["show", str(LEARNING), "--at", "500us", "sw1", "int", "counters"]) == 0
    assert "InUcastPkts" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "2 parsecs", "sw1", "mac", "address-table"], "unknown time unit"),
        (["sw9", "mac", "address-table"], "no device 'sw9'"),
        (["sw1", "spanning-tree"], "sw1 runs no spanning tree in this run"),
    ],
)
def test_cli_mistakes_are_one_line_and_status_2(argv, message, capsys):
    assert main(["show", str(LEARNING), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


CLEARED = """
name: cleared
duration: 10ms
topology:
  nodes:
    h1: {kind: host}
    h2: {kind: host}
    sw1: {kind: switch, ports: 4}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [h2, sw1]
traffic:
  - {kind: frames, from: h1, to: h2, count: 1}
  - {kind: frames, from: h2, to: h1, count: 1, start: 1ms}
  - {kind: frames, from: h1, to: h2, count: 1, start: 5ms}
events:
  - {at: 3ms, action: clear-mac-table, device: sw1}
"""


def test_clear_mac_address_table_empties_the_table_and_the_log_says_so():
    """``clear mac address-table dynamic`` at 3 ms: the table is empty until h1 speaks
    again at 5 ms. The event log records the clearing, so a replay agrees."""
    scenario = netsim.loads(CLEARED)
    snapped = netsim.run(scenario, snapshots=[0.002, 0.004, 0.006])
    plain = netsim.run(scenario)
    assert len(mac_rows(snapped.show("sw1", "mac address-table", at=0.002))) == 2
    assert mac_rows(snapped.show("sw1", "mac address-table", at=0.004)) == []
    assert [r[1] for r in mac_rows(snapped.show("sw1", "mac address-table", at=0.006))] == [
        "0200.0000.0001"
    ]
    for t in (0.002, 0.004, 0.006):
        assert plain.show("sw1", "mac addr", at=t) == snapped.show("sw1", "mac addr", at=t)


VLANS = """
name: vlans
duration: 1ms
topology:
  nodes:
    sw1:
      kind: switch
      model: WS-C2960-24TT-L
      interfaces:
        Fa0/1-12: {vlan: 10}
        Fa0/13-24: {vlan: 20}
        Gi0/1: {mode: trunk, allowed: [10, 20, 30]}
    h1: {kind: host}
  links:
    - endpoints: [h1, "sw1:Fa0/1"]
"""
# Catalyst "show vlan brief":
# VLAN Name                             Status    Ports
# ---- -------------------------------- --------- -------------------------------
# 1    default                          active    Fa0/1, Fa0/2, Fa0/3, Fa0/4
#                                                 Fa0/5, Fa0/6, Fa0/7, Fa0/8
# 1002 fddi-default                     act/unsup
EXPECTED_VLAN_BRIEF = """\
VLAN Name                             Status    Ports
---- -------------------------------- --------- -------------------------------
1    default                          active    Gi0/2
10   VLAN0010                         active    Fa0/1, Fa0/2, Fa0/3, Fa0/4
                                                Fa0/5, Fa0/6, Fa0/7, Fa0/8
                                                Fa0/9, Fa0/10, Fa0/11, Fa0/12
20   VLAN0020                         active    Fa0/13, Fa0/14, Fa0/15, Fa0/16
                                                Fa0/17, Fa0/18, Fa0/19, Fa0/20
                                                Fa0/21, Fa0/22, Fa0/23, Fa0/24
30   VLAN0030                         active
1002 fddi-default                     act/unsup
1003 token-ring-default               act/unsup
1004 fddinet-default                  act/unsup
1005 trnet-default                    act/unsup
"""


def test_vlan_brief_lists_access_ports_per_vlan_as_ios_does():
    """Access ports under their VLAN, four to a line; the trunk Gi0/1 under none, but the
    VLANs it carries exist; VLAN 1 keeps the unconfigured port."""
    results = netsim.run(netsim.loads(VLANS))
    assert results.show("sw1", "show vlan brief") == EXPECTED_VLAN_BRIEF
    status = results.show("sw1", "interfaces status").splitlines()
    at = status[0].index("Vlan")
    vlan_column = {line.split()[0]: line[at : at + 11].strip() for line in status[1:]}
    assert vlan_column["Fa0/1"] == "10"
    assert vlan_column["Fa0/24"] == "20"
    assert vlan_column["Gi0/1"] == "trunk"
    assert vlan_column["Gi0/2"] == "1"


def test_an_unplugged_catalog_port_keeps_its_type():
    """A WS-C2960-24TT-L's free Fa0/2 is still a 10/100BaseTX port, its Gi0/2 a
    10/100/1000BaseTX one: IOS prints the port's hardware, plugged in or not."""
    status = netsim.run(netsim.loads(VLANS)).show("sw1", "interfaces status").splitlines()
    rows = {line.split()[0]: line for line in status[1:]}
    assert rows["Fa0/2"].split()[1:] == ["notconnect", "10", "auto", "auto", "10/100BaseTX"]
    assert rows["Gi0/2"].endswith(" 10/100/1000BaseTX")
