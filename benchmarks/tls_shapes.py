"""Record the shape of real TLS handshakes: who sends which records, of what size.

A script, not a test::

    .venv/bin/python benchmarks/tls_shapes.py [--out netsim/net/tls/shapes.json]

Python's ``ssl`` (OpenSSL) runs a client and a server against each other through memory
buffers, once with TLS 1.3 and once with TLS 1.2, with a fresh self-signed RSA-2048
certificate (made by the ``openssl`` command).  Every byte one side writes is a *flight*
for the other; the script keeps only each record's content type and length, which is
what the simulation replays (:mod:`netsim.net.tls`): the round trips and the octets of a
handshake, not its cryptography.  The records a TLS 1.3 server sends once the handshake
is over (NewSessionTicket) are kept apart: the client does not wait for them.
"""

from __future__ import annotations

import argparse
import json
import ssl
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "netsim" / "net" / "tls" / "shapes.json"


def records(wire: bytes) -> list[list[int]]:
    """[content type, length] of every record in ``wire``."""
    out, i = [], 0
    while i < len(wire):
        kind, _version, length = struct.unpack("!BHH", wire[i : i + 5])
        out.append([kind, length])
        i += 5 + length
    return out


def handshake(version: ssl.TLSVersion, cert: str, key: str) -> dict[str, Any]:
    """The flights of one full handshake at ``version``, and its application overhead."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    for ctx in (server_ctx, client_ctx):
        ctx.minimum_version = ctx.maximum_version = version
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_side=False)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    flights: list[dict[str, Any]] = []
    done = {"client": False, "server": False}
    while not all(done.values()):
        for name, end, out, peer_in in (
            ("client", client, c_out, s_in),
            ("server", server, s_out, c_in),
        ):
            try:
                end.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
            wire = out.read()
            if wire:
                flights.append({"from": name, "records": records(wire)})
                peer_in.write(wire)
    # Whatever the server sends after both ends are done is post-handshake (tickets).
    post: list[dict[str, Any]] = []
    if flights and flights[-1]["from"] == "server" and version == ssl.TLSVersion.TLSv1_3:
        post.append(flights.pop())
    client.write(b"x")
    app = records(c_out.read())
    overhead = app[0][1] - 1
    return {
        "cipher": client.cipher()[0] if client.cipher() else "",
        "handshake": flights,
        "post_handshake": post,
        "record_overhead": overhead,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = f"{tmp}/cert.pem", f"{tmp}/key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-days",
                "1",
                "-subj",
                "/CN=mail.example.net",
            ],
            check=True,
            capture_output=True,
        )
        shapes = {
            "measured_with": f"benchmarks/tls_shapes.py ({ssl.OPENSSL_VERSION})",
            "certificate": "self-signed RSA-2048, CN=mail.example.net",
            "1.3": handshake(ssl.TLSVersion.TLSv1_3, cert, key),
            "1.2": handshake(ssl.TLSVersion.TLSv1_2, cert, key),
        }
    args.out.write_text(json.dumps(shapes, indent=1) + "\n")
    for version in ("1.3", "1.2"):
        shape = shapes[version]
        print(f"TLS {version} ({shape['cipher']}):")
        for flight in shape["handshake"] + shape["post_handshake"]:
            print(
                f"  {flight['from']:>6}: {sum(5 + n for _, n in flight['records'])} octets in "
                f"{len(flight['records'])} records"
            )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
