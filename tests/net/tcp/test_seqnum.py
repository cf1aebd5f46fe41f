"""Sequence numbers: unbounded inside, 32 bits on the wire."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.tcp.seqnum import SEQ_MODULUS, unwrap, wrap


def test_unwrap_crosses_the_wrap_point() -> None:
    """Just past 2**32 - 1 comes 0; unwrapping near the edge gives the next integer."""
    reference = SEQ_MODULUS - 10
    assert unwrap(5, reference) == SEQ_MODULUS + 5
    assert unwrap(SEQ_MODULUS - 20, SEQ_MODULUS + 5) == SEQ_MODULUS - 20


@settings(deadline=None)
@given(st.integers(0, 1 << 40), st.integers(-(1 << 30), 1 << 30))
def test_unwrap_inverts_wrap_near_the_reference(reference: int, offset: int) -> None:
    """Any position within 2**30 of the reference is recovered from its 32-bit form."""
    position = max(0, reference + offset)
    assert unwrap(wrap(position), reference) == position
