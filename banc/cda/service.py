"""A warm validation service on loopback, so a second `banc validate` does not recompile.

SaxonC-HE cannot save a compiled stylesheet (SEF export is Saxon-EE only, measured), and the
official StrucMin stylesheet takes 12–15 s to compile in every new process. The command line
therefore hands documents to a long-lived local process that keeps the engine warm: the first
call starts it (detached, in the background), later calls reuse it. It listens on 127.0.0.1
only, on an ephemeral port written with a random token in the user cache (file readable by the
user only); requests without the token are refused. It exits after an idle period.

`banc up` can keep it running with the mocks (`Client(package).ensure()` starts it, or run
`serve()` in a thread); `python -m banc.cda.service` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from banc.cda.package import AnsPackage, find_package
from banc.paths import OWN_SCHEMATRONS, cache_dir
from banc.verdict import Verdict
from banc.xml import DEFAULT_MAX_BYTES

DEFAULT_IDLE_SECONDS = 30 * 60
START_TIMEOUT = 300.0


class ServiceError(Exception):
    """The service could not be reached or started (the caller falls back to in-process)."""


def fingerprint() -> str:
    """What the served verdicts depend on besides the package: engine code and our rule sets.

    A service started by older code or before our schematrons changed is replaced, never used.
    """
    digest = hashlib.sha256()
    code = Path(__file__).parent
    for path in sorted([*code.glob("*.py"), *code.glob("data/*"), *OWN_SCHEMATRONS.rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def state_file(package: AnsPackage) -> Path:
    key = hashlib.sha256(str(package.root.resolve()).encode()).hexdigest()[:12]
    return cache_dir() / f"validator-{key}.json"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args) -> None:  # quiet: the CLI owns the terminal
        return

    def _reply(self, status: int, payload: dict | list) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if secrets.compare_digest(self.headers.get("X-Banc-Token", ""), self.server.token):
            return True
        self._reply(403, {"erreur": "jeton absent ou invalide"})
        return False

    def do_GET(self) -> None:
        if not self._authorised():
            return
        self.server.touch()
        self._reply(200, {"ok": True, "pid": os.getpid(), "package": str(self.server.engine.package.root)})

    def do_POST(self) -> None:
        if not self._authorised():
            return
        self.server.touch()
        length = int(self.headers.get("Content-Length", "0"))
        if length > DEFAULT_MAX_BYTES:
            self._reply(413, {"erreur": "document trop volumineux"})
            return
        data = self.rfile.read(length)
        volet = unquote(self.headers.get("X-Banc-Volet", "")) or None
        subject = unquote(self.headers.get("X-Banc-Subject", ""))
        verdict = self.server.engine.validate(data, volet=volet, subject=subject)
        self.server.touch()  # idle time counts from the end of the last request
        self._reply(200, verdict.to_dict())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, engine, token: str, idle: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.engine = engine
        self.token = token
        self.idle = idle
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()


def serve(package: AnsPackage | None = None, idle: float = DEFAULT_IDLE_SECONDS, engine=None) -> None:
    """Warm the engine, publish the address, serve until idle for `idle` seconds."""
    from banc.cda.engine import Engine

    engine = engine or Engine(package).warm()
    server = _Server(engine, secrets.token_urlsafe(24), idle)
    path = state_file(engine.package)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps({
            "port": server.server_address[1], "token": server.token, "pid": os.getpid(),
            "fingerprint": fingerprint(),
        }),
        encoding="utf-8",
    )
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)

    def watchdog() -> None:
        while time.monotonic() - server.last < server.idle:
            time.sleep(min(5.0, server.idle))
        server.shutdown()

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        server.serve_forever()
    finally:
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


class Client:
    """Talks to the service of one package; starts it when it is not running."""

    def __init__(self, package: AnsPackage | None = None):
        import httpx

        self.package = package or find_package()
        self._httpx = httpx
        self._state: dict | None = None
        self._client = httpx.Client(timeout=120)

    def _read_state(self) -> dict | None:
        try:
            return json.loads(state_file(self.package).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _alive(self, state: dict) -> bool:
        try:
            reply = self._client.get(
                f"http://127.0.0.1:{state['port']}/health", headers={"X-Banc-Token": state["token"]}, timeout=2
            )
            return reply.status_code == 200
        except self._httpx.HTTPError:
            return False

    def ensure(self, on_wait=None) -> dict:
        """The running service's address, starting it (and waiting for it) when needed."""
        state = self._read_state()
        if state and self._alive(state):
            if state.get("fingerprint") == fingerprint():
                self._state = state
                return state
            self.stop()  # started by other code or other rules: replace it
        log = cache_dir() / "validator.log"
        with log.open("ab") as out:
            subprocess.Popen(
                [sys.executable, "-m", "banc.cda.service", "--ans", str(self.package.root)],
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        if on_wait:
            on_wait()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(0.3)
            state = self._read_state()
            if state and self._alive(state):
                self._state = state
                return state
        raise ServiceError(f"le service de validation n'a pas démarré (journal : {log})")

    def validate(self, data: bytes, *, volet: str | None = None, subject: str = "") -> Verdict:
        state = self._state or self.ensure()
        headers = {"X-Banc-Token": state["token"], "X-Banc-Subject": quote(subject)}
        if volet:
            headers["X-Banc-Volet"] = quote(volet)
        try:
            reply = self._client.post(f"http://127.0.0.1:{state['port']}/validate", content=data, headers=headers)
        except self._httpx.HTTPError as exc:
            raise ServiceError(f"service de validation injoignable : {exc}") from None
        if reply.status_code != 200:
            raise ServiceError(f"service de validation : HTTP {reply.status_code} {reply.text[:200]}")
        return Verdict.from_dict(reply.json())

    def stop(self) -> bool:
        """Ask the running service to stop (used by tests and `banc validate --stop-service`)."""
        state = self._read_state()
        if not state:
            return False
        try:
            os.kill(int(state["pid"]), 15)
        except (OSError, ValueError):
            return False
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m banc.cda.service", description="Service de validation CDA (local)")
    parser.add_argument("--ans", help="dossier du paquet ANS TestContenuCDA")
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE_SECONDS, help="arrêt après N secondes sans requête")
    args = parser.parse_args(argv)
    serve(find_package(args.ans), idle=args.idle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
