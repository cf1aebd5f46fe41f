"""BPDUs as real bytes: the layouts of 802.1D clause 9, checked against Wireshark.

A configuration BPDU is 35 octets, an RST BPDU 36 and a TCN 4. They travel in 802.3
frames (a length field, not an EtherType) with the LLC header 42 42 03, to the group
address 01:80:C2:00:00:00, padded to the 64-byte minimum frame.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.frame import fcs_valid
from netsim.l2.stp.bpdu import (
    BpduError,
    BpduRole,
    BridgeId,
    ConfigBpdu,
    ProtocolVersion,
    TcnBpdu,
    bpdu_frame,
    decode_bpdu,
    decode_bpdu_frame,
    decode_pvst_bpdu_frame,
    port_id,
    pvst_bpdu_frame,
)
from netsim.metrics.pcap import write_pcap

ROOT = BridgeId(4096, 0, 0x0200_0000_00AA)
OTHER = BridgeId(32768, 10, 0x0200_0000_00BB)


def test_a_configuration_bpdu_has_the_802_1d_layout() -> None:
    """Octet by octet, the BPDU of a bridge one 100 Mb/s hop from the root."""
    bpdu = ConfigBpdu(ROOT, 19, OTHER, port_id(2), message_age=1, topology_change_ack=True)
    assert bpdu.to_bytes() == bytes.fromhex(
        "0000 00 00 80"  # protocol 0, version 0, type config, flags TCA
        "1000 0200000000aa"  # root: priority 4096, MAC
        "00000013"  # root path cost 19
        "800a 0200000000bb"  # bridge: 32768 + VLAN 10
        "8002"  # port 128.2
        "0100 1400 0200 0f00"  # ages 1, 20, 2, 15 s in 1/256 s
    )


def test_rst_bpdu_flags_carry_role_and_handshake_bits() -> None:
    """Version 2, type 2, the role in flag bits 2-3, and a zero version-1 length at the end."""
    bpdu = ConfigBpdu(
        ROOT,
        0,
        ROOT,
        port_id(1),
        version=ProtocolVersion.RSTP,
        role=BpduRole.DESIGNATED,
        proposal=True,
        learning=True,
        forwarding=True,
    )
    octets = bpdu.to_bytes()
    assert len(octets) == 36
    assert octets[2:5] == bytes([2, 2, 0x02 | 0x0C | 0x10 | 0x20])
    assert octets[-1] == 0


def test_a_tcn_bpdu_is_four_octets() -> None:
    assert TcnBpdu().to_bytes() == bytes.fromhex("00000080")
    assert decode_bpdu(bytes.fromhex("00000080")) == TcnBpdu()


def test_the_frame_is_802_3_with_llc_padded_to_64_bytes() -> None:
    """Length field 38 (3 LLC + 35 BPDU), LLC 42 42 03, zero padding, valid FCS."""
    frame = bpdu_frame(ConfigBpdu(ROOT, 0, ROOT, port_id(1)), src=0x0200_0000_0001)
    octets = frame.to_bytes()
    assert len(octets) == 64
    assert octets[:6] == bytes.fromhex("0180c2000000")
    assert octets[12:14] == (38).to_bytes(2, "big")
    assert octets[14:17] == b"\x42\x42\x03"
    assert octets[17 + 35 : 60] == bytes(60 - 52)
    assert fcs_valid(octets)


def test_bridge_ids_order_like_the_64_bit_number() -> None:
    """Lower priority wins; at equal priority the lower MAC wins; the VLAN id is part of it."""
    assert BridgeId(4096, 0, 0xFF) < BridgeId(32768, 0, 0x01)
    assert BridgeId(32768, 0, 0x01) < BridgeId(32768, 0, 0x02)
    assert BridgeId(32768, 1, 0xFF) < BridgeId(32768, 2, 0x01)
    assert str(BridgeId(32768, 10, 0x0200_0000_00BB)) == "32778.0200.0000.00bb"


@pytest.mark.parametrize(
    ("args", "message"),
    [((1000, 0, 1), "multiple of 4096"), ((4096, 4096, 1), "0..4095"), ((0, 0, 1 << 48), "48")],
)
def test_bad_bridge_ids_are_refused_with_a_reason(args: tuple[int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BridgeId(*args)


def test_port_ids_follow_802_1t() -> None:
    """4-bit priority in steps of 16, 12-bit port number: 128.1 is 0x8001."""
    assert port_id(1) == 0x8001
    assert port_id(300, 16) == 0x112C
    with pytest.raises(ValueError, match="multiple of 16"):
        port_id(1, 100)


bridge_ids = st.builds(
    BridgeId,
    st.integers(0, 15).map(lambda p: p * 4096),
    st.integers(0, 4095),
    st.integers(0, (1 << 48) - 1),
)
times = st.integers(0, 0xFFFF).map(lambda ticks: ticks / 256)
config_bpdus = st.builds(
    ConfigBpdu,
    root=bridge_ids,
    root_path_cost=st.integers(0, 0xFFFF_FFFF),
    bridge=bridge_ids,
    port=st.integers(0, 0xFFFF),
    message_age=times,
    max_age=times,
    hello_time=times,
    forward_delay=times,
    topology_change=st.booleans(),
    topology_change_ack=st.booleans(),
)
rst_bpdus = st.builds(
    ConfigBpdu,
    root=bridge_ids,
    root_path_cost=st.integers(0, 0xFFFF_FFFF),
    bridge=bridge_ids,
    port=st.integers(0, 0xFFFF),
    message_age=times,
    max_age=times,
    hello_time=times,
    forward_delay=times,
    topology_change=st.booleans(),
    topology_change_ack=st.booleans(),
    version=st.just(ProtocolVersion.RSTP),
    proposal=st.booleans(),
    role=st.sampled_from(BpduRole),
    learning=st.booleans(),
    forwarding=st.booleans(),
    agreement=st.booleans(),
)
any_bpdu = st.one_of(config_bpdus, rst_bpdus, st.just(TcnBpdu()))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(any_bpdu, st.integers(0, (1 << 48) - 1))
def test_every_bpdu_round_trips_through_its_frame(bpdu: ConfigBpdu | TcnBpdu, src: int) -> None:
    octets = bpdu_frame(bpdu, src).to_bytes()
    assert len(octets) == 64
    assert decode_bpdu(bpdu.to_bytes()) == bpdu
    assert decode_bpdu_frame(octets) == bpdu


@settings(max_examples=100, deadline=None, derandomize=True)
@given(any_bpdu)
def test_every_truncation_is_one_clear_error(bpdu: ConfigBpdu | TcnBpdu) -> None:
    """Fed a byte at a time, each proper prefix is refused with a BpduError, never a crash."""
    octets = bpdu.to_bytes()
    for cut in range(len(octets)):
        with pytest.raises(BpduError, match="octets"):
            decode_bpdu(octets[:cut])
    assert decode_bpdu(octets) == bpdu


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=80))
def test_random_bytes_decode_or_raise_bpdu_error(data: bytes) -> None:
    with contextlib.suppress(BpduError):
        decode_bpdu_frame(data)


@pytest.mark.parametrize(
    ("octets", "message"),
    [
        (bytes.fromhex("0001 00 00") + bytes(31), "protocol identifier"),
        (bytes.fromhex("0000 00 07") + bytes(31), "unknown BPDU type"),
        (bytes.fromhex("0000 00 02") + bytes(32), "unknown BPDU type"),  # RST type, version 0
    ],
)
def test_malformed_bpdus_say_what_was_expected(octets: bytes, message: str) -> None:
    with pytest.raises(BpduError, match=message):
        decode_bpdu(octets)


def test_an_ethernet_ii_frame_is_not_a_bpdu() -> None:
    octets = bytearray(bpdu_frame(TcnBpdu(), 1).to_bytes())
    octets[12:14] = b"\x08\x00"
    with pytest.raises(BpduError, match="length field"):
        decode_bpdu_frame(bytes(octets))


def test_an_mstp_bpdu_is_read_as_rstp() -> None:
    """802.1D-2004 9.3.4: a type 2 BPDU with version 3 or more is treated as RST."""
    octets = bytearray(ConfigBpdu(ROOT, 0, ROOT, 0x8001, version=ProtocolVersion.RSTP).to_bytes())
    octets[2] = 3
    assert decode_bpdu(bytes(octets)).version == ProtocolVersion.RSTP  # type: ignore[union-attr]


def test_a_pvst_frame_is_tagged_snap_with_the_vlan_at_the_end() -> None:
    """Cisco PVST+: to 01:00:0C:CC:CC:CD, tagged with the VLAN, LLC/SNAP aa aa 03 00 00 0c
    01 0b, the BPDU padded to 36 octets, then the originating VLAN TLV 0000 0002 VVVV."""
    bpdu = ConfigBpdu(ROOT, 4, OTHER, port_id(1))
    octets = pvst_bpdu_frame(bpdu, 0x0200_0000_0001, vlan=10).to_bytes()
    assert octets[:6] == bytes.fromhex("01000ccccccd")
    assert octets[12:16] == bytes.fromhex("8100 000a")
    assert int.from_bytes(octets[16:18], "big") == 8 + 36 + 6
    assert octets[18:26] == bytes.fromhex("aaaa03 00000c 010b")
    assert octets[26 : 26 + 35] == bpdu.to_bytes()
    assert octets[26 + 35 : 26 + 42] == bytes.fromhex("00 0000 0002 000a")
    assert fcs_valid(octets)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(any_bpdu, st.integers(1, 4094), st.booleans())
def test_every_pvst_frame_round_trips(bpdu: ConfigBpdu | TcnBpdu, vlan: int, tagged: bool) -> None:
    octets = pvst_bpdu_frame(bpdu, 0x0200_0000_0001, vlan, tagged=tagged).to_bytes()
    assert decode_pvst_bpdu_frame(octets) == (bpdu, vlan)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=90))
def test_random_bytes_as_pvst_decode_or_raise_bpdu_error(data: bytes) -> None:
    with contextlib.suppress(BpduError):
        decode_pvst_bpdu_frame(data)


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_every_bpdu_with_no_malformed_packet(tmp_path: Path) -> None:
    """Wireshark's stp dissector reads back the fields we wrote, for all three kinds."""
    bpdus: list[ConfigBpdu | TcnBpdu] = [
        ConfigBpdu(ROOT, 19, OTHER, port_id(2), message_age=1, topology_change=True),
        ConfigBpdu(
            ROOT,
            4,
            OTHER,
            port_id(7, 64),
            version=ProtocolVersion.RSTP,
            role=BpduRole.ROOT,
            agreement=True,
            forwarding=True,
            learning=True,
        ),
        TcnBpdu(),
    ]
    path = tmp_path / "bpdus.pcap"
    write_pcap(
        path,
        [(i * 2.0, bpdu_frame(b, 0x0200_0000_0001).to_bytes()[:-4]) for i, b in enumerate(bpdus)],
    )
    fields = [
        "stp.type",
        "stp.version",
        "stp.root.prio",
        "stp.root.hw",
        "stp.root.cost",
        "stp.bridge.ext",
        "stp.port",
        "stp.msg_age",
        "stp.flags.tc",
        "stp.flags.port_role",
        "stp.flags.agreement",
        "_ws.malformed",
    ]
    command = [str(TSHARK), "-n", "-r", str(path), "-T", "fields", "-E", "separator=|"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    rows = [line.split("|") for line in out.strip().splitlines()]
    assert rows == [
        ["0x00", "0", "4096", "02:00:00:00:00:aa", "19", "10", "0x8002", "1", "1", "", "", ""],
        ["0x02", "2", "4096", "02:00:00:00:00:aa", "4", "10", "0x4007", "0", "0", "2", "1", ""],
        ["0x80", "0", "", "", "", "", "", "", "", "", "", ""],
    ]


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_reads_the_originating_vlan_of_pvst_bpdus(tmp_path: Path) -> None:
    """Wireshark's stp dissector, reached through Cisco's SNAP PID 0x010b, finds the VLAN
    TLV where Cisco puts it, for configuration and RST BPDUs, tagged or not."""
    rst = ConfigBpdu(
        BridgeId(32768, 10, 0xAA),
        4,
        BridgeId(32768, 10, 0xBB),
        port_id(1),
        version=ProtocolVersion.RSTP,
        role=BpduRole.DESIGNATED,
    )
    config = ConfigBpdu(BridgeId(4096, 20, 0xAA), 19, BridgeId(32768, 20, 0xBB), port_id(2))
    frames = [
        pvst_bpdu_frame(rst, 2, 10),
        pvst_bpdu_frame(config, 2, 20, tagged=False),
        pvst_bpdu_frame(TcnBpdu(), 2, 30),
    ]
    path = tmp_path / "pvst.pcap"
    write_pcap(path, [(float(i), f.to_bytes()[:-4]) for i, f in enumerate(frames)])
    command = [str(TSHARK), "-n", "-r", str(path), "-T", "fields", "-E", "separator=|"]
    for name in (
        "vlan.id",
        "stp.type",
        "stp.root.ext",
        "stp.pvst.origvlan",
        "_ws.malformed",
        "_ws.expert",
    ):
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    assert [line.split("|") for line in out.strip().splitlines()] == [
        ["10", "0x02", "10", "10", "", ""],
        ["", "0x00", "20", "20", "", ""],
        ["30", "0x80", "", "", "", ""],
    ]
