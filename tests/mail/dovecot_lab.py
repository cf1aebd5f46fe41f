"""A throwaway Dovecot on loopback: the reference server for differential tests and
benchmarks (Debian's dovecot-imapd, dovecot-pop3d and dovecot-lmtpd).

It follows ../shared/anchors/README.md: a private base, state and mail directory,
passwords in a passwd-file, every listener on 127.0.0.1 and on ports chosen free.
LMTP (RFC 2033) is SMTP's sibling for final delivery, which is what netsim's port 25
does, so it is the SMTP reference.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_CONF = """\
protocols = imap pop3 {lmtp}
listen = 127.0.0.1
base_dir = {lab}/run
state_dir = {lab}/state
log_path = {lab}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %n
mail_location = maildir:~/Maildir
mail_max_userip_connections = 1000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {lab}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {lab}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
{lmtp_service}
"""

_LMTP_SERVICE = """\
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def missing() -> str | None:
    """Why Dovecot cannot be started here, or None if it can."""
    if shutil.which("dovecot") is None:
        return "dovecot is not installed (Debian: dovecot-imapd dovecot-pop3d)"
    if not Path("/usr/lib/dovecot/pop3").exists():
        return "dovecot-pop3d is not installed"
    return None


def has_lmtp() -> bool:
    """True when dovecot-lmtpd is installed."""
    return Path("/usr/lib/dovecot/lmtp").exists()


@dataclass(frozen=True)
class Dovecot:
    """A running Dovecot: its ports (``lmtp`` 0 when not installed)."""

    imap: int
    pop3: int
    lmtp: int
    directory: Path


def _wait_for(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def dovecot(users: dict[str, str]) -> Iterator[Dovecot]:
    """Start Dovecot for ``users`` (name -> password); stop it (by its PID) afterwards."""
    lab = Path(tempfile.mkdtemp(prefix="netsim-dovecot-"))
    lab.chmod(0o755)
    for sub in ("run", "state", "home"):
        (lab / sub).mkdir()
    (lab / "home").chmod(0o777)
    (lab / "users").write_text(
        "".join(f"{u}:{{PLAIN}}{p}:65534:65534::{lab}/home/{u}::\n" for u, p in users.items())
    )
    lmtp = _free_port() if has_lmtp() else 0
    ports = {"imap": _free_port(), "pop3": _free_port()}
    (lab / "dovecot.conf").write_text(
        _CONF.format(
            lab=lab,
            lmtp="lmtp" if lmtp else "",
            lmtp_service=_LMTP_SERVICE.format(lmtp=lmtp) if lmtp else "",
            **ports,
        )
    )
    proc = subprocess.Popen(
        ["dovecot", "-F", "-c", str(lab / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not all(_wait_for(p, 10) for p in [*ports.values(), *([lmtp] if lmtp else [])]):
            log = (lab / "dovecot.log").read_text() if (lab / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not start: {log[-500:]}")
        for user in users:  # the mail user (nobody) writes here
            (lab / "home" / user).mkdir(mode=0o777, exist_ok=True)
            (lab / "home" / user).chmod(0o777)
        yield Dovecot(ports["imap"], ports["pop3"], lmtp, lab)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(lab, ignore_errors=True)
