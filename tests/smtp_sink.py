"""A tiny SMTP server on loopback that keeps every message it receives (tests only)."""

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message


@dataclass
class Mailbox:
    """Messages received, and an optional failure to simulate after N messages."""

    messages: list[Message] = field(default_factory=list)
    fail_after: int | None = None
    # Offer SMTPUTF8 (and 8BITMIME) in the EHLO reply, for international addresses.
    smtputf8: bool = False
    # Recipients answered with 550 at RCPT.
    refuse: set[str] = field(default_factory=set)
    # The envelope recipients of each message received, in order.
    recipients: list[list[str]] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode("ascii"))

    def handle(self) -> None:
        self._say("220 localhost sink ready")
        envelope: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line_text = raw.decode("utf-8", "replace").strip()
            verb = line_text.split(" ")[0].upper()
            if verb == "EHLO" and self.mailbox.smtputf8:
                self._say("250-localhost")
                self._say("250-8BITMIME")
                self._say("250 SMTPUTF8")
            elif verb in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif verb == "RCPT":
                address = line_text.partition(":")[2].strip().split(" ")[0].strip("<>")
                if address in self.mailbox.refuse:
                    self._say("550 no such mailbox")
                elif not address.isascii() and not self.mailbox.smtputf8:
                    self._say("553 mailbox name not allowed")
                else:
                    envelope.append(address)
                    self._say("250 OK")
            elif verb == "MAIL":
                if (
                    self.mailbox.fail_after is not None
                    and len(self.mailbox.messages) >= self.mailbox.fail_after
                ):
                    self._say("451 try again later")
                else:
                    envelope = []
                    self._say("250 OK")
            elif verb in ("RSET", "NOOP"):
                envelope = []
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with .")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                received = message_from_bytes(b"".join(lines), policy=policy.default)
                self.mailbox.messages.append(received)
                self.mailbox.recipients.append(envelope)
                envelope = []
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


@contextmanager
def smtp_sink() -> Iterator[tuple[int, Mailbox]]:
    """Serve SMTP on 127.0.0.1 on a free port; yields the port and the mailbox."""
    mailbox = Mailbox()
    handler = type("Handler", (_Handler,), {"mailbox": mailbox})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = server.server_address
        assert isinstance(address, tuple)
        yield int(address[1]), mailbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def plain_text(message: Message) -> str:
    """The plain-text part of a received message (the whole body when it has one part)."""
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None, "the message has no plain-text part"
    return str(part.get_content())


__all__ = ["Mailbox", "plain_text", "smtp_sink"]
