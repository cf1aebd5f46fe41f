"""The scenario keys for QoS and SPAN, as pydantic types and models.

On a switch node::

    qos:                                   # mls qos (also: qos: true, the defaults)
      cos_map: {1: [5], 2: [0, 1, 2, 3]}   # queue: CoS values (srr-queue output cos-map)
      dscp_map: {1: [EF, 40]}              # queue: DSCP values (srr-queue output dscp-map)
    monitor:                               # SPAN: monitor session N
      - {source: [Gi0/1, Gi0/2], direction: both, destination: Gi0/24}

On an interface (``interfaces: {Gi0/1: {...}}``): ``trust``, ``priority_queue``,
``srr_share`` and ``queue_limits`` (:class:`InterfaceQos`). On traffic: ``dscp`` (any
IP traffic: ``46`` or ``EF``, ``AF21``, ``CS3``) and ``cos`` (raw frames). They are
checked against the switch's ports in :mod:`netsim.scenario.qos_resolve`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from netsim.l2.qos import QUEUES

_DSCP_NAMES = {"default": 0, "be": 0, "ef": 46, "va": 44}
_DSCP_PATTERN = "^(EF|ef|VA|va|BE|be|default|AF[1-4][1-3]|af[1-4][1-3]|CS[0-7]|cs[0-7])$"


def parse_dscp(value: Any) -> Any:
    """``46``, or a per-hop behaviour's name: ``EF`` (46), ``AF21`` (18), ``CS3`` (24)."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in _DSCP_NAMES:
        return _DSCP_NAMES[text]
    af = re.fullmatch(r"af([1-4])([1-3])", text)
    if af:
        return 8 * int(af[1]) + 2 * int(af[2])  # RFC 2597: class x, drop precedence y
    cs = re.fullmatch(r"cs([0-7])", text)
    if cs:
        return 8 * int(cs[1])  # RFC 2474 class selectors
    raise ValueError(f"not a DSCP: {value!r} (expected 0..63, or EF, AF11..AF43, CS0..CS7)")


Dscp = Annotated[
    int,
    BeforeValidator(parse_dscp),
    Field(ge=0, le=63),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 63},
                {
                    "type": "string",
                    "pattern": _DSCP_PATTERN,
                },
            ],
            "examples": ["EF"],
        }
    ),
]
"""A DSCP, 0..63, or its PHB name: ``EF``, ``AF21``, ``CS3``."""
Cos = Annotated[int, Field(ge=0, le=7)]
"""An 802.1p class of service (priority code point), 0..7."""


def _queue_number(q: int) -> int:
    if not 1 <= q <= QUEUES:
        raise ValueError(f"queue {q} is out of range: a port has egress queues 1..{QUEUES}")
    return q


QueueNumber = Annotated[int, AfterValidator(_queue_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _switch_on_or_off(value: Any) -> Any:
    # ``qos: true`` is mls qos with the default maps; ``qos: false`` is no mls qos.
    if value is True:
        return {}
    if value is False:
        return {"enabled": False}
    return value


class QosSettings(_Strict):
    """``mls qos`` on a switch; the maps default to the Catalyst 2960/3750 ones.

    In a scenario, ``qos: true`` is this with the defaults and ``qos: false`` turns it off.
    """

    enabled: bool = True
    """False: ``no mls qos``, one FIFO per port (what ``qos: false`` means)."""

    cos_map: dict[QueueNumber, list[Cos]] = {}
    """Queue -> the CoS values it takes (``mls qos srr-queue output cos-map queue 1 5``)."""
    dscp_map: dict[QueueNumber, list[Dscp]] = {}
    """Queue -> the DSCP values it takes (``mls qos srr-queue output dscp-map queue 1 46``)."""

    def cos_overrides(self) -> dict[int, int]:
        """CoS value -> 1-based queue, as written."""
        return {cos: q for q, values in self.cos_map.items() for cos in values}

    def dscp_overrides(self) -> dict[int, int]:
        """DSCP value -> 1-based queue, as written."""
        return {d: q for q, values in self.dscp_map.items() for d in values}


def _weight(w: int) -> int:
    if not 1 <= w <= 255:
        raise ValueError(
            f"SRR weight {w} is out of range 1..255"
            + (" (a weight of 0 would starve its queue)" if w == 0 else "")
        )
    return w


SrrWeight = Annotated[int, AfterValidator(_weight)]


def _percentage(value: Any) -> Any:
    """``25%`` -> 0.25; anything else is left for the type check to refuse."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            pass
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        raise ValueError(f"expected a share of the buffer like 25%, got {value!r}")
    return value


def _share_of_buffer(x: float) -> float:
    if not 0.0 < x <= 1.0:
        raise ValueError(
            f"a queue limit is a share of the port's buffer, above 0 % and at most 100 %; "
            f"got {x * 100:g} %"
        )
    return x


QueueLimit = Annotated[
    float,
    BeforeValidator(_percentage),
    AfterValidator(_share_of_buffer),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d*)?%$", "examples": ["25%"]}),
]


SwitchQos = Annotated[
    QosSettings,
    BeforeValidator(_switch_on_or_off),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {
                    "type": "object",
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "cos_map": {"type": "object"},
                        "dscp_map": {"type": "object"},
                    },
                    "additionalProperties": False,
                },
            ],
            "examples": [True],
        }
    ),
]
"""A switch's ``qos:`` key: true, false, or the maps."""


class InterfaceQos(_Strict):
    """An interface's QoS keys (they switch ``mls qos`` on for the whole switch)."""

    trust: Literal["none", "cos", "dscp"] | None = None
    """Which mark to believe on frames arriving here (``mls qos trust``); default none."""
    priority_queue: bool | None = None
    """``priority-queue out``: egress queue 1 is served first, always (default off)."""
    srr_share: Annotated[list[SrrWeight], Field(min_length=4, max_length=4)] | None = None
    """``srr-queue bandwidth share w1 w2 w3 w4``: the queues' shares of the link (1..255)."""
    queue_limits: Annotated[list[QueueLimit], Field(min_length=4, max_length=4)] | None = None
    """Each queue's tail-drop limit as a share of the port's buffer (default 25 % each)."""

    def has_qos(self) -> bool:
        """Does this interface say anything about QoS?"""
        return any(
            v is not None
            for v in (self.trust, self.priority_queue, self.srr_share, self.queue_limits)
        )


SpanVlan = Annotated[int, Field(ge=1, le=4094)]
"""A source VLAN of a SPAN session, 1..4094."""


class MonitorSession(_Strict):
    """A SPAN session: copies of the sources' frames go out of the destination port."""

    session: Annotated[int, Field(ge=1, le=66)] | None = None
    """The session number (default: its place in the list, from 1)."""
    source: str | list[str] | None = None
    """Source interfaces: names or ranges (``Gi0/1``, ``Fa0/1-4``)."""
    source_vlan: SpanVlan | list[SpanVlan] | None = None
    """Source VLANs instead (``monitor session 1 source vlan 10``): their frames on
    every port that carries them."""
    direction: Literal["both", "rx", "tx"] = "both"
    """Copy what the sources receive (``rx``), send (``tx``), or both."""
    destination: str
    """The port an analyzer listens on."""

    @model_validator(mode="after")
    def _one_kind_of_source(self) -> MonitorSession:
        if (self.source is None) == (self.source_vlan is None):
            raise ValueError(
                "give the session source interfaces (source) or source VLANs "
                "(source_vlan), one of the two"
            )
        return self

    @property
    def sources(self) -> list[str]:
        """The source interface keys as a list."""
        if self.source is None:
            return []
        return [self.source] if isinstance(self.source, str) else list(self.source)

    @property
    def vlans(self) -> list[int]:
        """The source VLANs as a list."""
        if self.source_vlan is None:
            return []
        return [self.source_vlan] if isinstance(self.source_vlan, int) else self.source_vlan
