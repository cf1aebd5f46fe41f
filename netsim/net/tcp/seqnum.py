"""Sequence numbers: 32 bits on the wire, unbounded integers inside.

RFC 9293 §3.4 compares sequence numbers modulo 2**32, which makes every ``<`` a careful
subtraction. netsim instead keeps each direction's positions as plain Python integers
that start at the initial sequence number and grow without wrapping, and converts at the
edge: :func:`wrap` when a segment is encoded, :func:`unwrap` when one is received. A
received 32-bit number is interpreted as the integer congruent to it that lies nearest
to a number we expect (the next byte to receive, or the oldest unacknowledged byte).
Any segment that TCP would accept lies within a window of at most 2**30 of that
reference, so the nearest candidate is always the right one.
"""

from __future__ import annotations

SEQ_MODULUS = 1 << 32
"""Sequence numbers on the wire count modulo 2**32."""
_HALF = 1 << 31


def wrap(position: int) -> int:
    """The 32-bit sequence number that goes on the wire for an unbounded ``position``."""
    return position % SEQ_MODULUS


def unwrap(wire: int, reference: int) -> int:
    """The unbounded position nearest ``reference`` whose 32-bit form is ``wire``."""
    delta = (wire - reference) % SEQ_MODULUS
    if delta >= _HALF:
        delta -= SEQ_MODULUS
    return reference + delta
