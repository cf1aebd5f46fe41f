"""Packet capture files in the classic libpcap format, with nanosecond timestamps.

Wireshark, tcpdump and every packet library read these files. The layout is a 24-byte
global header followed by one record per packet::

    global header: magic, version 2.4, timezone offset, accuracy, snaplen, link type
    record header: seconds, nanoseconds, captured length, original length
    record data:   the frame's bytes (at most snaplen of them)

The magic 0xA1B23C4D (rather than 0xA1B2C3D4) says the fraction field counts
nanoseconds, which a simulator needs: back-to-back frames on a 1 Gb/s link are 672 ns
apart. LINKTYPE_ETHERNET (1) means each record starts at the destination MAC; as with
most capturing NICs, netsim's captures include the FCS only if the caller passes it.
Everything is written little-endian, which the magic tells readers. The format is
specified by the "PCAP Capture File Format" Internet-Draft (draft-ietf-opsawg-pcap).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

MAGIC_NANOSECONDS = 0xA1B23C4D
"""Magic number of a pcap file whose timestamps have nanosecond resolution."""
VERSION = (2, 4)
"""Format version 2.4, the only one in use since 1998."""
LINKTYPE_ETHERNET = 1
"""IEEE 802.3 Ethernet frames, starting at the destination address."""
DEFAULT_SNAPLEN = 65535
"""Capture whole frames: no Ethernet frame is longer."""

_GLOBAL_HEADER = struct.Struct("<IHHiIII")
_RECORD_HEADER = struct.Struct("<IIII")


def timestamp_parts(seconds: float) -> tuple[int, int]:
    """Split a simulated time into whole seconds and nanoseconds, rounding to the nearest ns."""
    if seconds < 0:
        raise ValueError(f"pcap timestamps cannot be negative: {seconds}")
    total_ns = round(seconds * 1_000_000_000)
    return divmod(total_ns, 1_000_000_000)


class PcapWriter:
    """Write (timestamp, frame bytes) records to a pcap file or any binary stream.

    Use it as a context manager, or call :meth:`close`::

        with PcapWriter.open("captures/sw1-Gi0_1.pcap") as pcap:
            pcap.write(0.000_012_345, frame.to_bytes())
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        snaplen: int = DEFAULT_SNAPLEN,
        linktype: int = LINKTYPE_ETHERNET,
        owns_stream: bool = False,
    ) -> None:
        """Write the global header to ``stream`` at once; ``owns_stream`` closes it with us."""
        if snaplen <= 0:
            raise ValueError("snaplen must be positive")
        self.snaplen = snaplen
        """Longest record kept; longer frames are cut (their original length is recorded)."""
        self.records = 0
        """Records written so far."""
        self._stream = stream
        self._owns_stream = owns_stream
        self._stream.write(
            _GLOBAL_HEADER.pack(MAGIC_NANOSECONDS, *VERSION, 0, 0, snaplen, linktype)
        )

    @classmethod
    def open(cls, path: str | Path, *, snaplen: int = DEFAULT_SNAPLEN) -> PcapWriter:
        """Create (or overwrite) the file at ``path``, making parent directories."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path.open("wb"), snaplen=snaplen, owns_stream=True)

    def write(self, timestamp: float, frame: bytes) -> None:
        """Append one frame captured at simulated time ``timestamp`` (seconds)."""
        seconds, nanoseconds = timestamp_parts(timestamp)
        if seconds > 0xFFFF_FFFF:
            raise ValueError(f"pcap timestamp {timestamp} s does not fit in 32 bits")
        kept = frame[: self.snaplen]
        self._stream.write(_RECORD_HEADER.pack(seconds, nanoseconds, len(kept), len(frame)))
        self._stream.write(kept)
        self.records += 1

    def write_all(self, records: Iterable[tuple[float, bytes]]) -> None:
        """Append every (timestamp, frame) record in order."""
        for timestamp, frame in records:
            self.write(timestamp, frame)

    def close(self) -> None:
        """Flush, and close the stream if this writer opened it."""
        self._stream.flush()
        if self._owns_stream:
            self._stream.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_pcap(
    path: str | Path, records: Iterable[tuple[float, bytes]], *, snaplen: int = DEFAULT_SNAPLEN
) -> int:
    """Write (timestamp seconds, frame bytes) ``records`` to a new pcap file; return the count."""
    with PcapWriter.open(path, snaplen=snaplen) as pcap:
        pcap.write_all(records)
        return pcap.records
