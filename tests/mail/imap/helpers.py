"""A tiny harness that talks to a sans-IO server session in IMAP text.

No sockets: bytes go in with ``receive_data`` and come straight back, which is exactly
how the real and the simulated transports drive a session.
"""

from __future__ import annotations

import dataclasses
import re

from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession
from netsim.mail.store import MailStore
from netsim.mail.users import Users

USERS = {"alice": "wonderland", "bob": "builder", "carol": "singer"}

SIMPLE = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>, carol@example.org\r\n"
    b"Subject: Lunch on Friday\r\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
    b"Message-ID: <1@example.org>\r\n"
    b"\r\n"
    b"Shall we meet at noon?\r\n"
)

MULTIPART = (
    b"From: Bob <bob@example.org>\r\n"
    b"To: alice@example.org\r\n"
    b"Subject: =?utf-8?q?Caf=C3=A9_photos?=\r\n"
    b"Date: Tue, 8 Feb 1994 09:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XX"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Voil=C3=A0 the photos from the caf=C3=A9.\r\n"
    b"--XX\r\n"
    b"Content-Type: image/png; name=cat.png\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"Content-Disposition: attachment; filename=cat.png\r\n"
    b"\r\n"
    b"iVBORw0KGgo=\r\n"
    b"--XX\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"From: Carol <carol@example.org>\r\n"
    b"Subject: inner\r\n"
    b"\r\n"
    b"inner body\r\n"
    b"--XX--\r\n"
    b"epilogue\r\n"
)


def make_server(config: ServerConfig | None = None, store: MailStore | None = None) -> ImapServer:
    """A server over an in-memory store with the three test users, bugs not hidden."""
    config = dataclasses.replace(config or ServerConfig(), debug=True)
    return ImapServer(store or MailStore(), Users(USERS), config)


class Client:
    """Speaks to one session, one command at a time, and returns the response lines."""

    def __init__(self, server: ImapServer, user: str | None = None, tls: bool = False) -> None:
        self.session: ServerSession = server.open_session(tls=tls)
        self.greeting = self.session.greeting()
        self.counter = 0
        if user is not None:
            self.ok(f"LOGIN {user} {USERS[user]}")

    def raw(self, data: bytes) -> bytes:
        """Send raw bytes, return raw output."""
        return self.session.receive_data(data)

    def cmd(self, text: str | bytes) -> tuple[str, list[bytes]]:
        """Send one tagged command; return (tagged status, all response lines)."""
        self.counter += 1
        tag = f"t{self.counter}".encode()
        line = text.encode() if isinstance(text, str) else text
        out = self.raw(tag + b" " + line + b"\r\n")
        lines = split_lines(out)
        final = lines[-1] if lines else b""
        assert final.startswith(tag + b" "), f"no tagged response in {out!r}"
        return final.split(b" ")[1].decode(), lines

    def ok(self, text: str | bytes) -> list[bytes]:
        """Send a command that must succeed; return its untagged lines."""
        status, lines = self.cmd(text)
        assert status == "OK", lines
        return lines[:-1]

    def status(self, text: str | bytes) -> str:
        """Just the tagged status of a command."""
        return self.cmd(text)[0]

    def append(self, mailbox: str, message: bytes, flags: str = "") -> int:
        """APPEND with a LITERAL+ literal; returns the new UID (from APPENDUID)."""
        flags_part = f" ({flags})" if flags else ""
        head = f"APPEND {mailbox}{flags_part} {{{len(message)}+}}\r\n".encode()
        status, lines = self.cmd(head + message)
        assert status == "OK", lines
        found = re.search(rb"APPENDUID \d+ (\d+)", lines[-1])
        assert found is not None, lines
        return int(found.group(1))


def split_lines(out: bytes) -> list[bytes]:
    """Response lines, literals kept inside the line that announced them."""
    lines: list[bytes] = []
    pos = 0
    current = b""
    while pos < len(out):
        end = out.find(b"\r\n", pos)
        if end < 0:
            current += out[pos:]
            break
        chunk = out[pos:end]
        m = re.search(rb"\{(\d+)\}$", chunk)
        if m:
            size = int(m.group(1))
            current += chunk + b"\r\n" + out[end + 2 : end + 2 + size]
            pos = end + 2 + size
            continue
        lines.append(current + chunk)
        current = b""
        pos = end + 2
    return lines


def untagged(lines: list[bytes], word: bytes) -> list[bytes]:
    """The untagged lines whose first word after ``*`` (or the number) is ``word``."""
    found = []
    for line in lines:
        parts = line.split(b" ")
        if parts[0] != b"*":
            continue
        if parts[1] == word or (len(parts) > 2 and parts[1].isdigit() and parts[2] == word):
            found.append(line)
    return found
