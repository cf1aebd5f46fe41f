"""``standby:`` and ``vrrp:`` on router ports: what a mistake looks like.

Each bad edit of the HSRP lab gets one clear message naming the file, the line and the
YAML path of the key at fault, and saying what was expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netsim
from netsim.l3.fhrp.hsrp import HsrpConfig
from netsim.l3.fhrp.vrrp import VrrpConfig
from netsim.net.addressing import IPv4Address

LAB = Path(__file__).resolve().parents[2] / "scenarios" / "labs" / "17-fhrp-hsrp.yaml"
R1_GI0 = "Gi0/0: {ip: 10.1.10.2/24, standby: {group: 10, ip: 10.1.10.1, priority: 110}}"
R2_GI0 = "Gi0/0: {ip: 10.1.10.3/24, standby: {group: 10, ip: 10.1.10.1}}"


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


CASES = [
    (
        "an HSRP group whose routers announce different virtual IPs",
        R2_GI0,
        R2_GI0.replace("ip: 10.1.10.1}", "ip: 10.1.10.254}"),
        "topology.nodes.R2.interfaces.Gi0/0.standby[0].ip",
        "HSRP group 10 on 10.1.10.0/24: virtual IP 10.1.10.254 here, but 10.1.10.1 on R1 Gi0/0",
    ),
    (
        "a virtual IP outside the interface's subnet",
        R1_GI0,
        R1_GI0.replace("ip: 10.1.10.1,", "ip: 10.1.99.1,"),
        "topology.nodes.R1.interfaces.Gi0/0.standby[0].ip",
        "HSRP virtual IP 10.1.99.1 is outside the interface's subnet 10.1.10.0/24",
    ),
    (
        "a hold time no longer than the hello time",
        R1_GI0,
        R1_GI0.replace("priority: 110}", "priority: 110, hello: 3s, hold: 3s}"),
        "topology.nodes.R1.interfaces.Gi0/0.standby[0].hold",
        "must be longer than the hello time",
    ),
    (
        "an HSRP version 1 group above 255",
        R1_GI0,
        R1_GI0.replace("group: 10,", "group: 300, version: 1,"),
        "topology.nodes.R1.interfaces.Gi0/0.standby[0].group",
        "HSRP version 1 groups are 0..255",
    ),
    (
        "a VRRP priority of 255 (reserved for the address owner)",
        R1_GI0,
        "Gi0/0: {ip: 10.1.10.2/24, vrrp: {group: 10, ip: 10.1.10.1, priority: 255}}",
        "topology.nodes.R1.interfaces.Gi0/0.vrrp[0].priority",
        "less than or equal to 254",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "yaml_path", "words"), CASES)
def test_bad_fhrp_settings_name_file_line_and_path(
    tmp_path: Path, what: str, old: str, new: str, yaml_path: str, words: str
) -> None:
    text = LAB.read_text()
    assert old in text
    text = text.replace(old, new)
    path = tmp_path / "lab.yaml"
    path.write_text(text)
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(path)
    messages = [str(p) for p in caught.value.problems]
    location = f"{path}:{line_of(text, new)}: "
    assert any(m.startswith(location) and yaml_path in m and words in m for m in messages), messages


def test_the_lab_keys_become_protocol_configurations() -> None:
    loaded = netsim.load(LAB)
    r1 = loaded.topology.nodes["R1"]
    assert r1.interface("Gi0/0").fhrp == (HsrpConfig(10, IPv4Address("10.1.10.1"), 110),)
    vrrp = netsim.load(LAB.with_name("17-fhrp-vrrp.yaml")).topology.nodes["R2"]
    (config,) = vrrp.interface("Gi0/1").fhrp
    assert isinstance(config, VrrpConfig) and config.preempt and config.priority == 100
