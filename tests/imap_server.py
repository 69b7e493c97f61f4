"""A real IMAP server for tests: Dovecot on loopback, started as an unprivileged process
on a free port, with its configuration, users and maildirs in a temporary folder.

Nothing system-wide is used or changed: Dovecot reads only the configuration written
here. Under root (CI) it runs as `nobody`, like any service would; otherwise as the
user running the tests.
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from bench.serve import free_port, stop_app
from db.models.integrations_mail import Mailbox

NOBODY = 65534

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_max_userip_connections = 50
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
"""


def dovecot_binary() -> str | None:
    """Dovecot's executable, if it is installed (Debian's dovecot-imapd)."""
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


@dataclass
class ImapServer:
    """A running Dovecot: its address, and a way to add users and deliver mail."""

    root: Path
    port: int  # plain IMAP, which offers STARTTLS
    tls_port: int  # IMAP over TLS from the first byte
    uid: int
    gid: int
    host: str = "127.0.0.1"

    @property
    def ca_file(self) -> Path:
        """The self-signed certificate the server presents (for "localhost")."""
        return self.root / "tls" / "cert.pem"

    def mailbox(
        self, username: str, name: str, address: str, password_env: str, **more: Any
    ) -> Mailbox:
        """A (not yet saved) mailbox row that signs in to this server as `username`."""
        return Mailbox(
            name=name,
            address=address,
            host=self.host,
            port=self.port,
            security="plain",
            username=username,
            password_env=password_env,
            **more,
        )

    def add_user(self, name: str | None = None, password: str | None = None) -> tuple[str, str]:
        """A new user with an empty INBOX and Sent; returns (username, password)."""
        name = name or f"user{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(12)
        # A file per user: Dovecot opens it at each sign-in, so a new user is known at once.
        entry = self.root / "users" / name
        entry.write_text(f"{name}:{{PLAIN}}{password}\n", encoding="utf-8")
        os.chown(entry, self.uid, self.gid)
        return name, password

    @contextmanager
    def client(self, user: str, password: str) -> Iterator[IMAPClient]:
        """A signed-in IMAP connection as `user`."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(user, password)
        try:
            yield client
        finally:
            client.logout()

    def deliver(
        self,
        user: str,
        password: str,
        message: bytes,
        folder: str = "INBOX",
        arrived: datetime | None = None,
    ) -> None:
        """Put a message into a folder over IMAP (APPEND), as a mail server would."""
        with self.client(user, password) as client:
            client.append(folder, message, msg_time=arrived)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@contextmanager
def running_dovecot() -> Iterator[ImapServer]:
    """Start Dovecot on a free loopback port and stop it afterwards."""
    binary = dovecot_binary()
    assert binary, "dovecot is not installed (apt-get install dovecot-imapd)"
    as_root = os.geteuid() == 0
    uid, gid = (NOBODY, NOBODY) if as_root else (os.getuid(), os.getgid())
    user = "nobody" if as_root else _name_of(uid)
    group = _group_of(gid)
    root = Path(tempfile.mkdtemp(prefix="rapport-imap-"))
    for sub in ("run", "state", "mail", "home", "users", "tls"):
        (root / sub).mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(root / "tls" / "key.pem"),
            "-out",
            str(root / "tls" / "cert.pem"),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    port, tls_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root, port=port, tls_port=tls_port, user=user, group=group, uid=uid, gid=gid
        ),
        encoding="utf-8",
    )
    for path in [root, *root.rglob("*")]:
        os.chown(path, uid, gid)
    os.chmod(root, 0o700)
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        user=uid if as_root else None,
        group=gid if as_root else None,
        extra_groups=[] if as_root else None,
    )
    server = ImapServer(root=root, port=port, tls_port=tls_port, uid=uid, gid=gid)
    try:
        _wait_for(port, process, server)
        yield server
    finally:
        stop_app(process)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes], server: ImapServer) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"dovecot exited: {err}\n{server.log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dovecot did not listen on {port}\n{server.log()}")


def _name_of(uid: int) -> str:
    import pwd

    return pwd.getpwuid(uid).pw_name


def _group_of(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name
