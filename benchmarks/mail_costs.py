"""Calibrate the simulated mail server's cost model from netsim's own servers.

A script, not a test::

    .venv/bin/python benchmarks/mail_costs.py [--repeat 300] [--out FILE]

It runs the sans-IO servers that ``serve-mail`` runs, in this process, on a durable
store in a temporary directory (so every acknowledged change is fsync'ed as in
production), and for each command measures the CPU time ``receive_data`` takes (the
median of ``--repeat`` runs, ``time.process_time_ns``: CPU, not the wait for the disk)
and how many times it called ``os.fsync``. A command's CPU time is modelled as a fixed
part plus a part per octet of request and response; the per-octet part comes from
fetching a 1 KiB and a 256 KiB message. The simulation (:mod:`netsim.apps.server_cost`)
scales the CPU figures by a scenario's ``cpu_speed`` and charges each fsync the
scenario's disk latency.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession
from netsim.mail.lines import stuff
from netsim.mail.pop3.server import Pop3Config, Pop3Server, Pop3Session
from netsim.mail.smtp import SmtpConfig, SmtpServer, SmtpSession
from netsim.mail.store import MailStore
from netsim.mail.users import Users

OUT = Path(__file__).resolve().parent.parent / "netsim" / "apps" / "data" / "mail_costs.json"
USER, PASSWORD = "bench", "secret"
WHEN = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


class FsyncCounter:
    """Counts ``os.fsync`` calls while installed."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = os.fsync

    @contextmanager
    def installed(self) -> Iterator[None]:
        def counting(fd: Any) -> None:
            self.calls += 1
            self._real(fd)

        os.fsync = counting
        try:
            yield
        finally:
            os.fsync = self._real


def message(i: int, size: int) -> bytes:
    head = (
        f"From: Alice <alice@example.net>\r\nTo: {USER}@example.net\r\n"
        f"Subject: message {i}\r\nDate: Mon, 5 Jan 2026 10:00:00 +0000\r\n\r\n"
    ).encode()
    return head + b"x" * max(0, size - len(head) - 2) + b"\r\n"


class Bench:
    """One durable store, a logged-in session on INBOX, and the measurements."""

    def __init__(self, directory: Path, repeat: int) -> None:
        self.store = MailStore(directory)
        self.server = ImapServer(
            self.store, Users({USER: PASSWORD}), ServerConfig(login_failure_delay=0.0)
        )
        inbox = self.store.mailbox(USER, "INBOX")
        assert inbox is not None
        self.store.append(inbox, [(message(i, 2000), [], WHEN) for i in range(100)])
        self.store.append(inbox, [(message(100, 1024), [], WHEN), (message(101, 262144), [], WHEN)])
        self.store.create_mailbox(USER, "Archive")
        self.repeat = repeat
        self.fsyncs = FsyncCounter()
        self.session = self.login()
        self.session.receive_data(b"s SELECT INBOX\r\n")
        self.counter = 0

    def login(self) -> ServerSession:
        session = self.server.open_session()
        session.greeting()
        session.receive_data(f"l LOGIN {USER} {PASSWORD}\r\n".encode())
        return session

    def once(self, session: Any, line: bytes) -> tuple[int, int, int]:
        """CPU ns, fsyncs and octets (in + out) of one call."""
        before = self.fsyncs.calls
        with self.fsyncs.installed():
            start = time.process_time_ns()
            out = session.receive_data(line)
            cpu = time.process_time_ns() - start
        if not _accepted(out):
            raise RuntimeError(f"{line[:40]!r} was not accepted: {out[-200:]!r}")
        return cpu, self.fsyncs.calls - before, len(line) + len(out)

    def measure(self, make: Callable[[], tuple[Any, bytes]]) -> dict[str, float]:
        """Median CPU ns, most common fsync count and median octets of ``make``'s command."""
        runs = []
        for _ in range(self.repeat):
            session, line = make()
            runs.append(self.once(session, line))
        return {
            "cpu_ns": statistics.median(r[0] for r in runs),
            "fsyncs": statistics.mode(r[1] for r in runs),
            "octets": statistics.median(r[2] for r in runs),
        }

    def fixed(self, line: str) -> Callable[[], tuple[ServerSession, bytes]]:
        return lambda: (self.session, line.encode() + b"\r\n")

    def alternating(self, *lines: str) -> Callable[[], tuple[ServerSession, bytes]]:
        """Each run sends the next line of ``lines`` (so each one changes something)."""

        def make() -> tuple[ServerSession, bytes]:
            self.counter += 1
            return self.session, lines[self.counter % len(lines)].encode() + b"\r\n"

        return make

    def imap(self) -> dict[str, Any]:
        s = self.session
        table: dict[str, dict[str, float]] = {}

        def fresh_login() -> tuple[ServerSession, bytes]:
            session = self.server.open_session()
            session.greeting()
            return session, f"l LOGIN {USER} {PASSWORD}\r\n".encode()

        def fresh_logout() -> tuple[ServerSession, bytes]:
            return self.login(), b"o LOGOUT\r\n"

        def expunge() -> tuple[ServerSession, bytes]:
            s.receive_data(b"c UID COPY 1 INBOX\r\n")
            s.receive_data(b"d STORE 103 +FLAGS.SILENT (\\Deleted)\r\n")
            return s, b"e EXPUNGE\r\n"

        def append() -> tuple[ServerSession, bytes]:
            self.counter += 1  # a new message each time: the store keeps one blob per content
            body = message(self.counter, 2000)
            return s, f"a APPEND Archive {{{len(body)}+}}\r\n".encode() + body + b"\r\n"

        def move() -> tuple[ServerSession, bytes]:
            s.receive_data(b"c COPY 5 INBOX\r\n")  # message 103, moved away again
            return s, b"a MOVE 103 Archive\r\n"

        def idle() -> tuple[ServerSession, bytes]:
            if s.idling:
                s.receive_data(b"DONE\r\n")
            return s, b"i IDLE\r\n"

        def idle_done() -> tuple[ServerSession, bytes]:
            s.receive_data(b"i IDLE\r\n")
            return s, b"DONE\r\n"

        measures: dict[str, Callable[[], tuple[ServerSession, bytes]]] = {
            "LOGIN": fresh_login,
            "LOGOUT": fresh_logout,
            "CAPABILITY": self.fixed("a CAPABILITY"),
            "NOOP": self.fixed("a NOOP"),
            "EXAMINE": self.fixed("a EXAMINE INBOX"),
            "SELECT": self.fixed("a SELECT INBOX"),  # after EXAMINE: read-write again
            "STATUS": self.fixed("a STATUS INBOX (MESSAGES UNSEEN UIDNEXT)"),
            "LIST": self.fixed('a LIST "" *'),
            "FETCH": self.fixed("a FETCH 1 (UID RFC822.SIZE FLAGS)"),
            "UID FETCH": self.fixed("a UID FETCH 1:* (FLAGS)"),
            "SEARCH": self.fixed("a SEARCH FROM alice"),
            "UID SEARCH": self.fixed("a UID SEARCH UNSEEN"),
            "STORE": self.alternating(
                "a STORE 2 +FLAGS (\\Flagged)", "a STORE 2 -FLAGS (\\Flagged)"
            ),
            "UID STORE": self.alternating(
                "a UID STORE 3 +FLAGS (\\Flagged)", "a UID STORE 3 -FLAGS (\\Flagged)"
            ),
            "COPY": self.fixed("a COPY 4 Archive"),
            "MOVE": move,
            "EXPUNGE": expunge,
            "APPEND": append,
            "IDLE": idle,
            "DONE": idle_done,
        }
        for verb, make in measures.items():
            table[verb] = self.measure(make)
            if s.idling:
                s.receive_data(b"DONE\r\n")
        small = self.measure(self.fixed("a FETCH 101 BODY.PEEK[]"))
        big = self.measure(self.fixed("a FETCH 102 BODY.PEEK[]"))
        per_octet = max(0.0, (big["cpu_ns"] - small["cpu_ns"]) / (big["octets"] - small["octets"]))
        commands = {
            verb: {
                "cpu_us": round(max(0.0, m["cpu_ns"] - per_octet * m["octets"]) / 1000, 3),
                "fsyncs": int(m["fsyncs"]),
            }
            for verb, m in table.items()
        }
        commands["UID MOVE"] = commands["MOVE"]
        commands["UID COPY"] = commands["COPY"]
        return {"per_octet_ns": round(per_octet, 4), "commands": commands}

    def smtp(self) -> dict[str, Any]:
        """SMTP submission (AUTH PLAIN, then a transaction) into the durable store."""
        server = SmtpServer(self.store, Users({USER: PASSWORD}), SmtpConfig(login_failure_delay=0))
        token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()

        def session(*lines: str) -> SmtpSession:
            s = server.open_session(submission=True)
            s.greeting()
            for line in lines:
                s.receive_data(line.encode() + b"\r\n")
            return s

        ready = ("EHLO bench", f"AUTH PLAIN {token}")
        mail = (*ready, f"MAIL FROM:<{USER}@example.net>")
        rcpt = (*mail, f"RCPT TO:<{USER}@example.net>")

        def message(size: int) -> Callable[[], tuple[Any, bytes]]:
            def make() -> tuple[Any, bytes]:
                self.counter += 1  # a new message each time
                return session(*rcpt, "DATA"), stuff(message_bytes(self.counter, size))

            return make

        measures: dict[str, Callable[[], tuple[Any, bytes]]] = {
            "EHLO": lambda: (session(), b"EHLO bench\r\n"),
            "AUTH": lambda: (session("EHLO bench"), f"AUTH PLAIN {token}\r\n".encode()),
            "MAIL": lambda: (session(*ready), f"MAIL FROM:<{USER}@example.net>\r\n".encode()),
            "RCPT": lambda: (session(*mail), f"RCPT TO:<{USER}@example.net>\r\n".encode()),
            "DATA": lambda: (session(*rcpt), b"DATA\r\n"),
            "MESSAGE": message(2000),
            "RSET": lambda: (session(*mail), b"RSET\r\n"),
            "NOOP": lambda: (session(*ready), b"NOOP\r\n"),
            "QUIT": lambda: (session(*ready), b"QUIT\r\n"),
        }
        table = {verb: self.measure(make) for verb, make in measures.items()}
        big = self.measure(message(262144))
        return _model(table, table["MESSAGE"], big)

    def pop3(self) -> dict[str, Any]:
        """POP3 on a maildrop of a few messages, one of them 256 KiB."""
        self.store.ensure_user("pop")
        drop = self.store.mailbox("pop", "INBOX")
        assert drop is not None
        self.store.append(drop, [(message_bytes(i, 2000), [], WHEN) for i in range(5)])
        self.store.append(drop, [(message_bytes(9, 262144), [], WHEN)])
        server = Pop3Server(self.store, Users({"pop": PASSWORD}), Pop3Config(login_failure_delay=0))
        sessions: list[Pop3Session] = []

        def session(*lines: str) -> Pop3Session:
            while sessions:  # the maildrop is locked while a session holds it; keep it whole
                sessions.pop().receive_data(b"RSET\r\nQUIT\r\n")
            s = server.open_session()
            s.greeting()
            for line in lines:
                s.receive_data(line.encode() + b"\r\n")
            sessions.append(s)
            return s

        login = ("USER pop", f"PASS {PASSWORD}")

        def quit_deleting() -> tuple[Any, bytes]:
            self.counter += 1
            self.store.append(drop, [(message_bytes(100 + self.counter, 2000), [], WHEN)])
            s = session(*login)
            s.receive_data(b"STAT\r\n")
            s.receive_data(f"DELE {len(drop.messages)}\r\n".encode())
            sessions.clear()  # QUIT is the measured command
            return s, b"QUIT\r\n"

        measures: dict[str, Callable[[], tuple[Any, bytes]]] = {
            "USER": lambda: (session(), b"USER pop\r\n"),
            "PASS": lambda: (session("USER pop"), f"PASS {PASSWORD}\r\n".encode()),
            "STAT": lambda: (session(*login), b"STAT\r\n"),
            "LIST": lambda: (session(*login), b"LIST\r\n"),
            "UIDL": lambda: (session(*login), b"UIDL\r\n"),
            "RETR": lambda: (session(*login), b"RETR 1\r\n"),
            "TOP": lambda: (session(*login), b"TOP 1 0\r\n"),
            "DELE": lambda: (session(*login), b"DELE 1\r\n"),
            "NOOP": lambda: (session(*login), b"NOOP\r\n"),
            "RSET": lambda: (session(*login, "DELE 1"), b"RSET\r\n"),
            "QUIT": quit_deleting,
        }
        table = {verb: self.measure(make) for verb, make in measures.items()}
        big = self.measure(lambda: (session(*login), b"RETR 6\r\n"))
        session()  # release the maildrop
        return _model(table, table["RETR"], big)


def message_bytes(i: int, size: int) -> bytes:
    """``message(i, size)`` as it travels: CRLF lines of at most 78 octets."""
    data = message(i, 0)
    line = b"x" * 76 + b"\r\n"
    while len(data) + len(line) <= size:
        data += line
    return data


def _model(
    table: dict[str, dict[str, float]], small: dict[str, float], big: dict[str, float]
) -> dict[str, Any]:
    """Fixed CPU per command and CPU per octet, from a small and a big transfer."""
    per_octet = max(0.0, (big["cpu_ns"] - small["cpu_ns"]) / (big["octets"] - small["octets"]))
    commands = {
        verb: {
            "cpu_us": round(max(0.0, m["cpu_ns"] - per_octet * m["octets"]) / 1000, 3),
            "fsyncs": int(m["fsyncs"]),
        }
        for verb, m in table.items()
    }
    return {"per_octet_ns": round(per_octet, 4), "commands": commands}


def _accepted(out: bytes) -> bool:
    """Did the server accept the command? (IMAP OK or +, SMTP 2xx/3xx, POP3 +OK)."""
    last = out.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
    return b" OK " in out or out.startswith(b"+") or last[:1] in (b"2", b"3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp) / "store", args.repeat)
        protocols = {"imap": bench.imap(), "smtp": bench.smtp(), "pop3": bench.pop3()}
        bench.store.close()
    table = {
        "measured_with": f"benchmarks/mail_costs.py --repeat {args.repeat}",
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "protocols": protocols,
    }
    args.out.write_text(json.dumps(table, indent=1) + "\n")
    for name, model in protocols.items():
        print(f"{name.upper()}: {model['per_octet_ns']} ns per octet")
        for verb, c in model["commands"].items():
            print(f"  {verb:<11} {c['cpu_us']:>9.1f} us CPU  {c['fsyncs']} fsync")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
