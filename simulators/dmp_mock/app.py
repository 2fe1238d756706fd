"""The DMP mock's ASGI app: receives bytes, calls wire → rules → models, answers, journals.

Services under `/si-dmp-server/v2/services/` (`patients`, `patientsSpecific`, `habilitations`,
`registry`, `repository`), routed on `wsa:Action`; the TD0.9 web access under `/AccesDirect/`.
Every exchange, refused ones included, is recorded in the journal with its findings.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import time
from collections.abc import Callable

from lxml import etree
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from banc.dui import fingerprint
from banc.journal import Journal
from banc.paths import reference_path
from banc.pki import TestPki
from banc.recording import note
from banc.server import client_certificate
from banc.soap import WSA_NS
from banc.verdict import Finding
from banc.vihf import VihfCheck, VihfPolicy, check_vihf
from banc.xds.ebrim import entry_from_element
from banc.xml import XmlInputError, parse_trusted_file, parse_untrusted
from simulators.dmp_mock import faults, rules, rules_patients, wire
from simulators.dmp_mock.core import BASE, Context, DmpSettings, Outcome, Refused
from simulators.dmp_mock.documents import DocumentTransactions
from simulators.dmp_mock.models import (
    APPROVED,
    ARCHIVED,
    DmpStore,
    Patient,
)
from simulators.dmp_mock.patients import PatientTransactions

TOKEN_CACHE_SECONDS = 60.0
WSDL_FILES = {
    "patients": "GestionDossierPatientPartage.wsdl",
    "patientsSpecific": "PatientsSpecific.wsdl",
    "habilitations": "Habilitations.wsdl",
    "registry": "XDS.b_DocumentRegistry.wsdl",
    "repository": "XDS.b_DocumentRepository.wsdl",
}


def normalised(summary: dict) -> dict:
    """The DMP's summary with the journal's normalised field names added (patient_ins,
    document_unique_id) beside the DMP's own (patient, documents)."""
    extra: dict = {}
    if summary.get("patient"):
        extra["patient_ins"] = summary["patient"]
    documents = summary.get("documents")
    if isinstance(documents, list) and documents and isinstance(documents[0], str):
        extra["document_unique_id"] = documents[0]
    return {**summary, **extra}


def _patient_of(vihf: VihfCheck) -> dict:
    """The patient a refused token names, when it could be read: the journal then says whose
    record the refused request was for."""
    claims = vihf.claims
    if claims is None or not claims.patient_ins:
        return {}
    return {"patient": claims.patient_ins, "patient_oid": claims.patient_oid}


class DmpApp(PatientTransactions, DocumentTransactions):
    """Routes every request to its transaction and journals the exchange."""

    def __init__(self, store: DmpStore, journal: Journal, pki: TestPki,
                 settings: DmpSettings | None = None) -> None:
        self.store = store
        self.journal = journal
        self.pki = pki
        self.settings = settings or DmpSettings()
        self._token_cache: dict[tuple[bytes, VihfPolicy], tuple[float, VihfCheck]] = {}
        self.duis: list[rules.RegisteredDui] = [rules.RegisteredDui(
            "dui-banc", frozenset({fingerprint(pki.cert("dui").read_text())}),
            frozenset(fingerprint(pki.cert(n).read_text()) for n in ("vihf-signing", "bench-signing")))]
        """DUIs the DMP knows: the bench's own (certificate `dui`, VIHF signed by the bench's
        signing certificates, any structure), then those registered through the control plane."""
        self.handlers: dict[str, Callable[[Context], Outcome]] = {
            rules.HL7_ACTION + "PRPA_IN201307UV02": self.patient_query,
            rules.HL7_ACTION + "PRPA_IN201305UV02": self.patient_search,
            rules.HL7_ACTION + "PRPA_IN201311UV02": self.patient_create,
            rules.HL7_ACTION + "PRPA_IN201314UV02": self.patient_update,
            rules.PAT_ACTION + "patientList": self.patient_list,
            rules.PAT_ACTION + "createPatientAccess": self.patient_access,
            rules.PAT_ACTION + "patientOTPUpdate": self.patient_access,
            rules.PAT_ACTION + "updatePatientAccess": self.patient_access,
            rules.HAB_ACTION + "setAuthorization": self.set_authorization,
            rules.HAB_ACTION + "listAuthorizationByPatient": self.list_authorizations,
            "urn:ihe:iti:2007:RegistryStoredQuery": self.stored_query,
            "urn:ihe:iti:2010:UpdateDocumentSet": self.update_document_set,
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": self.provide_and_register,
            "urn:ihe:iti:2007:RetrieveDocumentSet": self.retrieve,
        }
        assert set(self.handlers) == set(rules.SERVICES)
        self.asgi = Starlette(routes=[
            Route(BASE + "/{service}", self.soap_endpoint, methods=["POST"]),
            Route(BASE + "/{service}", self.wsdl, methods=["GET"]),
            Route("/si-dmp-server/v2/schema/{path:path}", self.schema, methods=["GET"]),
            Route("/AccesDirect/{page}/{ins}", self.web_access, methods=["GET", "POST"]),
            Route("/AccesDirect/{page}", self.web_access, methods=["GET", "POST"]),
        ])

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        await self.asgi(scope, receive, send)

    # -- SOAP entry point -------------------------------------------------------------------
    async def soap_endpoint(self, http: Request) -> Response:
        body = await http.body()
        service = http.path_params["service"]
        cert = client_certificate(http.scope)
        content_type = http.headers.get("content-type", "")
        operation = "?"
        request: wire.DmpRequest | None = None
        try:
            request, operation, outcome = await run_in_threadpool(self._handle, service, body, content_type, cert)
        except Refused as refused:
            outcome = refused.outcome
        except Exception as exc:  # never a stack trace to the client; the journal keeps it
            outcome = Outcome(
                faults.soap_fault("DMP.INTERNAL", f"erreur interne du simulateur DMP : {type(exc).__name__} : {exc}"),
                [rules.internal_error(exc)],
                status=500, label="erreur interne",
            )
        summary = {"service": service, "resultat": outcome.label, **outcome.summary}
        if request is not None:
            summary.setdefault("message_id", request.addressing.message_id)
        exchange = note(http.scope)
        exchange.operation = outcome.summary.get("operation", operation)
        exchange.summary.update(normalised(summary))
        exchange.findings.extend(outcome.findings)
        return Response(outcome.body, status_code=outcome.status, media_type=None,
                        headers={"content-type": outcome.content_type})

    def _handle(self, service: str, body: bytes, content_type: str,
                cert: bytes | None) -> tuple[wire.DmpRequest, str, Outcome]:
        settings = self.settings
        try:
            request = wire.read_request(body, content_type, max_bytes=settings.max_request_bytes,
                                        accept_official_quirks=settings.trust_official_examples)
        except wire.WireError as exc:
            kind = "version" if exc.fault_code == "VersionMismatch" else "sender"
            raise Refused(Outcome(faults.soap_fault(exc.code, exc.message, kind=kind),
                                  [rules.unreadable(exc.code, exc.message)], status=500,
                                  label="message illisible", summary={"operation": "?"})) from None
        relaxed = rules.relaxations(request.relaxations)
        present = frozenset(name for name in ("Action", "To")
                            if request.envelope.header(WSA_NS, name) is not None)
        addressing = rules.check_addressing(request.addressing, present=present)
        if addressing:
            raise Refused(Outcome(faults.fault_from_findings(addressing, kind="addressing"),
                                  relaxed + addressing, status=500, label="WS-Addressing"))
        action, routing = rules.resolve_action(request.addressing.action or "", request.payload.tag, service)
        if action is None:
            raise Refused(Outcome(faults.fault_from_findings(routing, kind="action"),
                                  [*relaxed, *routing], status=500, label="action non supportée"))
        relaxed += routing
        handler = self.handlers[action]
        operation = rules.TRANSACTIONS.get(action, handler.__name__)
        vihf = self._check_token(request.assertion)
        refused_summary = {"operation": operation, **_patient_of(vihf)}
        if not vihf.accepted:
            raise Refused(Outcome(faults.fault_from_findings(vihf.findings, kind="security"),
                                  relaxed + vihf.findings, status=500, label="VIHF refusé",
                                  summary=refused_summary))
        assert vihf.claims is not None
        caller = self._check_caller(cert, vihf)
        if any(f.is_error for f in caller):
            raise Refused(Outcome(faults.fault_from_findings(caller, kind="denied"),
                                  relaxed + vihf.findings + caller, status=500, label="appelant refusé",
                                  summary=refused_summary))
        relaxed += caller
        auth = (self.store.authorization(vihf.claims.patient_ins, vihf.claims.subject_nameid)
                if vihf.claims.patient_ins else None)
        actor = rules.Actor.from_claims(vihf.claims, treating_doctor=bool(auth and auth.treating_doctor))
        context = Context(request, vihf, actor, operation)
        try:
            outcome = handler(context)
        except Refused as refused:
            outcome = refused.outcome
        outcome.findings = relaxed + [f for f in vihf.findings] + outcome.findings
        tolerated = rules.tolerance(context.tolerated, outcome.findings)
        if tolerated is not None:
            outcome.summary["tolere"] = True
            outcome.findings.append(tolerated)
        outcome.summary.setdefault("operation", operation)
        outcome.summary.setdefault("acteur", actor.id)
        outcome.summary.setdefault("profil", actor.column)
        if vihf.claims.patient_ins:
            outcome.summary.setdefault("patient", vihf.claims.patient_ins)
            outcome.summary.setdefault("patient_oid", vihf.claims.patient_oid)
        if vihf.claims.lps_id:
            outcome.summary.setdefault("lps_id", vihf.claims.lps_id)
        if vihf.signer_der:
            outcome.summary.setdefault("vihf_certificate_sha256", fingerprint(vihf.signer_der))
        return request, operation, outcome

    def _check_caller(self, cert: bytes | None, vihf: VihfCheck) -> list[Finding]:
        if not self.settings.authenticate_callers:
            return []
        return rules.check_caller(cert, vihf, self.duis, relaxed=self.settings.trust_official_examples)

    def _check_token(self, assertion: etree._Element | None) -> VihfCheck:
        """`check_vihf`, remembered for identical token bytes during `TOKEN_CACHE_SECONDS`.

        A DUI reuses one signed token for a burst of calls; verifying the XML signature and the
        certificate chain is most of a small request's cost. The cache key is the exact
        serialized assertion and the policy, so any change (tampering included) is re-verified,
        and a cached result is dropped as soon as the token's own validity ends."""
        policy = VihfPolicy(trusted_ca=self.pki.ca_cert,
                            trust_official_examples=self.settings.trust_official_examples)
        if assertion is None:
            return check_vihf(None, policy=policy)
        key = (hashlib.sha256(etree.tostring(assertion)).digest(), policy)
        now = time.monotonic()
        cached = self._token_cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        check = check_vihf(assertion, policy=policy)
        claims = check.claims
        ends = None
        if claims is not None and claims.issue_instant is not None:
            ends = claims.not_on_or_after or claims.issue_instant + policy.max_age
        remaining = (ends - dt.datetime.now(dt.UTC)).total_seconds() if ends else 0
        if check.accepted and remaining > 0:
            if len(self._token_cache) > 1024:
                self._token_cache.clear()
            self._token_cache[key] = (now + min(TOKEN_CACHE_SECONDS, remaining), check)
        return check

    # -- WSDL and schemas (for clients generated from the running mock) -------------------
    async def wsdl(self, http: Request) -> Response:
        """`GET …/services/<service>?wsdl`: the official WSDL with its address set to this mock."""
        name = WSDL_FILES.get(http.path_params["service"])
        path = reference_path("dmp", "wsdl", "wsdl", name) if name else None
        if path is None:
            return self._download(http, "WSDL", 404, (
                f"WSDL indisponible pour {http.path_params['service']!r} (service inconnu ou "
                "artefacts de référence ANS absents)").encode(), "text/plain; charset=utf-8")
        tree = parse_trusted_file(str(path))
        for element in tree.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname == "address":
                element.set("location", str(http.url.replace(query="")))
        return self._download(http, "WSDL", 200, etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))

    async def schema(self, http: Request) -> Response:
        """The annex's XSDs, which the WSDLs import by relative path (`../schema/…`)."""
        base = reference_path("dmp", "wsdl", "schema")
        asked = http.path_params["path"]
        # a NUL byte (or another control character) makes the OS calls raise: refused up front
        safe = not any(ord(c) < 32 for c in asked)
        target = (base / asked).resolve() if base and safe else None
        if target is None or not target.is_file() or not target.is_relative_to(base.resolve()):
            return self._download(http, "XSD", 404, "schéma introuvable".encode(), "text/plain; charset=utf-8")
        return self._download(http, "XSD", 200, target.read_bytes())

    def _download(self, http: Request, operation: str, status: int, body: bytes,
                  media_type: str = "text/xml") -> Response:
        """Answer a WSDL/XSD download, journaled like every other exchange."""
        exchange = note(http.scope)
        exchange.operation = operation
        exchange.summary.update({"operation": operation, "chemin": http.url.path})
        return Response(body, status_code=status, media_type=media_type)

    # -- TD0.9 web access -------------------------------------------------------------------
    async def web_access(self, http: Request) -> Response:
        page = http.path_params.get("page", "TableauDeBord")
        ins = http.path_params.get("ins", "")
        token = str((await http.form()).get("vihf", "") or "") if http.method == "POST" else ""
        cert = client_certificate(http.scope)
        actor, findings = self._web_actor(token, cert, ins)
        patient = self.store.patient(ins) if ins and actor is not None else None
        missing = rules_patients.check_web_patient(ins, patient) if actor is not None else []
        findings += missing
        status = 403 if actor is None else 404 if missing else 200
        html_page = self._page(page, patient, actor or rules.Actor("", "", "", "", "", "normal"), findings)
        exchange = note(http.scope)
        exchange.operation = "TD0.9"
        exchange.summary.update(normalised({"operation": "TD0.9", "page": page, "patient": ins,
                                            "acteur": actor.id if actor else ""}))
        exchange.findings.extend(findings)
        return HTMLResponse(html_page, status_code=status)

    def _web_actor(self, token: str, cert: bytes | None, ins: str) -> tuple[rules.Actor | None, list[Finding]]:
        """The professional the posted VIHF context proves (tied to the TLS certificate like the
        web services), or None (page refused, nothing listed) with the findings saying why."""
        assertion, unreadable = None, ""
        if token:
            try:
                assertion = parse_untrusted(base64.b64decode(token, validate=True), what="le jeton VIHF")
            except (XmlInputError, ValueError) as exc:
                unreadable = str(exc)
        check = self._check_token(assertion) if assertion is not None else None
        refused = rules_patients.check_web_token(check, ins, unreadable=unreadable)
        if refused or check is None or check.claims is None:
            return None, refused
        caller = self._check_caller(cert, check)
        if any(f.is_error for f in caller):
            return None, check.findings + caller
        actor = rules.Actor.from_claims(check.claims)
        refused = rules_patients.check_web_professional(actor)
        if refused:
            return None, check.findings + refused
        return actor, check.findings + caller

    def _page(self, page: str, patient: Patient | None, actor: rules.Actor, findings: list[Finding]) -> str:
        e = html.escape
        rows = []
        if patient is not None:
            for doc in self.store.documents(patient.ins, (APPROVED, ARCHIVED)):
                if doc.is_signature or not rules.visible_to_professional(doc.confidentiality, actor, doc.author_id):
                    continue
                title = entry_from_element(etree.fromstring(doc.metadata)).title
                rows.append(f"<tr><td>{e(doc.creation_time[:8])}</td><td>{e(title)}</td><td>{e(doc.type_code)}</td>"
                            f"<td>{e(doc.author_id)}</td><td>{'archivé' if doc.status == ARCHIVED else ''}"
                            f"{' masqué PS' if rules.MASQUE_PS in doc.confidentiality else ''}</td></tr>")
        head = (f"{e(patient.given)} {e(patient.family)} — INS {e(patient.ins)} — DMP "
                f"{'ouvert' if patient.status == 'active' else 'fermé'}" if patient else "Tableau de bord")
        notes = "".join(f"<li>{e(f.rule_id)} : {e(f.message)}</li>" for f in findings)
        table = ("<table><tr><th>Date</th><th>Titre</th><th>Type</th><th>Auteur</th><th>État</th></tr>"
                 + "".join(rows) + "</table>") if patient else "<p>Aucun patient sélectionné.</p>"
        return (
            "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>DMP simulé — "
            f"{e(page)}</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}"
            "td,th{border:1px solid #999;padding:.3em .6em}</style></head><body>"
            f"<h1>DMP (simulé par le Banc Ségur) — {e(page)}</h1><h2>{head}</h2>{table}"
            f"{'<h3>Contrôles</h3><ul>' + notes + '</ul>' if notes else ''}</body></html>"
        )
