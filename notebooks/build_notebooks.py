"""Write the teaching notebooks (``*.ipynb``) from the cells below, outputs cleared.

The notebooks are generated so that they stay reviewable: edit the cells here, run
``python notebooks/build_notebooks.py``, and commit both. Each notebook runs top to bottom
in a fresh kernel in well under a minute (tests/notebooks/test_notebooks.py runs them).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}
"""Every notebook runs in the standard ``python3`` kernel (the interpreter of its venv)."""

SETUP = """\
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import netsim

# The repository root, wherever the notebook was started from.
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "scenarios").is_dir())
pd.set_option("display.precision", 3)
plt.rcParams["figure.dpi"] = 90
"""


def md(text: str) -> NotebookNode:
    """A markdown cell from an indented triple-quoted string."""
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> NotebookNode:
    """A code cell from an indented triple-quoted string."""
    return new_code_cell(textwrap.dedent(text).strip())


# --------------------------------------------------------------------------------------
# 1. Switching modes
# --------------------------------------------------------------------------------------

SWITCHING_MODES = [
    md(
        r"""
        # Switching modes: what does a switch wait for?

        A switch receives a frame on one port and sends it out of another. *When* may it
        start sending? Three answers, three **switching modes**:

        | mode | starts sending after | checks the FCS? |
        |---|---|---|
        | store-and-forward | the whole frame | yes: bad frames stop here |
        | cut-through | preamble + destination address, 22 bytes (netsim: the 14-byte header) | no |
        | fragment-free | the first 64 bytes of frame (72 with the preamble) | no, but runts stop |

        For one frame crossing $n$ links of equal rate $R$ (bits/s) and propagation delay
        $d$, with $W = L + 8$ bytes on the wire ($L$ the frame, 8 of preamble/SFD), and no
        queueing, RFC 1242 latency (first bit out to last bit in) is

        $$\text{store-and-forward: } n\,(8W/R + d) \qquad
          \text{cut-through: } 8W/R + (n-1)\,8\cdot 22/R + n\,d$$

        and fragment-free is cut-through with 72 bytes instead of 22.

        **Questions.** How does latency grow with frame size and with the number of
        switches, in each mode? Why? What do the faster modes give up?
        """
    ),
    code(SETUP),
    md(
        """
        ## A chain of switches

        `chain()` writes a scenario: `h1 → sw1 → … → swN → h2`. h2 first says hello, so
        every switch has learned where h2 is (frame 1); then h1 sends one frame of each
        size, a millisecond apart so they never queue behind each other.
        """
    ),
    code(
        '''
        from itertools import pairwise

        MODES = ["store-and-forward", "cut-through", "fragment-free"]


        def chain(switches, mode="store-and-forward", sizes=(512,), rates=None, ber=None,
                  hello=True):
            """A scenario: h1 -> sw1 .. swN -> h2, one probe frame per size, 1 ms apart.

            With `hello`, h2 first sends h1 a frame (frame 1), so the switches know where h2 is.
            """
            rates = rates or ["100M"] * (switches + 1)
            names = ["h1", *(f"sw{i + 1}" for i in range(switches)), "h2"]
            nodes = "".join(f"    {n}: {{kind: switch, ports: 4}}\\n" for n in names[1:-1])
            links = ""
            for i, (a, b) in enumerate(pairwise(names)):
                error = f", ber: {ber}" if ber and i == 0 else ""
                links += f"    - {{endpoints: [{a}, {b}], speed: {rates[i]}, delay: 50ns{error}}}"
                links += "\\n"
            probes = "".join(
                f"  - {{kind: frames, name: probe-{s}, from: h1, to: h2, size: {s}, count: 1,"
                f" start: {k + 1}ms}}\\n"
                for k, s in enumerate(sizes)
            )
            hi = "  - {kind: frames, name: hello, from: h2, to: h1, count: 1}\\n"
            first = hi if hello else ""
            return netsim.loads(
                f"""
        name: chain
        duration: {len(sizes) + 2}ms
        topology:
          defaults: {{switch: {{mode: {mode}}}}}
          nodes:
            h1: {{kind: host}}
            h2: {{kind: host}}
        {nodes}  links:
        {links}traffic:
        {first}{probes}"""
            )


        def formula(mode, switches, size, rate=100e6, d=50e-9):
            """RFC 1242 latency of one frame across switches + 1 equal links (seconds)."""
            n, w = switches + 1, size + 8
            wait = {"store-and-forward": w, "cut-through": 22, "fragment-free": min(72, w)}[mode]
            return 8 * w / rate + (n - 1) * 8 * wait / rate + n * d
        '''
    ),
    md(
        """
        ## Latency against frame size, 1 to 4 switches

        Twelve small runs (3 modes × 1–4 switches), eight frame sizes each, all at 100 Mb/s.
        The lines are the formulas; the dots are what the simulator measured.
        """
    ),
    code(
        """
        SIZES = [64, 128, 256, 512, 768, 1024, 1280, 1518]
        rows = []
        for mode in MODES:
            for switches in range(1, 5):
                frames = netsim.run(chain(switches, mode, SIZES)).frames
                probes = frames[frames["traffic"].str.startswith("probe")]
                for size, latency in zip(probes["size"], probes["latency"], strict=True):
                    rows.append(dict(mode=mode, switches=switches, size=size, latency=latency,
                                     formula=formula(mode, switches, size)))
        points = pd.DataFrame(rows)
        worst = (points["latency"] - points["formula"]).abs().max()
        print(f"{len(points)} frames; largest difference from the formula: {worst * 1e9:.3f} ns")

        fig, axes = plt.subplots(1, 3, figsize=(14, 4.5), sharey=True)
        x = np.linspace(64, 1518, 200)
        for ax, mode in zip(axes, MODES, strict=True):
            for switches in range(1, 5):
                color = f"C{switches - 1}"
                ax.plot(x, [formula(mode, switches, s) * 1e6 for s in x], color=color,
                        label=f"{switches} switch{'es' if switches > 1 else ''}")
                mine = points[(points["mode"] == mode) & (points["switches"] == switches)]
                ax.plot(mine["size"], mine["latency"] * 1e6, "o", color=color)
            ax.set_title(mode)
            ax.set_xlabel("frame size (bytes)")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("latency, first bit out to last bit in (µs)")
        axes[0].legend(title="lines: formula, dots: simulated")
        fig.suptitle("One frame across a chain of 100 Mb/s switches")
        plt.show()
        """
    ),
    md(
        """
        **What to look for.** In store-and-forward every line is steep and the slopes grow
        with the number of switches: each switch serializes the whole frame again. In
        cut-through all four lines have the *same* slope (the frame is serialized once,
        end to end) and sit a constant 1.76 µs (22 bytes at 100 Mb/s) + 50 ns apart.
        Fragment-free is the same with 5.76 µs steps; at 64 bytes it equals
        store-and-forward, because 72 bytes is the whole frame.

        ## The ladder diagram: watch one frame move

        Each device is a column and time runs downward. A coloured band is the frame on a
        link: its top edge is the first bit, its bottom edge the last bit. The dark bar on
        a switch's column is how long the switch held the first bit before sending it on.
        """
    ),
    code(
        """
        from IPython.display import display

        from netsim.plots.ladder import ladder_figure

        three = chain(3, sizes=[1518])
        hops = netsim.follow_frame(three, frame_id=2)  # frame 1 is h2's hello
        display(ladder_figure(hops, title="A 1518-byte frame across three 100 Mb/s switches"))

        # The numbers behind the cut-through panel, in µs since the first bit left h1.
        table = hops["cut-through"].set_index(["from_port", "to_port"])
        times = [c for c in table.columns if c.startswith("t_")]
        ((table[times] - table["t_first_bit_out"].iloc[0]) * 1e6).round(3)
        """
    ),
    md(
        """
        **What to look for.** In store-and-forward the bands follow one another: a switch
        starts sending only after the last bit has arrived. In cut-through the bands
        overlap in time: while sw1 is still receiving the end of the frame, sw3 is already
        sending its beginning to h2. That overlap is **pipelining**, and it is why
        cut-through latency barely grows with the number of switches.

        The same picture from the command line: `netsim ladder SCENARIO --frame ID -o ladder.png`.

        ## What each mode does with damaged frames

        **Corrupted frames.** A bit error on h1's link (`ber: 1`, every frame damaged)
        makes the FCS fail. Only a store-and-forward switch checks the FCS before
        sending; the others have already started when the FCS arrives, so they pass the
        bad frame on, and the receiving NIC (or the next store-and-forward switch) drops it.
        """
    ),
    code(
        """
        rows = []
        for mode in MODES:
            # No hello: it would cross the damaged link too. Three frames, all corrupted.
            res = netsim.run(chain(2, mode, sizes=[1000, 1000, 1000], ber=1.0, hello=False))
            probes = res.frames
            fcs = res.ports.groupby("device")["fcs_errors"].sum()
            rows.append({"mode": mode,
                         "outcome": ", ".join(sorted(set(probes["outcome"]))),
                         "dropped by": ", ".join(sorted(set(probes["drop_device"]))),
                         "reason": ", ".join(sorted(set(probes["drop_reason"]))),
                         "links each bad frame crossed": res.ports["rx_frames"].sum() / len(probes),
                         "FCS errors counted at": ", ".join(fcs[fcs > 0].index)})
        pd.DataFrame(rows).set_index("mode")
        """
    ),
    md(
        """
        **Runts.** On a hub two stations can collide; what is left of each frame is a
        *fragment*, shorter than the 64-byte minimum (a **runt**). Here h1 and h3 share a
        hub and start at the same instant; 2 km of fibre means the fragments that reach
        sw1 carry a whole header. Where do they stop?
        """
    ),
    code(
        """
        RUNTS = '''
        name: runts
        duration: 20ms
        topology:
          nodes:
            h1: {kind: host}
            h3: {kind: host}
            hub1: {kind: hub, ports: 4}
            sw1: {kind: switch, ports: 4, mode: MODE}
            sw2: {kind: switch, ports: 4}
            h2: {kind: host}
          links:
            - {endpoints: [h1, hub1], media: 10BASE-FL, length: 2km}
            - {endpoints: [h3, hub1], media: 10BASE-FL, length: 2km}
            - {endpoints: [hub1, sw1], media: 10BASE-FL, length: 2km}
            - {endpoints: [sw1, sw2], media: 10BASE-T, length: 10m}
            - {endpoints: [sw2, h2], media: 10BASE-T, length: 10m}
        traffic:
          - {kind: frames, name: a, from: h1, to: h2, size: 512, count: 1}
          - {kind: frames, name: b, from: h3, to: h2, size: 512, count: 1}
        '''
        runts = {}
        for mode in MODES:
            res = netsim.run(netsim.loads(RUNTS.replace("MODE", mode)))
            runts[f"sw1: {mode}"] = res.ports.groupby("device")["runts"].sum()
        pd.DataFrame(runts).T[["sw1", "sw2", "h2"]].rename_axis("runts seen by")
        """
    ),
    md(
        """
        **What to look for.** Store-and-forward and fragment-free switches see the runts
        and drop them (sw1 counts them). A cut-through sw1 forwards them, and sw2
        (store-and-forward) has to drop them instead: the speed of cut-through costs
        bandwidth on the next link. In every case the senders back off and retry, and
        both frames arrive.

        ## When cut-through cannot cut through

        A cut-through switch stores the frame whole after all when it **cannot** start at
        once:

        1. **Across speeds.** From a slow port into a faster one it would run out of bytes
           to send (an *underrun*), so it stores. From fast to slow nothing can run dry.
        2. **Under load.** If the egress port is busy with another frame, this one has to
           wait anyway; netsim stores it whole, as real switches do.

        First, speeds: one cut-through switch, one 1518-byte frame.
        """
    ),
    code(
        """
        RATE = {"10M": 10e6, "100M": 100e6, "1G": 1e9}
        rows = []
        for rin, rout in [("100M", "100M"), ("1G", "100M"), ("10M", "100M"), ("100M", "1G")]:
            frames = netsim.run(chain(1, "cut-through", [1518], rates=[rin, rout])).frames
            latency = frames.loc[frames["traffic"] == "probe-1518", "latency"].iloc[0]
            w, d = 1526 * 8, 50e-9
            cut = d + 22 * 8 / RATE[rin] + w / RATE[rout] + d  # starts after the header
            store = w / RATE[rin] + d + w / RATE[rout] + d     # waits for the last bit
            did = "cut through" if abs(latency - cut) < 1e-9 else (
                "stored" if abs(latency - store) < 1e-9 else "?")
            rows.append({"in → out": f"{rin} → {rout}", "latency (µs)": latency * 1e6,
                         "if cut through (µs)": cut * 1e6, "if stored (µs)": store * 1e6,
                         "the switch": did})
        pd.DataFrame(rows).set_index("in → out")
        """
    ),
    md(
        r"""
        Now load: h1 and h3 both send 512-byte frames to h2 through one cut-through
        switch, Poisson arrivals, each at the same share of its 100 Mb/s link. A frame of
        h1 cuts through only if the egress port is idle when its header is in. Poisson
        arrivals see time averages (PASTA), so that happens with probability one minus the
        share of time the port is busy with frames that can be in the way. If only h3's
        frames could block h1's, that is $1-\rho_{h3}$; but an h1 frame that had to wait
        can delay the *next* h1 frame too, so the truth lies between $1-\rho_{h3}$ and
        $1-\rho_{total}$.
        """
    ),
    code(
        """
        LOAD = '''
        name: two-senders
        duration: 100ms
        topology:
          defaults: {link: {speed: 100M, delay: 50ns}}
          nodes:
            h1: {kind: host}
            h3: {kind: host}
            h2: {kind: host}
            sw1: {kind: switch, ports: 4, mode: MODE}
          links:
            - endpoints: [h1, sw1]
            - endpoints: [h3, sw1]
            - endpoints: [sw1, h2]
        traffic:
          - {kind: frames, name: hello, from: h2, to: h1, count: 1}
          - {kind: frames, name: h1, from: h1, to: h2, size: 512, rate: RATE, pattern: poisson,
             start: 100us}
          - {kind: frames, name: h3, from: h3, to: h2, size: 512, rate: RATE, pattern: poisson,
             start: 100us}
        '''
        cut = (512 + 8 + 22) * 8 / 100e6 + 2 * 50e-9  # cut-through latency, one switch
        rows = []
        for share in [0.05, 0.1, 0.2, 0.3, 0.4, 0.45]:
            for mode in ["cut-through", "store-and-forward"]:
                text = LOAD.replace("MODE", mode).replace("RATE", f"{share:.0%}")
                frames = netsim.run(netsim.loads(text)).frames
                mine = frames[(frames["traffic"] == "h1") & (frames["outcome"] == "delivered")]
                rows.append(dict(share=share, mode=mode,
                                 mean_latency_us=mine["latency"].mean() * 1e6,
                                 cut_through=(mine["latency"] < cut + 1e-9).mean()))
        load = pd.DataFrame(rows)

        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
        ct = load[load["mode"] == "cut-through"]
        left.plot(ct["share"] * 2, ct["cut_through"], "o-", label="simulated")
        # A port busy with a frame or its gap cannot start another: rate counts both.
        total = ct["share"] * 2
        left.plot(total, 1 - ct["share"], "--", label="only h3's frames block: 1 − ρ_h3")
        left.plot(total, 1 - total, ":", label="every frame blocks: 1 − ρ_total")
        left.set_xlabel("total load offered to h2's port")
        left.set_ylabel("share of h1's frames that cut through")
        left.legend()
        for mode, group in load.groupby("mode"):
            right.plot(group["share"] * 2, group["mean_latency_us"], "o-", label=mode)
        right.set_xlabel("total load offered to h2's port")
        right.set_ylabel("h1's mean latency (µs)")
        right.legend()
        for ax in (left, right):
            ax.grid(alpha=0.3)
        fig.suptitle("Cut-through falls back to store-and-forward as the egress gets busy")
        plt.show()
        """
    ),
    md(
        """
        **What to look for.** At light load nearly every frame cuts through and saves a
        whole frame time (41.6 µs at 512 bytes). As the port gets busier, more frames find
        it occupied and are stored: the share that cuts through falls between the two
        PASTA lines, from the upper towards the lower as queues build. The gap between the
        two modes' latencies stays below one frame time and matters less and less next to
        the queueing delay that both suffer.

        **Try it yourself.** Change the frame size in `chain(...)`, the rate, or the number
        of switches; or run the lab `scenarios/labs/02-switching-modes.yaml`.
        """
    ),
]

# --------------------------------------------------------------------------------------
# 2. Hub versus switch
# --------------------------------------------------------------------------------------

HUB_VS_SWITCH = [
    md(
        r"""
        # Hub or switch: one shared wire, or many?

        A **hub** repeats every bit to every port: all its stations share one collision
        domain and take turns with CSMA/CD (listen, send, detect a collision, back off a
        random number of 51.2 µs slots, try again). A **switch** gives every port its own
        full-duplex link.

        Metcalfe and Boggs (1976) estimated the efficiency of a shared Ethernet with $Q$
        stations that always have a frame to send: the chance that exactly one of them
        acquires a slot is $A = (1-1/Q)^{Q-1}$, so on average $W = (1-A)/A$ slots are
        wasted per frame, and with $P$ bits per frame, rate $C$ and slot time $T$

        $$E = \frac{P/C}{P/C + W\,T}.$$

        **Questions.** How does a hub's throughput depend on the number of stations and on
        the frame size? What happens to delay as the offered load grows? What does a
        switch change?
        """
    ),
    code(SETUP),
    code(
        '''
        SLOT, RATE = 51.2e-6, 10e6


        def metcalfe_boggs(q, frame_bytes):
            """Efficiency of a 10 Mb/s shared Ethernet with q saturated stations."""
            a = (1 - 1 / q) ** (q - 1)
            w = (1 - a) / a
            p = frame_bytes * 8 / RATE
            return p / (p + w * SLOT)


        def lan(q, size, rate, device="hub", duplex="half", duration="100ms"):
            """q stations sending to one sink through a hub or switch at 10 Mb/s."""
            stations = "".join(f"    s{i}: {{kind: host}}\\n" for i in range(q))
            links = "".join(f"    - {{endpoints: [s{i}, dev]}}\\n" for i in range(q))
            traffic = "".join(
                f"  - {{kind: frames, name: s{i}, from: s{i}, to: sink, size: {size},"
                f" rate: {rate}, pattern: poisson}}\\n"
                for i in range(q)
            )
            return netsim.loads(
                f"""
        name: lan
        duration: {duration}
        topology:
          defaults:
            link: {{speed: 10M, duplex: {duplex}, delay: 50ns}}
            host: {{buffer: 10KB}}
          nodes:
            dev: {{kind: {device}, ports: {q + 1}}}
            sink: {{kind: host}}
        {stations}  links:
            - {{endpoints: [sink, dev]}}
        {links}traffic:
        {traffic}"""
            )


        def carried(res, duration):
            """Frame bits delivered within the run, as a share of 10 Mb/s."""
            f = res.frames
            ok = f[(f["outcome"] == "delivered") & (f["t_last_bit_in"] <= duration)]
            return ok["size"].sum() * 8 / (RATE * duration)
        '''
    ),
    md(
        """
        ## Throughput against the number of stations

        Every station offers far more than its share (300 % of the channel in total), so
        all of them always have a frame waiting: the situation Metcalfe and Boggs modelled.
        """
    ),
    code(
        """
        rows = []
        for size, duration in [(64, 0.2), (1518, 0.5)]:
            for q in [2, 4, 8, 16]:
                rate = f"{min(100, 300 / q):.0f}%"
                res = netsim.run(lan(q, size, rate, duration=f"{duration}s"))
                collisions = res.ports.query("kind == 'host'")["collisions"].sum()
                rows.append(dict(size=size, stations=q, simulated=carried(res, duration),
                                 metcalfe_boggs=metcalfe_boggs(q, size),
                                 collisions=int(collisions)))
        mb = pd.DataFrame(rows)

        fig, ax = plt.subplots(figsize=(7, 4.5))
        qs = np.arange(2, 25)
        for i, size in enumerate([64, 1518]):
            ax.plot(qs, [metcalfe_boggs(q, size) for q in qs], color=f"C{i}",
                    label=f"Metcalfe-Boggs, {size} B")
            mine = mb[mb["size"] == size]
            ax.plot(mine["stations"], mine["simulated"], "o", color=f"C{i}",
                    label=f"simulated, {size} B")
        ax.set_xlabel("stations Q, all always ready")
        ax.set_ylabel("throughput / 10 Mb/s")
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title("A 10 Mb/s hub: efficiency falls as stations are added")
        plt.show()
        mb
        """
    ),
    md(
        """
        **What to look for.** With 1518-byte frames the hub stays near capacity: a
        contention period is tiny next to a 1.2 ms frame, and the points sit within a few
        percent of the curve.
        With 64-byte frames efficiency falls as stations are added, but the simulated hub
        does *better* than the model: the model charges every contention a full slot,
        while on a short segment a collision costs only the jam and a few bit times, and
        binary exponential backoff lets the last winner send again while the losers wait
        (the capture effect). Boggs, Mogul and Kent measured the same on real Ethernets
        in 1988.

        ## Throughput and delay against offered load: hub and switch

        Four stations send 512-byte frames to one sink, each at a rising share of its
        link. On the hub they share one 10 Mb/s channel; on the switch each has its own
        link, and the sink's port is the only place they meet. Delay here is from the
        moment a frame was queued at its sender to its last bit at the sink.
        """
    ),
    code(
        """
        rows = []
        duration = 0.3
        for total in [0.2, 0.4, 0.6, 0.8, 1.0, 1.2]:
            for device, duplex in [("hub", "half"), ("switch", "full")]:
                res = netsim.run(lan(4, 512, f"{total / 4:.0%}", device, duplex, f"{duration}s"))
                f = res.frames
                ok = f[f["outcome"] == "delivered"]
                rows.append(dict(offered=total, device=device, throughput=carried(res, duration),
                                 delay_ms=(ok["t_last_bit_in"] - ok["t_queued"]).mean() * 1e3,
                                 dropped=(f["outcome"] == "dropped").mean()))
        load = pd.DataFrame(rows)

        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
        for device, group in load.groupby("device"):
            left.plot(group["offered"], group["throughput"], "o-", label=device)
            right.plot(group["offered"], group["delay_ms"], "o-", label=device)
        left.plot([0, 1.2], [0, 1.2 * 512 / 532], ":", color="grey", label="everything offered")
        left.set_ylabel("throughput / 10 Mb/s")
        right.set_ylabel("mean delay, queued to delivered (ms)")
        right.set_yscale("log")
        for ax in (left, right):
            ax.set_xlabel("load offered to the sink (share of 10 Mb/s)")
            ax.grid(alpha=0.3, which="both")
            ax.legend()
        fig.suptitle("Four stations to one sink, 512-byte frames")
        plt.show()
        load.pivot(index="offered", columns="device", values=["throughput", "delay_ms", "dropped"])
        """
    ),
    md(
        """
        **What to look for.** Both carry what is offered at light load, and at light load
        the hub is even *faster*: it repeats bits as they come, while the
        (store-and-forward) switch receives each frame whole before sending it on, one
        more frame time (0.43 ms at 512 bytes and 10 Mb/s). As load grows the hub's delay
        rises sooner (a frame must win the medium, and collisions waste it) and its
        throughput levels off below the channel rate, with frames dropped from the PCs'
        full buffers. The switch can deliver no more than 10 Mb/s to the sink either, but
        no collisions waste capacity: the sink's port runs at full rate and the excess
        queues in the switch (512 KB of buffer: nothing is dropped in this short run, but
        the delay grows without bound, past the hub's at 120 %). The hub's delay levels
        off only because its PCs' 10 KB buffers overflow: the frames that would have
        waited longest are dropped instead of delayed.

        ## Half against full duplex

        A half-duplex link is a collision domain of two: the station and the switch port
        cannot send at the same time. Two hosts exchange 1518-byte frames in both
        directions through a switch, each at 90 % of its link.
        """
    ),
    code(
        """
        DUPLEX = '''
        name: duplex
        duration: 200ms
        topology:
          defaults: {link: {speed: 10M, duplex: DUPLEX, delay: 50ns}}
          nodes:
            a: {kind: host}
            b: {kind: host}
            sw: {kind: switch, ports: 2}
          links:
            - endpoints: [a, sw]
            - endpoints: [b, sw]
        traffic:
          - {kind: frames, name: a-to-b, from: a, to: b, size: 1518, rate: 90%, pattern: poisson}
          - {kind: frames, name: b-to-a, from: b, to: a, size: 1518, rate: 90%, pattern: poisson}
        '''
        rows = []
        for duplex in ["full", "half"]:
            res = netsim.run(netsim.loads(DUPLEX.replace("DUPLEX", duplex)))
            f = res.frames
            for name, mine in f.groupby("traffic"):
                ok = mine[(mine["outcome"] == "delivered") & (mine["t_last_bit_in"] <= 0.2)]
                rows.append({"duplex": duplex, "direction": name,
                             "goodput (Mb/s)": ok["size"].sum() * 8 / 0.2 / 1e6,
                             "collisions": int(res.ports["collisions"].sum())})
        pd.DataFrame(rows).set_index(["duplex", "direction"])
        """
    ),
    md(
        """
        **What to look for.** Full duplex carries what is offered each way at once (about
        9 Mb/s of frames: 90 % of 10 Mb/s less preamble and gap), some 18 Mb/s in all on
        a "10 Mb/s" link. Half duplex shares 10 Mb/s between the two directions, spends
        some of it on collisions, and shares it unfairly: the station that wins a
        collision resets its backoff and tends to win the next one too, while the loser's
        backoff doubles. Here one direction *captures* the link and the other starves,
        the **capture effect** of binary exponential backoff (Ramakrishnan and Yang, 1994).
        Change the seed (`netsim.run(..., seed=2)`) and see which side wins.

        ## Duplex mismatch

        A classic fault: one end of a cable is set to full duplex, the other (often after
        failed auto-negotiation) to half. The half-duplex end sees the full-duplex end
        transmit while it is sending, calls it a collision (a *late* collision when it
        comes after 64 bytes) and gives up or backs off; the full-duplex end never listens
        before sending, and receives the half-duplex end's aborted frames as **runts** and
        **FCS errors**. Goodput collapses, while light traffic (a ping) looks fine.

        In a scenario a link may set one duplex per end: `duplex: [full, half]`. Below, a
        PC with a full-duplex NIC downloads from a server through a switch port left at
        half duplex; the PC also sends a little chatter at random times.
        """
    ),
    code(
        """
        MISMATCH = '''
        name: mismatch
        duration: 2s
        topology:
          defaults: {link: {speed: 100M, delay: 1us}}
          nodes:
            pc: {kind: host}
            sw: {kind: switch, ports: 4}
            srv: {kind: host}
          links:
            - {endpoints: [pc, sw], duplex: DUPLEX}
            - endpoints: [sw, srv]
        traffic:
          - {kind: tcp, name: download, from: srv, to: pc, bytes: 2MB}
          - {kind: frames, name: chatter, from: pc, to: srv, size: 200, rate: 5%,
             pattern: poisson}
        '''
        rows = []
        for duplex in ["full", "[full, half]"]:
            res = netsim.run(netsim.loads(MISMATCH.replace("DUPLEX", duplex)))
            ports = res.ports.set_index(["device", "port"])
            pc, swp = ports.loc[("pc", "eth0")], ports.loc[("sw", "1")]
            download = res.tcp.set_index("traffic").loc["download"]
            rows.append({
                "pc / switch port": f"{pc['duplex']} / {swp['duplex']}",
                "download (Mb/s)": round(download["goodput_bps"] / 1e6, 1),
                "port collisions": swp["collisions"],
                "port late collisions": swp["late_collisions"],
                "pc runts": pc["runts"],
                "pc FCS errors": pc["fcs_errors"],
            })
        pd.DataFrame(rows).set_index("pc / switch port")
        """
    ),
    md(
        """
        **What to look for.** Matched, the download runs at over 90 Mb/s with no errors.
        Mismatched, the switch port counts hundreds of collisions, a few of them late
        (the chatter starts in the middle of a frame, and the port gives that frame up),
        and the PC counts the matching runts and FCS errors; TCP retransmits, times out,
        and the goodput falls to a few Mb/s. This is what `show interfaces` shows on a
        real switch with a mismatch: late collisions on the half side, CRC errors on the
        full side. Remove the chatter and the late collisions disappear: the PC's only
        frames are then TCP's ACKs, sent the instant a frame ends, so they collide at the
        start of the switch's next frame. Real hosts, with processing delays, send at
        less convenient moments.
        """
    ),
]

# --------------------------------------------------------------------------------------
# 3. MAC learning
# --------------------------------------------------------------------------------------

MAC_LEARNING = [
    md(
        """
        # MAC learning: flooding, learning and forgetting

        A switch keeps a table of which MAC address lives behind which port (IEEE 802.1D):

        - a frame arrives: **learn** its *source* address on the ingress port (or refresh it);
        - its *destination* is in the table: send it out of that port only;
        - otherwise (or a broadcast): **flood** it out of every port but the ingress;
        - an entry not refreshed for the **aging time** is removed (**age-out**): the next
          frame to that address floods again;
        - a full table learns nothing more, so frames to unknown addresses keep flooding.

        **Questions.** How fast does a switch stop flooding once hosts start talking? What
        does the aging time trade off? What happens when the table is full, or a host moves?
        """
    ),
    code(SETUP),
    code(
        '''
        from netsim.plots.data import mac_table_size


        def office(hosts=12, aging="40ms", table=8000, burst2_ms=100):
            """`hosts` PCs on one switch: two bursts of chatter, 60 ms of silence between.

            Each PC sends 10 frames, Poisson, to the next PC in a ring, starting at a
            random instant in the first 10 ms, and again from `burst2_ms`.
            """
            rng = np.random.default_rng(1)
            nodes = "".join(f"    pc{i}: {{kind: host}}\\n" for i in range(hosts))
            links = "".join(f"    - endpoints: [pc{i}, sw]\\n" for i in range(hosts))
            traffic = ""
            for burst, offset in [(1, 0.0), (2, burst2_ms / 1e3)]:
                for i in range(hosts):
                    start = offset + rng.uniform(0, 0.010)
                    traffic += (f"  - {{kind: frames, name: b{burst}-pc{i}, from: pc{i},"
                                f" to: pc{(i + 1) % hosts}, count: 10, interval: 2ms,"
                                f" pattern: poisson, start: {start * 1e3:.3f}ms}}\\n")
            return netsim.loads(
                f"""
        name: office
        duration: 160ms
        topology:
          defaults: {{link: {{speed: 100M, delay: 100ns}}}}
          nodes:
            sw: {{kind: switch, ports: {hosts}, aging: {aging}, mac_table_size: {table}}}
        {nodes}  links:
        {links}traffic:
        {traffic}measure:
          mac_events: all
        """
            )


        def floods_per_ms(events, bin_ms=2):
            """Flood events per millisecond, in bins of `bin_ms`."""
            t = events.loc[events["event"] == "flood", "time"] * 1e3
            edges = np.arange(0, 160 + bin_ms, bin_ms)
            counts, _ = np.histogram(t, edges)
            return edges[:-1], counts / bin_ms
        '''
    ),
    md(
        """
        ## Flooding, learning and aging over time

        Twelve PCs, a 40 ms aging time (a real switch uses 300 s; shortened so the story
        fits in 160 ms). Every PC talks in the first 25 ms or so, then all are silent
        until 100 ms.
        """
    ),
    code(
        """
        res = netsim.run(office())
        events = res.mac_events
        sizes = mac_table_size(events)
        first_learn = events.loc[events["event"] == "learn", "time"].min()

        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
        top.step(np.r_[0, sizes["time"] * 1e3, 160],
                 np.r_[0, sizes["size"], sizes["size"].iloc[-1]], where="post")
        top.set_ylabel("MAC addresses in the table")
        x, rate = floods_per_ms(events)
        bottom.bar(x, rate, width=2, align="edge", color="C1")
        bottom.set_ylabel("floods per ms")
        bottom.set_xlabel("simulated time (ms)")
        # An entry is refreshed by every frame its PC sends: it can go only 40 ms after the
        # PC's last frame. Shade from the first PC to fall silent to the last, plus 40 ms.
        burst1 = res.frames[res.frames["traffic"].str.startswith("b1")]
        last_spoke = burst1.groupby("src")["t_first_bit_out"].max()
        for ax in (top, bottom):
            ax.axvline((first_learn + 0.040) * 1e3, color="grey", linestyle="--",
                       label="first learn + aging time (40 ms)")
            ax.axvspan((last_spoke.min() + 0.040) * 1e3, (last_spoke.max() + 0.040) * 1e3,
                       color="grey", alpha=0.2, label="each PC's last frame + 40 ms")
            ax.grid(alpha=0.3)
        top.set_ylim(0, 17)  # room for the legend above the full table
        top.set_yticks(range(0, 13, 2))
        top.legend(loc="upper center", ncols=2)
        fig.suptitle("Twelve PCs on one switch: learn, forget, learn again")
        plt.show()
        events["event"].value_counts()
        """
    ),
    md(
        """
        **What to look for.** Flooding is intense at first and stops as soon as every PC
        has spoken once (its address is then in the table). The table then stays full of
        twelve entries while they talk. Nothing can age out before the dashed line (the
        first entry learned, plus the aging time), and here nothing does: every frame a PC
        sends refreshes its entry. Each entry goes 40 ms after its PC's *last* frame, so
        the table empties inside the shaded band. When the second burst starts
        at 100 ms the switch has forgotten everyone and floods again. A longer aging time
        would avoid this second wave of flooding; a shorter one follows moving hosts
        sooner (see below).

        ## A full table

        The same office, but the switch's table holds only 4 addresses (a tiny switch, or
        one flooded with fake source addresses in a *MAC flooding* attack).
        """
    ),
    code(
        """
        full = netsim.run(office(table=4))
        fig, ax = plt.subplots(figsize=(10, 3.5))
        for label, r in [("table of 8000", res), ("table of 4", full)]:
            x, rate = floods_per_ms(r.mac_events)
            ax.step(x, rate, where="post", label=label)
        ax.set_xlabel("simulated time (ms)")
        ax.set_ylabel("floods per ms")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title("A full table keeps flooding")
        plt.show()
        pd.DataFrame({
            "floods": [int((r.mac_events["event"] == "flood").sum()) for r in (res, full)],
            "'full' events": [int((r.mac_events["event"] == "full").sum()) for r in (res, full)],
            "frames received by PCs": [int(r.ports.query("kind == 'host'")["rx_frames"].sum())
                                       for r in (res, full)],
        }, index=["table of 8000", "table of 4"])
        """
    ),
    md(
        """
        **What to look for.** With room for only four addresses, the frames to the other
        eight PCs flood all the time: every PC receives traffic meant for others (which is
        also why MAC flooding is an eavesdropping attack), and the "frames received"
        count multiplies.

        ## A host that moves

        Two access switches under a core switch. h1 starts on acc1; at 1 ms it is
        unplugged and plugged into acc2 (a laptop changing desks). acc1 loses its entry
        for h1 at once (802.1D flushes the entries of a port whose link goes down), but
        the core's link to acc1 never went down: the core still believes h1 is behind acc1.
        """
    ),
    code(
        """
        from IPython.display import display

        MOVE = '''
        name: move
        duration: 10ms
        topology:
          defaults: {link: {speed: 100M, delay: 0s}}
          nodes:
            core: {kind: switch, ports: 4}
            acc1: {kind: switch, ports: 4}
            acc2: {kind: switch, ports: 4}
            h1: {kind: host}
            h2: {kind: host}
          links:
            - endpoints: ["core:1", "acc1:4"]
            - endpoints: ["core:2", "acc2:4"]
            - endpoints: ["core:3", h2]
            - endpoints: ["acc1:1", h1]
        traffic:
          - {kind: frames, name: before, from: h1, to: h2, count: 1, start: 0s}
          - {kind: frames, name: stale, from: h2, to: h1, count: 1, start: 2ms}
          - {kind: frames, name: moved, from: h1, to: h2, count: 1, start: 3ms}
          - {kind: frames, name: relearned, from: h2, to: h1, count: 1, start: 4ms}
        events:
          - {at: 1ms, action: host-move, host: h1, to: "acc2:1"}
        measure:
          mac_events: all
        '''
        moved = netsim.run(netsim.loads(MOVE))
        h1 = "02:00:00:00:00:01"
        ev = moved.mac_events.query("mac == @h1 and event != 'refresh'")
        display(ev.assign(time_ms=ev["time"] * 1e3)[["time_ms", "device", "event", "port"]])
        f = moved.frames
        f.assign(sent_ms=f["t_first_bit_out"] * 1e3)[
            ["traffic", "src", "dst", "sent_ms", "outcome", "drop_device", "drop_reason"]]
        """
    ),
    md(
        """
        **What to look for.** The frame sent to h1 at 2 ms ("stale") follows the core's
        old entry to acc1, which no longer knows h1 and floods it to its other ports,
        where h1 is not: it is lost. At 3 ms h1 speaks from its new desk; the core sees
        h1's address arrive on port 2 and records a **move** (so does acc2, which had
        learned h1 behind its uplink from the very first, flooded frame). From then on
        frames reach h1 again. Had h1 stayed silent, the stale entry would have lasted
        until it aged out: one reason switches forget at all (and why the default 300 s
        is a compromise).

        **Try it yourself.** Change `aging=` in `office(...)`, or run the labs
        `scenarios/labs/01-flooding.yaml` and `04-aging.yaml`.
        """
    ),
]

# --------------------------------------------------------------------------------------
# 4. Campus mail
# --------------------------------------------------------------------------------------

CAMPUS_MAIL = [
    md(
        """
        # Mail across a campus: IMAP latency by command, floor, load and switching mode

        `scenarios/campus.yaml` is a school building on Catalyst switches: a stack of two
        WS-C3750G-12S as the building node, three floors (WS-C2960G-24TC-L) with two rooms
        each (WS-C2960-24TT-L), PCs at 100 Mb/s, and a mail server in the server room.
        Each floor is a VLAN and an IP subnet of its own (10.0.10.0/24 ...), the server
        room another (10.0.0.0/24); the 3750 routes between them with its SVIs, so every
        PC reaches the mail server through one routed hop. Every PC keeps an IMAP session
        to the server: check for new mail, read a message, file it in a folder.

        **Questions.** Which IMAP commands are slow, and why? Does it matter which floor
        you sit on? What does background traffic on one floor's uplink do? What does the
        routed hop between the floors' subnets and the server's add? Would cut-through
        switches make mail faster?

        To keep this notebook quick the campus is shrunk: 6 PCs per room (36 in all),
        2 simulated seconds, one round of the session.
        """
    ),
    code(SETUP),
    code(
        '''
        CAMPUS = ROOT / "scenarios" / "campus.yaml"
        SMALL = ["duration=2s", "traffic[0].repeat=1", "traffic[0].think=0.5s",
                 "campus.floors.room.hosts=6"]
        # traffic[1..6]: background load on the three floor uplinks, up and down.
        QUIET = [f"traffic[{i}].rate=1%" for i in range(1, 7)]


        def campus(*sets):
            """The shrunk campus with extra --set style changes; returns its imap table."""
            res = netsim.run(netsim.load(CAMPUS, sets=[*SMALL, *QUIET, *sets]))
            imap = res.imap.assign(latency_ms=res.imap["latency"] * 1e3,
                                   floor=res.imap["client"].str[:2])
            return imap


        base = campus()
        print(f"{len(base)} IMAP commands from {base['client'].nunique()} PCs")
        base.head()
        '''
    ),
    md(
        """
        ## Latency by command

        Each row is one command: from the moment the client hands it to TCP to the moment
        the tagged reply is fully received.
        """
    ),
    code(
        """
        order = base.groupby("command")["latency_ms"].median().sort_values().index
        fig, ax = plt.subplots(figsize=(9, 4.5))
        ax.boxplot([base.loc[base["command"] == c, "latency_ms"] for c in order],
                   orientation="horizontal", tick_labels=order)
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms)")
        ax.grid(alpha=0.3, which="both")
        ax.set_title("IMAP latency by command, quiet campus")
        plt.show()
        base.groupby("command")[["latency_ms", "bytes_in"]].median().loc[order]
        """
    ),
    md(
        """
        **What to look for.** Short exchanges (NOOP, LOGIN, UID SEARCH) take a few tens of
        microseconds: a round trip across five or six switches. FETCH spreads over three
        decades because it fetches very different things: flags or headers (a few hundred
        bytes), a message body (a few KB), or a message with a 100 KB attachment. The
        last take over 10 ms: 140 KB is 11 ms of serialization at 100 Mb/s on the PC's
        own link alone, plus the round trips TCP needs to grow its window. Latency is
        mostly *bytes*, then *round trips*; the switches add microseconds.

        ## Latency by floor, under rising background load

        Now floor 1's uplink (1 Gb/s fibre to the building) carries background traffic
        in both directions: 1 %, 50 %, then 90 % of its capacity. The other floors stay
        quiet.
        """
    ),
    code(
        """
        rows = []
        for rate in ["1%", "50%", "90%"]:
            imap = campus(f"traffic[1].rate={rate}", f"traffic[2].rate={rate}")
            for floor, group in imap.groupby("floor"):
                rows.append(dict(load=rate, floor=floor,
                                 median_ms=group["latency_ms"].median(),
                                 p90_ms=group["latency_ms"].quantile(0.9)))
        floors = pd.DataFrame(rows)

        fig, ax = plt.subplots(figsize=(8, 4))
        width = 0.25
        for i, rate in enumerate(["1%", "50%", "90%"]):
            mine = floors[floors["load"] == rate]
            ax.bar(np.arange(3) + (i - 1) * width, mine["median_ms"], width,
                   label=f"floor 1 uplink at {rate}")
        ax.set_xticks(range(3), ["floor 1", "floor 2", "floor 3"])
        ax.set_ylabel("median IMAP latency (ms)")
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
        ax.set_title("Background load on floor 1's uplink")
        plt.show()
        floors.pivot(index="floor", columns="load", values="median_ms")
        """
    ),
    md(
        """
        **What to look for.** Only floor 1 slows down: its PCs' packets queue behind
        background frames at both ends of the uplink (M/G/1 queueing: the wait grows
        like ρ/(1−ρ)). At 50 % the median grows by about a quarter; at 90 % it nearly
        triples. The other floors do not share that queue, so they do not notice. (The
        background frames stay on the uplink: they are addressed to the link itself and
        never forwarded, so the rest of the building does not see them.)

        ## What the routed hop adds

        The PCs sit in other subnets than the server: the 3750 routes every packet
        (its SVI takes the frame, the TTL drops by one, a new frame leaves from the
        router's MAC). Run the same campus with one flat subnet (`campus.vlans=none`:
        no VLANs, no routing, the 3750 only switches) and compare each command's median.
        """
    ),
    code(
        """
        from IPython.display import display

        flat = campus("campus.vlans=none")
        routed = base
        hop = pd.DataFrame({
            "one subnet, switched (ms)": flat.groupby("command")["latency_ms"].median(),
            "subnet per floor, routed (ms)": routed.groupby("command")["latency_ms"].median(),
        })
        hop["routed hop adds (µs)"] = (hop.iloc[:, 1] - hop.iloc[:, 0]) * 1e3
        per_floor = routed.groupby("floor")["latency_ms"].median().rename("routed, median ms")
        display(hop.loc[order])
        per_floor
        """
    ),
    md(
        """
        **What to look for.** Next to nothing: 0.13 µs per command, and that is the
        802.1Q tags (4 bytes, 32 ns at 1 Gb/s, on each trunk the command and its reply
        cross), not the routing. The 3750 routes in hardware (CEF): one lookup at its
        forwarding rate, exactly as it switches, over the same cables. CONNECT is even
        a few µs faster routed: the PC's first ARP asks for its gateway, which the 3750
        answers from the building, not for the server, which answered from the server
        room (and whose broadcast reached every PC). Every floor sees the same latency:
        each is one routed hop from the server room. A software router
        would be another story: in `scenarios/labs/10-inter-vlan-routing.yaml`, a 20 µs
        router adds 40 µs to every round trip, and `--set
        topology.nodes.edge.processing_delay=1ms` about 2 ms.

        ## Per switching mode

        Catalysts store and forward. What if every switch cut through?
        """
    ),
    code(
        """
        MODES = ["store-and-forward", "cut-through", "fragment-free"]
        per_mode = {mode: campus(f"topology.defaults.switch.mode={mode}") for mode in MODES}
        table = pd.DataFrame({mode: imap.groupby("command")["latency_ms"].median()
                              for mode, imap in per_mode.items()})
        saved = table["store-and-forward"] - table["cut-through"]
        table["saved by cut-through (µs)"] = saved * 1e3
        table.loc[order]
        """
    ),
    code(
        """
        fig, ax = plt.subplots(figsize=(9, 4))
        x = np.arange(len(order))
        for i, mode in enumerate(MODES):
            share = table.loc[order, mode] / table.loc[order, "store-and-forward"]
            ax.bar(x + (i - 1) * 0.27, share * 100, 0.27, label=mode)
        ax.set_xticks(x, order, rotation=30, ha="right")
        ax.set_ylabel("median latency, % of store-and-forward")
        ax.set_ylim(0, 110)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(loc="lower right")
        ax.set_title("IMAP latency per switching mode, relative to store-and-forward")
        plt.show()
        """
    ),
    md(
        """
        **What to look for.** Cut-through saves a frame time per switch per full-size
        packet: 12 µs at 1 Gb/s, 120 µs at 100 Mb/s, and a PC's path crosses several
        switches. For short commands that is a visible fraction (10–20 %); for a large
        FETCH, which is many packets pipelined through TCP's window, much less of it
        shows. Whether that is worth losing the FCS check (see `switching_modes.ipynb`)
        is the engineering question.

        **Try it yourself.** `netsim sweep scenarios/campus-modes.yaml` runs the full
        campus in the three modes; `scenarios/labs/06-loaded-uplink.yaml` measures the
        queueing on one uplink against the Pollaczek-Khinchine formula.
        """
    ),
]

# --------------------------------------------------------------------------------------
# 5. VLANs and trunks
# --------------------------------------------------------------------------------------

VLAN_CAMPUS = """\
name: campus-{vlans}
duration: 1ms
campus:
  floors: {{count: 3, rooms: 2, room: {{hosts: 12}}}}
  server_room: {{servers: {{mail: {{vlan: 101}}}}}}
  vlans: {vlans}
traffic:
  - {{kind: frames, from: f1r1h01, to: broadcast, count: 1}}
"""

VLANS = [
    md(
        """
        # VLANs and trunks: one set of switches, several networks

        A **VLAN** (IEEE 802.1Q) splits switches into separate broadcast domains. Each port
        is configured, as on a Catalyst:

        - an **access port** is in one VLAN; its frames are untagged;
        - a **trunk** joins switches and carries several VLANs (its *allowed* list). Each
          frame gets a 4-byte **tag**: TPID `0x8100`, then 3 bits of priority (PCP), one
          DEI bit and the 12-bit **VLAN ID**. The *native* VLAN (1 unless configured)
          crosses untagged.

        A switch learns, looks up and floods **within a VLAN** (independent VLAN learning):
        a broadcast in VLAN 10 never leaves through a VLAN-20 port, and there is no path
        between two VLANs without a router.

        **Questions.** Who hears whom? What does the tag cost on the wire? How much smaller
        does a broadcast's reach become in a campus cut into VLANs?
        """
    ),
    code(SETUP),
    md(
        """
        ## Lab 7: who receives what

        Two 2960s joined by a gigabit trunk; pc1 and pc3 in VLAN 10, pc2 and pc4 in VLAN 20
        (`scenarios/labs/07-vlans.yaml`). pc1 broadcasts, pc2 sends to pc4 (unknown: it
        floods), pc1 sends to pc2 (another VLAN). `netsim expand` prints each port's VLAN.
        """
    ),
    code(
        """
        LAB = ROOT / "scenarios" / "labs" / "07-vlans.yaml"
        res = netsim.run(netsim.load(LAB))
        hosts = res.ports[res.ports["kind"] == "host"].set_index("device")
        display(res.frames[["traffic", "size", "latency", "receivers", "outcome", "drop_reason"]])
        display(hosts[["rx_frames", "tx_frames"]])
        display(res.mac_events[["time", "device", "event", "mac", "port", "vlan"]])
        """
    ),
    md(
        """
        pc3 gets the broadcast and, flooded in VLAN 10, pc1's frame for pc2: the switch
        knows pc2 only in VLAN 20, so in VLAN 10 the address is unknown. pc2 and pc4 never
        see VLAN 10's frames.

        ## The tag on the wire

        A tagged frame is 4 bytes longer: 1518 becomes 1522, the largest tagged frame. The
        time on the wire is `(size + 8) * 8 / R`, preamble included. Below, one frame of
        each size crosses the lab's trunk; the points are the simulated time of the trunk
        hop, the lines the formula for the tagged and untagged sizes.
        """
    ),
    code(
        """
        sizes = [64, 128, 256, 512, 1024, 1518]
        rows = []
        for size in sizes:
            sc = netsim.load(LAB, sets=[f"traffic[0].size={size}"])
            hop = netsim.run(sc, follow=[1]).hops.set_index("from_port").loc["sw1:Gi0/1"]
            rows.append((hop["bytes"], hop["t_last_bit_in"] - hop["t_first_bit_in"]))
        on_trunk = pd.DataFrame(rows, index=sizes, columns=["bytes on trunk", "seconds"])
        on_trunk["formula (tagged)"] = (on_trunk.index + 4 + 8) * 8 / 1e9
        display(on_trunk)

        x = np.linspace(64, 1518, 50)
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot(x, (x + 8) * 8 / 1e9 * 1e6, "--", color="grey", label="untagged formula")
        ax.plot(x, (x + 4 + 8) * 8 / 1e9 * 1e6, color="C0", label="tagged formula (+4 bytes)")
        ax.plot(sizes, on_trunk["seconds"] * 1e6, "o", color="C0", label="simulated trunk hop")
        ax.set_xlabel("frame size on the access port (bytes)")
        ax.set_ylabel("time on the 1 Gb/s trunk (µs)")
        ax.legend()
        plt.show()
        """
    ),
    md(
        """
        The difference is 32 ns per frame at 1 Gb/s: for a 64-byte frame that is 4.8 % of
        its time on the wire, for a 1518-byte frame 0.3 %.

        ## A campus cut into VLANs

        The campus builder puts a VLAN on every floor (`vlans: per-floor`) or every room
        (`vlans: per-room`), with trunks on the uplinks. One PC broadcasts once (as ARP
        does for every new neighbour). How many switch ports send it, and how many PCs must
        take it in?
        """
    ),
    code(
        f"""
        CAMPUS = '''\\
        {textwrap.indent(VLAN_CAMPUS, "        ").strip()}
        '''
        """
        + """
        reach = {}
        for vlans in ["none", "per-floor", "per-room"]:
            text = CAMPUS.format(vlans=vlans)
            ports = netsim.run(netsim.loads(text)).ports
            switch_tx = ports.loc[ports["kind"] == "switch", "tx_frames"]
            host_rx = ports.loc[ports["kind"] == "host", "rx_frames"]
            reach[vlans] = {
                "switch ports that sent it": int((switch_tx > 0).sum()),
                "hosts that received it": int(host_rx.sum()),
            }
        reach = pd.DataFrame(reach).T
        display(reach)
        reach.plot.bar(figsize=(8, 4), rot=0)
        plt.ylabel("count")
        plt.title("one broadcast from f1r1h01")
        plt.show()
        """
    ),
    md(
        """
        Without VLANs the broadcast reaches the 71 other PCs and the server; with a VLAN
        per floor only floor 1's 23 other PCs (the server, in VLAN 101, is on no floor's
        VLAN then), with a VLAN per room the 11 others in the room and the server (VLAN 101
        is room f1r1's). The trunks' allowed lists keep each VLAN off the uplinks that lead
        to none of its hosts: 82 switch ports send the broadcast, then 26, then 15.

        ## A server on a trunk

        A server can sit on a trunk port with a VLAN sub-interface (`vlan: 10` on the host,
        like Linux's `eth0.10`): it sends and accepts frames tagged 10. A PC in VLAN 10
        pings it across both switches; one in VLAN 20 cannot reach it.
        """
    ),
    code(
        """
        import yaml

        lab = yaml.safe_load(LAB.read_text())
        lab["topology"]["nodes"]["srv"] = {"kind": "host", "vlan": 10}
        lab["topology"]["nodes"]["sw2"]["interfaces"]["Gi0/2"] = {"mode": "trunk"}
        lab["topology"]["links"].append({"endpoints": ["srv", "sw2:Gi0/2"]})
        lab["traffic"] = [
            {"kind": "ping", "from": "pc1", "to": "srv", "count": 3, "interval": "1ms"},
            {"kind": "ping", "from": "pc2", "to": "srv", "count": 1, "timeout": "2ms"},
        ]
        res = netsim.run(netsim.loads(yaml.safe_dump(lab)))
        display(res.extra["ping"][["src", "dst", "seq", "rtt", "outcome"]])
        """
    ),
    md(
        """
        **Try it yourself.** In lab 7, move pc2 to VLAN 10
        (`--set topology.nodes.sw1.interfaces.Fa0/13-24.vlan=10`), or take VLAN 10 off the
        trunk (`--set "topology.nodes.sw1.interfaces.Gi0/1.allowed=[20]"`), and predict
        ports.csv before you run it.
        """
    ),
]


# --------------------------------------------------------------------------------------
# 6. QoS queues and SPAN
# --------------------------------------------------------------------------------------

QOS_SPAN = [
    md(
        """
        # QoS egress queues and SPAN port mirroring

        A Catalyst with `mls qos` has four egress queues per port. Frames are sorted into
        them by their marks, the **CoS** (802.1p priority in an 802.1Q tag) or the
        **DSCP** (six bits of the IPv4 header), as far as the ingress port *trusts* them.
        Queue 1 can be a **strict-priority** (expedite) queue; the others share the link
        by **SRR** weights. A **SPAN** session copies the frames of some ports to another,
        where an analyzer listens.

        **Questions.** How long can a priority frame wait behind big best-effort frames?
        Do SRR weights really split the link? What does a priority queue do for mail
        across a saturated uplink (lab 8)? When does a SPAN port drop copies?
        """
    ),
    code(SETUP),
    md(
        """
        ## A strict-priority queue, behind saturating best-effort traffic

        Two switches, two 100 Mb/s hops. One host floods 1518-byte frames; another sends
        small IPv4 packets marked DSCP EF (46), which the default DSCP map puts in
        queue 1; both switches trust DSCP (a CoS would not survive the first access
        port, which sends frames untagged). We compare three configurations of both
        switches: QoS off (one FIFO per port), queue 1 served by SRR with a small weight
        (1 against 25 for the best-effort queue), and queue 1 as the expedite queue. A
        priority frame that never waits would take 12.1 µs; the bound for the expedite
        queue is one best-effort frame (1518 + 8 + 12 bytes: 123 µs) per hop.
        """
    ),
    code(
        """
        CHAIN = '''
        name: strict-priority
        duration: 20ms
        topology:
          defaults: {{link: {{delay: 0s}}}}
          nodes:
            be: {{kind: host}}
            pri: {{kind: host}}
            dst: {{kind: host}}
            sw1: {{kind: switch, ports: 4{qos}}}
            sw2: {{kind: switch, ports: 4{qos}}}
          links:
            - {{endpoints: ["be", "sw1:1"], speed: 1G}}
            - {{endpoints: ["pri", "sw1:2"], speed: 1G}}
            - {{endpoints: ["sw1:3", "sw2:1"], speed: 100M}}
            - {{endpoints: ["sw2:2", "dst"], speed: 100M}}
        traffic:
          - {{kind: frames, name: learn-be, from: dst, to: be, count: 1}}
          - {{kind: frames, name: learn-pri, from: dst, to: pri, count: 1}}
          - {{kind: frames, name: best-effort, from: be, to: dst, size: 1518, rate: 100%,
             pattern: poisson, start: 10us}}
          - {{kind: frames, name: priority, from: pri, to: dst, size: 64, dscp: EF,
             interval: 137us, pattern: poisson, start: 1ms}}
        '''
        CONFIGS = {
            "FIFO (no QoS)": "",
            "SRR, queue 1 weight 1 of 76":
                ", interfaces: {1-3: {trust: dscp, srr_share: [1, 25, 25, 25]}}",
            "expedite queue 1": ", interfaces: {1-3: {trust: dscp, priority_queue: true}}",
        }
        IDEAL = 72 * 8 / 1e9 + 2 * 72 * 8 / 100e6
        BOUND = 2 * (1518 + 8 + 12) * 8 / 100e6
        waits = {}
        for label, qos in CONFIGS.items():
            frames = netsim.run(netsim.loads(CHAIN.format(qos=qos))).frames
            prio = frames[(frames["traffic"] == "priority") & (frames["outcome"] == "delivered")]
            waits[label] = (prio["latency"] - IDEAL) * 1e6
        fig, ax = plt.subplots(figsize=(9, 4))
        for label, w in waits.items():
            ax.hist(w, bins=np.logspace(1, 4.7, 75), alpha=0.6, label=label)
        ax.axvline(BOUND * 1e6, color="k", ls="--", label="bound: one frame per hop")
        ax.set_xscale("log")
        ax.set_xlabel("wait of a priority frame (µs)")
        ax.set_ylabel("frames")
        ax.legend()
        plt.show()
        pd.DataFrame({k: v.describe() for k, v in waits.items()}).T[["count", "mean", "max"]]
        """
    ),
    md(
        """
        **What to look for.** In a FIFO the priority frames queue behind the whole
        backlog: milliseconds. With SRR, queue 1 waits for its turn in the round: up to
        25 best-effort frames per hop with these weights (with equal weights it would be
        one, as for the expedite queue while only one other queue is busy). The
        expedite queue never lets a
        priority frame wait for more than the frame already on the wire: every wait is
        left of the dashed line, and some are close to it.

        ## SRR shared weights

        Four hosts each offer twice a 100 Mb/s port's rate, marked CoS 5, 0, 2 and 4:
        queues 1 to 4. What share of the port does each queue get, for a few weights?
        """
    ),
    code(
        """
        SRR = '''
        name: srr
        duration: 60ms
        topology:
          defaults: {{link: {{delay: 0s, speed: 200M}}}}
          nodes:
            dst: {{kind: host}}
            h5: {{kind: host}}
            h0: {{kind: host}}
            h2: {{kind: host}}
            h4: {{kind: host}}
            sw:
              kind: switch
              ports: 8
              interfaces: {{1-4: {{trust: cos}}, "8": {{srr_share: {weights}}}}}
          links:
            - {{endpoints: ["h5", "sw:1"]}}
            - {{endpoints: ["h0", "sw:2"]}}
            - {{endpoints: ["h2", "sw:3"]}}
            - {{endpoints: ["h4", "sw:4"]}}
            - {{endpoints: ["sw:8", "dst"], speed: 100M}}
        traffic:
          - {{kind: frames, name: learn, from: dst, to: h0, count: 1}}
          - {{kind: frames, name: q1, from: h5, to: dst, size: 1518, cos: 5, rate: 100%}}
          - {{kind: frames, name: q2, from: h0, to: dst, size: 1518, cos: 0, rate: 100%}}
          - {{kind: frames, name: q3, from: h2, to: dst, size: 1518, cos: 2, rate: 100%}}
          - {{kind: frames, name: q4, from: h4, to: dst, size: 1518, cos: 4, rate: 100%}}
        '''
        rows = []
        for weights in ([1, 1, 1, 1], [1, 2, 3, 4], [1, 1, 1, 5], [10, 1, 1, 1]):
            frames = netsim.run(netsim.loads(SRR.format(weights=weights))).frames
            ok = frames[(frames["outcome"] == "delivered") & (frames["t_last_bit_in"] > 0.005)
                        & (frames["t_last_bit_in"] < 0.060)]
            octets = ok[ok["traffic"].str.startswith("q")].groupby("traffic")["size"].sum()
            for q, w in zip(["q1", "q2", "q3", "q4"], weights, strict=True):
                rows.append({"weights": str(weights), "queue": q,
                             "share": octets[q] / octets.sum(), "weight share": w / sum(weights)})
        shares = pd.DataFrame(rows)
        shares.pivot(index="weights", columns="queue", values="share").plot.bar(
            stacked=True, figsize=(8, 4), ylabel="share of the port", rot=0)
        plt.show()
        shares.assign(error=shares["share"] / shares["weight share"] - 1).round(3)
        """
    ),
    md(
        """
        ## Lab 8: a priority queue for mail

        `scenarios/labs/08-qos.yaml`: four PCs read mail across a 100 Mb/s uplink that
        background traffic fills. The mail is marked AF21; the core trusts the server's
        DSCP, maps AF21 to queue 1 and makes queue 1 of the uplink the expedite queue.
        """
    ),
    code(
        """
        LAB = ROOT / "scenarios" / "labs" / "08-qos.yaml"
        RUNS = {
            "unloaded": ["traffic[0].start=100s"],
            "expedite queue": [],
            "SRR only": ["topology.nodes.core.interfaces.Gi0/1.priority_queue=false"],
            "untrusted": ["topology.nodes.core.interfaces.Gi0/2.trust=none"],
        }
        medians, queues = {}, {}
        for label, sets in RUNS.items():
            res = netsim.run(netsim.load(LAB, sets=sets))
            medians[label] = res.imap.groupby("command")["latency"].median() * 1e3
            q = res.extra["queues"]
            queues[label] = q[(q["device"] == "core") & (q["port"] == "Gi0/1")].set_index("queue")
        medians = pd.DataFrame(medians)
        medians.plot.barh(figsize=(9, 5), logx=True, xlabel="median latency (ms)")
        plt.show()
        medians.round(3)
        """
    ),
    code(
        """
        pd.concat({k: v[["enqueued", "dropped", "max_depth_bytes"]] for k, v in queues.items()})
        """
    ),
    md(
        """
        **What to look for.** With the expedite queue every command but CONNECT stays close
        to the unloaded network; CONNECT waits for ARP, which is not IP, has no DSCP, and
        queues with the background. Untrusted, the marks are reset to 0 and mail waits in
        the full queue 2 with the background: milliseconds, and drops.

        ## SPAN: when the analyzer's port cannot keep up

        A 2960 mirrors Fa0/1 and Fa0/2 (both directions) to Fa0/24. The sources carry
        four streams at the same rate; the destination must send all of them.
        """
    ),
    code(
        """
        SPAN = '''
        name: span
        duration: 50ms
        topology:
          defaults: {{link: {{speed: 100M, delay: 0s}}}}
          nodes:
            a: {{kind: host}}
            b: {{kind: host}}
            c: {{kind: host}}
            sniffer: {{kind: host}}
            sw:
              kind: switch
              model: WS-C2960-24TT-L
              buffer: 64KB
              monitor: [{{source: [Fa0/1, Fa0/2], direction: both, destination: Fa0/24}}]
          links:
            - endpoints: ["a", "sw:Fa0/1"]
            - endpoints: ["b", "sw:Fa0/2"]
            - endpoints: ["c", "sw:Fa0/3"]
            - endpoints: ["sniffer", "sw:Fa0/24"]
        traffic:
          - {{kind: frames, from: a, to: b, size: 1000, rate: {rate}, pattern: poisson}}
          - {{kind: frames, from: b, to: c, size: 1000, rate: {rate}, pattern: poisson}}
          - {{kind: frames, from: c, to: a, size: 1000, rate: {rate}, pattern: poisson}}
        '''
        rows = []
        for pct in (10, 20, 25, 30, 40, 60, 80):
            res = netsim.run(netsim.loads(SPAN.format(rate=f"{pct}%")))
            session = res.extra["span"].iloc[0]
            copies = session["rx_copies"] + session["tx_copies"]
            rows.append({"rate per stream": pct, "offered to Fa0/24": 4 * pct,
                         "copies": copies, "dropped": session["dropped"],
                         "dropped share": session["dropped"] / copies,
                         "1 - 100/offered": max(0.0, 1 - 100 / (4 * pct))})
        span = pd.DataFrame(rows)
        span.plot(x="offered to Fa0/24", y=["dropped share", "1 - 100/offered"], marker="o",
                  figsize=(7, 3.5), xlabel="load offered to the SPAN port (% of its rate)")
        plt.show()
        span
        """
    ),
    md(
        """
        **What to look for.** Below 100 % of the destination's rate nothing is lost: the
        64 KB buffer of this example absorbs the random bursts. At exactly 100 % there is
        no slack, and bursts overflow it. Past it, the share of copies dropped follows
        1 - 100/offered: the port sends at its rate
        and the rest is tail-dropped. An analyzer on an oversubscribed SPAN port does not
        see all the traffic, while the originals all arrive.
        """
    ),
]


# --------------------------------------------------------------------------------------
# 7. SMTP, IMAP and POP3
# --------------------------------------------------------------------------------------

MAIL_PROTOCOLS = [
    md(
        r"""
        # SMTP, IMAP and POP3 across the campus

        Three protocols carry mail, each with a clear-text port and a TLS one:

        | protocol | job | ports: clear or STARTTLS / TLS from the first byte |
        |---|---|---|
        | SMTP (RFC 5321, submission RFC 6409) | hand a message to the server | 25, 587 / 465 |
        | POP3 (RFC 1939) | download the maildrop, usually delete it | 110 / 995 |
        | IMAP (RFC 3501) | work on mail kept on the server; IDLE waits for news | 143 / 993 |

        netsim runs its own SMTP, POP3 and IMAP servers (the code `netsim serve-mail` runs
        on real sockets) on a simulated host, so every command below crossed the simulated
        switches as real TCP segments. Each protocol writes a table (`smtp.csv`,
        `pop3.csv`, `imap.csv`, a row per command) and `delivery.csv` says when each
        message was submitted, stored and seen by each reader.

        **Questions.** What does each protocol cost per task, in round trips and octets?
        How long does new mail take to reach a reader that polls, and one that waits in
        IDLE? What does POP3 leave on the server? What do TLS, a slow link and a busy
        server add?
        """
    ),
    code(SETUP),
    code(
        """
        import textwrap

        from netsim.scenario.units import parse_time

        FLOOR = '''
        name: mail-floor
        duration: {duration}
        topology:
          defaults: {{link: {{speed: {speed}, delay: {delay}}}}}
          nodes:
            pop: {{kind: host}}
            imap: {{kind: host}}
            idle: {{kind: host}}
            sender: {{kind: host}}
            floor: {{kind: switch, ports: 8}}
            core: {{kind: switch, ports: 8}}
            mail: {{kind: host}}
          links:
            - {{endpoints: [pop, floor]}}
            - {{endpoints: [imap, floor]}}
            - {{endpoints: [idle, floor]}}
            - {{endpoints: [sender, floor]}}
            - {{endpoints: [floor, core], speed: 1G}}
            - {{endpoints: [core, mail], speed: 1G}}
        {servers}
        traffic:
        {traffic}
        '''


        def run(traffic, duration="10s", speed="100M", delay="1us", servers=""):
            text = FLOOR.format(
                traffic=textwrap.indent(textwrap.dedent(traffic).strip(), "  "),
                duration=duration, speed=speed, delay=delay, servers=servers,
            )
            return netsim.run(netsim.loads(text))
        """
    ),
    md(
        """
        ## One task each: submit a message, download it, read it

        The sender submits one message to each of two readers. The POP3 reader polls once,
        after the delivery: log in, list, download, delete, quit. The IMAP reader logs in,
        selects its INBOX and reads a message: headers, structure, body. A *round trip*
        here is a write the client had to wait for before it could send the next.
        """
    ),
    code(
        """
        TASK = '''
        - {kind: pop3, server: mail, clients: [pop], start: 1s, polls: 1, mailbox: {messages: 0}}
        - {kind: imap, server: mail, clients: [imap], start: 1s, session: [read-a-message],
           mailbox: {messages: 0}}
        - {kind: smtp, server: mail, clients: [sender], to: [pop, imap], count: 2,
           interval: 10ms, size: 8KB}
        '''
        res = run(TASK)
        tables = {"SMTP": res.extra["smtp"], "POP3": res.extra["pop3"], "IMAP": res.imap}
        rows = []
        for proto, t in tables.items():
            first = t[t["session"] == t["session"].iloc[0]]
            rows.append({"protocol": proto, "commands": len(first),
                         "round trips": first["t_start"].nunique(),
                         "octets sent": first["bytes_out"].sum(),
                         "octets received": first["bytes_in"].sum(),
                         "time (ms)": (first["t_end"].max() - first["t_start"].min()) * 1e3})
        pd.DataFrame(rows).set_index("protocol")
        """
    ),
    code(
        """
        per_command = pd.concat(
            {p: t.groupby("command")[["bytes_out", "bytes_in", "latency"]].mean()
             for p, t in tables.items()})
        per_command.assign(latency=per_command["latency"] * 1e6).rename(
            columns={"latency": "latency (µs)"}).round(1)
        """
    ),
    md(
        """
        **What to look for.** SMTP's envelope (MAIL, RCPT, DATA) leaves in one write with
        PIPELINING: three commands, one round trip. POP3 moves the message once, with a
        few octets of protocol around it. IMAP says more per command (tags, FETCH syntax)
        but fetches just what it asks for. On a LAN the time is in the round trips, not in
        the octets, until a message is big.

        ## Download-and-delete against server-side state

        A POP3 client that deletes what it downloads leaves an empty maildrop: the mail
        now lives on one PC. One that keeps it (`keep: true`) remembers the UIDLs it has
        seen and downloads nothing twice. IMAP keeps everything on the server, where every
        client of the user sees it.
        """
    ),
    code(
        """
        rows = []
        for keep in ("false", "true"):
            r = run(f'''
            - {{kind: pop3, server: mail, clients: [pop], poll: 2s, polls: 3, keep: {keep},
               mailbox: {{messages: 4}}}}
            ''')
            pop3 = r.extra["pop3"]
            stat = pop3.query("command == 'STAT'")
            retr = pop3.query("command == 'RETR'").groupby("session").size()
            for i, (session, reply) in enumerate(zip(stat["session"], stat["reply"], strict=True)):
                rows.append({"keep": keep, "poll": i + 1,
                             "messages on the server": int(reply.split()[0]),
                             "downloaded": int(retr.get(session, 0))})
        pd.DataFrame(rows).pivot(index="poll", columns="keep")
        """
    ),
    md(
        r"""
        ## Push (IDLE) against polling

        Mail arrives at random (a Poisson stream, a message every 5 s on average, for 10
        minutes). The `idle` PC waits in IMAP IDLE; the `imap` PC polls every $P$ = 30 s;
        the `pop` PC polls POP3 every 30 s. A poller learns of a message at its next poll:
        on average $P/2$ later, uniformly between 0 and $P$. A push arrives one fabric
        crossing after the store has the message.
        """
    ),
    code(
        """
        PUSH = '''
        - {kind: imap, server: mail, clients: [idle], session: [wait-for-mail], idle: 29min,
           repeat: 500, think: 0s, mailbox: {messages: 10}}
        - {kind: imap, server: mail, clients: [imap], session: [check-new-mail], repeat: 500,
           think: 30s, mailbox: {messages: 10}}
        - {kind: pop3, server: mail, clients: [pop], poll: 30s, mailbox: {messages: 10}}
        - {kind: smtp, server: mail, clients: [sender], to: [idle, imap, pop], start: 1s,
           count: 120, interval: 5s, pattern: poisson}
        '''
        delivery = run(PUSH, duration="600s").extra["delivery"]
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for via, group in delivery.groupby("via"):
            ax.ecdf(group["latency"], label=f"{via} ({len(group)} messages)")
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.axvline(15, color="k", ls=":", label="P/2 = 15 s")
        ax.set_xlabel("from submission to the reader knowing (s)")
        ax.set_ylabel("share of messages")
        ax.legend()
        plt.show()
        delivery.groupby("via")["latency"].describe().round(4)
        """
    ),
    md(
        """
        **What to look for.** Every pushed message reaches its reader in well under a
        millisecond: two crossings of the fabric (submission, push) and the server's work.
        The polled ones spread between 0 and 30 s, their mean near 15 s. Polling more
        often costs a login, a listing and round trips per poll whether there is mail or
        not; IDLE costs one open connection.

        ## Header-only fetch on a 64 kb/s link

        On a slow link (an old WAN line, a satellite hop) octets are time. A client that
        fetches only the header of a message (IMAP `BODY.PEEK[HEADER]`, POP3 `TOP n 0`)
        shows the list at once and downloads a body only when the user opens it.
        """
    ),
    code(
        """
        rows = []
        for mode in ("full", "headers"):
            r = run(f'''
            - {{kind: imap, server: mail, clients: [imap], session: [read-a-message], repeat: 3,
               think: 0s, fetch: {mode}, mailbox: {{messages: 20, mean_size: 30KB}}}}
            ''', speed="64k", delay="5ms", duration="60s")
            fetch = r.imap.query("command == 'FETCH'")
            rows.append({"fetch": mode, "octets in": fetch["bytes_in"].sum(),
                         "time (s)": fetch["latency"].sum()})
        slow = pd.DataFrame(rows).set_index("fetch")
        slow.plot.bar(subplots=True, layout=(1, 2), figsize=(8, 3), legend=False, rot=0)
        plt.show()
        slow.assign(**{"octets x 8 / 64 kb/s (s)": slow["octets in"] * 8 / 64e3}).round(2)
        """
    ),
    md(
        r"""
        **What to look for.** The time follows the octets: $8 \times$ octets / 64,000 s is
        nearly all of it. Headers are a few hundred octets a message, bodies tens of
        thousands.

        ## 993 against 143: what TLS costs

        IMAPS, POP3S and SMTPS start TLS before the server's greeting. netsim replays the
        records of a real OpenSSL handshake (measured by `benchmarks/tls_shapes.py`):
        TLS 1.3 takes one round trip before the client may speak, TLS 1.2 two; the
        server, which speaks first in all three protocols, greets one round trip later
        than in clear text either way. Each record then adds a 5-octet header and 17
        (TLS 1.3) or 24 (TLS 1.2, AES-GCM) octets of tag, type or nonce.
        """
    ),
    code(
        """
        rows = []
        for delay in ("10us", "100us", "1ms", "5ms"):
            r = run('''
            - {kind: imap, server: mail, clients: [imap], port: 143, session: [NOOP]}
            - {kind: imap, server: mail, clients: [idle], port: 993, session: [NOOP]}
            - {kind: imap, server: mail, clients: [pop], port: 993, tls_version: "1.2",
               session: [NOOP]}
            ''', delay=delay)
            connect = r.imap.query("command == 'CONNECT'").set_index("client")["latency"]
            rtt = 2 * 3 * parse_time(delay)
            rows.append({"link delay": delay, "RTT (ms)": rtt * 1e3,
                         "143 (ms)": connect["imap"] * 1e3,
                         "993, TLS 1.3 (ms)": connect["idle"] * 1e3,
                         "993, TLS 1.2 (ms)": connect["pop"] * 1e3,
                         "extra / RTT": (connect["idle"] - connect["imap"]) / rtt})
        pd.DataFrame(rows).set_index("link delay").round(3)
        """
    ),
    md(
        """
        **What to look for.** The extra time to the greeting tends to one round trip as
        the delay grows; on short links the handshake's two kilobytes of records weigh
        more than the round trip.

        ## A server with a CPU and a disk

        So far the server answered in zero time. `mail_servers: {mail: {cores, cpu_speed,
        fsync}}` gives it cores (commands queue when all are busy), a speed relative to
        the machine the costs were measured on (`benchmarks/mail_costs.py` timed netsim's
        own servers on a durable store) and a disk whose fsync takes a time: a message is
        safe, and its 250 goes out, only after its syncs.
        """
    ),
    code(
        """
        from netsim.apps.server_cost import measured

        SUBMIT = '''
        - {kind: pop3, server: mail, clients: [pop], polls: 1, mailbox: {messages: 0}}
        - {kind: smtp, server: mail, clients: [sender], to: [pop], count: 20, interval: 100ms}
        '''
        rows = []
        for speed in (0.25, 1.0, 4.0):
            for fsync in ("0s", "1ms", "8ms"):
                servers = f"mail_servers: {{mail: {{cpu_speed: {speed}, fsync: {fsync}}}}}"
                smtp = run(SUBMIT, servers=servers).extra["smtp"].query("command == 'MESSAGE'")
                rows.append({"cpu_speed": speed, "fsync": fsync,
                             "MESSAGE (ms)": smtp["latency"].median() * 1e3})
        print("measured cost of taking a message:", measured("smtp").cost("MESSAGE"))
        pd.DataFrame(rows).pivot(index="fsync", columns="cpu_speed").round(3)
        """
    ),
    md(
        """
        **What to look for.** Each message costs its CPU time divided by `cpu_speed`, plus
        three fsyncs (the message's file, its directory, the journal line): with a slow
        disk the syncs dominate, and a faster CPU hardly helps.
        """
    ),
    md(
        r"""
        ## Coming back online: three ways to resynchronise

        A laptop's mail program (`session: [disconnected]`, RFC 4549) keeps a cache of its
        INBOX: every message's UID and flags. It goes offline at 1 s and back at 4 s.
        Meanwhile the user's phone flags two messages and files one in Archive (gone from
        the INBOX), and a new message arrives. Back online, the laptop must learn all of
        that, and it has three ways (`resync:`):

        - `plain` (RFC 4549): fetch the flags of every message it knows; a UID missing
          from the answer was expunged.
        - `condstore` (RFC 7162): the server numbers every change (MODSEQ). The laptop
          remembers the highest it saw and asks `UID FETCH 1:n (FLAGS) (CHANGEDSINCE m)`;
          expunges leave no flags behind, so it still lists the UIDs there (`UID SEARCH`).
        - `qresync` (RFC 7162): `SELECT INBOX (QRESYNC (uidvalidity m known-uids))`, and
          the SELECT's own answer lists the expunged UIDs (`VANISHED (EARLIER)`) and the
          changed flags.

        All three then fetch the new message. The `RESYNC` row of `imap.csv` sums the
        resynchronisation up: its method, octets each way and round trips.
        """
    ),
    code(
        """
        OFFLINE = '''
        name: back-online
        duration: 6s
        topology:
          defaults: {{link: {{speed: 100M, delay: 1us}}}}
          nodes:
            laptop: {{kind: host}}
            sender: {{kind: host}}
            floor: {{kind: switch, ports: 8}}
            mail: {{kind: host}}
          links:
            - {{endpoints: [laptop, floor]}}
            - {{endpoints: [sender, floor]}}
            - {{endpoints: [floor, mail], speed: 1G}}
        traffic:
          - {{kind: imap, server: mail, clients: [laptop], session: [disconnected],
             resync: {method}, think: 1s, mailbox: {{messages: {messages}}}}}
          - {{kind: imap, name: phone, server: mail, clients: [laptop], start: 2s,
             session: ["UID STORE 3:4 +FLAGS ($Important)", "UID MOVE 9 Archive"]}}
          - {{kind: smtp, server: mail, clients: [sender], to: [laptop], schedule: [2500ms]}}
        events:
          - {{at: 1s, action: mail-offline, host: laptop}}
          - {{at: 4s, action: mail-online, host: laptop}}
        '''
        rows = []
        for messages in (100, 1000, 3000):
            for method in ("plain", "condstore", "qresync"):
                r = netsim.run(netsim.loads(OFFLINE.format(method=method, messages=messages)))
                back = r.imap.query("command == 'RESYNC' and t_start >= 4").iloc[0]
                rows.append({"messages": messages, "method": back["resync"],
                             "round trips": int(back["round_trips"]),
                             "octets sent": int(back["bytes_out"]),
                             "octets received": int(back["bytes_in"]),
                             "time (ms)": back["latency"] * 1e3})
        resync = pd.DataFrame(rows)
        fig, ax = plt.subplots(figsize=(8, 3.5))
        resync.pivot(index="messages", columns="method", values="octets received").plot.bar(
            ax=ax, logy=True, rot=0)
        ax.set_ylabel("octets received to resynchronise")
        plt.show()
        resync.set_index(["messages", "method"]).round(3)
        """
    ),
    md(
        """
        **What to look for.** `plain` costs some 38 octets per message in the mailbox:
        it grows with the mailbox, not with what changed. `condstore` receives only the
        changed flags, but its list of UIDs still grows with the mailbox (a few octets
        each), and it costs one more round trip. `qresync` costs the same few hundred
        octets whatever the size: it pays for the changes only. While the laptop was
        offline it marked messages read; those changes go out after the resynchronisation
        as `UID STORE ... (UNCHANGEDSINCE m)`, so that a message someone else changed
        meanwhile is refused (`MODIFIED`) and the server's state wins (a `CONFLICT` row).
        """
    ),
]


# --------------------------------------------------------------------------------------
# 8. Redundancy and availability
# --------------------------------------------------------------------------------------

REDUNDANCY = [
    md(
        r"""
        # Redundancy and availability: how does a campus reach 0.995?

        A part (a switch, a stack member, a cable) works for a while, fails, is repaired,
        works again. Over a long time it works a fraction

        $$A = \frac{\text{MTBF}}{\text{MTBF} + \text{MTTR}}$$

        of the time (mean time between failures, mean time to repair). A path from a PC
        to the mail server needs parts one after the other: **in series** their
        availabilities multiply. Two parts that can stand in for each other are **in
        parallel**: the path fails only when both fail, $1 - (1 - A_1)(1 - A_2)$. Two parts
        of 0.995 give 0.990 in series and 0.999975 in parallel.

        The school's design target is **0.995**: at most 0.5 % of the time (44 hours a
        year) without mail.

        **Questions.** Which parts of the campus decide its availability? Does a PC on the
        first floor reach 0.995 with one uplink per floor? What do redundant uplinks buy,
        and what does spanning tree cost them?
        """
    ),
    code(
        SETUP
        + """
from netsim.metrics.availability import AvailabilityGraph, path_availability
from netsim.scenario.failures import failing_parts

TARGET = 0.995
a = 0.995
print(f"two parts of {a}: series {a * a:.6f}, parallel {1 - (1 - a) ** 2:.6f}")
"""
    ),
    md(
        """
        ## One uplink per floor (lab 13)

        `scenarios/labs/13-availability.yaml`: a two-member 3750 stack, two floors of one
        room, a server room. Every switch, stack member and cable fails at random
        (exponential times; time is compressed so that eleven simulated days see hundreds
        of failures: only the ratio MTTR/MTBF matters). Each part's availability, and the
        path's structure: networkx finds the **single points of failure** (cut vertices
        between the PC and the server) and the redundant blocks between them.
        """
    ),
    code(
        """
        LAB = ROOT / "scenarios" / "labs" / "13-availability.yaml"
        single = netsim.load(LAB)
        parts = {p.element: p.availability for p in failing_parts(single.model, single.topology)}
        graph = AvailabilityGraph.of(single.topology)
        path = path_availability(graph, "f1r1h01", "mail", parts)
        spof = pd.DataFrame({"A": [parts[e] for e in path.single_points]},
                            index=path.single_points)
        spof["share of downtime"] = (1 - spof["A"]) / (1 - spof["A"]).sum()
        print(f"analytic availability {path.availability:.4f} (target {TARGET})")
        spof.sort_values("share of downtime").plot.barh(y="share of downtime", legend=False,
                                                      figsize=(7, 3.5))
        plt.xlabel("share of the path's unavailability (1 - A of the part, normalised)")
        plt.show()
        with pd.option_context("display.precision", 5):
            display(spof)
        """
    ),
    md(
        """
        Nine parts in series, and the three cables between switches (0.995 each) cause most
        of the downtime. Now the simulation: it fails and repairs the parts, and records
        every outage of the path in `availability.csv`.
        """
    ),
    code(
        """
        res = netsim.run(single)
        outages = res.extra["availability"]
        measured = res.summary["availability"]["paths"]["f1r1h01 -> mail"]
        print(f"{len(outages)} outages, measured {measured['measured']:.4f}, "
              f"analytic {measured['analytic']:.4f}, target {TARGET}")
        days = 86400
        down = outages.sort_values("end")
        plt.figure(figsize=(7, 3.5))
        plt.step(down["end"] / days, down["duration"].cumsum() / 3600, where="post",
                 label="simulated downtime")
        t = np.linspace(0, single.model.duration, 50)
        plt.plot(t / days, (1 - measured["analytic"]) * t / 3600, "--",
                 label="expected, (1 - A) t")
        plt.plot(t / days, (1 - TARGET) * t / 3600, ":", label="allowed by the 0.995 target")
        plt.xlabel("simulated days"); plt.ylabel("hours without mail"); plt.legend()
        plt.show()
        outages.head()
        """
    ),
    md(
        """
        **What to look for.** The simulated downtime follows the expected line: measured
        and analytic availability agree to a few thousandths, and both miss the target by
        far (about 1.8 % of the time without mail, against 0.5 % allowed).

        ## Two uplinks per floor

        `campus.redundant_uplinks: true` gives every floor switch and the server room switch
        a second uplink (its port Gi0/23) to the *other* stack member. The analytic figure
        needs only the topology: below, the lab's topology with those three cables added,
        each as reliable as the other uplinks. The floor's uplinks and the stack members are
        no longer single points of failure: they form a redundant block.
        """
    ),
    code(
        """
        from netsim.topology.topology import LinkSpec, Topology

        base = single.topology
        second = [LinkSpec((switch, "Gi0/23"), ("building", f"Gi2/0/{port}"), 1e9, 0.0, "full")
                  for switch, port in (("f1", 10), ("f2", 11), ("serverroom", 12))]
        redundant = Topology(base.nodes, [*base.links, *second])
        uplink = parts["f1:Gi0/24 - building:Gi1/0/1"]
        rparts = {**parts, **{link.label: uplink for link in second}}
        rpath = path_availability(AvailabilityGraph.of(redundant), "f1r1h01", "mail", rparts)
        print(f"one uplink:  {path.availability:.5f}")
        print(f"two uplinks: {rpath.availability:.5f}  (target {TARGET})")
        print("single points of failure left:", ", ".join(rpath.single_points))
        print("redundant block:", ", ".join(rpath.redundant[0]))
        """
    ),
    md(
        """
        The room's uplink (f1r1 to f1) is still a single cable: it is now the weakest part.
        How good must the uplinks be for each design to meet the target? Below, the
        uplinks' availability varies (their MTTR, say), everything else as in the lab.
        """
    ),
    code(
        """
        uplinks = [p for p in parts if " - " in p and "h0" not in p and "mail:" not in p]
        rows = []
        for a_up in np.linspace(0.98, 0.9999, 40):
            one = {**parts, **dict.fromkeys(uplinks, a_up)}
            two = {**one, **{link.label: a_up for link in second}}
            rows.append({
                "uplink A": a_up,
                "one uplink": path_availability(graph, "f1r1h01", "mail", one).availability,
                "two uplinks": path_availability(
                    AvailabilityGraph.of(redundant), "f1r1h01", "mail", two).availability,
            })
        sweep = pd.DataFrame(rows)
        ax = sweep.plot(x="uplink A", y=["one uplink", "two uplinks"], figsize=(7, 3.5))
        ax.axhline(TARGET, color="grey", linestyle=":", label="target 0.995")
        ax.set_ylabel("path availability"); ax.legend()
        plt.show()
        for design in ("one uplink", "two uplinks"):
            ok = sweep[sweep[design] >= TARGET]["uplink A"]
            need = f"{ok.min():.4f}" if not ok.empty else "never, in this range"
            print(f"{design}: meets {TARGET} from uplink availability {need}")
        """
    ),
    md(
        """
        **What to look for.** With one uplink per floor the path has three uplinks in
        series and needs very good cables; with two, the floor and server room uplinks only
        fail together, and only the room's uplink is left in series. Redundancy does not
        remove every single point of failure: the PC's own cable and room switch remain.

        ## Simulating both designs

        The figures above are arithmetic. A campus that really fails, is repaired, and
        runs spanning tree over its second uplinks (they close loops: without spanning
        tree, or an EtherChannel, the first broadcast would storm) may behave otherwise.
        Three designs, with the same parts failing at the same rates:

        | design | campus | spanning tree |
        |---|---|---|
        | single uplinks | lab 13 | none (no loop) |
        | PVST+ | `redundant_uplinks: true` | `pvst`: 802.1D per VLAN, the Catalyst default |
        | rapid PVST+ | `redundant_uplinks: true` | `rapid-pvst`: 802.1w per VLAN |

        **Time scaling.** A part's availability depends only on the ratio of its MTBF and
        MTTR: divide both by 10 and $A = \\text{MTBF}/(\\text{MTBF} + \\text{MTTR})$ is the
        same, and so are the analytic figures above. But the parts now fail ten times as
        often per simulated second, so a run of the same length sees ten times as many
        failures, and its measured availability is about $\\sqrt{10} \\approx 3$ times more
        precise. Lab 13 already compresses time (its uplinks fail every 2.2 hours, not
        every few years); the runs below compress it ten times more. What does *not*
        scale is spanning tree: its timers (hello 2 s, forward delay 15 s, max age 20 s)
        are real seconds whatever the failure rates. Keep that in mind.

        Each design runs with four seeds (other failures, the same rates) as a `netsim
        sweep`: over the seeds, and for the redundant campus over the spanning-tree mode.
        The sweeps run their points in parallel, one process per core. The twelve runs
        (eight of 8000 simulated seconds with spanning tree, four without) take about 30 s
        of processor time in all: well under a minute on a laptop with a few cores.
        """
    ),
    code(
        """
        import json
        import tempfile
        from itertools import pairwise

        from netsim.sweep import grid, run_sweep

        SCALE = 10            # fail and repair SCALE times as often as lab 13: the same A
        DURATION = 8000       # simulated seconds per run
        SEEDS = [1, 2, 3, 4]  # one run per seed: other failures, the same rates
        WARMUP = 60           # seconds left out at the start: spanning tree's first convergence
        MODE = "topology.defaults.switch.spanning_tree.mode"
        DESIGN = {None: "single uplinks", "pvst": "PVST+", "rapid-pvst": "rapid PVST+"}

        faster = []
        for entry in single.model.failures:
            parts = {key: value for key in ("kind", "model", "device", "member", "link")
                     if (value := getattr(entry, key)) is not None}
            faster.append({**parts, "mtbf": f"{entry.mtbf / SCALE:g}s",
                           "mttr": f"{entry.mttr / SCALE:g}s"})
        common = {"duration": f"{DURATION}s", "failures": faster}
        sweeps = [
            netsim.load(LAB, overrides={**common, "sweep": {"seed": SEEDS}}),
            netsim.load(LAB, overrides={**common, "campus.redundant_uplinks": True,
                                        "sweep": {MODE: ["pvst", "rapid-pvst"], "seed": SEEDS}}),
        ]
        folders = {}  # (design, seed) -> that run's results folder
        for scenario in sweeps:
            out = Path(tempfile.mkdtemp(prefix="netsim-redundancy-"))
            run_sweep(scenario, out=out)
            for point in grid(scenario):
                design = DESIGN[point.values.get(MODE)]
                folders[design, point.values["seed"]] = out / point.label
        pd.DataFrame(faster).fillna("")
        """
    ),
    md(
        """
        ## Measured against analytic, with a confidence interval

        Each run's `availability.csv` lists the path's outages. Leaving out the first
        minute (802.1D's ports listen and learn for 30 s at power-on: a start-up, not a
        failure), each run is cut into 10 stretches, much longer than any outage, so that
        each stretch's availability is a nearly independent measurement (*batch means*):
        40 per design. Their mean is the measured availability, and
        $\\pm 1.96\\,s/\\sqrt{40}$ ($s$ their standard deviation) its 95 % confidence
        interval. A design meets the target if the whole interval is above 0.995, misses it
        if the whole interval is below, and otherwise this run cannot tell.
        """
    ),
    code(
        """
        PATH = "f1r1h01 -> mail"
        BATCHES = 10  # stretches per run


        def downtime(outages, start, end):
            \"""Seconds the path was down between start and end (outages cut at both ends).\"""
            return float((outages["end"].clip(start, end) - outages["start"].clip(start, end)).sum())


        stretches, runs = [], []
        for (design, seed), folder in folders.items():
            outages = pd.read_csv(folder / "availability.csv")
            analytic = json.loads((folder / "summary.json").read_text())["availability"]
            for start, end in pairwise(np.linspace(WARMUP, DURATION, BATCHES + 1)):
                stretches.append({"design": design, "A": 1 - downtime(outages, start, end) / (end - start)})
            runs.append({"design": design, "seed": seed,
                         "analytic": analytic["paths"][PATH]["analytic"],
                         "outages": int((outages["end"] > WARMUP).sum()),
                         "measured": 1 - downtime(outages, WARMUP, DURATION) / (DURATION - WARMUP)})
        stretches, runs = pd.DataFrame(stretches), pd.DataFrame(runs)

        by_design = stretches.groupby("design", sort=False)["A"]
        table = pd.DataFrame({
            "analytic": runs.groupby("design", sort=False)["analytic"].first(),
            "measured": by_design.mean(),
            "± (95 %)": 1.96 * by_design.std() / np.sqrt(by_design.count()),
            "outages": runs.groupby("design", sort=False)["outages"].sum(),
        })
        low, high = table["measured"] - table["± (95 %)"], table["measured"] + table["± (95 %)"]
        table[f"meets {TARGET}?"] = np.where(low > TARGET, "yes",
                                             np.where(high < TARGET, "no", "cannot tell"))
        with pd.option_context("display.precision", 4):
            display(table)
            display(runs.pivot(index="seed", columns="design", values="measured")[list(table.index)])
        """
    ),
    code(
        """
        HOURS = 365.25 * 24  # hours in a year: (1 - A) * HOURS is hours without mail a year
        fig, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(len(table))
        ax.errorbar(x, (1 - table["measured"]) * HOURS, yerr=table["± (95 %)"] * HOURS, fmt="o",
                    capsize=6, label="simulated (95 %)")
        ax.scatter(x, (1 - table["analytic"]) * HOURS, marker="_", s=1500, color="C3",
                   label="analytic (series / parallel)")
        ax.axhline((1 - TARGET) * HOURS, color="grey", linestyle=":", label=f"target {TARGET}")
        for i, (measured, analytic) in enumerate(zip(table["measured"], table["analytic"])):
            ax.annotate(f"A = {measured:.4f}\\n(analytic {analytic:.4f})",
                        (i, (1 - measured) * HOURS), xytext=(12, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.set_yscale("log")
        ax.set_xticks(x, table.index)
        ax.set_xlim(-0.5, len(table) - 0.3)
        ax.set_ylabel("hours without mail per year")
        ax.set_title(f"f1r1h01 to the mail server, failures {SCALE} times as often as lab 13")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
                  markerscale=0.5)
        plt.show()
        """
    ),
    md(
        """
        **What to look for.**

        - *Single uplinks*: the measured availability agrees with the series figure (the
          analytic value lies in the interval), far under the target.
        - *Rapid PVST+*: it agrees with the parallel figure. Redundancy works as the
          arithmetic says: the floor and server room uplinks and the stack members no
          longer cost anything on their own. The target is still missed (analytically,
          by a little: 0.9941), because the room's uplink is in series; the simulation's
          interval is wide enough that it may not tell 0.9941 from 0.995 on its own.
        - *PVST+*: the same campus and the same failures (each part's failures depend
          only on the seed), yet far below the parallel figure, and even below the single
          uplinks. Why? The outages tell.
        """
    ),
    code(
        """
        fig, axes = plt.subplots(len(table), 1, sharex=True, figsize=(7, 4.5))
        bins = np.logspace(-7, 2.5, 39)
        for ax, design in zip(axes, table.index):
            outages = pd.concat(pd.read_csv(folders[design, seed] / "availability.csv")
                                for seed in SEEDS)
            ax.hist(outages.loc[outages["end"] > WARMUP, "duration"], bins=bins)
            ax.axvline(30, color="C3", linestyle="--")
            ax.set_ylabel(design, rotation=0, ha="right")
        ax.set_xscale("log")
        ax.set_xlabel("outage length (s); dashed: 30 s = 2 x forward delay")
        axes[0].set_title("How long each outage of the path lasted (all seeds)")
        plt.show()
        """
    ),
    md(
        """
        **Outage per failure.** A path's unavailability is *how often* it goes down times
        *how long* each outage lasts. All three designs see about as many outages (the same
        failures); what differs is their length:

        - *Single uplinks*: an outage lasts as long as the repair, a few seconds here
          (MTTR 2 to 4 s).
        - *Rapid PVST+*: when the forwarding uplink (or the stack member it ends on) fails,
          the alternate port, already known to lead to the root, forwards at once; when it
          comes back, a proposal/agreement handshake moves the root port back. The path is
          down for about a microsecond (the left-hand bar). Only the single points of
          failure cost their repair time, as the parallel figure says.
        - *PVST+*: every outage lasts about 30 s more than the repair. When the forwarding
          uplink fails, the alternate port listens for 15 s and learns for 15 s (2 x forward
          delay) before it forwards; when the failed uplink is repaired, the root port
          moves back to it, and it listens and learns again, 30 s more (Cisco's UplinkFast
          exists to avoid that). Even a repaired single point of failure costs 30 s more:
          the room switch's uplink is no edge port, so it listens and learns too. A failure
          that reaches a switch only through others (an indirect one) waits max age as
          well, 20 s more.

        So, with $f$ the failures per second that touch the path and 30 s lost for each:

        $$1 - A_{\\text{PVST+}} \\approx (1 - A_{\\text{parallel}}) + f \\times 30\\ \\text{s}$$

        The first term does not depend on the time scale; the second grows with it, since
        $f$ does and 30 s does not. Below, the extra downtime PVST+ shows against rapid
        PVST+ (the same failures, seed by seed), and what it becomes at slower failure
        rates: lab 13's own, and lab 13's read in hours (uplinks failing every 8000 hours
        and repaired in 40 hours, a realistic campus).
        """
    ),
    code(
        """
        paired = runs.pivot(index="seed", columns="design", values=["measured", "outages"])
        extra = (paired["measured"]["rapid PVST+"] - paired["measured"]["PVST+"]).mean()
        per_outage = extra * (DURATION - WARMUP) / paired["outages"]["PVST+"].mean()
        parallel = table.loc["rapid PVST+", "analytic"]
        print(f"PVST+ is down {extra:.4f} of the time more than rapid PVST+: "
              f"about {per_outage:.0f} s more per outage")

        uplink = next(entry for entry in single.model.failures if entry.kind == "uplink")
        rows = []
        for scale, name, unit, seconds in [(SCALE, f"this notebook (lab 13 / {SCALE})", "s", 1),
                                           (1, "lab 13", "s", 1),
                                           (1 / 3600, "lab 13 in hours", "h", 3600)]:
            lost = extra * scale / SCALE  # failures per second scale, 30 s per failure does not
            rows.append({"time scale": name,
                         "uplink MTBF / MTTR": f"{uplink.mtbf / scale / seconds:g} {unit} / "
                                               f"{uplink.mttr / scale / seconds:g} {unit}",
                         "PVST+ loses (h/year)": lost * HOURS,
                         "PVST+ A": parallel - lost})
        print(f"parallel (analytic) A = {parallel:.5f}")
        with pd.option_context("display.precision", 5):
            display(pd.DataFrame(rows).set_index("time scale"))
        """
    ),
    md(
        """
        **What to look for.** With failures every few seconds or minutes, 802.1D's half
        minute per failure is the biggest loss of all: at lab 13's rates (repairs of 40 s)
        PVST+ gives back more than the second uplinks win, and the redundant campus is
        *less* available than the single one. (With repairs longer than 30 s a failure of
        the forwarding uplink costs 30 s at the failure and 30 s at the repair, up to 60 s,
        so that row is if anything optimistic.) With realistic rates, failures every
        thousands of hours and repairs of hours, the same half minute is nothing: PVST+
        reaches the parallel figure too. Redundancy pays when the network heals much faster
        than a technician repairs. Rapid PVST+ heals in well under a second, so its
        measured availability sits on the parallel figure at any time scale; PVST+ gets
        there only when failures are rare.

        Time scaling is therefore safe for what depends only on MTBF/MTTR (the hardware's
        share) and must be undone by hand for what has its own clock (spanning tree's
        timers, TCP's retransmission timeout, a routing protocol's dead interval).

        **Try.**
        - Set `SCALE = 1` and `DURATION = 40000` (a few minutes): PVST+'s loss shrinks ten
          times, and the intervals widen.
        - Repair the uplinks ten times faster, as lab 13 does with `--set
          failures[3].mttr=4s`: add `faster[3]["mttr"] = "0.4s"` before the sweeps run.
          Which designs meet 0.995 now? What happens to PVST+, and why?
        - The same comparison from the command line: `netsim sweep` writes the measured and
          analytic availability of each point in sweep.csv.
        """
    ),
]


NOTEBOOKS = {
    "switching_modes.ipynb": SWITCHING_MODES,
    "hub_vs_switch.ipynb": HUB_VS_SWITCH,
    "mac_learning.ipynb": MAC_LEARNING,
    "campus_mail.ipynb": CAMPUS_MAIL,
    "vlans.ipynb": VLANS,
    "qos_span.ipynb": QOS_SPAN,
    "mail_protocols.ipynb": MAIL_PROTOCOLS,
    "redundancy_availability.ipynb": REDUNDANCY,
}
"""File name -> cells of every notebook this script writes."""


def build(name: str, cells: list[NotebookNode]) -> NotebookNode:
    """A notebook of ``cells`` with no outputs and the standard Python kernel."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        # Stable ids, so rebuilding an unchanged notebook changes no byte.
        cell["id"] = f"{Path(name).stem}-{i:02d}"
    nbformat.validate(nb)
    return nb


def main() -> None:
    """Write every notebook next to this script."""
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), HERE / name)
        print(f"wrote notebooks/{name} ({len(cells)} cells)")


if __name__ == "__main__":
    main()
