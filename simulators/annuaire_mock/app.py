"""Routes of the Annuaire Santé mock (Starlette): the FHIR API under /fhir/v2 and the open-data
extraction download. Each request goes wire → rules → models; the route annotates the journal
exchange (`note`: operation, `api_key`, query, findings) that `banc.recording.JournalMiddleware`
records.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from banc.directory import Directory, Professional
from banc.recording import note
from banc.verdict import Finding
from simulators.annuaire_mock import faults, rules, wire
from simulators.annuaire_mock.models import SEARCH_PARAMETERS, AnnuaireStore

SERVICE = "annuaire"
FHIR_JSON = "application/fhir+json; charset=utf-8"
BASE_PATH = "/fhir/v2"
EXTRACTION_PATH = "/annuaire-sante-webservices/V300/services/extraction/PS_LibreAcces"
DEFAULT_API_KEY = "banc-segur-annuaire"


@dataclass
class AnnuaireConfig:
    directory: Directory
    store: AnnuaireStore
    api_keys: set[str] = field(default_factory=lambda: {DEFAULT_API_KEY})
    added: list[Professional] = field(default_factory=list)
    """Professionals published through the control plane since the launch: in the FHIR store
    and in every extraction served after (the open data of the day)."""
    public_url: str = ""  # https://localhost:<port>, set once the server listens


def build_app(config: AnnuaireConfig) -> Starlette:
    def base(request: Request) -> str:
        root = config.public_url or f"{request.url.scheme}://{request.url.netloc}"
        return root + BASE_PATH

    def answer(request: Request, operation: str, findings: list[Finding], summary: dict,
               ok: bytes | None = None, media: str = FHIR_JSON,
               headers: dict | None = None) -> Response:
        """Annotate the journal exchange (the middleware records the bytes) and answer: the
        OperationOutcome of the findings, or `ok`."""
        exchange = note(request.scope)
        exchange.operation = operation
        exchange.summary.update(summary)
        exchange.findings.extend(findings)
        if findings:
            status, payload = faults.operation_outcome(findings)
            media, headers = FHIR_JSON, None
        else:
            status, payload = 200, ok or b""
        return Response(payload, status_code=status, media_type=media, headers=headers)

    async def fhir(request: Request) -> Response:
        body = await request.body()
        path = request.url.path[len(BASE_PATH):].strip("/")
        parts = path.split("/") if path else []
        method = request.method
        summary: dict = {"path": request.url.path}
        key = request.headers.get("esante-api-key")
        if key:
            summary["api_key"] = key  # the DUI attribution key (the header copy is redacted)
        findings = rules.check_api_key(key, frozenset(config.api_keys))
        if findings:
            return answer(request, "refused", findings, summary)
        searching = method == "POST" and len(parts) == 2 and parts[1] == "_search"
        if method not in ("GET", "HEAD") and not searching:
            return answer(request, "write",
                          rules.check_write(method, request.url.path), summary)
        if not parts:
            return answer(request, "read", [rules.RULES.finding(
                "RESOURCE.UNKNOWN_TYPE", "indiquez un type de ressource après /fhir/v2/")], summary)
        if parts == ["metadata"]:
            return answer(request, "capabilities", [], summary,
                          json.dumps(capability_statement(base(request))).encode())
        if parts == ["_page"]:
            token = request.query_params.get("id", "")
            decoded = wire.read_page_token(token)
            if decoded is None:
                return answer(request, "page", [rules.RULES.finding(
                    "PAGE.INVALID", "lien de page invalide ou expiré : relancez la recherche")],
                    summary)
            rtype, pairs, after = decoded
            findings = rules.check_resource_type(rtype)
            if findings:
                return answer(request, "page", findings, summary)
            return search(request, rtype, pairs, after, summary)
        rtype = parts[0]
        findings = rules.check_resource_type(rtype)
        if findings:
            return answer(request, "read", findings, summary)
        if len(parts) == 1 or searching:
            pairs = parse_qsl(request.url.query, keep_blank_values=True)
            if searching:
                try:
                    pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
                except UnicodeDecodeError as exc:
                    return answer(request, f"search {rtype}", [rules.RULES.finding(
                        "PARAM.ENCODING", "corps de la recherche POST …/_search illisible : "
                        f"UTF-8 attendu (octet invalide en position {exc.start})", location="body")],
                        summary)
            return search(request, rtype, pairs, 0, summary)
        if len(parts) == 2:
            summary.update(resource=rtype, id=parts[1])
            found = config.store.read(rtype, parts[1])
            if found is None:
                return answer(request, f"read {rtype}", [rules.RULES.finding(
                    "RESOURCE.NOT_FOUND", f"{rtype}/{parts[1]} introuvable dans l'annuaire",
                    location=f"{rtype}/{parts[1]}")], summary)
            return answer(request, f"read {rtype}", [], summary, found.encode())
        return answer(request, "read", [rules.RULES.finding(
            "PARAM.UNKNOWN", f"opération {request.url.path} non prise en charge "
            "(historique et opérations étendues absents de l'API publique)")], summary)

    def search(request: Request, rtype: str, pairs: list[tuple[str, str]], after: int,
               summary: dict) -> Response:
        findings = rules.check_search(rtype, pairs)
        summary.update(resource=rtype, query=pairs)
        if findings:
            return answer(request, f"search {rtype}", findings, summary)
        page = config.store.search(wire.to_query(rtype, pairs, after))
        summary.update(matches=len(page.matches), total=page.total, included=len(page.included))
        return answer(request, f"search {rtype}", [], summary,
                      wire.bundle(base(request), rtype, pairs, page))

    async def extraction(request: Request) -> Response:
        name, payload = wire.extraction_zip(config.directory, dt.datetime.now(), extra=config.added)
        summary: dict = {"file": name, "bytes": len(payload)}
        key = request.headers.get("esante-api-key")
        if key:  # open data needs no key; a DUI that sends its own is attributed by it
            summary["api_key"] = key
        return answer(request, "extraction PS_LibreAcces", [], summary, payload,
                      "application/zip",
                      {"Content-Disposition": f'attachment; filename="{name}"'})

    async def internal_error(request: Request, exc: Exception) -> Response:
        """Last resort: an unforeseen error still gets an OperationOutcome and a journal
        entry (each known hostile input has its own refusal before reaching this)."""
        finding = rules.RULES.error("INTERNAL", "erreur interne du simulateur Annuaire "
                                    f"({type(exc).__name__} : {exc})", requirements=())
        return answer(request, "erreur interne", [finding], {"path": request.url.path})

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(exception_handlers={Exception: internal_error}, routes=[
        Route(EXTRACTION_PATH, extraction, methods=["GET"]),
        Route(BASE_PATH, fhir, methods=methods),
        Route(BASE_PATH + "/{rest:path}", fhir, methods=methods),
    ])


def capability_statement(base: str) -> dict:
    """What this server does, generated from the parameters it really supports."""
    types = {"string": "string", "token": "token", "reference": "reference", "date": "date"}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2024-01-01",
        "kind": "instance",
        "software": {"name": "Banc Ségur - simulateur Annuaire Santé"},
        "implementation": {"description": "Annuaire Santé (données publiques), simulé",
                           "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "resource": [{
                "type": rtype,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [{"name": name, "type": types[kind]}
                                for name, kind in params.items()],
            } for rtype, params in SEARCH_PARAMETERS.items()],
        }],
    }
