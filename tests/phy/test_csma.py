"""Shared Ethernet: Q stations on one hub, all with frames to send (CSMA/CD, 10 Mb/s).

Metcalfe and Boggs (1976) model the efficiency of such a channel as

    A = (1 - 1/Q)**(Q - 1),  W = (1 - A) / A,  E = (P/C) / (P/C + W*T)

where P is the packet length in bits, C the rate and T the 51.2 us slot: every packet is
preceded on average by W contention slots, each costing a full slot time.

Tolerances, and why:
- 1518-byte frames: within 0.05 of the model. A contention period is tiny next to a
  1.2 ms frame, so model and simulation both sit near capacity.
- 64-byte frames: between the model and 0.80. The model is a lower bound here: it charges
  every contention a full slot and has all Q stations contend for every packet. On a short
  segment a collision costs only the 32-bit jam and a few bit times, and truncated binary
  exponential backoff lets the last winner send again while the losers wait out their
  backoff (the capture effect). Measured Ethernets (Boggs, Mogul & Kent 1988) likewise
  stay well above the model for small packets, degrading as hosts are added.
In both cases utilization must fall as Q grows: for 64-byte frames at every step; for
1518-byte frames from 2 stations to more, since the model itself falls by only 0.004
from 8 to 24 stations, less than one run's noise.
"""

from __future__ import annotations

import pytest

import netsim

SLOT = 51.2e-6
RATE = 10e6


def metcalfe_boggs(q: int, frame_bytes: int) -> float:
    a = (1 - 1 / q) ** (q - 1)
    w = (1 - a) / a
    p = frame_bytes * 8 / RATE
    return p / (p + w * SLOT)


def shared(q: int, size: int, duration: float, device: str = "hub") -> netsim.LoadedScenario:
    """Q saturated stations sending to one sink, on a hub (or on a switch)."""
    stations = "\n".join(f"    s{i}: {{kind: host}}" for i in range(q))
    links = "\n".join(
        f"    - {{endpoints: [s{i}, dev], media: 10BASE-T, length: 10m}}" for i in range(q)
    )
    # Offer 3x what the channel can carry in total, so every station always has a frame.
    rate = min(100.0, 300.0 / q)
    if device == "hub":
        traffic = [
            f"  - {{kind: frames, from: s{i}, to: sink, size: {size}, rate: {rate:g}%}}"
            for i in range(q)
        ]
    else:
        # On a switch every station gets its own collision-free port: pair them up.
        traffic = [
            f"  - {{kind: frames, from: s{i}, to: s{i ^ 1}, size: {size}, rate: 100%}}"
            for i in range(q)
        ]
    return netsim.loads(
        f"""
name: shared
duration: {duration}s
topology:
  defaults: {{host: {{buffer: 10KB}}}}
  nodes:
    dev: {{kind: {device}, ports: {q + 1}}}
    sink: {{kind: host}}
{stations}
  links:
    - {{endpoints: [sink, dev], media: 10BASE-T, length: 10m}}
{links}
traffic:
{chr(10).join(traffic)}
"""
    )


def utilization(res: netsim.Results, duration: float) -> float:
    """Frame bits delivered within the window, over the channel's capacity."""
    f = res.frames
    ok = f[(f["outcome"] == "delivered") & (f["t_last_bit_in"] <= duration)]
    return float(ok["size"].sum() * 8 / (RATE * duration))


@pytest.mark.parametrize(("size", "duration"), [(64, 0.2), (1518, 1.0)])
def test_hub_utilization_falls_with_stations_and_stays_near_metcalfe_boggs(size, duration):
    measured = []
    for q in (2, 8, 24):
        res = netsim.run(shared(q, size, duration))
        u = utilization(res, duration)
        model = metcalfe_boggs(q, size)
        if size == 1518:
            assert u == pytest.approx(model, abs=0.05), (q, u, model)
        else:
            assert model <= u <= 0.80, (q, u, model)
        assert res.ports["collisions"].sum() > 0
        measured.append(u)
    if size == 1518:
        assert measured[0] > max(measured[1:])
    else:
        assert measured[0] > measured[1] > measured[2]


def test_collisions_are_counted_on_both_sides_and_fragments_arrive_as_runts():
    res = netsim.run(shared(8, 64, 0.05))
    ports = res.ports.set_index(["device", "port"])
    stations = ports.loc[[(f"s{i}", "eth0") for i in range(8)]]
    assert stations["collisions"].sum() > 0
    # The hub's port towards a station sees that station's collisions.
    assert ports.xs("dev")["collisions"].sum() == stations["collisions"].sum()
    assert ports.loc[("sink", "eth0"), "runts"] > 0


def test_a_switch_in_place_of_the_hub_carries_every_port_at_line_rate_without_collisions():
    """Full duplex, one station per port: nothing to share, nothing to collide. (The first
    frame of each pair floods before the switch has learned; the window skips that.)"""
    q, size, duration, warmup = 8, 1518, 0.2, 0.05
    res = netsim.run(shared(q, size, duration, device="switch"))
    assert res.ports["collisions"].sum() == 0
    f = res.frames
    t_in = f["t_last_bit_in"]
    ok = f[(f["outcome"] == "delivered") & (t_in > warmup) & (t_in <= duration)]
    wire_per_frame = (size + 20) * 8 / RATE
    for dst, frames in ok.groupby("dst"):
        carried = len(frames) * wire_per_frame / (duration - warmup)
        assert carried == pytest.approx(1.0, abs=0.01), dst


class AlwaysZero:
    """A backoff 'random' stream that always draws 0 slots."""

    def randrange(self, n: int) -> int:
        return 0


def test_excessive_collisions_drop_the_frame_after_16_attempts():
    """Two stations whose backoff always draws 0 retry at the same instant and collide on
    every attempt; 802.3 gives up after the 16th and counts an excessive collision."""
    from netsim.apps.frames import FrameSource
    from netsim.engine.sim import Simulation
    from netsim.metrics.tables import frames_table
    from netsim.topology.build import build

    scenario = shared(2, 64, 0.01)
    sim = Simulation(1)
    net = build(scenario.topology, sim)
    for domain in net.domains:
        for station in domain.stations:
            station.rng = AlwaysZero()  # type: ignore[assignment]
    sink = net.hosts["sink"]
    for name in ("s0", "s1"):
        FrameSource(
            sim, name, net.hosts[name], sink.mac, "sink", [64], count=1, start=0.0, stop_at=1.0
        )
    sim.run()
    frames = frames_table(sim.trace)
    assert list(frames["drop_reason"]) == ["excessive-collisions"] * 2
    for name in ("s0", "s1"):
        counters = net.hosts[name].port.counters
        assert counters.collisions == 16
        assert counters.excessive_collisions == 1


def test_a_collision_domain_too_large_for_the_slot_time_has_late_collisions():
    """802.3 sizes the slot (512 bits, 51.2 us at 10 Mb/s) so that a sender always hears a
    collision while still sending its first 64 bytes. Three hubs cascaded over 2 km fibre
    put h1 and h2 45 us apart, one way (40 us of fibre at 5 ns/m, three repeater hops of
    16.75 bit times): when h2 starts just before h1's signal reaches it, h1 hears the
    collision 80 us into its frame, too late. Its NIC counts a late collision
    and drops the frame; h2, which heard it early, backs off and retries."""
    res = netsim.run(
        netsim.loads(
            """
name: too-big
duration: 10ms
topology:
  defaults: {link: {media: 10BASE-FL, length: 2km}}
  nodes:
    h1: {kind: host}
    h2: {kind: host}
    hubA: {kind: hub, ports: 2}
    hubB: {kind: hub, ports: 2}
    hubC: {kind: hub, ports: 2}
  links:
    - endpoints: [h1, hubA]
    - endpoints: [hubA, hubB]
    - endpoints: [hubB, hubC]
    - endpoints: [hubC, h2]
traffic:
  - {kind: frames, name: early, from: h1, to: h2, size: 512, count: 1, start: 0us}
  - {kind: frames, name: late, from: h2, to: h1, size: 512, count: 1, start: 35us}
"""
        )
    )
    frames = res.frames.set_index("traffic")
    assert frames.loc["early", "drop_reason"] == "late-collision"
    assert frames.loc["late", "outcome"] == "delivered"
    ports = res.ports.set_index(["device", "port"])
    assert ports.loc[("h1", "eth0"), "late_collisions"] == 1
    assert ports.loc[("h2", "eth0"), "late_collisions"] == 0
    assert ports.loc[("h2", "eth0"), "collisions"] == 1


MISMATCH = """
name: mismatch
duration: 2s
topology:
  defaults: {{link: {{speed: 100M, delay: 1us}}}}
  nodes:
    pc: {{kind: host}}
    sw: {{kind: switch, ports: 4}}
    srv: {{kind: host}}
  links:
    - {{endpoints: [pc, sw], duplex: {duplex}}}
    - endpoints: [sw, srv]
traffic:
  - {{kind: tcp, name: download, from: srv, to: pc, bytes: 2MB}}
  - {{kind: frames, name: chatter, from: pc, to: srv, size: 200, rate: 5%, pattern: poisson}}
"""


def test_a_duplex_mismatch_collides_on_one_side_and_corrupts_on_the_other():
    """pc's NIC runs full duplex, the switch port half. pc sends whenever it likes; the
    switch port sees that as collisions, late ones when pc starts in the middle of a
    frame, and gives those frames up. pc receives the aborted frames as runts and FCS
    errors. TCP limps on through the losses: goodput collapses."""
    bad = netsim.run(netsim.loads(MISMATCH.format(duplex="[full, half]")))
    good = netsim.run(netsim.loads(MISMATCH.format(duplex="full")))
    ports = bad.ports.set_index(["device", "port"])
    half, full = ports.loc[("sw", "1")], ports.loc[("pc", "eth0")]
    assert (half["duplex"], full["duplex"]) == ("half", "full")
    assert half["collisions"] > 100 and half["late_collisions"] > 0
    assert full["collisions"] == 0  # a full-duplex port never listens, never backs off
    assert full["runts"] > 100 and full["fcs_errors"] > 0
    assert good.ports["collisions"].sum() == 0
    bad_goodput = bad.tcp.set_index("traffic").loc["download", "goodput_bps"]
    good_goodput = good.tcp.set_index("traffic").loc["download", "goodput_bps"]
    assert bad_goodput < 0.25 * good_goodput
    assert bool(bad.tcp.set_index("traffic").loc["download", "intact"])


def test_a_mismatch_needs_a_point_to_point_cable():
    text = MISMATCH.format(duplex="[full, half]").replace(
        "sw: {kind: switch, ports: 4}", "sw: {kind: hub, ports: 4}"
    )
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    assert "only a point-to-point cable can have a duplex mismatch" in str(caught.value)
