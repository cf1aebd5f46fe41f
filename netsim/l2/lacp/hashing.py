"""Which member link of an EtherChannel carries a frame: the load-balancing hash.

A bundle never splits a frame, and must never reorder a flow, so every frame of one flow
takes the same member: the switch hashes some addresses of the frame. Catalyst 2960 and
3750 switches take the low three bits of the chosen address (or the exclusive-or of two
addresses' low bits) as one of eight *buckets*, and deal the buckets out to the members
in turn::

    members  buckets per member      members  buckets per member
       2     4 4                        5     2 2 2 1 1
       3     3 3 2                      6     2 2 1 1 1 1
       4     2 2 2 2                    7     2 1 1 1 1 1 1
                                        8     1 1 1 1 1 1 1 1

That is why a two-link bundle shares well and a three-link bundle does not, and why one
busy host (with the default ``src-mac``) can never use more than one link. The hash is a
pure function of the frame's addresses, so a lesson can predict every member.
"""

from __future__ import annotations

from enum import StrEnum

from netsim.l2.frame import MacAddress

BUCKETS = 8
"""Hash results: the low three bits."""
MAX_MEMBERS = 8
"""802.3ad / Catalyst: at most eight active links in a bundle."""


class LoadBalance(StrEnum):
    """``port-channel load-balance`` methods (the Catalyst default is ``src-mac``)."""

    SRC_MAC = "src-mac"
    DST_MAC = "dst-mac"
    SRC_DST_MAC = "src-dst-mac"
    SRC_IP = "src-ip"
    DST_IP = "dst-ip"
    SRC_DST_IP = "src-dst-ip"


DEFAULT_LOAD_BALANCE = LoadBalance.SRC_MAC

_MAC_FALLBACK = {
    LoadBalance.SRC_IP: LoadBalance.SRC_MAC,
    LoadBalance.DST_IP: LoadBalance.DST_MAC,
    LoadBalance.SRC_DST_IP: LoadBalance.SRC_DST_MAC,
}


def bucket(
    method: LoadBalance,
    src_mac: MacAddress,
    dst_mac: MacAddress,
    src_ip: int | None = None,
    dst_ip: int | None = None,
) -> int:
    """The hash bucket (0..7) of a frame. IP methods hash IPv4 addresses (as 32-bit ints);
    a frame without them (ARP, raw frames) is hashed by the MAC method of the same kind,
    as the switch does."""
    if method in _MAC_FALLBACK and (src_ip is None or dst_ip is None):
        method = _MAC_FALLBACK[method]
    match method:
        case LoadBalance.SRC_MAC:
            value = src_mac
        case LoadBalance.DST_MAC:
            value = dst_mac
        case LoadBalance.SRC_DST_MAC:
            value = src_mac ^ dst_mac
        case LoadBalance.SRC_IP:
            value = src_ip or 0
        case LoadBalance.DST_IP:
            value = dst_ip or 0
        case LoadBalance.SRC_DST_IP:
            value = (src_ip or 0) ^ (dst_ip or 0)
    return value & (BUCKETS - 1)


def bucket_owner(bucket_index: int, members: int) -> int:
    """Which of ``members`` links (0-based) owns a bucket: dealt out in turn."""
    if not 1 <= members <= MAX_MEMBERS:
        raise ValueError(f"a bundle has 1 to {MAX_MEMBERS} active members, not {members}")
    if not 0 <= bucket_index < BUCKETS:
        raise ValueError(f"bucket must be 0..{BUCKETS - 1}, not {bucket_index}")
    return bucket_index % members


def select_member(
    method: LoadBalance,
    members: int,
    src_mac: MacAddress,
    dst_mac: MacAddress,
    src_ip: int | None = None,
    dst_ip: int | None = None,
) -> int:
    """The member link (0-based, in the bundle's member order) that carries this frame."""
    return bucket_owner(bucket(method, src_mac, dst_mac, src_ip, dst_ip), members)
