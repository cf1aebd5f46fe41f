"""``show standby brief`` and ``show vrrp brief``: the group's state at a chosen time.

Read from fhrp.csv: before the failure R1 is active and R2 standby; after the takeover
R2 is active, and the dead R1 is no longer named as anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netsim
from netsim.show import ShowError, show

LABS = Path(__file__).resolve().parents[2] / "scenarios" / "labs"


@pytest.fixture(scope="module")
def hsrp() -> netsim.Results:
    return netsim.run(netsim.load(LABS / "17-fhrp-hsrp.yaml"))


def test_standby_brief_before_and_after_the_failover(hsrp: netsim.Results) -> None:
    before = show(hsrp, "R2", "standby brief", at=50.0).splitlines()
    assert before[1].split() == ["Interface", "Grp", "Pri", "P", "State", "Active", "Standby",
                                 "Virtual", "IP"]  # fmt: skip
    assert before[2].split() == ["Gi0/0", "10", "100", "Standby", "10.1.10.2", "local",
                                 "10.1.10.1"]  # fmt: skip
    after = show(hsrp, "R2", "standby brief", at=75.0).splitlines()
    assert after[2].split() == ["Gi0/0", "10", "100", "Active", "local", "unknown", "10.1.10.1"]
    r1 = show(hsrp, "R1", "sh stand br", at=75.0).splitlines()
    assert r1[2].split()[3:5] == ["Initial", "10.1.10.3"]  # the dead router's groups start over


def test_a_router_without_groups_says_so(hsrp: netsim.Results) -> None:
    with pytest.raises(ShowError, match="R1 has no VRRP group"):
        show(hsrp, "R1", "vrrp brief")
