"""A recorder in its own process: `banc capture …` started, awaited until it listens, stopped.

mitmproxy allows one recorder per process; a bench test, the benchmark or a notebook that
records several services starts one `banc capture` per service with this helper and reads the
recorder's address and capture file from its first lines (`banc.cli.capture.READY`, `SAVING`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import banc
from banc.capture.recorder import RecorderError
from banc.cli.capture import READY, SAVING


class RecorderProcess:
    """`banc capture` with these arguments, running until `stop()`."""

    def __init__(self, arguments: list[str], *, timeout: float = 90.0) -> None:
        root = str(Path(banc.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "banc", "capture", *arguments], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=env, stdin=subprocess.DEVNULL)
        self.lines: list[str] = []
        self.url = ""
        self.capture_file = Path()
        ready = threading.Event()

        def read() -> None:
            assert self._process.stdout is not None
            for line in self._process.stdout:
                self.lines.append(line.rstrip("\n"))
                if line.startswith(READY):
                    self.url = line[len(READY):].split()[0]
                elif line.startswith(SAVING):
                    self.capture_file = Path(line[len(SAVING):].strip())
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, name="banc-capture-output", daemon=True)
        self._reader.start()
        if not ready.wait(timeout) or not self.url:
            self.stop()
            raise RecorderError("l'enregistreur n'a pas démarré : " + " / ".join(self.lines[-3:]))

    def stop(self) -> None:
        """Ask the recorder to finish (SIGTERM: it flushes its capture), then wait for it."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=5)

    def __enter__(self) -> RecorderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
