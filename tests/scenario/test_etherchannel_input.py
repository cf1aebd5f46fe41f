"""EtherChannel in a scenario file: ``channel_group``, ``channel_mode``, ``lacp_rate`` on
interfaces and ``port_channel_load_balance`` on a switch, and the mistakes they allow.

Two parallel links between two switches are a loop, refused as such, unless both ends of
both links are in one channel group each: then they are one logical link. The members of a
bundle must agree (one peer switch, one speed, full duplex, static or LACP at both ends);
each mistake is one message naming the file, the line and the YAML path.
"""

from __future__ import annotations

import pytest

import netsim
from netsim.cli import main
from netsim.l2.etherchannel import ChannelMember, ChannelMode
from netsim.l2.lacp.engine import Rate


def scenario(
    sw1: str = "{channel_group: 1, channel_mode: active}",
    sw2: str = "{channel_group: 1, channel_mode: active}",
    *,
    members: str = "1-2",
    extra_nodes: str = "",
    links: str = '    - {endpoints: ["sw1:1", "sw2:1"]}\n    - {endpoints: ["sw1:2", "sw2:2"]}\n',
    sw1_extra: str = "",
    ports: int = 8,
) -> str:
    return f"""\
name: bundle
duration: 1ms
topology:
  nodes:
    sw1:
      kind: switch
      ports: {ports}{sw1_extra}
      interfaces:
        {members}: {sw1}
    sw2:
      kind: switch
      ports: {ports}
      interfaces:
        {members}: {sw2}
{extra_nodes}  links:
{links}"""


def problems(text: str) -> str:
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text, "bundle.yaml")
    return str(caught.value)


def test_a_bundle_of_parallel_links_is_one_logical_link_not_a_loop():
    """Two cables between sw1 and sw2, both ends in channel group 1: accepted."""
    topo = netsim.loads(
        scenario(sw1_extra="\n      port_channel_load_balance: src-dst-ip")
    ).topology
    assert len(topo.links) == 2
    sw1 = topo.nodes["sw1"]
    assert sw1.interface("1").channel == ChannelMember(1, ChannelMode.ACTIVE, Rate.SLOW)
    assert str(sw1.load_balance) == "src-dst-ip"
    assert str(topo.nodes["sw2"].load_balance) == "src-mac"  # the Catalyst default


def test_mode_on_may_be_written_bare_as_yaml_reads_it():
    """``channel_mode: on`` is a boolean to YAML 1.1; it still means mode on."""
    topo = netsim.loads(
        scenario("{channel_group: 1, channel_mode: on}", "{channel_group: 1, channel_mode: on}")
    ).topology
    assert topo.nodes["sw2"].interface("2").channel == ChannelMember(1, ChannelMode.ON)


def test_parallel_links_without_a_bundle_are_a_loop_that_spanning_tree_breaks():
    """Two cables between two switches and no channel group: a loop, so both switches run
    spanning tree (802.1D on a generic switch) and one of the two ports ends up blocked."""
    text = scenario("{vlan: 1}", "{vlan: 1}").replace("duration: 1ms", "duration: 40s")
    res = netsim.run(netsim.loads(text, name="bundle.yaml"))
    ports = res.summary["spanning_tree"]["instances"]["0"]["ports"]
    states = sorted(p["state"] for name, p in ports.items())
    assert states.count("blocking") == 1 and states.count("forwarding") == 3


def test_a_switch_runs_spanning_tree_over_a_port_channel():
    """A bundle is one port for spanning tree: a switch with port-channel members may run
    it (the tree itself is tested in tests/l2/stp/test_etherchannel_stp.py)."""
    text = scenario(
        "{channel_group: 1, channel_mode: on}",
        "{channel_group: 1, channel_mode: on}",
        sw1_extra="\n      spanning_tree: {mode: rstp}",
    )
    assert str(netsim.loads(text).topology.nodes["sw1"].spanning_tree.mode) == "rstp"


def test_the_members_of_a_bundle_must_agree_on_their_spanning_tree_settings():
    """The bundle has one cost and one port priority: members that differ are refused."""
    text = """\
name: bundle
duration: 1ms
topology:
  defaults: {switch: {spanning_tree: {mode: rstp}}}
  nodes:
    sw1:
      kind: switch
      ports: 4
      interfaces:
        1: {channel_group: 1, channel_mode: on}
        2: {channel_group: 1, channel_mode: on, spanning_tree: {cost: 100}}
    sw2: {kind: switch, ports: 4, interfaces: {1-2: {channel_group: 1, channel_mode: on}}}
  links:
    - {endpoints: ["sw1:1", "sw2:1"]}
    - {endpoints: ["sw1:2", "sw2:2"]}
"""
    message = problems(text)
    assert "topology.nodes.sw1.interfaces: sw1 Port-channel1 is one port for spanning tree" in (
        message
    )
    assert "(1, 2) must have the same spanning_tree settings" in message


@pytest.mark.parametrize(
    ("sw1", "sw2", "expected"),
    [
        (
            "{channel_group: 1}",
            "{channel_group: 1, channel_mode: active}",
            "bundle.yaml:9: topology.nodes.sw1.interfaces.1-2.channel_group: a channel group "
            "needs channel_mode: on (static), active or passive (LACP)",
        ),
        (
            "{channel_mode: active}",
            "{channel_group: 1, channel_mode: active}",
            "topology.nodes.sw1.interfaces.1-2.channel_mode: 'channel_mode' needs channel_group",
        ),
        (
            "{channel_group: 1, channel_mode: on, lacp_rate: fast}",
            "{channel_group: 1, channel_mode: on}",
            "topology.nodes.sw1.interfaces.1-2.lacp_rate: lacp_rate is an LACP setting",
        ),
        (
            "{channel_group: 49, channel_mode: active}",
            "{channel_group: 1, channel_mode: active}",
            "channel groups are 1..48, not 49",
        ),
        (
            "{channel_group: 1, channel_mode: on}",
            "{channel_group: 1, channel_mode: active}",
            "sw1 Port-channel1: sw1:1 and sw2:1 disagree: mode on at one end and LACP",
        ),
        (
            "{channel_group: 1, channel_mode: active}",
            "{vlan: 1}",
            "sw1 Port-channel1: member 1 goes to sw2:1, which is not in a channel group",
        ),
        (
            "{channel_group: 1, channel_mode: banana}",
            "{channel_group: 1, channel_mode: active}",
            "channel_mode: input should be 'on', 'active' or 'passive'",
        ),
    ],
)
def test_each_mistake_is_one_clear_message(sw1, sw2, expected):
    assert expected in problems(scenario(sw1, sw2))


def test_members_must_go_to_one_peer_switch():
    """Group 1 on sw1 with one link to sw2 and one to sw3: two bundles in one group."""
    message = problems(
        scenario(
            sw2="{channel_group: 1, channel_mode: active}",
            extra_nodes=(
                "    sw3: {kind: switch, ports: 8, interfaces: "
                "{'1-2': {channel_group: 1, channel_mode: active}}}\n"
            ),
            links=(
                '    - {endpoints: ["sw1:1", "sw2:1"]}\n    - {endpoints: ["sw1:2", "sw3:1"]}\n'
            ),
        )
    )
    assert (
        "topology.nodes.sw1.interfaces: sw1 Port-channel1: members go to sw2 Port-channel1 "
        "and sw3 Port-channel1" in message
    )


def test_members_must_have_one_speed_and_run_full_duplex():
    mixed = scenario(
        links=(
            '    - {endpoints: ["sw1:1", "sw2:1"], speed: 100M}\n'
            '    - {endpoints: ["sw1:2", "sw2:2"], speed: 1G}\n'
        )
    )
    assert "sw1 Port-channel1: members must have one speed, not 100M, 1000M" in problems(mixed)
    half = scenario(
        links=(
            '    - {endpoints: ["sw1:1", "sw2:1"], duplex: half}\n'
            '    - {endpoints: ["sw1:2", "sw2:2"]}\n'
        )
    )
    assert "member 1 must run full duplex (802.1AX)" in problems(half)


def test_at_most_eight_static_members_and_sixteen_lacp_members():
    links = "".join(f'    - {{endpoints: ["sw1:{i}", "sw2:{i}"]}}\n' for i in range(1, 10))
    on = "{channel_group: 1, channel_mode: on}"
    message = problems(scenario(on, on, members="1-9", links=links, ports=16))
    assert "sw1 Port-channel1 has 9 members; at most 8 (8 active)" in message
    lacp = "{channel_group: 1, channel_mode: active}"
    assert (
        len(netsim.loads(scenario(lacp, lacp, members="1-9", links=links, ports=16)).topology.links)
        == 9
    )


def test_validate_reports_a_bad_bundle_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "bundle.yaml"
    path.write_text(scenario("{channel_group: 1, channel_mode: on}", "{vlan: 1}"))
    assert main(["validate", str(path)]) != 0
    err = capsys.readouterr().err
    assert "which is not in a channel group" in err and "Traceback" not in err
