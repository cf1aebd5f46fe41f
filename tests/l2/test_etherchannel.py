"""EtherChannel on the live fabric: parallel links between two switches as one port.

A bundle is one logical port: the MAC table learns it, not a member, and a flood sends
one copy into it. Which member carries a frame is a hash of its addresses (Catalyst:
the low three bits of the chosen address, or of two addresses exclusive-or'ed, dealt out
to the members in turn), so a flow always takes one member: it is never reordered and
never gets more than one member's rate, however many members there are. A member that
fails hands its flows to the others at once; with LACP it comes back only once both ends
agree again.
"""

from __future__ import annotations

import ipaddress
import itertools
import shutil
import subprocess
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.l2.etherchannel import ChannelMode, PortChannel
from netsim.l2.frame import Frame, host_mac
from netsim.l2.lacp.hashing import LoadBalance
from netsim.l2.switch import Switch
from netsim.phy.port import Port

HOSTS = 16


def two_switches(
    *,
    members: int = 2,
    mode: str = "on",
    far_mode: str | None = None,
    rate: str = "",
    load_balance: str = "src-mac",
    hosts: int = HOSTS,
    traffic: str = "",
    events: str = "",
    trunk_speed: str = "100M",
    duration: str = "2s",
    capture: str = "",
    switch_mode: str = "store-and-forward",
    member_ber: float = 0.0,
) -> netsim.LoadedScenario:
    """``hosts`` hosts a1.. on sw1 and as many b1.. on sw2; ``members`` links between the
    switches bundled in channel group 1 (``mode`` at sw1, ``far_mode`` at sw2)."""
    lacp = f", lacp_rate: {rate}" if rate else ""
    ports = hosts + members + 1
    nodes = [
        f"    sw1: {{kind: switch, ports: {ports}, port_channel_load_balance: {load_balance},"
        f" interfaces: {{'1-{members}': {{channel_group: 1, channel_mode: {mode}{lacp}}}}}}}",
        f"    sw2: {{kind: switch, ports: {ports}, port_channel_load_balance: {load_balance},"
        f" interfaces: {{'1-{members}': {{channel_group: 1, channel_mode: {far_mode or mode}"
        f"{lacp}}}}}}}",
    ]
    links = [
        f'    - {{endpoints: ["sw1:{i}", "sw2:{i}"], speed: {trunk_speed}, ber: {member_ber}}}'
        for i in range(1, members + 1)
    ]
    for side, switch, net in (("a", "sw1", 1), ("b", "sw2", 2)):
        for i in range(1, hosts + 1):
            nodes.append(f"    {side}{i}: {{kind: host, ip: 10.0.{net}.{i}/16}}")
            links.append(f"    - {{endpoints: [{side}{i}, {switch}], speed: 1G}}")
    nl = "\n"
    return netsim.loads(
        f"""
name: etherchannel
duration: {duration}
topology:
  defaults: {{link: {{delay: 0s}}, switch: {{mode: {switch_mode}}}}}
  nodes:
{nl.join(nodes)}
  links:
{nl.join(links)}
traffic:
{traffic or "  []"}
events:
{events or "  []"}
measure:
  capture: [{capture}]
"""
    )


def flows(
    count: int = 4,
    start: str = "10ms",
    interval: str = "1ms",
    dscp: bool = False,
    hosts: int = HOSTS,
) -> str:
    """One flow of raw frames a_i -> b_i for every host pair."""
    mark = ", dscp: 0" if dscp else ""
    return "\n".join(
        f"  - {{kind: frames, name: f{i}, from: a{i}, to: b{i}, size: 200, count: {count},"
        f" start: {start}, interval: {interval}{mark}}}"
        for i in range(1, hosts + 1)
    )


def member_tx(res: netsim.Results, device: str, members: int) -> list[int]:
    ports = res.ports[res.ports["device"] == device].set_index("port")
    return [int(ports.loc[str(i), "tx_frames"]) for i in range(1, members + 1)]


def catalyst_member(method: str, members: int, i: int, hosts: int = HOSTS) -> int:
    """The member (0-based) a Catalyst picks for flow a_i -> b_i: the low three bits of
    the hashed value are a bucket, and the buckets are dealt to the members in turn."""
    src_mac, dst_mac = host_mac(i), host_mac(hosts + i)  # a1..an, then b1..bn
    src_ip = int(ipaddress.IPv4Address(f"10.0.1.{i}"))
    dst_ip = int(ipaddress.IPv4Address(f"10.0.2.{i}"))
    value = {
        "src-mac": src_mac,
        "dst-mac": dst_mac,
        "src-dst-mac": src_mac ^ dst_mac,
        "src-ip": src_ip,
        "dst-ip": dst_ip,
        "src-dst-ip": src_ip ^ dst_ip,
    }[method]
    return (value & 0b111) % members


@pytest.mark.parametrize("members", [2, 3, 4])
@pytest.mark.parametrize(
    "method", ["src-mac", "dst-mac", "src-dst-mac", "src-ip", "dst-ip", "src-dst-ip"]
)
def test_sixteen_flows_split_over_the_members_exactly_as_the_hash_says(method, members):
    """Each member carries exactly the frames of the flows the hash gives it."""
    count = 4
    res = netsim.run(
        two_switches(
            members=members,
            load_balance=method,
            traffic=flows(count, dscp=method.endswith("ip")),
        )
    )
    expected = Counter(catalyst_member(method, members, i) for i in range(1, HOSTS + 1))
    assert member_tx(res, "sw1", members) == [count * expected[m] for m in range(members)]
    assert (res.frames["outcome"] == "delivered").all()


def test_the_mac_table_learns_the_bundle_and_a_flood_sends_one_copy():
    """The far switch learns a1 on Po1, not on a member; an unknown destination is
    flooded once into the bundle, not once per member."""
    res = netsim.run(
        two_switches(
            members=4,
            hosts=2,
            traffic="  - {kind: frames, from: a1, to: b2, size: 100, count: 1, start: 10ms}",
        )
    )
    learned = res.mac_events[
        (res.mac_events["device"] == "sw2") & (res.mac_events["event"] == "learn")
    ]
    assert learned["port"].tolist() == ["Po1"]
    assert sum(member_tx(res, "sw1", 4)) == 1  # one copy into the bundle
    assert (res.frames["outcome"] == "delivered").all()


@pytest.mark.parametrize("mode", ["store-and-forward", "cut-through", "fragment-free"])
def test_frames_of_each_flow_arrive_in_order_and_on_one_member(mode):
    """Sixteen flows at full tilt through a two-member bundle, in each switching mode:
    every flow's frames arrive in the order they were sent. Bit errors on the members
    are counted on the member that carried the frame (cut-through finds them late)."""
    res = netsim.run(
        two_switches(traffic=flows(count=50, interval="20us"), switch_mode=mode, member_ber=1e-5)
    )
    delivered = res.frames[res.frames["outcome"] == "delivered"]
    lost = res.frames[res.frames["outcome"] == "dropped"]
    assert set(lost["drop_reason"]) <= {"fcs-error"}
    assert len(delivered) + len(lost) == 16 * 50 and 0 < len(lost) < 0.05 * 16 * 50
    # The hosts' links are faster, so even cut-through stores these frames and checks
    # their FCS at sw2: each loss is one FCS error on the member that carried it.
    assert set(lost["drop_device"]) == {"sw2"}
    errors = res.ports.set_index(["device", "port"])["fcs_errors"]
    assert errors[errors > 0].index.tolist() == [("sw2", "1"), ("sw2", "2")]
    assert errors.sum() == len(lost)
    for _, flow in delivered.groupby("traffic"):
        arrivals = flow.sort_values("frame_id")["t_last_bit_in"].tolist()
        assert arrivals == sorted(arrivals)


def test_one_tcp_flow_gets_one_members_rate_two_flows_get_two():
    """A bulk TCP transfer over a 2 x 100M bundle stays under 100 Mb/s: it is one flow on
    one member. Two transfers that hash to different members each get about as much."""
    transfer = "  - {{kind: tcp, name: {n}, from: a{i}, to: b{i}, bytes: 2MB, start: 10ms}}"
    one = netsim.run(two_switches(hosts=2, traffic=transfer.format(n="t1", i=1), duration="5s"))
    both = netsim.run(
        two_switches(
            hosts=2,
            traffic=transfer.format(n="t1", i=1) + "\n" + transfer.format(n="t2", i=2),
            duration="5s",
        )
    )
    alone = float(one.tcp["goodput_bps"].iloc[0])
    assert 80e6 < alone < 100e6
    # a1 and a2 differ in the low bit of their MACs: src-mac puts them on different members.
    assert catalyst_member("src-mac", 2, 1, hosts=2) != catalyst_member("src-mac", 2, 2, hosts=2)
    together = both.tcp.set_index("traffic")["goodput_bps"].astype(float)
    assert all(0.95 * alone < g <= alone * 1.001 for g in together)
    assert together.sum() > 160e6  # more than one member's worth in total


def test_a_failed_member_hands_its_flows_to_the_others_and_takes_them_back():
    """Member 1 of a static bundle goes down at 100 ms and up at 200 ms: meanwhile its
    flows ride member 2, and nothing already sent is lost."""
    events = """
  - {at: 100ms, action: link-down, link: ["sw1:1", "sw2:1"]}
  - {at: 200ms, action: link-up, link: ["sw1:1", "sw2:1"]}"""
    res = netsim.run(
        two_switches(
            traffic=flows(count=30, start="15ms", interval="10ms"), events=events, duration="1s"
        )
    )
    assert (res.frames["outcome"] == "delivered").all()
    lacp = res.extra["lacp"]
    changes = lacp[(lacp["device"] == "sw1") & (lacp["port"] == "1")]["event"].tolist()
    assert changes == ["bundled", "link-down", "link-up"]
    # While member 1 was down (frames sent at 15ms + 10ms*k, k = 9..18), member 2 carried
    # all 16 flows; the other 20 rounds follow the hash.
    on_first = sum(catalyst_member("src-mac", 2, i) == 0 for i in range(1, HOSTS + 1))
    down_rounds = 10
    assert member_tx(res, "sw1", 2) == [
        on_first * (30 - down_rounds),
        (HOSTS - on_first) * (30 - down_rounds) + HOSTS * down_rounds,
    ]


LACP_EVENTS = """
  - {at: 5s, action: link-down, link: ["sw1:1", "sw2:1"]}
  - {at: 8s, action: link-up, link: ["sw1:1", "sw2:1"]}"""


def _state_at(res: netsim.Results, device: str, port: str, t: float) -> str:
    lacp = res.extra["lacp"]
    rows = lacp[(lacp["device"] == device) & (lacp["port"] == port) & (lacp["time"] <= t)]
    return str(rows["flags"].iloc[-1])


def test_lacp_active_passive_bundles_then_recovers_a_member_after_it_re_agrees():
    """Active against passive, fast rate: both members bundle a little after the 2 s
    aggregate wait. Member 1 leaves at once when its link fails, and rejoins 2 s after
    the link returns (the wait, then both ends in sync)."""
    res = netsim.run(
        two_switches(
            mode="active",
            far_mode="passive",
            rate="fast",
            events=LACP_EVENTS,
            duration="12s",
            traffic=flows(count=1, start="3s"),
        )
    )
    assert (res.frames["outcome"] == "delivered").all()
    # LACPDUs are numbered apart (-1, -2, ...): the hosts' frames are still 1, 2, ...
    assert res.frames["frame_id"].tolist() == list(range(1, HOSTS + 1))
    lacp = res.extra["lacp"]
    bundled = lacp[(lacp["event"] == "bundled")]
    assert set(zip(bundled["device"], bundled["port"], strict=True)) == {
        (sw, p) for sw in ("sw1", "sw2") for p in ("1", "2")
    }
    first = bundled.groupby(["device", "port"])["time"].min()
    assert (first > 2.0).all() and (first < 2.01).all()
    assert _state_at(res, "sw1", "1", 5.0) == "D"
    assert _state_at(res, "sw1", "2", 6.0) == "P"
    assert _state_at(res, "sw1", "1", 9.9) == "w"
    rejoined = lacp[
        (lacp["device"] == "sw1") & (lacp["port"] == "1") & (lacp["event"] == "bundled")
    ]
    assert 10.0 < rejoined["time"].max() < 10.01
    summary = res.summary["port_channels"]["sw1"]["Po1"]
    assert summary["state"] == "up" and summary["bundled"] == ["1", "2"]


def test_lacp_passive_passive_never_bundles_and_carries_nothing():
    """Two passive ends never speak (802.1AX: someone must be active): no LACPDU, no
    bundle, the members stay suspended and no frame crosses (no loop either)."""
    res = netsim.run(
        two_switches(
            mode="passive", hosts=1, duration="40s", traffic=flows(count=1, start="35s", hosts=1)
        )
    )
    lacp = res.extra["lacp"]
    assert not lacp["bundled"].any()
    assert set(lacp["flags"]) == {"s"}
    tx = member_tx(res, "sw1", 2) + member_tx(res, "sw2", 2)
    assert tx == [0, 0, 0, 0]
    assert (res.frames["outcome"] == "dropped").all()
    assert set(res.frames["drop_reason"]) == {"no-egress"}
    assert res.summary["port_channels"]["sw1"]["Po1"]["state"] == "down"


def test_slow_lacp_sends_every_30s_and_fast_every_second():
    """Once the bundle is up, LACPDUs come at the rate the partner asked for: every 30 s
    (slow) or every second (fast). (The first few, sent as news, come faster.)"""
    for rate, expected in (("slow", 30.0), ("fast", 1.0)):
        res = netsim.run(
            two_switches(mode="active", rate=rate, hosts=1, duration="200s", capture='"sw1:1"')
        )
        sent = [t for t, frame in res.captures["sw1:1"] if frame.src >> 12 == 0x0201_0000_1]
        gaps = [round(b - a, 6) for a, b in itertools.pairwise(sent[-5:])]
        assert gaps == [expected] * 4
        assert sent[-1] > 200 - expected - 1e-9  # and they keep coming to the end


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_every_lacpdu_captured_on_the_members(tmp_path):
    """The LACPDUs on the wire are real: Wireshark's lacp dissector reads every one of a
    run where a member fails and comes back, with no malformed packet, and reads the
    same actor system, port and state flags the engine sent."""
    res = netsim.run(
        two_switches(
            mode="active",
            far_mode="passive",
            rate="fast",
            hosts=1,
            events=LACP_EVENTS,
            duration="12s",
            capture='"sw1:1", "sw1:2"',
        )
    )
    res.save(tmp_path)
    total = 0
    for name in ("sw1_1.pcap", "sw1_2.pcap"):
        fields = ["frame.protocols", "lacp.actor.sysid", "lacp.actor.port", "lacp.actor.state"]
        out = subprocess.run(
            [str(TSHARK), "-n", "-r", str(tmp_path / "captures" / name), "-T", "fields"]
            + [arg for f in [*fields, "_ws.malformed"] for arg in ("-e", f)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.splitlines()
        rows = [line.split("\t") for line in out]
        assert rows and all(r[0] == "eth:ethertype:slow:lacp" and r[4] == "" for r in rows)
        systems = {r[1] for r in rows}
        assert systems == {"02:01:00:00:10:00", "02:01:00:00:20:00"}
        total += len(rows)
    captured = sum(len(frames) for frames in res.captures.values())
    assert total == captured  # every captured frame is an LACPDU, and each one decodes


def test_the_switch_tells_listeners_when_a_bundle_goes_down_and_up():
    """Spanning tree sees one port per bundle: it hears that the bundle went down only
    when its last member did, and up again with its first member."""
    from netsim.engine.sim import Simulation
    from netsim.topology.build import build

    net = build(two_switches(hosts=1).topology, Simulation(1))
    sw1 = net.devices["sw1"]
    assert isinstance(sw1, Switch) and sw1.channels is not None
    heard: list[tuple[str, bool]] = []
    sw1.channels.listeners.append(lambda channel, up: heard.append((channel.name, up)))
    assert [p.name for p in sw1.logical_ports] == ["Po1", "3", "4"]
    for member, up in (("1", False), ("2", False), ("2", True), ("1", True)):
        port = sw1.port(member)
        assert port.link is not None
        port.link.up = up
        sw1.link_changed(port)
    assert heard == [("Po1", False), ("Po1", True)]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    method=st.sampled_from(list(LoadBalance)),
    up=st.lists(st.booleans(), min_size=8, max_size=8).filter(any),
    src=st.integers(0, 2**48 - 1),
    dst=st.integers(0, 2**48 - 1),
    ips=st.none() | st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
)
def test_a_port_channel_picks_the_member_the_catalyst_rule_names(method, up, src, dst, ips):
    """Whatever members are up and whatever the frame: the bucket is the low three bits
    of the hashed address (the MAC method for a frame without IPv4), and bucket b goes
    to the (b mod n)-th member that distributes, in port order."""

    class Owner:
        name = "sw"

    members = [Port(Owner(), str(i), 0) for i in range(1, 9)]
    channel = PortChannel(Owner(), 1, members, ChannelMode.ON, method)
    for member, on in zip(members, up, strict=True):
        channel.set_distributing(member, on)
    if ips is None:
        frame = Frame(1, dst, src, 64)
    else:
        header = bytes(12) + ips[0].to_bytes(4, "big") + ips[1].to_bytes(4, "big")
        frame = Frame.carrying(1, dst, src, 0x0800, header)
    mac_value = {"src": src, "dst": dst, "src-dst": src ^ dst}
    kind = str(method).rsplit("-", 1)
    if kind[1] == "ip" and ips is not None:
        value = {"src": ips[0], "dst": ips[1], "src-dst": ips[0] ^ ips[1]}[kind[0]]
    else:
        value = mac_value[kind[0]]
    distributing = [m for m, on in zip(members, up, strict=True) if on]
    assert channel.member_for(frame) is distributing[(value & 7) % len(distributing)]


def test_same_scenario_and_seed_give_identical_lacp_records():
    """LACP has no randomness: two runs agree row for row."""
    runs = [
        netsim.run(
            two_switches(mode="active", rate="fast", hosts=1, events=LACP_EVENTS, duration="12s")
        )
        for _ in range(2)
    ]
    assert runs[0].extra["lacp"].equals(runs[1].extra["lacp"])
    assert runs[0].summary["port_channels"] == runs[1].summary["port_channels"]


def test_an_lacp_bundle_of_ten_links_runs_eight_and_keeps_two_in_hot_standby():
    """802.1AX: at most eight links carry frames; the system with the lower ID (sw1,
    02:01:00:00:10:00) picks them by port priority then port number: ports 9 and 10 wait."""
    res = netsim.run(two_switches(members=10, mode="active", rate="fast", hosts=1, duration="5s"))
    ours = res.extra["etherchannel"].set_index(["device", "port"])["flags"]
    for device in ("sw1", "sw2"):
        flags = [ours[(device, str(i))] for i in range(1, 11)]
        assert flags == ["P"] * 8 + ["H", "H"]
    assert res.summary["port_channels"]["sw2"]["Po1"]["bundled"] == [str(i) for i in range(1, 9)]
