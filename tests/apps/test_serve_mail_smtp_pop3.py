"""SMTP and POP3 in ``serve-mail``, on real loopback sockets, with stock clients.

Python's smtplib and poplib, fetchmail and swaks talk to the servers; mail sent over
SMTP must come back byte for byte over POP3 and IMAP, wake an IMAP client that idles,
survive a SIGKILL once acknowledged, and POP3 must answer a session script the way
Dovecot's POP3 server does.  Only 127.0.0.1 and ephemeral ports are used.
"""

from __future__ import annotations

import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netsim.apps.serve_mail import BackgroundServer
from netsim.mail.imap.server import ImapServer, ServerConfig
from netsim.mail.pop3 import Pop3Config, Pop3Server
from netsim.mail.smtp import SmtpConfig, SmtpServer
from netsim.mail.store import MailStore
from netsim.mail.users import Users

HOST = "127.0.0.1"
USERS = {"alice": "wonderland", "bob": "builder"}
MESSAGE = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: Lunch on Friday\r\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
    b"\r\n"
    b"Shall we meet at noon?\r\n"
    b".\r\n"
    b"..a line that starts with dots\r\n"
    b"caf\xc3\xa9 8-bit text\r\n"
)


def start(
    tls_context: ssl.SSLContext | None = None, store: MailStore | None = None
) -> BackgroundServer:
    """IMAP, SMTP, submission and POP3 on one in-memory store (plaintext allowed when
    there is no certificate; TLS ports too when there is one)."""
    store = store or MailStore()
    users = Users(USERS)
    tls = tls_context is not None
    imap = ImapServer(store, users, ServerConfig(starttls=tls, login_requires_tls=tls))
    smtp = SmtpServer(
        store, users, SmtpConfig(starttls=tls, login_requires_tls=tls, login_failure_delay=0.1)
    )
    pop3 = Pop3Server(store, users, Pop3Config(starttls=tls, login_requires_tls=tls))
    return BackgroundServer(
        imap,
        tls_context=tls_context,
        imaps=tls,
        allow_plaintext_login=not tls,
        smtp=smtp,
        pop3=pop3,
    ).start()


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    background = start()
    yield background
    background.stop()


def fetch_by_pop3(port: int, user: str = "bob") -> list[bytes]:
    """Every message of ``user``'s maildrop, as poplib returns it (lines joined by CRLF)."""
    pop = poplib.POP3(HOST, port, timeout=10)
    pop.user(user)
    pop.pass_(USERS[user])
    count, _ = pop.stat()
    messages = [b"\r\n".join(pop.retr(n + 1)[1]) + b"\r\n" for n in range(count)]
    pop.quit()
    return messages


def fetch_by_imap(port: int, user: str = "bob") -> list[bytes]:
    """Every INBOX message of ``user``, BODY.PEEK[] by imaplib."""
    imap = imaplib.IMAP4(HOST, port)
    imap.login(user, USERS[user])
    _, data = imap.select("INBOX")
    count = int(data[0])  # type: ignore[arg-type]
    messages = []
    for n in range(1, count + 1):
        _, parts = imap.fetch(str(n), "(BODY.PEEK[])")
        messages.append(parts[0][1])  # type: ignore[index]
    imap.logout()
    return messages


def test_smtplib_mail_comes_back_byte_identical_over_pop3_and_imap(
    server: BackgroundServer,
) -> None:
    """smtplib's sendmail to port 25; poplib's RETR and imaplib's BODY[] give back the
    exact octets (dot-stuffed lines and 8-bit text included)."""
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        smtp.ehlo("client.example")
        assert smtp.has_extn("pipelining") and smtp.has_extn("8bitmime")
        assert smtp.has_extn("enhancedstatuscodes") and smtp.has_extn("size")
        refused = smtp.sendmail(
            "alice@example.org", ["bob@example.org"], MESSAGE, mail_options=["BODY=8BITMIME"]
        )
        assert refused == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("alice@example.org", ["mallory@example.org"], MESSAGE)
    assert fetch_by_pop3(server.ports["pop3"]) == [MESSAGE]
    assert fetch_by_imap(server.port) == [MESSAGE]


def test_smtplib_pipelines_a_whole_transaction_in_one_write(server: BackgroundServer) -> None:
    """RFC 2920: MAIL, both RCPTs and DATA go in one segment; the replies come in order."""
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        smtp.ehlo("client.example")
        assert smtp.does_esmtp and smtp.has_extn("pipelining")
        smtp.send(
            b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
            b"RCPT TO:<alice@example.org>\r\nDATA\r\n"
        )
        replies = [smtp.getreply()[0] for _ in range(4)]
        assert replies == [250, 250, 250, 354]
        smtp.send(MESSAGE.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        code, text = smtp.getreply()
        assert code == 250 and text.startswith(b"2.0.0")
    assert fetch_by_imap(server.port, "alice") == [MESSAGE]
    assert fetch_by_pop3(server.ports["pop3"], "bob") == [MESSAGE]


def test_mail_over_smtp_wakes_an_idling_imap_client(server: BackgroundServer) -> None:
    """Delivery goes through the shared store: IDLE hears EXISTS at once."""
    watcher = imaplib.IMAP4(HOST, server.port)
    watcher.login("bob", "builder")
    watcher.select("INBOX")
    watcher.send(b"i1 IDLE\r\n")
    assert watcher.readline().startswith(b"+")
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    watcher.sock.settimeout(30)
    assert watcher.readline() == b"* 1 EXISTS\r\n"
    watcher.send(b"DONE\r\n")
    while not watcher.readline().startswith(b"i1 OK"):
        pass
    watcher.logout()


def test_a_selected_imap_session_hears_exists_at_its_next_command(
    server: BackgroundServer,
) -> None:
    """Without IDLE, the next NOOP reports the message SMTP delivered meanwhile."""
    client = imaplib.IMAP4(HOST, server.port)
    client.login("bob", "builder")
    client.select("INBOX")
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    client.noop()
    assert client.untagged_responses["EXISTS"][-1] == b"1"  # after SELECT's 0
    _, parts = client.fetch("1", "(BODY.PEEK[])")
    assert parts[0][1] == MESSAGE  # type: ignore[index]
    client.logout()


def test_submission_needs_auth_and_then_delivers(server: BackgroundServer) -> None:
    """RFC 6409: 530 without AUTH; after AUTH PLAIN local recipients get the mail and
    others are refused (netsim relays nowhere)."""
    with smtplib.SMTP(HOST, server.ports["submission"]) as smtp:
        smtp.ehlo("client.example")
        assert "PLAIN" in smtp.esmtp_features["auth"]
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
        assert refused.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("alice", "wrong")
        smtp.login("alice", "wonderland")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("alice@example.org", ["someone@elsewhere.example"], MESSAGE)
        smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    assert fetch_by_pop3(server.ports["pop3"]) == [MESSAGE]


def test_poplib_dele_only_at_quit_and_a_dropped_connection_deletes_nothing(
    server: BackgroundServer,
) -> None:
    """RFC 1939: DELE marks, QUIT deletes; closing the socket without QUIT deletes
    nothing; a second session on the same maildrop meanwhile gets [IN-USE]."""
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        for n in range(3):
            smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE + b"%d\r\n" % n)
    port = server.ports["pop3"]
    pop = poplib.POP3(HOST, port)
    pop.user("bob")
    pop.pass_("builder")
    pop.dele(1)
    other = poplib.POP3(HOST, port)
    other.user("bob")
    with pytest.raises(poplib.error_proto, match="IN-USE"):
        other.pass_("builder")
    other.quit()
    pop.sock.close()  # dropped: no QUIT
    pop = poplib.POP3(HOST, port)
    deadline = time.monotonic() + 30  # the server notices the dropped socket asynchronously
    while True:
        pop.user("bob")
        try:
            pop.pass_("builder")
            break
        except poplib.error_proto:
            assert time.monotonic() < deadline, "the maildrop lock was never given back"
            time.sleep(0.05)
    assert pop.stat()[0] == 3
    uids_before = pop.uidl()[1]
    pop.dele(1)
    assert pop.stat()[0] == 2
    pop.quit()
    assert fetch_by_pop3(port) == [MESSAGE + b"1\r\n", MESSAGE + b"2\r\n"]
    pop = poplib.POP3(HOST, port)
    pop.user("bob")
    pop.pass_("builder")
    assert pop.uidl()[1] == [b"%d %s" % (n, u.split()[1]) for n, u in enumerate(uids_before[1:], 1)]
    assert pop.top(1, 0)[1][-1] == b""  # header and the blank line only
    pop.quit()


def test_starttls_stls_and_the_implicit_tls_ports(certificate: tuple[Path, Path]) -> None:
    """STARTTLS on submission (AUTH only after it), SMTPS on 465's role, STLS and POP3S."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    background = start(context)
    try:
        client = ssl.create_default_context(cafile=str(cert))
        client.check_hostname = False
        with smtplib.SMTP(HOST, background.ports["submission"]) as smtp:
            smtp.ehlo("c")
            assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
            smtp.starttls(context=client)
            smtp.ehlo("c")
            assert not smtp.has_extn("starttls") and smtp.has_extn("auth")
            smtp.login("alice", "wonderland")
            smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
        with smtplib.SMTP_SSL(HOST, background.ports["smtps"], context=client) as smtp:
            smtp.login("alice", "wonderland")
            smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE + b"2\r\n")
        pop = poplib.POP3(HOST, background.ports["pop3"])
        assert "STLS" in pop.capa() and "USER" not in pop.capa()
        with pytest.raises(poplib.error_proto):
            pop.user("bob")
        pop.stls(client)
        pop.user("bob")
        pop.pass_("builder")
        assert pop.stat()[0] == 2
        pop.quit()
        pops = poplib.POP3_SSL(HOST, background.ports["pop3s"], context=client)
        pops.user("bob")
        pops.pass_("builder")
        assert b"\r\n".join(pops.retr(2)[1]) + b"\r\n" == MESSAGE + b"2\r\n"
        pops.quit()
    finally:
        background.stop()


# -- the command line, and a SIGKILL ---------------------------------------------------------


def start_subprocess(
    tmp_path: Path, *options: str
) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """``python -m netsim.apps.serve_mail`` with SMTP and POP3 on ephemeral ports."""
    users = tmp_path / "users.txt"
    users.write_text("".join(f"{u}:{p}\n" for u, p in USERS.items()))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    argv = [sys.executable, "-m", "netsim.apps.serve_mail", "--host", HOST]
    argv += ["--users", str(users), "--store", str(tmp_path / "store")]
    argv += ["--smtp", "0", "--pop3", "0", "--imap", "0", "--allow-plaintext-login", *options]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    while len(ports) < 3:
        line = proc.stdout.readline().decode()
        match = re.search(r"(\w+) listening on .*:(\d+)$", line.strip())
        assert match, line
        ports[match.group(1)] = int(match.group(2))
    return proc, ports


def test_a_250_after_data_survives_sigkill(tmp_path: Path) -> None:
    """Every message that got 250 is there after kill -9 and a restart (RFC 5321 6.1)."""
    proc, ports = start_subprocess(tmp_path)
    sent = [MESSAGE + b"%d\r\n" % n for n in range(8)]
    try:
        with smtplib.SMTP(HOST, ports["smtp"]) as smtp:
            for message in sent:
                smtp.sendmail("alice@example.org", ["bob@example.org"], message)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc, ports = start_subprocess(tmp_path)
    try:
        assert fetch_by_pop3(ports["pop3"]) == sent
        assert fetch_by_imap(ports["imap"]) == sent
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_smtp_and_pop3_options_are_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--smtps`` without ``--cert``, no port at all, an unknown ``--postmaster``: one
    clear line each, exit status 2."""
    import argparse

    from netsim.apps import serve_mail

    users = tmp_path / "users.txt"
    users.write_text("alice:pw\n")
    parser = argparse.ArgumentParser()
    serve_mail.add_arguments(parser)
    args = parser.parse_args(["--smtps", "0", "--users", str(users), "--allow-plaintext-login"])
    assert serve_mail.run(args) == 2
    assert capsys.readouterr().err == "netsim serve-mail: error: --smtps needs --cert and --key\n"
    args = parser.parse_args(["--users", str(users)])
    assert serve_mail.run(args) == 2
    assert "at least one port" in capsys.readouterr().err
    args = parser.parse_args(
        ["--smtp", "0", "--users", str(users), "--postmaster", "root", "--allow-plaintext-login"]
    )
    assert serve_mail.run(args) == 2
    assert capsys.readouterr().err == (
        f"netsim serve-mail: error: --postmaster root: no such user in {users}\n"
    )


# -- other real clients: fetchmail and swaks --------------------------------------------------


def fetchmail(home: Path, port: int, protocol: str, options: str) -> bytes:
    """Run fetchmail once against ``port``; returns what it handed its MDA."""
    if shutil.which("fetchmail") is None:
        pytest.skip("fetchmail is not installed (Debian: fetchmail)")
    out = home / f"delivered-{protocol}"
    rcfile = home / "fetchmailrc"
    rcfile.write_text(
        "set no syslog\n"
        f"poll {HOST} service {port} protocol {protocol} timeout 20:\n"
        f'  user "bob" there with password "builder" is "bob" here\n'
        f'  sslproto "" {options}\n'
        f'  mda "cat >> {out}"\n'
    )
    rcfile.chmod(0o600)
    result = subprocess.run(
        ["fetchmail", "-f", str(rcfile), "-N", "--nosyslog"],
        capture_output=True,
        env=dict(os.environ, HOME=str(home)),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode(errors="replace")
    return out.read_bytes()


def without_fetchmails_trace(delivered: bytes) -> bytes:
    """The message fetchmail delivered, minus the Received: header it put on top,
    back in CRLF form (fetchmail hands its MDA bare LF line ends)."""
    head, _, rest = delivered.partition(b"\nFrom: ")
    assert head.startswith(b"Received: ")
    return (b"From: " + rest).replace(b"\n", b"\r\n")


def test_fetchmail_over_pop3_and_imap(server: BackgroundServer, tmp_path: Path) -> None:
    """fetchmail downloads the message over POP3 (keeping it) and over IMAP; without
    ``keep`` its POP3 run deletes the message at QUIT."""
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    pop3 = fetchmail(tmp_path, server.ports["pop3"], "POP3", "keep")
    assert without_fetchmails_trace(pop3) == MESSAGE
    imap = fetchmail(tmp_path, server.port, "IMAP", "keep fetchall")
    assert without_fetchmails_trace(imap) == MESSAGE
    fetchmail(tmp_path, server.ports["pop3"], "POP3", "nokeep fetchall")
    assert fetch_by_pop3(server.ports["pop3"]) == []


def swaks(*args: str) -> str:
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed (Debian: swaks)")
    result = subprocess.run(
        ["swaks", "--from", "alice@example.org", "--to", "bob@example.org", *args],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode(errors="replace")[-2000:]
    return result.stdout.decode(errors="replace")


def test_swaks_pipelining_and_submission_with_auth(server: BackgroundServer) -> None:
    """swaks pipelines MAIL/RCPT/DATA on port 25 and logs in with AUTH PLAIN on the
    submission port; both messages arrive, the dotted line unstuffed."""
    transcript = swaks("--server", f"{HOST}:{server.ports['smtp']}", "--pipeline")
    assert " -> MAIL FROM:<alice@example.org>\n -> RCPT TO:<bob@example.org>\n -> DATA" in (
        transcript
    )
    swaks(
        "--server",
        f"{HOST}:{server.ports['submission']}",
        "--auth",
        "PLAIN",
        "--auth-user",
        "alice",
        "--auth-password",
        "wonderland",
        "--body",
        "hello\n.dot line",
    )
    messages = fetch_by_pop3(server.ports["pop3"])
    assert len(messages) == 2 and b"\r\nhello\r\n.dot line\r\n" in messages[1]


# -- the same POP3 session against Dovecot -----------------------------------------------------

#: A POP3 session: each command, and whether a +OK answer to it is multi-line.
SCRIPT: list[tuple[bytes, bool]] = [
    (b"STAT", False),  # not yet logged in
    (b"USER test", False),
    (b"PASS pass", False),
    (b"STAT", False),
    (b"LIST", True),
    (b"LIST 2", False),
    (b"LIST 9", False),
    (b"RETR 1", True),
    (b"RETR 2", True),
    (b"RETR 3", True),
    (b"TOP 2 0", True),
    (b"TOP 2 2", True),
    (b"TOP 3 100", True),
    (b"TOP 9 1", True),
    (b"DELE 1", False),
    (b"DELE 1", False),
    (b"RETR 1", True),
    (b"LIST 1", False),
    (b"STAT", False),
    (b"UIDL", True),
    (b"UIDL 2", False),
    (b"RSET", False),
    (b"STAT", False),
    (b"NOOP", False),
    (b"XYZZY", False),
    (b"RETR", True),
    (b"DELE 2", False),
    (b"QUIT", False),
]

DIFFERENTIAL_MESSAGES = [
    MESSAGE,
    b"Subject: dots\r\n\r\n.\r\n..\r\n...\r\n. x\r\nlast\r\n",
    b"Subject: header only\r\nX-Empty-Body: yes\r\n\r\n",
]


def run_script(port: int) -> list[tuple[str, list[bytes] | None]]:
    """Each reply's status and, for multi-line ones, the lines as sent (stuffed)."""
    replies: list[tuple[str, list[bytes] | None]] = []
    with socket.create_connection((HOST, port), timeout=10) as sock:
        stream = sock.makefile("rb")
        assert stream.readline().startswith(b"+OK")
        for command, multi in SCRIPT:
            sock.sendall(command + b"\r\n")
            status = stream.readline()
            ok = status.startswith(b"+OK")
            body: list[bytes] | None = None
            if ok and multi:
                body = []
                while (line := stream.readline()) != b".\r\n":
                    assert line.endswith(b"\r\n")
                    body.append(line)
            replies.append(("+OK" if ok else "-ERR", body))
    return replies


def test_the_same_pop3_session_as_dovecot() -> None:
    """Differential test: statuses and multi-line bodies (dot-stuffing included) match
    Dovecot's POP3 server, message for message; UIDL matches in shape (the ids differ)."""
    from tests.mail import dovecot_lab

    reason = dovecot_lab.missing()
    if reason is not None:
        pytest.skip(reason)
    with dovecot_lab.dovecot({"test": "pass"}) as reference:
        client = imaplib.IMAP4(HOST, reference.imap)
        client.login("test", "pass")
        for message in DIFFERENTIAL_MESSAGES:
            client.append("INBOX", None, None, message)
        client.logout()
        theirs = run_script(reference.pop3)
    store = MailStore()
    users = Users({"test": "pass"})
    background = BackgroundServer(
        ImapServer(store, users),
        allow_plaintext_login=True,
        pop3=Pop3Server(store, users, Pop3Config(login_failure_delay=0)),
    ).start()
    try:
        inbox = store.mailbox("test", "INBOX")
        assert inbox is not None
        store.append(inbox, [(m, (), None) for m in DIFFERENTIAL_MESSAGES])
        ours = run_script(background.ports["pop3"])
    finally:
        background.stop()
    uidl = next(i for i, (command, _) in enumerate(SCRIPT) if command == b"UIDL")
    for i, ((command, _), mine, reference_reply) in enumerate(
        zip(SCRIPT, ours, theirs, strict=True)
    ):
        if i == uidl:
            assert mine[0] == reference_reply[0]
            assert [line.split()[0] for line in mine[1] or []] == [
                line.split()[0] for line in reference_reply[1] or []
            ]
            continue
        assert mine == reference_reply, command


def test_hostile_bytes_on_smtp_and_pop3_leave_the_server_serving(
    server: BackgroundServer,
) -> None:
    """Garbage, huge lines, NULs and half-sent messages, then a normal session works."""
    blobs = [
        bytes(range(256)) * 40,
        b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@x>\r\nDATA\r\n" + b"A" * 100_000,
        b"\x00" * 5000 + b"\r\n" * 20,
        b"USER bob\r\nPASS " + b"p" * 70_000 + b"\r\nRETR 1\r\n",
    ]
    for name in ("smtp", "submission", "pop3"):
        for blob in blobs:
            with socket.create_connection((HOST, server.ports[name]), timeout=10) as sock:
                sock.recv(1000)
                sock.sendall(blob)
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):  # the server answers and closes
                    pass
    with smtplib.SMTP(HOST, server.ports["smtp"]) as smtp:
        smtp.sendmail("alice@example.org", ["bob@example.org"], MESSAGE)
    assert fetch_by_pop3(server.ports["pop3"]) == [MESSAGE]


def test_connection_limits_answer_in_each_protocols_words() -> None:
    """Over the per-address limit, SMTP says 421 and POP3 -ERR, then the socket closes."""
    from netsim.apps.serve_mail import ConnectionLimits

    store, users = MailStore(), Users(USERS)
    background = BackgroundServer(
        ImapServer(store, users),
        allow_plaintext_login=True,
        limits=ConnectionLimits(max_connections_per_ip=1),
        smtp=SmtpServer(store, users),
        pop3=Pop3Server(store, users),
    ).start()
    try:
        with socket.create_connection((HOST, background.ports["smtp"]), timeout=10) as first:
            assert first.recv(100).startswith(b"220 ")
            for name, words in (("smtp", b"421 4.7.0 Too many"), ("pop3", b"-ERR [SYS/TEMP]")):
                with socket.create_connection((HOST, background.ports[name]), timeout=10) as s:
                    assert s.recv(200).startswith(words)
                    assert s.recv(200) == b""
    finally:
        background.stop()


def test_a_client_silent_in_the_middle_of_a_message_gets_421() -> None:
    """The silence timer closes a stalled DATA with 421 (and delivers nothing); a
    silent POP3 client gets -ERR; both sockets are closed by the server."""
    from netsim.apps.serve_mail import ConnectionLimits

    store, users = MailStore(), Users(USERS)
    background = BackgroundServer(
        ImapServer(store, users),
        allow_plaintext_login=True,
        limits=ConnectionLimits(login_timeout=0.3),
        smtp=SmtpServer(store, users),
        pop3=Pop3Server(store, users),
    ).start()
    try:
        with socket.create_connection((HOST, background.ports["smtp"]), timeout=30) as sock:
            sock.sendall(b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nDATA\r\nSubject: half")
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
        assert received.splitlines()[-1].startswith(b"421 4.4.2 ")
        with socket.create_connection((HOST, background.ports["pop3"]), timeout=30) as sock:
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
        assert received.splitlines()[-1].startswith(b"-ERR ")
        inbox = store.mailbox("bob", "INBOX")
        assert inbox is not None and inbox.messages == []
    finally:
        background.stop()
