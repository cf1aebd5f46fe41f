"""Shared helpers: small scenarios written the way a user writes them, as YAML."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence

import pytest
from hypothesis import settings

import netsim

Chain = Callable[..., netsim.LoadedScenario]


def chain_yaml(
    modes: Sequence[str],
    rates: Sequence[str],
    *,
    size: int = 512,
    delay: str = "50ns",
    count: int = 1,
    interval: str = "1ms",
    learn_first: bool = True,
    bers: Sequence[float] | None = None,
    extra_traffic: str = "",
) -> str:
    """h1 -> sw1 -> ... -> swN -> h2, link i at ``rates[i]``, switch i in ``modes[i]``.

    With ``learn_first`` h2 first sends one frame to h1, so that every switch already
    knows where h2 is and the measured frames are forwarded, not flooded.
    """
    assert len(rates) == len(modes) + 1
    names = [f"sw{i + 1}" for i in range(len(modes))]
    nodes = "\n".join(
        f"    {n}: {{kind: switch, ports: 4, mode: {m}}}" for n, m in zip(names, modes, strict=True)
    )
    chain = ["h1", *names, "h2"]
    links = []
    for i, (a, b) in enumerate(itertools.pairwise(chain)):
        ber = f", ber: {bers[i]}" if bers else ""
        links.append(f"    - {{endpoints: [{a}, {b}], speed: {rates[i]}, delay: {delay}{ber}}}")
    warm = "  - {kind: frames, name: warmup, from: h2, to: h1, count: 1}\n" if learn_first else ""
    start = "1ms" if learn_first else "0s"
    return f"""
name: chain
duration: 1s
topology:
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
{nodes}
  links:
{chr(10).join(links)}
traffic:
{warm}  - {{kind: frames, name: probe, from: h1, to: h2, size: {size}, count: {count},
     interval: {interval}, start: {start}}}
{extra_traffic}"""


@pytest.fixture
def chain() -> Chain:
    """Build a chain scenario (see :func:`chain_yaml`)."""

    def make(*args: object, **kwargs: object) -> netsim.LoadedScenario:
        return netsim.loads(chain_yaml(*args, **kwargs))  # type: ignore[arg-type]

    return make


# Hypothesis runs derandomized (a fixed seed per test, no example database) so that the
# suite gives the same verdict on every machine and every run; set
# HYPOTHESIS_PROFILE=explore to search with fresh random examples while developing.
settings.register_profile("netsim", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "netsim"))
