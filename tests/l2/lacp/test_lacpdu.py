"""LACPDUs as real bytes (802.1AX 5.4.2): 110 octets of TLVs after EtherType 0x8809.

Subtype 1 (LACP) and version 1, then the actor TLV (type 1, 20 octets), the partner TLV
(type 2, 20), the collector TLV (type 3, 16), the terminator (type 0, length 0) and 50
reserved octets. Sent to the slow-protocols group address 01:80:C2:00:00:02.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.frame import fcs_valid
from netsim.l2.lacp.lacpdu import (
    Lacpdu,
    LacpError,
    LacpInfo,
    LacpState,
    decode_lacpdu,
    decode_lacpdu_frame,
    lacpdu_frame,
)
from netsim.metrics.pcap import write_pcap

ACTOR = LacpInfo(
    32768,
    0x0200_0000_0001,
    1,
    32768,
    3,
    LacpState.ACTIVITY | LacpState.AGGREGATION | LacpState.SYNCHRONIZATION,
)
PARTNER = LacpInfo(100, 0x0200_0000_0002, 5, 128, 7, LacpState.TIMEOUT | LacpState.AGGREGATION)


def test_an_lacpdu_has_the_802_1ax_layout() -> None:
    octets = Lacpdu(ACTOR, PARTNER).to_bytes()
    assert len(octets) == 110
    assert octets[:2] == b"\x01\x01"
    assert octets[2:22] == bytes.fromhex("0114 8000 020000000001 0001 8000 0003 0d 000000")
    assert octets[22:42] == bytes.fromhex("0214 0064 020000000002 0005 0080 0007 06 000000")
    assert octets[42:58] == bytes.fromhex("0310 0000") + bytes(12)
    assert octets[58:] == b"\x00\x00" + bytes(50)


def test_the_frame_goes_to_the_slow_protocols_address() -> None:
    octets = lacpdu_frame(Lacpdu(ACTOR, PARTNER), src=0x0200_0000_0001).to_bytes()
    assert len(octets) == 14 + 110 + 4
    assert octets[:6] == bytes.fromhex("0180c2000002")
    assert octets[12:15] == bytes.fromhex("8809 01")
    assert fcs_valid(octets)


infos = st.builds(
    LacpInfo,
    st.integers(0, 0xFFFF),
    st.integers(0, (1 << 48) - 1),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 255).map(LacpState),
)
pdus = st.builds(Lacpdu, infos, infos, st.integers(0, 0xFFFF))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pdus)
def test_every_lacpdu_round_trips(pdu: Lacpdu) -> None:
    assert decode_lacpdu(pdu.to_bytes()) == pdu
    assert decode_lacpdu_frame(lacpdu_frame(pdu, 1).to_bytes()) == pdu


@settings(max_examples=30, deadline=None, derandomize=True)
@given(pdus)
def test_every_truncation_is_one_clear_error(pdu: Lacpdu) -> None:
    """Fed a byte at a time, no prefix decodes and none crashes."""
    octets = pdu.to_bytes()
    for cut in range(len(octets)):
        with pytest.raises(LacpError, match="110 octets"):
            decode_lacpdu(octets[:cut])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(min_size=110, max_size=120))
def test_random_bytes_decode_or_raise_lacp_error(data: bytes) -> None:
    try:
        decode_lacpdu(data)
    except LacpError as error:
        assert "LACP" in str(error) or "TLV" in str(error)


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [(0, 0x03, "subtype 3 is not LACP"), (22, 0x09, "partner TLV"), (59, 0x05, "terminator")],
)
def test_malformed_lacpdus_say_what_was_expected(offset: int, value: int, message: str) -> None:
    octets = bytearray(Lacpdu(ACTOR, PARTNER).to_bytes())
    octets[offset] = value
    with pytest.raises(LacpError, match=message):
        decode_lacpdu(bytes(octets))


def test_a_field_too_wide_is_refused() -> None:
    with pytest.raises(LacpError, match="key"):
        Lacpdu(LacpInfo(key=70000), PARTNER).to_bytes()


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_lacpdus_with_no_malformed_packet(tmp_path: Path) -> None:
    """Wireshark's slow/lacp dissectors read back our fields."""
    path = tmp_path / "lacp.pcap"
    pdus = [Lacpdu(ACTOR, PARTNER), Lacpdu(PARTNER, ACTOR, collector_max_delay=5)]
    write_pcap(
        path,
        [(float(i), lacpdu_frame(p, 0x0200_0000_0001).to_bytes()[:-4]) for i, p in enumerate(pdus)],
    )
    fields = [
        "slow.subtype",
        "lacp.version",
        "lacp.actor.sys_priority",
        "lacp.actor.sysid",
        "lacp.actor.key",
        "lacp.actor.port",
        "lacp.actor.state",
        "lacp.partner.port",
        "lacp.partner.state.synchronization",
        "lacp.collector.max_delay",
        "_ws.malformed",
    ]
    command = [str(TSHARK), "-n", "-r", str(path), "-T", "fields", "-E", "separator=|"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    assert [line.split("|") for line in out.strip().splitlines()] == [
        ["0x01", "0x01", "32768", "02:00:00:00:00:01", "1", "3", "0x0d", "7", "0", "0", ""],
        ["0x01", "0x01", "100", "02:00:00:00:00:02", "5", "7", "0x06", "3", "1", "5", ""],
    ]
