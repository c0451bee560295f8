"""A Mosquitto broker of the test's own: a real ``mosquitto`` process on a free port, with its configuration and
persistence in a temporary folder, that a test can stop (gracefully or with SIGKILL) and start again."""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
)

CONFIG = """\
user {user}
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {directory}/
autosave_interval 1800
max_queued_messages 0
max_inflight_messages {max_inflight}
set_tcp_nodelay true
log_dest file {directory}/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_mosquitto() -> str:
    if MOSQUITTO is None:
        pytest.skip("mosquitto non installato")
    return MOSQUITTO


class Mosquitto:
    """One broker: ``start()``, ``stop(sig)``, ``restart()``; the port and the persistence survive restarts."""

    def __init__(self, directory: Path, *, max_inflight: int = 20) -> None:
        self.binary = require_mosquitto()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(
            CONFIG.format(user=getpass.getuser(), port=self.port, directory=directory, max_inflight=max_inflight)
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto uscito con codice {self.process.returncode}: {self.log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto non in ascolto sulla porta {self.port}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        """Stop the broker: SIGTERM lets it save its persistence file, SIGKILL does not."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout)
        self.process = None

    def restart(self, pause: float = 0.3) -> None:
        self.stop()
        time.sleep(pause)
        self.start()

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""
