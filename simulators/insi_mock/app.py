"""The INSi mock as an ASGI application: SOAP endpoint `/lps`, its WSDL and schemas.

One request flows wire → rules → models → answer (or faults). The app does not write the
journal: `banc.recording.JournalMiddleware` around it records every request (refused or not)
with its raw bytes, and the app annotates the exchange through `note(scope)` — operation,
summary (normalised fields `idam`, `patient_ins`, `patient_oid`, `message_id`, plus traits, CR,
fault code, authentication mode) and findings. The control plane (`control.py`, under `/_banc`)
replaces the former admin routes. Nothing a client sends can crash the service: unexpected
errors become a `Receiver` fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from banc.pki import common_name
from banc.recording import ExchangeNote, note
from banc.server import client_certificate
from banc.soap import SOAP12_CONTENT_TYPE, SoapError, parse_envelope
from banc.verdict import Finding
from simulators.insi_mock import faults, rules
from simulators.insi_mock.models import IdentityStore, InsiRecord, individual
from simulators.insi_mock.wire import (
    OP_TRAITS,
    InsiRequest,
    InsiSchemas,
    read_request,
    response_envelope,
    result_xml,
)

SERVICE = "insi"
WSDL_NAME = "DESIR_ICIR_EXP_1.5.0.wsdl"
MAX_REQUEST_BYTES = 1024 * 1024
"""An INSi request is a few kilobytes; anything above a megabyte is refused unread."""
_HOST = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
"""A Host header the WSDL address may carry: a name or IPv4, or a bracketed IPv6, and a port."""
_ADDRESS = re.compile(r'(<soap12:address\s+location=")[^"]*(")')
_SCHEMA_PATH = re.compile(r"/xsd/[A-Za-z0-9_./-]{1,200}\.xsd")
"""Names of the WSDL's schemas: anything else (NUL, `%`, spaces, very long) is not one of them."""


Answer = tuple[int, str, bytes]
"""(HTTP status, content type, body)."""


class InsiApp:
    """ASGI callable. `today` is injectable so that date rules are testable."""

    def __init__(
        self,
        store: IdentityStore,
        schemas: InsiSchemas | None,
        *,
        ca_file: str | None,
        insecure: bool = False,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        today: Callable[[], date] = date.today,
        wsdl_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.schemas = schemas
        self.ca_file = ca_file
        self.insecure = insecure
        self.max_request_bytes = max_request_bytes
        self.today = today
        self.wsdl_dir = wsdl_dir or (schemas.directory.parent if schemas is not None else None)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, size = await _read_body(receive, self.max_request_bytes)
        exchange = note(scope)
        try:
            if scope["method"] == "POST":
                status, content_type, payload = self._soap(scope, body, size, exchange)
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                exchange.operation = f"{scope['method']} {scope['path']}" + (f"?{query}" if query else "")
                status, content_type, payload = self._static(scope)
        except Exception as exc:  # static file trouble: answer, never crash
            status, content_type = 500, "text/plain; charset=utf-8"
            payload = f"erreur interne du simulateur INSi : {type(exc).__name__} : {exc}\n".encode()
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        })
        await send({"type": "http.response.body", "body": payload})

    # -- SOAP -------------------------------------------------------------------------------
    def _soap(self, scope: dict, body: bytes, size: int, exchange: ExchangeNote) -> Answer:
        exchange.summary["size"] = size
        try:
            return self._soap_checked(scope, body, size <= self.max_request_bytes, exchange)
        except Exception as exc:  # the service never crashes: internal errors become a fault
            finding = rules.RULES.error(
                "interne", f"erreur interne du simulateur ({type(exc).__name__} : {exc})",
                requirements=(),
            )
            return self._refuse(exchange, [finding], None)

    def _soap_checked(
        self, scope: dict, body: bytes, complete: bool, exchange: ExchangeNote
    ) -> Answer:
        if not complete:
            finding = rules.RULES.error(
                "soap.too-large",
                f"message de plus de {self.max_request_bytes // 1024} Ko refusé sans être analysé "
                "(une requête INSi fait quelques Ko)",
                location="HTTP body",
            )
            exchange.summary["truncated"] = True
            return self._refuse(exchange, [finding], None)
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        try:
            envelope = parse_envelope(body, max_bytes=self.max_request_bytes)
        except SoapError as exc:
            finding = rules.RULES.error(f"soap.{exc.code}", exc.message)
            if exc.fault_code == "VersionMismatch":
                payload, code = faults.version_mismatch(exc.message)
                exchange.findings[:] = [finding]
                exchange.summary["fault"] = code
                return faults.HTTP_STATUS, SOAP12_CONTENT_TYPE, payload
            return self._refuse(exchange, [finding], None)
        request = read_request(envelope, content_type)
        exchange.operation = request.operation or ""
        exchange.summary.update(request.summary())
        idam = request.lps_fields.get("LPS/IDAM", "").strip()
        if idam:
            exchange.summary["idam"] = idam
        caller = self._caller(scope, request)
        exchange.summary["auth"] = (
            "demo" if caller.insecure else
            f"certificat {caller.client_cn}" if caller.client_cn else
            f"assertion {caller.assertion_detail}" if caller.assertion_ok else "aucune"
        )
        findings = rules.check_request(
            request, caller, self.schemas, self.store.known_idams(), self.today()
        )
        if any(f.is_error for f in findings):
            return self._refuse(exchange, findings, request)
        code, found = self._search(request)
        result = result_xml(code, individual(found) if found else None)
        payload = response_envelope(result, request.operation or OP_TRAITS, request.addressing.message_id)
        exchange.findings[:] = findings
        exchange.summary["cr"] = code
        if found:
            exchange.summary["patient_ins"] = found.ins
            exchange.summary["patient_oid"] = found.identity.oid
        return 200, SOAP12_CONTENT_TYPE, payload

    def _caller(self, scope: dict, request: InsiRequest) -> rules.Caller:
        if self.insecure:
            return rules.Caller(None, insecure=True)
        der = client_certificate(scope)
        if der:
            return rules.Caller(common_name(der) or "")
        assertion = rules.assertion_element(request)
        if assertion is None or self.ca_file is None:
            return rules.Caller(None)
        ok, detail = rules.verify_card_assertion(assertion, self.ca_file)
        return rules.Caller(None, ok, detail)

    def _search(self, request: InsiRequest) -> tuple[str, InsiRecord | None]:
        if request.traits is not None:
            traits = request.traits
            found = self.store.search_traits(
                traits.birth_name or "", traits.first_names, traits.sex or "",
                traits.birth_date or "", traits.birth_place,
            )
        elif request.vitale is not None:
            query = request.vitale
            found = self.store.search_vitale(
                query.matricule, query.holder_matricule, query.birth_date, query.birth_name
            )
        else:
            found = []
        if not found:
            return "01", None
        if len(found) > 1:
            return "02", None
        return "00", found[0]

    def _refuse(
        self, exchange: ExchangeNote, findings: list[Finding], request: InsiRequest | None
    ) -> Answer:
        first = next(f for f in findings if f.is_error)
        message_id = request.addressing.message_id if request is not None else None
        payload, code = faults.fault_for(first, message_id=message_id)
        exchange.findings[:] = findings
        exchange.summary["fault"] = code
        exchange.summary["rule"] = first.rule_id
        return faults.HTTP_STATUS, SOAP12_CONTENT_TYPE, payload

    # -- WSDL and schemas (GET) -------------------------------------------------------------
    def _static(self, scope: dict) -> tuple[int, str, bytes]:
        """`GET /lps?wsdl`: the reference WSDL with its address set to this server;
        `GET /xsd/…`: the schemas it imports (its relative paths resolve to them)."""
        path, query = scope["path"], scope.get("query_string", b"").lower()
        text = "text/plain; charset=utf-8"
        if scope["method"] != "GET":
            return 405, text, "Méthode non prise en charge : POST pour SOAP, GET pour le WSDL.\n".encode()
        if self.wsdl_dir is None:
            return 404, text, "WSDL INSi absent (dossier de référence introuvable).\n".encode()
        if path == "/lps" and query == b"wsdl":
            host = dict(scope.get("headers") or []).get(b"host", b"localhost").decode("latin-1")
            if not _HOST.fullmatch(host):
                return 400, text, (
                    f"en-tête Host {host!r} invalide : nom d'hôte ou adresse IP, suivi "
                    "éventuellement de :port (il devient l'adresse du service dans le WSDL)\n"
                ).encode()
            address = f"{scope.get('scheme', 'https')}://{host}/lps"
            wsdl = (self.wsdl_dir / WSDL_NAME).read_text(encoding="utf-8")
            wsdl = _ADDRESS.sub(lambda m: f"{m[1]}{address}{m[2]}", wsdl)
            return 200, "text/xml; charset=utf-8", wsdl.encode()
        if path.startswith("/xsd/") and path.endswith(".xsd"):
            target = self._schema_file(path)
            if target is not None:
                return 200, "text/xml; charset=utf-8", target.read_bytes()
            return 404, text, f"schéma inconnu : {path!r}\n".encode()
        return 404, text, (
            "Simulateur du téléservice INSi : requêtes SOAP 1.2 en POST sur /lps, WSDL sur "
            "/lps?wsdl.\n"
        ).encode()

    def _schema_file(self, path: str) -> Path | None:
        """The file under `xsd/` that `path` names, or None for anything else (outside the
        folder, absent, or a name the file system refuses: NUL byte, too long)."""
        assert self.wsdl_dir is not None
        if not _SCHEMA_PATH.fullmatch(path):
            return None
        base = (self.wsdl_dir / "xsd").resolve()
        try:
            target = (self.wsdl_dir / path.removeprefix("/")).resolve()
            return target if target.is_relative_to(base) and target.is_file() else None
        except (OSError, ValueError):
            return None


async def _read_body(receive: Any, limit: int) -> tuple[bytes, int]:
    """(body, size): the whole body, or about its first `limit` bytes when it is larger
    (the rest is read and dropped, so the client still gets the answer)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), size
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit or size - len(chunk) <= limit:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), size
