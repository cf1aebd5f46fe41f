"""The replay page in a real headless Chromium, offline, against the run's own tables.

Stepping through the events must show the frames, the times and the MAC tables that
frames.csv and mac_events.csv record; the page must load without a console error and
without asking the network for anything (every request but the file itself is blocked).
Skipped, with the reason, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import netsim
from netsim.animate import record
from netsim.animate.replay import replay_data
from netsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
LEARNING = ROOT / "scenarios" / "learning-aging.yaml"
OFFICE = ROOT / "scenarios" / "mail-office.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (Debian: apt install chromium)", allow_module_level=True)


class Page:
    """A loaded replay, with what it logged and what it tried to fetch."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.blocked: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r: Any) -> None:
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)

    def current(self) -> dict[str, str]:
        return self.page.eval_on_selector("#events tr.current", "r => ({...r.dataset})")

    def time(self) -> float:
        return float(self.page.get_attribute("#time", "data-t"))

    def mac_table(self, switch: str) -> set[tuple[int, str, str]]:
        self.page.dispatch_event(f'g.node[data-name="{switch}"]', "click")
        rows = self.page.eval_on_selector_all(
            "table.mac-table tr[data-mac]", "rs => rs.map(r => ({...r.dataset}))"
        )
        return {(int(r["vlan"]), r["mac"], r["port"]) for r in rows}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


def open_page(browser: Any, path: Path) -> Page:
    page = Page(browser.new_page())
    page.page.goto(path.as_uri())
    page.page.wait_for_selector("#events tbody tr")
    return page


def replayed_table(events: pd.DataFrame, device: str, t: float) -> set[tuple[int, str, str]]:
    """A switch's table at ``t`` rebuilt from mac_events.csv alone."""
    table: dict[tuple[int, str], str] = {}
    # The CSV keeps 12 significant digits; an event at t must count as at t.
    mine = events[(events["device"] == device) & (events["time"] <= t * (1 + 1e-11))]
    for event, mac, port, vlan in zip(
        mine["event"], mine["mac"], mine["port"], mine["vlan"], strict=True
    ):
        if event in ("learn", "move", "refresh"):
            table[int(vlan), mac] = str(port)
        elif event == "age-out":
            table.pop((int(vlan), mac), None)
    return {(vlan, mac, port) for (vlan, mac), port in table.items()}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-15)


def test_stepping_shows_the_runs_frames_times_and_mac_tables(browser, tmp_path):
    """learning-aging: learn, flood, age out, a host that moves. Every step is one frame
    reaching a device; its times are frames.csv's and sw1's table is mac_events.csv's."""
    html = tmp_path / "lab.html"
    assert main(["animate", str(LEARNING), "-o", str(html)]) == 0
    plain = netsim.run(netsim.load(LEARNING))
    plain.save(tmp_path / "results")
    frames = pd.read_csv(tmp_path / "results" / "frames.csv").set_index("frame_id")
    mac_events = pd.read_csv(tmp_path / "results" / "mac_events.csv")
    ports = pd.read_csv(tmp_path / "results" / "ports.csv")

    page = open_page(browser, html)
    n = page.page.locator("#events tbody tr").count()
    assert n >= len(frames)
    seen: set[int] = set()
    last = -1.0
    tables_seen = set()
    for _ in range(n):
        page.page.click("#step")
        row = page.current()
        t = page.time()
        frame_id = int(row["frame"])
        frame = frames.loc[frame_id]
        t0, t3 = float(row["t0"]), float(row["t3"])
        assert t == t3 and t3 >= last
        last = t3
        seen.add(frame_id)
        src, dst = row["from"].split(":")[0], row["to"].split(":")[0]
        if src == frame["src"]:
            assert close(t0, frame["t_first_bit_out"]), (frame_id, t0)
        if dst == frame["dst"] and frame["outcome"] == "delivered":
            assert close(t3, frame["t_last_bit_in"]), (frame_id, t3)
        table = page.mac_table("sw1")
        assert table == replayed_table(mac_events, "sw1", t), (frame_id, t)
        tables_seen.add(frozenset(table))
    assert seen == set(frames.index)
    assert len(tables_seen) >= 3  # learning, aged out, learned again on another port
    page.page.click("#step")  # past the last event: nothing moves
    assert page.time() == last

    # At the end of the run every port's counters are ports.csv's.
    labels = page.page.eval_on_selector_all("circle.port", "cs => cs.map(c => c.dataset.port)")
    assert labels
    for label in labels:
        page.page.dispatch_event(f'circle.port[data-port="{label}"]', "click")
        shown = dict(
            page.page.eval_on_selector_all(
                "table.counters tr",
                "rs => rs.map(r => [r.dataset.counter, r.cells[1].textContent])",
            )
        )
        device, port = label.split(":", 1)
        row = ports[(ports["device"] == device) & (ports["port"].astype(str) == port)].iloc[0]
        for name in (
            "rx_frames",
            "tx_frames",
            "rx_octets",
            "tx_octets",
            "rx_unicast",
            "tx_broadcast",
        ):
            assert int(shown[name]) == int(row[name]), (label, name)
    assert page.errors == []
    assert page.blocked == []


def test_an_imap_event_shows_its_headers_line_and_bytes(browser, tmp_path):
    """Clicking the LOGIN event shows Ethernet, IPv4, TCP and the IMAP line, and the bytes
    the run put on the wire."""
    html = tmp_path / "office.html"
    assert main(["animate", str(OFFICE), "-o", str(html), "--to", "200ms"]) == 0
    page = open_page(browser, html)
    login = page.page.locator("#events tbody tr", has_text="LOGIN").first
    frame_id = int(login.get_attribute("data-frame"))
    login.click()
    layers = page.page.eval_on_selector_all(
        "#details details.layer", "ds => ds.map(d => d.dataset.layer)"
    )
    assert layers == ["Ethernet II", "IPv4", "TCP", "IMAP"]
    fields = dict(
        page.page.eval_on_selector_all(
            "#details details.layer tr",
            "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])",
        )
    )
    assert fields["Destination port"] == "143"
    assert fields["Line"].startswith("A0001 LOGIN ")
    results = record(netsim.load(OFFICE), end=0.2)
    octets = results.frame_bytes[frame_id]
    first_line = page.page.text_content("pre.hex").splitlines()[0]
    assert first_line.split()[1:17] == [f"{b:02x}" for b in octets[:16]]
    assert page.errors == [] and page.blocked == []


def test_filters_keep_one_protocol_or_one_conversation(browser, tmp_path):
    html = tmp_path / "office.html"
    assert main(["animate", str(OFFICE), "-o", str(html), "--to", "200ms"]) == 0
    data = replay_data(record(netsim.load(OFFICE), end=0.2), 0.0, 0.2)
    page = open_page(browser, html)
    visible = 'rs => rs.filter(r => r.style.display !== "none").map(r => Number(r.dataset.frame))'
    page.page.uncheck('input.proto-filter[value="IMAP"]')
    only_arp = page.page.eval_on_selector_all("#events tbody tr", visible)
    assert only_arp and {data["frames"][str(f)]["protocol"] for f in only_arp} == {"ARP"}
    page.page.check('input.proto-filter[value="IMAP"]')
    conversation = page.page.eval_on_selector_all(
        "#conversation option", "os => os.map(o => o.value)"
    )[1]
    page.page.select_option("#conversation", conversation)
    kept = page.page.eval_on_selector_all("#events tbody tr", visible)
    assert kept and {data["frames"][str(f)]["conversation"] for f in kept} == {conversation}
    page.page.click("#step")
    assert int(page.current()["frame"]) in kept
    before = page.time()
    page.page.click("#play")
    for _ in range(200):  # the clock runs: wait for it (up to 10 s, only to catch a hang)
        if page.time() > before:
            break
        page.page.wait_for_timeout(50)
    assert page.time() > before
    page.page.click("#play")
    assert page.errors == [] and page.blocked == []
