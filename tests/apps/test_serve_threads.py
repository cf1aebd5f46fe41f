"""POP3 in ``serve-mail`` on its own I/O path: a thread per connection, blocking sockets.

IMAP and SMTP run on the event loop; each POP3 connection is served by a thread that
sits in ``recv``.  The store is shared, so these tests look at the seams: an IMAP
session hears of a POP3 QUIT's expunge at once, many POP3 clients at once each get
their own maildrop right, pipelined commands get the same answers as one-by-one ones,
and stopping the server (also by SIGTERM) ends every thread, even one writing to a
client that does not read.  Only 127.0.0.1 and ephemeral ports are used.
"""

from __future__ import annotations

import imaplib
import os
import poplib
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

from netsim.apps.serve_mail import BackgroundServer, ConnectionLimits
from netsim.mail.imap.server import ImapServer, ServerConfig
from netsim.mail.pop3 import Pop3Config, Pop3Server
from netsim.mail.store import MailStore
from netsim.mail.users import Users

HOST = "127.0.0.1"
MESSAGE = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: threads\r\n"
    b"\r\n"
    b"A line.\r\n"
    b".a line that starts with a dot\r\n"
)


def start(
    users: dict[str, str],
    store: MailStore | None = None,
    limits: ConnectionLimits | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> tuple[BackgroundServer, MailStore]:
    """IMAP and POP3 (POP3S and IMAPS too with a certificate) on one in-memory store."""
    store = store or MailStore()
    directory = Users(users)
    tls = tls_context is not None
    background = BackgroundServer(
        ImapServer(store, directory, ServerConfig(starttls=tls, login_requires_tls=tls)),
        tls_context=tls_context,
        imaps=tls,
        allow_plaintext_login=not tls,
        limits=limits,
        pop3=Pop3Server(
            store,
            directory,
            Pop3Config(starttls=tls, login_requires_tls=tls, login_failure_delay=0),
        ),
    ).start()
    return background, store


def fill(store: MailStore, user: str, count: int) -> None:
    """``count`` numbered messages in ``user``'s INBOX."""
    inbox = store.mailbox(user, "INBOX")
    assert inbox is not None
    store.append(inbox, [(MESSAGE + b"%d\r\n" % n, (), None) for n in range(count)])


def pop3_threads() -> list[threading.Thread]:
    """The threads serving POP3 connections now (named after the service)."""
    return [t for t in threading.enumerate() if t.name.startswith(("pop3 ", "pop3s "))]


def greetings(background: BackgroundServer, count: int) -> list[bytes]:
    """The first lines ``count`` POP3 connections open at once are told."""
    socks = [socket.create_connection((HOST, background.ports["pop3"]), 10) for _ in range(count)]
    try:
        return [sock.makefile("rb").readline() for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def test_each_pop3_connection_is_served_by_a_thread_of_its_own() -> None:
    """poplib logs in and reads; a thread named after the service and the client's
    address serves it, and it ends when the client says QUIT."""
    background, store = start({"bob": "builder"})
    try:
        fill(store, "bob", 2)
        before = len(pop3_threads())
        pop = poplib.POP3(HOST, background.ports["pop3"], timeout=10)
        assert [t.name for t in pop3_threads()][before:] == ["pop3 127.0.0.1"]
        pop.user("bob")
        pop.pass_("builder")
        assert pop.stat() == (2, 2 * len(MESSAGE) + 6)
        assert b"\r\n".join(pop.retr(2)[1]) + b"\r\n" == MESSAGE + b"1\r\n"
        pop.quit()
        deadline = time.monotonic() + 10
        while len(pop3_threads()) > before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pop3_threads()) == before
    finally:
        background.stop()


def test_an_imap_session_hears_of_a_pop3_expunge_at_once() -> None:
    """RFC 1939's UPDATE state: POP3's DELE takes effect at QUIT, in the POP3 thread;
    an IMAP client idling in the same INBOX (on the event loop) is told by an
    untagged EXPUNGE without asking, and nothing is told before the QUIT."""
    background, store = start({"bob": "builder"})
    try:
        fill(store, "bob", 3)
        imap = imaplib.IMAP4(HOST, background.port)
        imap.login("bob", "builder")
        imap.select("INBOX")
        imap.send(b"i1 IDLE\r\n")
        assert imap.readline().startswith(b"+")
        pop = poplib.POP3(HOST, background.ports["pop3"], timeout=10)
        pop.user("bob")
        pop.pass_("builder")
        pop.dele(2)
        readable, _, _ = select.select([imap.sock], [], [], 0.3)
        assert readable == []  # DELE alone changes nothing
        pop.quit()
        imap.sock.settimeout(10)
        assert imap.readline() == b"* 2 EXPUNGE\r\n"
        imap.send(b"DONE\r\n")
        assert imap.readline() == b"i1 OK IDLE terminated\r\n"
        imap.logout()
        inbox = store.mailbox("bob", "INBOX")
        assert inbox is not None and [m.uid for m in inbox.messages] == [1, 3]
    finally:
        background.stop()


def test_many_pop3_clients_at_once_each_empty_their_own_maildrop() -> None:
    """Twenty clients in parallel, one per user, while an IMAP client appends to a
    bystander's INBOX: each downloads its own five messages byte for byte and
    deletes them; no maildrop is touched by another's session, and every
    connection is counted out at the end."""
    users = {f"user{n}": f"pw{n}" for n in range(20)} | {"carol": "pw"}
    limits = ConnectionLimits(max_connections=21, max_connections_per_ip=21)
    background, store = start(users, limits=limits)
    try:
        for user in users:
            fill(store, user, 5)
        got: dict[str, list[bytes]] = {}
        failures: list[BaseException] = []

        def download(user: str) -> None:
            try:
                pop = poplib.POP3(HOST, background.ports["pop3"], timeout=30)
                pop.user(user)
                pop.pass_(users[user])
                count, _ = pop.stat()
                got[user] = [b"\r\n".join(pop.retr(n)[1]) + b"\r\n" for n in range(1, count + 1)]
                for n in range(1, count + 1):
                    pop.dele(n)
                pop.quit()
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        clients = [threading.Thread(target=download, args=(u,)) for u in users if u != "carol"]
        for client in clients:
            client.start()
        imap = imaplib.IMAP4(HOST, background.port)
        imap.login("carol", "pw")
        for _ in range(20):
            assert imap.append("INBOX", None, None, MESSAGE)[0] == "OK"
        imap.logout()
        for client in clients:
            client.join(60)
        assert not failures, failures
        expected = [MESSAGE + b"%d\r\n" % n for n in range(5)]
        assert got == {u: expected for u in users if u != "carol"}
        for user in users:
            inbox = store.mailbox(user, "INBOX")
            assert inbox is not None
            assert len(inbox.messages) == (25 if user == "carol" else 0)
        # Every connection was counted out: as many as the limit are admitted again
        # (the threads count out just after their clients saw QUIT's answer).
        deadline = time.monotonic() + 30
        while not all(g.startswith(b"+OK") for g in greetings(background, 21)):
            assert time.monotonic() < deadline, "connections were never counted out"
            time.sleep(0.05)
    finally:
        background.stop()


def test_pipelined_commands_get_the_answers_of_one_at_a_time() -> None:
    """RFC 2449 PIPELINING: a whole session in one write, and 300 RETRs in another
    (their answers larger than one write's worth), are answered in order, byte for
    byte as when each command waits for its answer."""
    background, store = start({"bob": "builder"})
    try:
        fill(store, "bob", 3)
        script = [
            b"CAPA",
            b"USER bob",
            b"PASS builder",
            b"STAT",
            b"LIST",
            b"UIDL 2",
            b"RETR 1",
            b"TOP 2 0",
            b"DELE 3",
            b"RETR 3",
            b"RSET",
            b"NOOP",
            b"QUIT",
        ]

        def one_at_a_time() -> bytes:
            with socket.create_connection((HOST, background.ports["pop3"]), timeout=10) as sock:
                reader = sock.makefile("rb")
                out = [reader.readline()]
                for command in script:
                    sock.sendall(command + b"\r\n")
                    status = reader.readline()
                    out.append(status)
                    multi = command in (b"CAPA", b"LIST") or command.startswith((b"RETR", b"TOP"))
                    if multi and status.startswith(b"+OK"):
                        while (line := reader.readline()) != b".\r\n":
                            out.append(line)
                        out.append(line)
                return b"".join(out)

        def pipelined(commands: list[bytes]) -> bytes:
            with socket.create_connection((HOST, background.ports["pop3"]), timeout=10) as sock:
                sock.sendall(b"".join(c + b"\r\n" for c in commands))
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
                return b"".join(chunks)

        assert pipelined(script) == one_at_a_time()
        many = pipelined([b"USER bob", b"PASS builder", *[b"RETR 1"] * 300, b"QUIT"])
        stuffed = MESSAGE.replace(b"\r\n.", b"\r\n..")  # RFC 1939 3: dot-stuffing
        answer = b"+OK %d octets\r\n" % (len(MESSAGE) + 3) + stuffed + b"0\r\n.\r\n"
        assert many.count(answer) == 300 and many.endswith(b"+OK bye\r\n")
    finally:
        background.stop()


def test_stls_and_pop3s_on_the_threaded_path(certificate: tuple[Path, Path]) -> None:
    """STLS upgrades the connection in its thread (clear text pipelined after STLS is
    dropped, RFC 2595 4); POP3S does the handshake first; a client over the limit on
    POP3S is refused in POP3's words, over TLS."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    client.check_hostname = False
    limits = ConnectionLimits(max_connections_per_ip=2)
    background, store = start({"bob": "builder"}, limits=limits, tls_context=context)
    try:
        fill(store, "bob", 1)
        with socket.create_connection((HOST, background.ports["pop3"]), timeout=10) as raw:
            reader = raw.makefile("rb")
            reader.readline()
            raw.sendall(b"STLS\r\nUSER sneaked-in\r\n")
            assert reader.readline() == b"+OK Begin TLS negotiation now\r\n"
            with client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"PASS builder\r\n")
                assert tls.recv(1000).startswith(b"-ERR USER first")
        pop = poplib.POP3_SSL(HOST, background.ports["pop3s"], context=client, timeout=10)
        pop.user("bob")
        pop.pass_("builder")
        assert b"\r\n".join(pop.retr(1)[1]) + b"\r\n" == MESSAGE + b"0\r\n"
        second = poplib.POP3_SSL(HOST, background.ports["pop3s"], context=client, timeout=10)
        with (
            socket.create_connection((HOST, background.ports["pop3s"]), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname="127.0.0.1") as third,
        ):
            assert third.recv(1000).startswith(b"-ERR [SYS/TEMP] Too many connections")
        second.quit()
        pop.quit()
    finally:
        background.stop()


def test_silence_after_login_is_the_autologout_timer_not_the_login_one() -> None:
    """The receive timeout follows the session: before login the login timeout (long
    here), after it the autologout (short here), which ends the session with ``-ERR
    Autologout``, deletes nothing marked, and gives the maildrop back."""
    limits = ConnectionLimits(login_timeout=30, autologout=1.5)
    background, store = start({"bob": "builder"}, limits=limits)
    try:
        fill(store, "bob", 1)
        pop = poplib.POP3(HOST, background.ports["pop3"], timeout=10)
        pop.user("bob")
        pop.pass_("builder")
        pop.dele(1)
        assert pop.file.readline() == b"-ERR Autologout\r\n"
        assert pop.file.readline() == b""
        pop.close()
        again = poplib.POP3(HOST, background.ports["pop3"], timeout=10)
        again.user("bob")
        again.pass_("builder")  # not [IN-USE]
        assert again.stat()[0] == 1
        again.quit()
    finally:
        background.stop()


def test_stopping_ends_every_thread_even_one_writing_to_a_deaf_client() -> None:
    """Stopping says ``-ERR Server shutting down`` to a client waiting in a session;
    a client that pipelined thousands of RETRs and reads nothing keeps its thread in
    ``sendall`` until its socket is cut off; no POP3 thread outlives the server."""
    background, store = start({"bob": "builder", "alice": "pw"})
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    store.append(inbox, [(MESSAGE * 2000, (), None)])
    polite = poplib.POP3(HOST, background.ports["pop3"], timeout=10)
    polite.user("bob")
    polite.pass_("builder")
    deaf = socket.create_connection((HOST, background.ports["pop3"]), timeout=10)
    deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    deaf.sendall(b"USER alice\r\nPASS pw\r\n" + b"RETR 1\r\n" * 2000)
    time.sleep(0.2)  # let its thread fill the socket buffers and block
    background.stop()
    assert polite.file.readline() == b"-ERR Server shutting down\r\n"
    assert polite.file.readline() == b""
    assert pop3_threads() == []
    polite.close()
    deaf.close()
    assert [m.uid for m in inbox.messages] == [1]  # no QUIT: nothing deleted


def test_sigterm_with_pop3_clients_connected_exits_cleanly(tmp_path: Path) -> None:
    """SIGTERM: the POP3 client hears ``-ERR``, the process exits 0, the store's lock
    is released, and the message the client marked with DELE is still there."""
    users = tmp_path / "users.txt"
    users.write_text("bob:builder\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    argv = [sys.executable, "-m", "netsim.apps.serve_mail", "--host", HOST, "--pop3", "0"]
    argv += ["--users", str(users), "--store", str(tmp_path / "store")]
    argv += ["--allow-plaintext-login"]
    store = MailStore(tmp_path / "store")
    store.ensure_user("bob")
    fill(store, "bob", 1)
    store.close()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().decode().rsplit(":", 1)[1])
        pop = poplib.POP3(HOST, port, timeout=10)
        pop.user("bob")
        pop.pass_("builder")
        pop.dele(1)
        proc.send_signal(signal.SIGTERM)
        assert pop.file.readline() == b"-ERR Server shutting down\r\n"
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err, err
        pop.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    store = MailStore(tmp_path / "store")  # the lock was released
    inbox = store.mailbox("bob", "INBOX")
    assert inbox is not None and len(inbox.messages) == 1
    store.close()
