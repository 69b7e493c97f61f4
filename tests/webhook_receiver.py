"""A webhook receiver on loopback (tests only): checks each delivery's signature the way
the README tells receivers to, can fail the first tries or answer slowly, and keeps
each event once by its id, as a receiver that wants exactly-once processing does."""

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def readme_verify() -> Callable[[str, str, bytes], bool]:
    """The README's five lines that verify a signature, run as they are written there."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(import hashlib, hmac, time\n+def verify.*?)```", text, re.S)
    assert found, "the README's Integrations section shows how to verify a signature"
    code = found.group(1)
    assert len([line for line in code.splitlines() if line.strip()]) == 5
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102  (our own README)
    verify: Callable[[str, str, bytes], bool] = namespace["verify"]
    return verify


verify_signature = readme_verify()


@dataclass
class Hit:
    """One request the receiver got."""

    event_id: str
    kind: str
    signed: bool
    answered: int
    body: bytes


@dataclass
class Receiver:
    """What arrived, and how the receiver behaves."""

    secret: str = ""
    fail_first: int = 0
    delay: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if receiver.delay:
                time.sleep(receiver.delay)
            event_id = self.headers.get("Rapport-Event-Id", "")
            signed = False
            try:
                signed = verify_signature(
                    receiver.secret, self.headers.get("Rapport-Signature", ""), body
                )
            except (KeyError, ValueError):
                signed = False
            with receiver.lock:
                if not signed:
                    answer = 400
                elif receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    answer = 500
                else:
                    answer = 200
                    if event_id in receiver.processed:
                        receiver.duplicates += 1  # seen before: acknowledged, not processed
                    else:
                        receiver.processed[event_id] = json.loads(body)
                receiver.hits.append(
                    Hit(event_id, self.headers.get("Rapport-Event", ""), signed, answer, body)
                )
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def webhook_receiver(secret: str = "", **behaviour: Any) -> Iterator[Receiver]:
    """Serve HTTP on 127.0.0.1 on a free port; yields the receiver (its `url` set)."""
    receiver = Receiver(secret=secret, **behaviour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/rapport"
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["Hit", "Receiver", "verify_signature", "webhook_receiver"]
