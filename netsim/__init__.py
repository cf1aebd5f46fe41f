"""netsim: a discrete-event lab simulator for switched Ethernet LANs that carry mail traffic.

import netsim
sc = netsim.load("scenarios/two-switches.yaml", overrides={"seed": 3})
res = netsim.run(sc)
res.frames, res.ports, res.mac_events   # pandas DataFrames
res.save("results/two-switches")
"""

__version__ = "0.1.0"

from netsim.api import LoadedScenario, Results, follow_frame, load, loads, run
from netsim.scenario.errors import ScenarioError

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
