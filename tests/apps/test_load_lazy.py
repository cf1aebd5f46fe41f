"""Lazy background load: the same frames, at the same times, without an event each.

Load frames meet nothing but the queue of the port they load. So instead of one event per
frame, the source draws them from its seeded stream only when something else is about to
use that queue (a real frame, a counter read, the link going down, the end of the run),
and puts every frame due by then in the queue first. These tests run the same scenarios
both ways and require every table to be identical, to the last bit of every time.
"""

from __future__ import annotations

import functools

import pandas as pd
import pytest

import netsim
import netsim.traffic.load
from netsim.apps.load import LoadSource

SCENARIO = """
name: lazy-load
duration: 300ms
topology:
  defaults: {{link: {{speed: 100M, delay: 1us}}}}
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch, ports: 4, buffer: {buffer}}}
    sw2: {{kind: switch, ports: 4, mode: cut-through}}
    h2: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
traffic:
  - {{kind: load, name: up, link: [sw1, sw2], rate: {rate}, size: [64, 512, 1518],
     pattern: poisson}}
  - {{kind: load, name: down, link: [sw2, sw1], rate: 30%, size: 1000, pattern: constant}}
  - {{kind: frames, name: warm, from: h2, to: h1, count: 1}}
  - {{kind: frames, name: probe, from: h1, to: h2, size: [64, 1518], interval: 200us,
     pattern: poisson, start: 1ms}}
  - {{kind: ping, from: h1, to: h2, count: 20, interval: 10ms}}
events:
  - {{at: 100ms, action: link-down, link: [sw1, sw2]}}
  - {{at: 150ms, action: link-up, link: [sw1, sw2]}}
{extra}
"""


def _run(text: str, lazy: bool, monkeypatch: pytest.MonkeyPatch) -> netsim.Results:
    with monkeypatch.context() as patch:
        patch.setattr(netsim.traffic.load, "LoadSource", functools.partial(LoadSource, lazy=lazy))
        return netsim.run(netsim.loads(text), snapshots=[0.05, 0.12, 0.2])


def _same(lazy: netsim.Results, eager: netsim.Results) -> None:
    pd.testing.assert_frame_equal(lazy.frames, eager.frames, check_exact=True)
    pd.testing.assert_frame_equal(lazy.ports, eager.ports, check_exact=True)
    pd.testing.assert_frame_equal(lazy.mac_events, eager.mac_events, check_exact=True)
    for name in eager.extra:
        pd.testing.assert_frame_equal(lazy.extra[name], eager.extra[name], check_exact=True)
    pd.testing.assert_frame_equal(lazy.counters, eager.counters, check_exact=True)
    summary = {k: v for k, v in lazy.summary.items() if k != "events_processed"}
    assert summary == {k: v for k, v in eager.summary.items() if k != "events_processed"}


@pytest.mark.parametrize("rate", ["20%", "95%"])
@pytest.mark.parametrize("extra", ["", "stop: 220ms"])
@pytest.mark.parametrize("buffer", ["20KB", "1KB"])
def test_lazy_load_equals_a_frame_an_event(
    rate: str, extra: str, buffer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Light and saturating load (the small buffer overflows at 95 %; a 1 KB buffer never
    takes a 1518-byte frame), a link that goes down and up under it, counters read
    mid-run, cut-through decisions that ask whether the loaded port is idle, and a hard
    stop: every table the same, and far fewer events."""
    text = SCENARIO.format(rate=rate, extra=extra, buffer=buffer)
    lazy = _run(text, True, monkeypatch)
    eager = _run(text, False, monkeypatch)
    _same(lazy, eager)
    loaded = lazy.ports.set_index(["device", "port"]).loc[("sw1", "2")]
    assert loaded["tx_frames"] > 500
    if rate == "95%" or buffer == "1KB":
        assert loaded["discards"] > 0
    # Frame by frame, every load frame was an event; lazily, none is.
    saved = eager.summary["events_processed"] - lazy.summary["events_processed"]
    assert saved > loaded["tx_frames"] / 2


def test_load_frames_do_not_renumber_the_frames_hosts_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Background frames count down from -1: a host's frames are numbered 1, 2, 3, ...
    whatever the load on the way."""
    light = _run(SCENARIO.format(rate="1%", extra="", buffer="20KB"), True, monkeypatch)
    heavy = _run(SCENARIO.format(rate="60%", extra="", buffer="20KB"), False, monkeypatch)
    assert list(light.frames["frame_id"]) == list(heavy.frames["frame_id"])
