"""IOS-style ``show`` commands over a run's results, at any simulated time.

    results.show("sw1", "mac address-table", at=2.5)
    netsim show scenarios/campus.yaml --at 2.5s f1 "mac address-table"

Commands live in a registry (:mod:`netsim.show.registry`): each module below registers
its own, so ``show vlan brief`` or ``show spanning-tree`` arrive as new modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netsim.metrics.results import Results
    from netsim.show.registry import COMMANDS, ShowCommand, ShowError, register, resolve

__all__ = ["COMMANDS", "ShowCommand", "ShowError", "register", "resolve", "show"]

# The package loads its commands (and pandas with them) on first use, not on import:
# `netsim --help` and `netsim validate` build the `show` command's options from here.
_REGISTRY_NAMES = frozenset({"COMMANDS", "ShowCommand", "ShowError", "register", "resolve"})


def _load_commands() -> None:
    """Import the modules that register the commands (each registers on import)."""
    from netsim.show import etherchannel, fhrp, routing, spanning_tree, switching, vlan  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        _load_commands()
        from netsim.show import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'netsim.show' has no attribute {name!r}")


def show(results: Results, device: str, command: str, at: float | None = None) -> str:
    """The text ``show COMMAND`` prints on ``device`` at time ``at`` (None: the end)."""
    _load_commands()
    from netsim.show.registry import ShowError, resolve
    from netsim.show.state import DeviceAt

    cmd, args = resolve(command)
    state = DeviceAt(results, device, at)
    if results.ports.empty or device not in set(results.ports["device"]):
        names = sorted(set(results.ports["device"])) if not results.ports.empty else []
        raise ShowError(f"no device {device!r} (devices: {', '.join(names)})")
    if cmd.kinds is not None and state.kind not in cmd.kinds:
        kinds = "router or switch" if "router" in cmd.kinds else "switch"
        raise ShowError(f"show {cmd.name}: {device} is a {state.kind}, not a {kinds}")
    return cmd.render(state, args)
