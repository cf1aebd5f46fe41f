"""netsim: a discrete-event lab simulator for switched Ethernet LANs that carry mail traffic.

import netsim
sc = netsim.load("scenarios/two-switches.yaml", overrides={"seed": 3})
res = netsim.run(sc)
res.frames, res.ports, res.mac_events   # pandas DataFrames
res.save("results/two-switches")

The names below are imported when first used (PEP 562), so that ``import netsim`` and
``netsim validate`` start without loading pandas and the simulator: a short command
should answer at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from netsim.api import LoadedScenario, Results, follow_frame, load, loads, run
    from netsim.scenario.errors import ScenarioError

_HOMES = {
    "LoadedScenario": "netsim.scenario.load",
    "load": "netsim.scenario.load",
    "loads": "netsim.scenario.load",
    "ScenarioError": "netsim.scenario.errors",
    "Results": "netsim.api",
    "follow_frame": "netsim.api",
    "run": "netsim.api",
}
"""Where each public name lives: its module is imported on first use."""

__all__ = [
    "LoadedScenario",
    "Results",
    "ScenarioError",
    "__version__",
    "follow_frame",
    "load",
    "loads",
    "run",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name == "api":
        return importlib.import_module("netsim.api")
    raise AttributeError(f"module 'netsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
