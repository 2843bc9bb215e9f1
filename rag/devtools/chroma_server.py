"""A real Chroma server (`chroma run` from the project's venv) on 127.0.0.1, for the benchmark and the tests."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

READY_WITHIN_S = 120


class ChromaServer:
    """`chroma run --path <path> --port <port>`; stop() and start() again keep the same data and URL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with socket.socket() as sock:  # a port free on 127.0.0.1 right now
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        self._log = path.with_suffix(".log")

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        args = [str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(args, stdout=self._log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_WITHIN_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self._process.returncode}: {self._log.read_text()[-500:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as response:
                    json.load(response)
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"chroma run did not answer on {self.url} within {READY_WITHIN_S} s")

    def __enter__(self) -> ChromaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self) -> None:
        """SIGSTOP the server: it keeps its port open and answers nothing (a hung server)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
