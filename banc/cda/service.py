"""A warm validation service on loopback, so a second `banc validate` does not recompile.

SaxonC-HE cannot save a compiled stylesheet (SEF export is Saxon-EE only, measured), and the
official StrucMin stylesheet takes 12–15 s to compile in every new process. The command line
therefore hands documents to a long-lived local process that keeps the engine warm: the first
call starts it (detached, in the background), later calls reuse it. It listens on 127.0.0.1
only, on an ephemeral port written with a random token in the user cache (file readable by the
user only); requests without the token are refused.

There is one service per user (the cache folder) and package content (`AnsPackage.content_key`:
two paths to the same package share it); a lock file keeps two commands started together from
starting two. It exits after `DEFAULT_IDLE_SECONDS` without a request (30 min: it holds about
1 GB), and at once on `banc service arreter` (`Client.stop`, an authenticated POST /stop).
`banc service statut` lists the running ones (`running()`). The commands that use it say once
where it runs and when it will stop (`describe`).

The mocks of a bench use it too (`banc.cda.shared`), and a running bench keeps it alive with
`POST /touch`; `python -m banc.cda.service` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from banc.cda.package import AnsPackage, find_package
from banc.paths import OWN_SCHEMATRONS, REPO_ROOT, cache_dir
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
    """Where the service of this package content and code publishes its address.

    The code fingerprint is part of the name: a bench still running older code (or another
    checkout) keeps its own service instead of having it stopped under its feet by a newer one.
    """
    return cache_dir() / f"validator-{_content_key(package)}-{fingerprint()}.json"


def _content_key(package: AnsPackage) -> str:
    """`package.content_key()`, remembered on disk against the files' names, sizes and dates.

    Hashing the package reads 15 MB (0.85 s measured), listing its 2,000 files takes a tenth of
    that: every `banc validate` asks for the key, only a changed package pays the hash again.
    """
    root = os.path.realpath(package.root)
    digest = hashlib.sha256(root.encode())
    for folder in ("schematrons", "jeuxDeValeurs"):
        for current, _dirs, files in sorted(os.walk(os.path.join(root, folder))):
            for name in sorted(files):
                info = os.stat(os.path.join(current, name))
                digest.update(f"{current[len(root):]}/{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    memo = cache_dir() / "validator.keys.json"  # not validator-*.json: those are services
    known = _read(memo) or {}
    signature = digest.hexdigest()[:24]
    if signature not in known:
        known = dict(list(known.items())[-7:]) | {signature: package.content_key()}
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known), encoding="utf-8")
        os.replace(tmp, memo)
    return known[signature]


@contextlib.contextmanager
def _start_lock(package: AnsPackage) -> Iterator[None]:
    """Serialise "is it running? else start it" between commands started at the same time."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, at worst two services for a while
        yield
        return
    with state_file(package).with_suffix(".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _rss_megabytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass(frozen=True)
class Running:
    """What `banc service statut` shows of one live service."""

    pid: int
    port: int
    package: str
    idle_seconds: float
    stops_in: float
    idle_limit: float
    memory_mb: int | None

    def describe(self) -> str:
        """French, one line: where it runs, what it holds, when it stops by itself."""
        stop = datetime.fromtimestamp(time.time() + self.stops_in).strftime("%H:%M")
        memory = f", {self.memory_mb} Mo de mémoire" if self.memory_mb is not None else ""
        return (
            f"service de validation pid {self.pid} sur 127.0.0.1:{self.port}{memory} (paquet {self.package}) ; "
            f"arrêt automatique à {stop} sans nouvelle requête "
            f"(après {self.idle_limit / 60:.0f} min d'inactivité), « banc service arreter » pour l'arrêter maintenant"
        )


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
        """Health and status; does not count as activity (`banc service statut` must not keep it alive)."""
        if not self._authorised():
            return
        idle = time.monotonic() - self.server.last
        self._reply(200, {
            "ok": True, "pid": os.getpid(), "package": str(self.server.engine.package.root),
            "idle_seconds": round(idle, 1), "stops_in": round(max(self.server.idle - idle, 0.0), 1),
            "idle_limit": self.server.idle,
        })

    def do_POST(self) -> None:
        if not self._authorised():
            return
        if self.path == "/stop":
            self._reply(200, {"ok": True, "pid": os.getpid()})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        self.server.touch()
        if self.path == "/touch":  # a running bench keeps it warm for its DUI's next document
            self._reply(200, {"ok": True, "pid": os.getpid()})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= DEFAULT_MAX_BYTES:
            self._reply(413, {"erreur": "longueur de document absente ou au-delà de la limite"})
            return
        data = self.rfile.read(length)
        volet = unquote(self.headers.get("X-Banc-Volet", "")) or None
        subject = unquote(self.headers.get("X-Banc-Subject", ""))
        try:
            verdict = self.server.engine.validate(data, volet=volet, subject=subject,
                                                  svrl=self.headers.get("X-Banc-SVRL") == "1")
        except Exception as exc:  # a defect of ours: say it for this document, keep serving the others
            self._reply(500, {"erreur": f"{type(exc).__name__} : {' '.join(str(exc).split())[:300]}"})
            return
        finally:
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
    print(f"{datetime.now():%Y-%m-%d %H:%M:%S} service pid {os.getpid()} sur 127.0.0.1:{server.server_address[1]} "
          f"(arrêt après {idle:.0f} s sans requête)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        print(f"{datetime.now():%Y-%m-%d %H:%M:%S} service pid {os.getpid()} arrêté", file=sys.stderr, flush=True)
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


def _state_files() -> list[Path]:
    return sorted(cache_dir().glob("validator-*.json"))


def _read(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return state if isinstance(state, dict) else None
    except (OSError, ValueError):
        return None


def _status(state: dict, timeout: float = 2.0) -> dict | None:
    """The service's answer to GET /health, or None when nothing (or not it) answers."""
    import httpx

    try:
        reply = httpx.get(
            f"http://127.0.0.1:{state['port']}/health", headers={"X-Banc-Token": state["token"]}, timeout=timeout
        )
        return reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def _running(state: dict, health: dict) -> Running:
    pid = int(health.get("pid", state.get("pid", 0)))
    return Running(
        pid=pid, port=int(state["port"]), package=str(health.get("package", "?")),
        idle_seconds=float(health.get("idle_seconds", 0)), stops_in=float(health.get("stops_in", 0)),
        idle_limit=float(health.get("idle_limit", DEFAULT_IDLE_SECONDS)), memory_mb=_rss_megabytes(pid),
    )


def running() -> list[Running]:
    """The live services of this user; address files of dead ones are removed on the way."""
    found = []
    for path in _state_files():
        state = _read(path)
        health = _status(state) if state else None
        if health is None:
            path.unlink(missing_ok=True)
            continue
        found.append(_running(state, health))
    return found


def stop_all(timeout: float = 10.0) -> list[int]:
    """Stop every service of this user; the pids of those that were stopped."""
    stopped = []
    for path in _state_files():
        state = _read(path)
        if state and _stop(state, path, timeout):
            stopped.append(int(state.get("pid", 0)))
    return stopped


def _stop(state: dict, path: Path, timeout: float) -> bool:
    """POST /stop (SIGTERM when it does not answer) and wait for the address file to go."""
    import httpx

    try:
        httpx.post(f"http://127.0.0.1:{state['port']}/stop", headers={"X-Banc-Token": state["token"]}, timeout=5)
    except (httpx.HTTPError, KeyError):
        try:
            os.kill(int(state["pid"]), 15)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
            return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = _read(path)
        if current is None or current.get("pid") != state.get("pid"):
            return True
        time.sleep(0.1)
    path.unlink(missing_ok=True)  # it did not clean up: at least do not send documents to it
    return True


class Client:
    """Talks to the service of one package; starts it when it is not running."""

    def __init__(self, package: AnsPackage | None = None):
        import httpx

        self.package = package or find_package()
        self._httpx = httpx
        self._state: dict | None = None
        self._client = httpx.Client(timeout=120)
        self.started = False
        """True when this client started the service (rather than finding it running)."""

    def _read_state(self) -> dict | None:
        return _read(state_file(self.package))

    def _alive(self, state: dict) -> bool:
        return _status(state) is not None

    def ensure(self, on_wait=None) -> dict:
        """The running service's address, starting it (and waiting for it) when needed."""
        with _start_lock(self.package):
            state = self._read_state()
            if state and self._alive(state):
                if state.get("fingerprint") == fingerprint():
                    self._state = state
                    return state
                self.stop()  # started by other code or other rules: replace it
            log = cache_dir() / "validator.log"
            with log.open("ab") as out:
                child = subprocess.Popen(  # from the checkout: `-m` imports this code, not another copy
                    [sys.executable, "-m", "banc.cda.service", "--ans", os.path.abspath(self.package.root)],
                    cwd=REPO_ROOT,
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
                    self.started = True
                    return state
                if child.poll() is not None:  # it died (no package, no memory): say so now
                    raise ServiceError(
                        f"le service de validation s'est arrêté au démarrage (code {child.returncode}, "
                        f"journal : {log})")
        raise ServiceError(f"le service de validation n'a pas démarré (journal : {log})")

    def describe(self) -> str | None:
        """French, one line: where the service runs and when it stops (None when not running)."""
        state = self._state or self._read_state()
        health = _status(state) if state else None
        return _running(state, health).describe() if health else None

    def validate(self, data: bytes, *, volet: str | None = None, subject: str = "", svrl: bool = False) -> Verdict:
        state = self._state or self.ensure()
        headers = {"X-Banc-Token": state["token"], "X-Banc-Subject": quote(subject)}
        if svrl:
            headers["X-Banc-SVRL"] = "1"
        if volet:
            headers["X-Banc-Volet"] = quote(volet)
        try:
            reply = self._client.post(f"http://127.0.0.1:{state['port']}/validate", content=data, headers=headers)
        except self._httpx.HTTPError as exc:
            raise ServiceError(f"service de validation injoignable : {exc}") from None
        if reply.status_code != 200:
            try:
                detail = reply.json().get("erreur", "")
            except ValueError:
                detail = reply.text[:200]
            raise ServiceError(f"service de validation : HTTP {reply.status_code} {detail}")
        return Verdict.from_dict(reply.json())

    def touch(self) -> bool:
        """Count as activity without validating (a running bench's heartbeat); False when the
        service does not answer (it will be started again by the next document)."""
        state = self._state or self._read_state()
        if not state:
            return False
        try:
            reply = self._client.post(f"http://127.0.0.1:{state['port']}/touch",
                                      headers={"X-Banc-Token": state["token"]}, timeout=5)
        except (self._httpx.HTTPError, KeyError):
            return False
        return reply.status_code == 200

    def stop(self) -> bool:
        """Stop this package's service (`banc service arreter` stops every one: `stop_all`)."""
        state = self._read_state()
        return bool(state) and _stop(state, state_file(self.package), 10.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m banc.cda.service", description="Service de validation CDA (local)")
    parser.add_argument("--ans", help="dossier du paquet ANS TestContenuCDA")
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE_SECONDS, help="arrêt après N secondes sans requête")
    args = parser.parse_args(argv)
    serve(find_package(args.ans), idle=args.idle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
