"""A scenario fuzzer: whatever a scenario says, ``netsim validate`` and a short ``netsim
run`` either succeed or exit with status 2 and one located message per problem, quickly.
Never a traceback, never a hang.

Hypothesis generates structurally plausible scenarios (a small LAN of hosts, switches,
hubs and bridges; frames, ping, TCP, IMAP and load traffic; events; templates, a campus,
limits and a sweep now and then), where any value may be replaced by a hostile one:
the wrong type, an infinite or enormous quantity, a negative count, text where a list
belongs. The seed is fixed and the examples bounded, so the suite stays fast and
repeatable; the run is capped with ``limits`` so that no example is a long simulation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.cli import main

LOCATED = re.compile(r"^error: [^:]+(:\d+)?: [^:]+: .+$")
"""``error: FILE[:LINE]: YAML.PATH: what was expected``."""

HOSTILE: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            "1e999s",
            "1e300GB",
            "1e999G",
            "-5ms",
            "nan",
            "inf",
            ".inf",
            "0",
            "",
            "  ",
            "1ps",
            "1e-30s",
            "10 fortnights",
            "100%",
            "250%",
            "-1",
            "hello",
            "true",
            "sw1:99",
            "h9",
            "a:b:c",
            "broadcast",
            "!!",
            "*",
            "f*h*",
        ]
    ),
    st.sampled_from([0, -1, 1, 2**63, 10**30, 1.5, 1e308, float("inf"), float("nan"), True]),
    st.none(),
    st.just([]),
    st.just({}),
    st.lists(st.sampled_from(["h1", "sw1", 1, None]), max_size=3),
    st.dictionaries(
        st.sampled_from(["kind", "x", "count"]), st.sampled_from([1, "host"]), max_size=2
    ),
    st.text(max_size=8),
)
"""Values that are wrong somewhere: the fuzzer puts them anywhere."""

HOSTS = ["h1", "h2", "h3"]
SWITCHES = ["sw1", "sw2"]


def maybe(draw: st.DrawFn, good: st.SearchStrategy[Any], hostile_share: int = 20) -> Any:
    """Usually a value from ``good``; about one time in ``hostile_share``, a hostile one."""
    # Hypothesis shrinks towards the first choice, so the plausible value comes first.
    if draw(st.sampled_from([False] * (hostile_share - 1) + [True])):
        return draw(HOSTILE)
    return draw(good)


def time_(ms_max: int = 5) -> st.SearchStrategy[str]:
    return st.sampled_from(["0", "1us", "10us", "100us", "1ms", f"{ms_max}ms", "0.5ms"])


@st.composite
def nodes(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {h: {"kind": "host"} for h in HOSTS}
    kind = draw(st.sampled_from(["switch", "hub", "bridge"]))
    out["sw1"] = {"kind": kind}
    if kind != "bridge":
        out["sw1"]["ports"] = maybe(draw, st.sampled_from([4, 8, 24]))
    out["sw2"] = {"kind": "switch"}
    settings_by_kind = {
        "host": {"nagle": False, "delayed_ack": False, "tcp_window": "1000B", "buffer": "64KB"},
        "switch": {"mode": "cut-through", "aging": "10ms", "mac_table_size": 4, "buffer": "8KB"},
        "hub": {"ports": 8},
        "bridge": {"mode": "store-and-forward", "aging": "0", "processing_delay": "1us"},
    }
    for name in draw(st.lists(st.sampled_from([*HOSTS, *SWITCHES]), max_size=3)):
        choices = settings_by_kind[out[name]["kind"]]
        key = draw(st.sampled_from(sorted(choices)))
        out[name][key] = maybe(draw, st.just(choices[key]), hostile_share=4)
    return out


@st.composite
def links(draw: st.DrawFn, topology_nodes: dict[str, Any]) -> list[Any]:
    hub_or_bridge = topology_nodes["sw1"]["kind"] != "switch"
    out: list[Any] = [
        {"endpoints": ["h1", "sw1"]},
        {"endpoints": ["sw1", "sw2"]},
        {"endpoints": ["sw2", "h2"]},
    ]
    if not hub_or_bridge:
        out.append({"endpoints": ["h3", "sw1"]})
    for link in out:
        for key in draw(
            st.lists(
                st.sampled_from(["speed", "delay", "duplex", "ber", "media", "length"]),
                max_size=2,
                unique=True,
            )
        ):
            link[key] = maybe(
                draw,
                {
                    "speed": st.sampled_from(["10M", "100M", "1G"]),
                    "delay": time_(),
                    "duplex": st.sampled_from(["full", "half", ["full", "half"]]),
                    "ber": st.sampled_from([0, 1e-9, 1e-6]),
                    "media": st.sampled_from(["10BASE-T", "100BASE-TX", "1000BASE-SX"]),
                    "length": st.sampled_from(["1m", "100m", "2km"]),
                }[key],
                hostile_share=3,
            )
    if draw(st.booleans()):
        out.append(maybe(draw, st.just({"endpoints": ["h3", "sw2"]}), hostile_share=4))
    return out


@st.composite
def traffic(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["frames", "ping", "tcp", "imap", "load"]))
    src, dst = draw(st.permutations(HOSTS))[:2]
    shapes: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "frames": {
            "from": st.just(src),
            "to": st.sampled_from([dst, "broadcast"]),
            "size": st.sampled_from([64, 1518, [64, 512]]),
            "count": st.integers(1, 50),
            "interval": st.sampled_from(["10us", "100us", "1ms"]),
        },
        "ping": {
            "from": st.just(src),
            "to": st.just(dst),
            "count": st.integers(1, 20),
            "interval": st.sampled_from(["0", "10us", "1ms"]),
            "size": st.sampled_from([0, 56, 1472]),
            "timeout": time_(),
        },
        "tcp": {
            "from": st.just(src),
            "to": st.just(dst),
            "bytes": st.sampled_from(["1B", "10KB", "100KB"]),
            "start": time_(),
        },
        "imap": {
            "server": st.just(dst),
            "clients": st.just([src]),
            "session": st.sampled_from(
                [
                    "check-new-mail",
                    ["search", "idle", "read-a-message", "file-to-folder"],
                    "NOOP",
                    ["UID FETCH 1:* (FLAGS)", "SELECT Nope", "FETCH 99999 BODY[]"],
                    ["LOGOUT", "NOOP"],
                    "XYZZY {5}",
                    'SEARCH "unterminated',
                ]
            ),
            "repeat": st.integers(1, 3),
            "think": time_(),
            "idle": time_(),
            "mailbox": st.fixed_dictionaries(
                {"messages": st.integers(0, 5), "mean_size": st.sampled_from(["1KB", "4KB"])}
            ),
        },
        "load": {
            "link": st.sampled_from([["sw1", "sw2"], ["sw2", "h2"], ["h1", "sw1"]]),
            "rate": st.sampled_from(["1%", "10%"]),
        },
    }
    out: dict[str, Any] = {"kind": kind}
    for key, good in shapes[kind].items():
        if draw(st.sampled_from([False] * 29 + [True])):
            continue  # a key left out
        out[key] = maybe(draw, good)
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    topology_nodes = draw(nodes())
    data: dict[str, Any] = {
        "name": maybe(draw, st.sampled_from(["fuzz", "lab-1", "x.y"])),
        "duration": maybe(draw, st.sampled_from(["1ms", "2ms", "5ms"])),
        "seed": maybe(draw, st.integers(0, 2**32)),
        "topology": {"nodes": topology_nodes, "links": draw(links(topology_nodes))},
        "traffic": draw(st.lists(traffic(), min_size=1, max_size=3)),
    }
    if draw(st.booleans()):
        at = maybe(draw, time_())
        data["events"] = [
            draw(
                st.sampled_from(
                    [
                        {"at": at, "action": "link-down", "link": ["sw1", "sw2"]},
                        {"at": at, "action": "link-up", "link": ["sw2", "h2"]},
                        {"at": at, "action": "clear-mac-table", "device": "sw2"},
                        {"at": at, "action": "set-aging", "device": "sw2", "aging": "1us"},
                        {"at": at, "action": "host-move", "host": "h2", "to": "sw2:4"},
                    ]
                )
            )
        ]
        if draw(st.booleans()):
            data["measure"] = {"capture": [maybe(draw, st.sampled_from(["sw2:1", "h1:eth0"]))]}
    extras = draw(
        st.lists(
            st.sampled_from(
                ["templates", "campus", "limits", "sweep", "hostile top", "hostile topology"]
            ),
            max_size=2,
        )
    )
    if "templates" in extras:
        data["templates"] = {
            "room": {
                "nodes": {
                    "pc": {"kind": "host", "count": maybe(draw, st.integers(1, 3))},
                    "rs": {"kind": "switch"},
                },
                "links": [{"endpoints": ["pc", "rs"]}],
            }
        }
        data["topology"]["use"] = [{"template": "room", "count": maybe(draw, st.integers(1, 2))}]
    if "campus" in extras:
        data["campus"] = {
            "floors": {
                "count": maybe(draw, st.integers(1, 2)),
                "rooms": maybe(draw, st.integers(0, 2)),
                "room": {"hosts": maybe(draw, st.integers(0, 3))},
            }
        }
        data["topology"] = {}
        data["traffic"] = [
            {"kind": "imap", "server": "mail", "clients": ["f*h*"], "session": "search"},
            {"kind": "load", "link": ["f1", "building"], "rate": maybe(draw, st.just("5%"))},
        ]
    if "limits" in extras:
        key = draw(st.sampled_from(["events", "nodes", "bytes", "hosts", "1"]))
        data["limits"] = {key: maybe(draw, st.sampled_from([1, 100, 10**6]))}
    if "sweep" in extras:
        key = draw(
            st.sampled_from(["seed", "topology.nodes.sw2.mode", "traffic[7].count", "a..b", "["])
        )
        data["sweep"] = {key: maybe(draw, st.sampled_from([[1, 2], ["cut-through"], []]))}
    if "hostile top" in extras:
        data[draw(st.sampled_from(["topology", "traffic", "events", "measure", "name"]))] = draw(
            HOSTILE
        )
    if "hostile topology" in extras and isinstance(data["topology"], dict):
        data["topology"][draw(st.sampled_from(["nodes", "links", "defaults", "use"]))] = draw(
            HOSTILE
        )
    return data


def check_cli(argv: list[str], capsys: Any, no_hang: Any) -> int:
    """Run the CLI: it exits 0, or 2 with nothing but located ``error:`` lines."""
    with no_hang(60):
        status = main(argv)
    err = capsys.readouterr().err
    assert status in (0, 2), (status, err)
    assert "Traceback" not in err
    if status == 2:
        lines = err.splitlines()
        assert lines and all(LOCATED.match(line) for line in lines), err
    return status


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=scenarios())
def test_validate_and_a_short_run_succeed_or_say_what_is_wrong(data, tmp_path, capsys, no_hang):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    if check_cli(["validate", str(path)], capsys, no_hang) != 0:
        return
    out = tmp_path / "out"
    argv = ["run", str(path), "--out", str(out), "--quiet", "--no-plots"]
    caps = ["--set", "limits.events=50000", "--set", "limits.bytes=5MB"]
    if check_cli(argv + caps, capsys, no_hang) == 0:

        def no_constants(name: str) -> None:
            raise AssertionError(f"{name} in summary.json")

        json.loads((out / "summary.json").read_text(), parse_constant=no_constants)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(text=st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!<>|'\"#%@,?\n\t0.9e")), max_size=80))
def test_any_text_is_parsed_or_refused_with_a_located_message(text):
    """The YAML reader alone, on text built from YAML's punctuation: a value, or a
    ScenarioError; no other exception."""
    from netsim.scenario.errors import ScenarioError
    from netsim.scenario.load import loads

    try:
        loads(text, "t.yaml")
    except ScenarioError as e:
        assert e.problems and all(p.file == "t.yaml" and p.message for p in e.problems)


def test_the_fuzzer_reaches_runs():
    """The generated scenarios are plausible enough that many of them validate: a fuzzer
    whose every scenario is refused at the first key would test nothing."""
    import netsim

    samples: list[dict[str, Any]] = []

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(scenarios())
    def collect(data: dict[str, Any]) -> None:
        samples.append(data)

    collect()
    valid = 0
    for data in samples:
        try:
            netsim.loads(yaml.safe_dump(data))
            valid += 1
        except netsim.ScenarioError:
            pass
    assert valid >= len(samples) // 8, f"only {valid} of {len(samples)} scenarios are valid"
