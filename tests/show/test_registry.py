"""Show commands form a registry: a command is its keywords, abbreviated as on IOS."""

from __future__ import annotations

import pytest

from netsim.show import COMMANDS, ShowError, register, resolve


def test_keywords_may_be_abbreviated_to_any_unambiguous_prefix():
    assert resolve("sh mac add")[0].name == "mac address-table"
    assert resolve("show int status")[0].name == "interfaces status"
    assert resolve("int c")[0].name == "interfaces counters"


def test_words_after_the_keywords_are_arguments():
    command, args = resolve("mac address-table vlan 10")
    assert command.name == "mac address-table"
    assert args == ["vlan", "10"]


def test_an_unknown_command_lists_the_known_ones():
    with pytest.raises(ShowError, match=r"known: .*interfaces counters.*mac address-table"):
        resolve("ipx route")


def test_a_new_command_registers_itself():
    """``show vlan brief`` and the like arrive as modules that register, nothing else."""

    @register("test-only widgets", "a command that exists only in this test")
    def widgets(device, args):
        return f"{device.device}: {len(args)} args\n"

    try:
        command, args = resolve("test-o wid a b")
        assert command.render is widgets
        assert args == ["a", "b"]
        with pytest.raises(ValueError, match="registered twice"):
            register("test-only widgets", "again")(widgets)
    finally:
        del COMMANDS["test-only widgets"]
