"""The recorder: mitmproxy between a DUI and a service, one flow file per recording session.

Two modes: *reverse* (`upstream` set: the DUI is configured with the recorder's address instead
of the service's) and *forward* (`upstream` None: the DUI uses the recorder as its HTTP(S)
proxy). The recorder presents to the DUI certificates signed by a CA it is given (the bench's
test CA by default, or the user's own), or one fixed server certificate; it asks the DUI for
its client certificate (recorded with the flow) and presents to the upstream the client
certificate it is given, so mutual TLS with the real services keeps working — a proxy cannot
forward the DUI's own handshake, it needs the DUI's certificate *and key*.

What is saved is what crossed the wire, except credential headers (`Authorization`, API keys,
cookies), which keep their first characters only, as in the journal. Private keys (the CA's,
the client certificate's) are copied only into a private temporary folder mitmproxy reads,
deleted when the recorder stops, and never printed.

mitmproxy keeps its options in a process-wide context, so one process runs one `Recorder`
(a second is refused): several recorders — one per service — are several `banc capture`
processes (`banc.capture.process`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from banc.recording import REDACTED_HEADERS

FLOW_SUFFIX = ".flows"
SAVED_REDACTED = REDACTED_HEADERS | {"proxy-authorization", "set-cookie"}
"""Headers whose value is cut in the saved flows (the journal's list, plus proxy credentials)."""


class RecorderError(Exception):
    """The recorder cannot start (port taken, unreadable certificate…): French message."""


@dataclass(frozen=True)
class RecorderSettings:
    listen_port: int
    output_dir: Path
    ca_cert: Path
    ca_key: Path
    """The CA that signs the certificates presented to the DUI (the bench's test CA by default)."""
    upstream: str | None = None
    """Reverse mode: the service's base URL. None: forward-proxy mode."""
    upstream_ca: Path | None = None
    """CAs trusted for the upstream's certificate (None: the system's)."""
    server_certificate: Path | None = None
    """One PEM (certificate + key) presented to the DUI instead of certificates from `ca_*`."""
    client_certificate: tuple[Path, Path] | None = None
    """Certificate and key presented to the upstream (mutual TLS), or None. A folder instead
    of a certificate holds one `<host>.pem` (certificate + key) per upstream host: the forward
    mode then presents the DMP and INSi each the certificate they expect."""
    listen_host: str = "127.0.0.1"


def redact_headers(headers) -> None:  # mitmproxy.http.Headers
    """Cut credential header values in place, keeping a short prefix to tell them apart."""
    for name in list(headers.keys()):
        if name.lower() in SAVED_REDACTED:
            values = headers.get_all(name)
            headers.set_all(name, [v[:10] + "…" if len(v) > 10 else v for v in values])


class _FlowFile:
    """mitmproxy addon: append each finished flow (answered or failed) to the session's file."""

    def __init__(self, path: Path, announce: Callable[[str], None]) -> None:
        from mitmproxy import io

        self.path = path
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(descriptor, "wb")
        self._writer = io.FlowWriter(self._file)
        self._announce = announce
        self.count = 0

    def response(self, flow) -> None:
        self._write(flow)

    def error(self, flow) -> None:
        if flow.response is None:
            self._write(flow)

    def _write(self, flow) -> None:
        saved = flow.copy()
        redact_headers(saved.request.headers)
        if saved.response is not None:
            redact_headers(saved.response.headers)
        self._writer.add(saved)
        self._file.flush()
        self.count += 1
        status = flow.response.status_code if flow.response is not None else "échec"
        took = ""
        if flow.response is not None and flow.response.timestamp_end:
            took = f" ({(flow.response.timestamp_end - flow.request.timestamp_start) * 1000:.0f} ms)"
        self._announce(f"{time.strftime('%H:%M:%S')} {flow.request.method} {flow.request.path.split('?')[0]}"
                       f" → {status}{took}")

    def close(self) -> None:
        self._file.close()


def _private_copy(folder: Path, name: str, *parts: Path) -> Path:
    """Concatenate PEM files (certificate and key) into one file only this user can read."""
    target = folder / name
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for part in parts:
            try:
                out.write(part.read_bytes().rstrip(b"\n") + b"\n")
            except OSError as exc:
                raise RecorderError(f"certificat ou clé illisible : {part} ({exc.strerror})") from None
    return target


class Recorder:
    """One recording session: `start()` listens, every flow goes to `capture_file`, `stop()`."""

    _running: Recorder | None = None
    """The process's recorder (mitmproxy's context is process-wide: one at a time)."""

    def __init__(self, settings: RecorderSettings, announce: Callable[[str], None] = lambda _: None) -> None:
        self.settings = settings
        self._announce = announce
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        session = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        self.capture_file = settings.output_dir / f"capture-{session}{FLOW_SUFFIX}"
        self.port = settings.listen_port
        self._confdir = Path(tempfile.mkdtemp(prefix="banc-capture-"))
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: str | None = None
        self._master = None
        self._flows: _FlowFile | None = None

    @property
    def url(self) -> str:
        """Where the DUI is pointed: the service's address (reverse) or its proxy (forward)."""
        return f"{'https' if self.settings.upstream else 'http'}://localhost:{self.port}"

    @property
    def count(self) -> int:
        return self._flows.count if self._flows else 0

    def _options(self) -> dict:
        s = self.settings
        _private_copy(self._confdir, "mitmproxy-ca.pem", s.ca_key, s.ca_cert)
        mode = f"reverse:{s.upstream}@{s.listen_port}" if s.upstream else f"regular@{s.listen_port}"
        options: dict = {
            "mode": [mode], "listen_host": s.listen_host, "request_client_cert": True,
            "onboarding": False, "ssl_insecure": False,
        }
        if s.upstream_ca is not None:
            options["ssl_verify_upstream_trusted_ca"] = str(s.upstream_ca)
        if s.server_certificate is not None:
            options["certs"] = [f"*={_private_copy(self._confdir, 'serveur.pem', s.server_certificate)}"]
        if s.client_certificate is not None and s.client_certificate[0].is_dir():
            options["client_certs"] = str(s.client_certificate[0])  # <host>.pem per upstream host
        elif s.client_certificate is not None:
            options["client_certs"] = str(_private_copy(self._confdir, "client.pem", *s.client_certificate))
        return options

    async def _main(self) -> None:
        from mitmproxy import addons, master, options

        try:
            opts = options.Options(confdir=str(self._confdir))
            self._master = master.Master(opts)
            self._master.addons.add(*addons.default_addons())
            self._flows = _FlowFile(self.capture_file, self._announce)
            self._master.addons.add(self._flows)
            opts.update(**self._options())
            run = asyncio.create_task(self._master.run())
            proxy = self._master.addons.get("proxyserver")
            for _ in range(200):
                await asyncio.sleep(0.025)
                failed = [s.last_exception for s in proxy.servers if s.last_exception]
                if failed or proxy.listen_addrs() or run.done():
                    break
            if failed or not proxy.listen_addrs():
                reason = failed[0] if failed else "le proxy ne s'est pas mis à l'écoute"
                self._error = f"enregistreur non démarré sur le port {self.settings.listen_port} : {reason}"
                self._master.shutdown()
            else:
                self.port = proxy.listen_addrs()[0][1]
            self._ready.set()
            await run
        except RecorderError as exc:
            self._error = str(exc)
        except Exception as exc:  # reported to the caller as one French line
            self._error = f"enregistreur non démarré : {type(exc).__name__} : {exc}"
        finally:
            self._ready.set()

    def start(self, timeout: float = 15.0) -> Recorder:
        if Recorder._running is not None:
            raise RecorderError("un enregistreur tourne déjà dans ce processus (mitmproxy n'en permet "
                                "qu'un) : lancez un « banc capture » par service")
        Recorder._running = self
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="banc-capture",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self._error = self._error or "enregistreur non démarré (délai dépassé)"
        if self._error:
            self.stop()
            raise RecorderError(self._error)
        return self

    def stop(self) -> None:
        if self._master is not None:
            self._master.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._flows is not None:
            self._flows.close()
        shutil.rmtree(self._confdir, ignore_errors=True)
        if Recorder._running is self:
            Recorder._running = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
