"""Serve an ASGI app on loopback, over TLS with the test PKI, and tell the app who connected.

uvicorn does not pass the client certificate to the application, yet the INSi and DMP mocks must
judge it (CN `INSI-AUTO`, organisation certificate). `_TlsAwareH11Protocol` fills the ASGI TLS
extension (`scope["extensions"]["tls"]`, as the ASGI spec names it) for every request of a
connection. `ServedApp` runs the server in a thread, so tests, notebooks and `banc up` can start
any mock with one call and an ephemeral port.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from banc.pki import TestPki, certificate_subject

ASGIApp = Any


class PortInUse(RuntimeError):
    """The port asked for is taken: said in one French line, never a uvicorn traceback."""

    def __init__(self, name: str, host: str, port: int) -> None:
        super().__init__(f"{name} : le port {port} est déjà utilisé sur {host}")
        self.name, self.host, self.port = name, host, port


def _check_free(name: str, host: str, port: int) -> None:
    """Bind once before uvicorn does, so a taken port is a clear error (uvicorn logs and exits)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(name, host, port) from None


def _tls_extension(transport: asyncio.Transport) -> dict | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "client_cert_der": der,
        "client_cert_name": certificate_subject(der) if der else None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_error": None,
        "tls_version": ssl_object.version(),
        "cipher_suite": (ssl_object.cipher() or (None,))[0],
    }


class _TlsAwareH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        tls = _tls_extension(transport)
        if tls is None:
            return
        inner = self.app

        async def app_with_tls(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] in ("http", "websocket"):
                scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": tls}}
            await inner(scope, receive, send)

        self.app = app_with_tls


def client_certificate(scope: dict) -> bytes | None:
    """DER of the client certificate of this request's connection, if any."""
    tls = scope.get("extensions", {}).get("tls") or {}
    return tls.get("client_cert_der")


class ServedApp:
    """An ASGI app running on 127.0.0.1 in a background thread.

    `tls` is None for plain HTTP (only for explicit insecure demo modes), else the PKI; then
    `client_cert` is 'required', 'optional' or 'none'.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        pki: TestPki | None = None,
        client_cert: str = "required",
        host: str = "127.0.0.1",
        public_host: str | None = None,
        port: int = 0,
        name: str = "service",
    ) -> None:
        self.name = name
        self.public_host = public_host
        self.pki = pki
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=_TlsAwareH11Protocol,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
        )
        config.load()
        if pki is not None:
            config.ssl = pki.server_context(client_cert)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port

    @property
    def app(self) -> ASGIApp:
        """The application served, as given (`banc.capture` replays captured requests into it
        in-process, with the captured client certificate in the scope)."""
        return self._server.config.app

    @property
    def scheme(self) -> str:
        return "https" if self.pki is not None else "http"

    @property
    def url(self) -> str:
        shown = self.public_host or ("localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host)
        return f"{self.scheme}://{shown}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServedApp:
        _check_free(self.name, self.host, self.port)
        self._thread = threading.Thread(target=self._server.run, name=self.name, daemon=True)
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"{self.name} n'a pas pu démarrer sur le port {self.port}")
            threading.Event().wait(0.02)
            waited += 0.02
            if waited > timeout:
                raise TimeoutError(f"{self.name} n'a pas démarré en {timeout} s")
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop now, without waiting for idle keep-alive clients: uvicorn would otherwise wait
        for each TLS peer's close_notify, which a pooled requests/zeep session never sends. A
        simulated service being stopped has no request worth finishing."""
        self._server.should_exit = True
        self._server.force_exit = True
        for connection in list(self._server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                connection.loop.call_soon_threadsafe(transport.abort)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
