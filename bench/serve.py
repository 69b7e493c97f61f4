"""The app served on loopback, as `make run` serves it: for the load test and the tests
that need a real server (browser journeys, the HTTP API).

One place says how the server is started, on which address, and when it counts as up.
"""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_S = 60.0


class ServerDidNotStart(RuntimeError):
    """The server did not answer its health check in time; the message holds its log."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `streamlit run app.py` on a free loopback port; wait until it answers.

    Returns the process and its address; its output goes to `log`. Raises
    ServerDidNotStart (with the log) if it is not healthy within STARTUP_S seconds.
    """
    port = free_port()
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    handle.close()
    raise ServerDidNotStart("the server did not start:\n" + log.read_text(errors="replace"))


def stop_app(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by start_app: politely, then firmly."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
