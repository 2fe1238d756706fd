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
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from banc.journal import Exchange, Journal
from banc.pki import TestPki, certificate_subject
from banc.server import client_certificate
from banc.soap import SOAP12_CONTENT_TYPE, mtom
from banc.verdict import Finding, Severity
from banc.vihf import VihfCheck, VihfPolicy, check_vihf
from banc.xds import codes as xc
from banc.xds.checks import check_against_cda, check_metadata
from banc.xds.ebrim import entry_from_element, parse_submission
from banc.xml import XmlInputError, parse_untrusted
from simulators.dmp_mock import faults, rules, wire
from simulators.dmp_mock.models import (
    APPROVED,
    ARCHIVED,
    DELETED,
    DEPRECATED,
    Authorization,
    DmpStore,
    NewSubmission,
    Patient,
    StoreConflict,
    StoredAssociation,
    StoredDocument,
    StoredSubmission,
)

SERVICE = "dmp"
NEVER_LENIENT = ("XDSUnknownPatientId", "XDSReplaceFailed", "XDSPatientIdDoesNotMatch", "DMP.PATIENT_ID")
"""Identity and registry-integrity errors refuse even in lenient mode: accepting them would file a
document in the wrong record."""
BASE = "/si-dmp-server/v2/services"
TOKEN_CACHE_SECONDS = 60.0


@dataclass
class DmpSettings:
    """How the mock judges. `strictness`: 'strict' refuses what breaks a feed rule (RegistryError
    naming it), 'lenient' accepts and records the verdict. `rights`: 'enforce' refuses what
    PDT-INF-526 forbids, 'report' answers and records the refusal as a warning.
    `trust_official_examples` accepts the ANS example messages' known defects (expired foreign
    VIHF certificates, SOAP 1.1 envelope, document id case), each reported as a warning."""

    strictness: str = "strict"
    rights: str = "enforce"
    trust_official_examples: bool = False
    validate_cda: bool = True
    max_request_bytes: int = 40 * 1024 * 1024
    max_document_bytes: int = 20 * 1024 * 1024
    clock_skew_s: int = 300
    value_sets: rules.ValueSets = field(default_factory=rules.ValueSets.load)


@dataclass
class Outcome:
    body: bytes
    findings: list[Finding] = field(default_factory=list)
    status: int = 200
    content_type: str = SOAP12_CONTENT_TYPE
    summary: dict = field(default_factory=dict)
    label: str = "OK"


@dataclass
class Context:
    request: wire.DmpRequest
    vihf: VihfCheck
    actor: rules.Actor
    operation: str


class Refused(Exception):
    """Stop processing with this outcome (a fault or an error response)."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _xml(element: etree._Element) -> bytes:
    return etree.tostring(element)


class DmpApp:
    def __init__(self, store: DmpStore, journal: Journal, pki: TestPki,
                 settings: DmpSettings | None = None) -> None:
        self.store = store
        self.journal = journal
        self.pki = pki
        self.settings = settings or DmpSettings()
        self._token_cache: dict[tuple[bytes, VihfPolicy], tuple[float, VihfCheck]] = {}
        self.actions: dict[str, tuple[str, Callable[[Context], Outcome]]] = {
            "urn:hl7-org:v3:PRPA_IN201307UV02": ("patients", self.patient_query),
            "urn:hl7-org:v3:PRPA_IN201305UV02": ("patients", self.patient_search),
            "urn:hl7-org:v3:PRPA_IN201311UV02": ("patients", self.patient_create),
            "urn:hl7-org:v3:PRPA_IN201314UV02": ("patients", self.patient_update),
            "urn:si-dmp-patients:PatientSpecificEndPoint:patientList": ("patientsSpecific", self.patient_list),
            "urn:si-dmp-patients:PatientSpecificEndPoint:createPatientAccess": ("patientsSpecific", self.patient_access),
            "urn:si-dmp-patients:PatientSpecificEndPoint:patientOTPUpdate": ("patientsSpecific", self.patient_access),
            "urn:si-dmp-patients:PatientSpecificEndPoint:updatePatientAccess": ("patientsSpecific", self.patient_access),
            "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization": ("habilitations", self.set_authorization),
            "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatient": ("habilitations", self.list_authorizations),
            "urn:ihe:iti:2007:RegistryStoredQuery": ("registry", self.stored_query),
            "urn:ihe:iti:2010:UpdateDocumentSet": ("registry", self.update_document_set),
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": ("repository", self.provide_and_register),
            "urn:ihe:iti:2007:RetrieveDocumentSet": ("repository", self.retrieve),
        }
        self.asgi = Starlette(routes=[
            Route(BASE + "/{service}", self.soap_endpoint, methods=["POST"]),
            Route("/AccesDirect/{page}/{ins}", self.web_access, methods=["GET", "POST"]),
            Route("/AccesDirect/{page}", self.web_access, methods=["GET", "POST"]),
        ])

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        await self.asgi(scope, receive, send)

    # -- SOAP entry point -------------------------------------------------------------------
    async def soap_endpoint(self, http: Request) -> Response:
        started = time.time()
        body = await http.body()
        service = http.path_params["service"]
        cert = client_certificate(http.scope)
        content_type = http.headers.get("content-type", "")
        operation = "?"
        request: wire.DmpRequest | None = None
        try:
            request, operation, outcome = await run_in_threadpool(self._handle, service, body, content_type)
        except Refused as refused:
            outcome = refused.outcome
        except Exception as exc:  # never a stack trace to the client; the journal keeps it
            outcome = Outcome(
                faults.soap_fault("DMP.INTERNAL", f"erreur interne du simulateur DMP : {type(exc).__name__} : {exc}"),
                [rules.finding("DMP.INTERNAL", f"erreur interne : {exc!r}", severity=Severity.ERROR)],
                status=500, label="erreur interne",
            )
        summary = {"service": service, "resultat": outcome.label, **outcome.summary}
        if request is not None:
            summary.setdefault("message_id", request.addressing.message_id)
        self.journal.record(Exchange(
            service=SERVICE, operation=outcome.summary.get("operation", operation), channel="https",
            request=body, response=outcome.body, status=str(outcome.status),
            peer=http.client.host if http.client else "", peer_certificate=certificate_subject(cert),
            summary=summary, findings=outcome.findings, started_at=started,
            duration_ms=(time.time() - started) * 1000,
        ))
        return Response(outcome.body, status_code=outcome.status, media_type=None,
                        headers={"content-type": outcome.content_type})

    def _handle(self, service: str, body: bytes, content_type: str) -> tuple[wire.DmpRequest, str, Outcome]:
        settings = self.settings
        try:
            request = wire.read_request(body, content_type, max_bytes=settings.max_request_bytes,
                                        accept_official_quirks=settings.trust_official_examples)
        except wire.WireError as exc:
            kind = "version" if exc.fault_code == "VersionMismatch" else "sender"
            raise Refused(Outcome(faults.soap_fault(exc.code, exc.message, kind=kind),
                                  [rules.finding(f"SOAP.{exc.code}", exc.message)], status=500,
                                  label="message illisible", summary={"operation": "?"})) from None
        relaxed = [rules.finding("DMP.RELAXED.MESSAGE", r, severity=Severity.WARNING) for r in request.relaxations]
        addressing = rules.check_addressing(request.addressing)
        if addressing:
            raise Refused(Outcome(faults.fault_from_findings(addressing, kind="addressing"),
                                  relaxed + addressing, status=500, label="WS-Addressing"))
        action = request.addressing.action or ""
        target = self.actions.get(action)
        if target is None or target[0] != service:
            message = (f"action {action!r} inconnue du DMP" if target is None else
                       f"action {action!r} adressée au service {service!r} : elle relève du service {target[0]!r}")
            finding = rules.finding("WSA.ACTION", message)
            raise Refused(Outcome(faults.soap_fault("WSA.ACTION", message, kind="action"),
                                  [*relaxed, finding], status=500, label="action non supportée"))
        handler = target[1]
        operation = handler.__name__
        vihf = self._check_token(request.assertion)
        if not vihf.accepted:
            raise Refused(Outcome(faults.fault_from_findings(vihf.findings, kind="security"),
                                  relaxed + vihf.findings, status=500, label="VIHF refusé",
                                  summary={"operation": operation}))
        assert vihf.claims is not None
        auth = (self.store.authorization(vihf.claims.patient_ins, vihf.claims.subject_nameid)
                if vihf.claims.patient_ins else None)
        actor = rules.Actor.from_claims(vihf.claims, treating_doctor=bool(auth and auth.treating_doctor))
        context = Context(request, vihf, actor, operation)
        try:
            outcome = handler(context)
        except Refused as refused:
            outcome = refused.outcome
        outcome.findings = relaxed + [f for f in vihf.findings] + outcome.findings
        outcome.summary.setdefault("operation", operation)
        outcome.summary.setdefault("acteur", actor.id)
        outcome.summary.setdefault("profil", actor.column)
        if vihf.claims.patient_ins:
            outcome.summary.setdefault("patient", vihf.claims.patient_ins)
        return request, operation, outcome

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

    # -- shared checks ----------------------------------------------------------------------
    def _require_patient(self, ctx: Context, body_patient: tuple[str, str] | None) -> None:
        """The VIHF resource-id must name the patient of the body (when both are present)."""
        claims = ctx.vihf.claims
        assert claims is not None
        if body_patient and claims.patient_ins and (claims.patient_ins, claims.patient_oid) != body_patient:
            message = (f"resource-id du VIHF ({claims.patient_ins}) différent du patient de la "
                       f"requête ({body_patient[0]})")
            finding = rules.finding("VIHF.PATIENT_MISMATCH", message)
            raise Refused(Outcome(faults.soap_fault("VIHF.PATIENT_MISMATCH", message, kind="security"),
                                  [finding], status=500, label="patient incohérent"))

    def _rights(self, ctx: Context, action: str, **owner: str) -> list[Finding]:
        denied = rules.check_right(action, ctx.actor, **owner)
        if denied and self.settings.rights == "report":
            return [replace(f, severity=Severity.WARNING) for f in denied]
        return denied

    def _authorized(self, ctx: Context, ins: str) -> list[Finding]:
        """Consulting a DMP in normal mode needs the patient's authorization (TD0.3)."""
        if ctx.actor.purpose in ("BRIS_DE_GLACE", "CENTRE_15") or ctx.actor.treating_doctor:
            return []
        auth = self.store.authorization(ins, ctx.actor.id)
        if auth is not None and auth.state == "VALIDE":
            return []
        state = "bloqué par le patient" if auth is not None else "non autorisé"
        finding = rules.finding("DMP.NOT_AUTHORIZED",
                                f"professionnel {ctx.actor.id} {state} sur le DMP {ins} : déclarez "
                                "l'autorisation (TD0.3) avant de consulter", reqs=rules.REQ_MANAGE)
        if self.settings.rights == "report":
            return [replace(finding, severity=Severity.WARNING)]
        return [finding]

    def _hl7_refusal(self, ctx: Context, findings: list[Finding]) -> Outcome | None:
        errors = [f for f in findings if f.is_error]
        if not errors:
            return None
        return Outcome(faults.fault_from_findings(errors, kind="denied"), findings, status=500,
                       label="accès refusé")

    # -- HL7v3 patient transactions ---------------------------------------------------------
    def patient_query(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        reason = wire.hl7_reason(payload)
        operation = "TD0.2" if reason == "TEST_EXST" else "TD1.3a"
        patient_id = wire.hl7_patient(payload)
        self._require_patient(ctx, patient_id)
        findings = self._rights(ctx, operation)
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = operation
            return refusal
        patient = self.store.patient(patient_id[0]) if patient_id else None
        outer, message = wire.hl7_message("PRPA_IN201308UV02", payload)
        control = wire._sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.copy_reason(control, payload)
        if patient is not None:
            if operation == "TD0.2":
                auth = self.store.authorization(patient.ins, ctx.actor.id)
                state = "VALIDE" if auth and auth.state == "VALIDE" else ("BLOQUE" if auth else "NON_AUTORISE")
                wire.attention_line(message, "AUTORISATION", "1.2.250.1.213.4.1.2.6.1",
                                    wire.coded_value(state, "1.2.250.1.213.4.1.2.6.2"))
                wire.attention_line(message, "STATUT_MT", "1.2.250.1.213.4.1.2.6.3",
                                    wire.bool_value(bool(auth and auth.treating_doctor)))
            wire.registration_event(control, patient, extra_observations={"RATTACHEMENT_ENS": "true"})
        wire.query_ack(control, payload, "OK" if patient else "NF")
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201308UV02", ctx.request)
        return Outcome(body, findings, summary={"operation": operation, "reponse": "OK" if patient else "NF",
                                                "patient": patient_id[0] if patient_id else ""},
                       label="trouvé" if patient else "non trouvé")

    def patient_search(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        findings = self._rights(ctx, "TD0.5")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = "TD0.5"
            return refusal
        family = wire.hl7_family_query(payload)
        found = self.store.patients(family=family) if family else []
        outer, message = wire.hl7_message("PRPA_IN201306UV02", payload, ack_as_element=True)
        control = wire._sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire._sub(control, "code", code="PRPA_TE201306UV02", codeSystem="2.16.840.1.113883.1.6")
        for patient in found:
            wire.registration_event(control, patient)
        wire.query_ack(control, payload, "OK" if found else "NF", total=len(found))
        query = payload.find(f".//{wire.h('queryByParameter')}")
        if query is not None:
            control.append(etree.fromstring(etree.tostring(query)))
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201306UV02", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD0.5", "resultats": len(found)})

    def patient_create(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        patient_id = wire.hl7_patient(payload)
        self._require_patient(ctx, patient_id)
        findings: list[Finding] = []
        ack, detail = "AA", ""
        if patient_id is None:
            ack, detail = "AE", "identifiant INS du patient absent de la demande de création"
        elif self.store.patient(patient_id[0]) is not None:
            ack, detail = "AE", f"un DMP existe déjà pour l'INS {patient_id[0]}"
        if detail:
            findings.append(rules.finding("DMP.CREATE", detail, reqs=rules.REQ_MANAGE))
        patient = None
        if ack == "AA":
            person = wire.hl7_person(payload)
            patient = self.store.add_patient(Patient(patient_id[0], patient_id[1], **person))
        outer, message = wire.hl7_message("PRPA_IN201312UV02", payload, ack=ack, ack_detail=detail,
                                          wrapper="PRPA_IN201311UV02_Response")
        control = wire._sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.copy_reason(control, payload)
        wire.registration_event(control, patient)
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201311ResponseUV02", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD1.1"}, label="créé" if ack == "AA" else "refusé")

    def patient_update(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        reason = wire.hl7_reason(payload)
        operation = {"REAC": "TD1.2", "MODIF_DATA": "TD1.3b", "FERM": "TD1.4"}.get(reason, "TD1.x")
        patient_id = wire.hl7_patient(payload)
        self._require_patient(ctx, patient_id)
        patient = self.store.patient(patient_id[0]) if patient_id else None
        ack, detail = "AA", ""
        if reason not in ("REAC", "MODIF_DATA", "FERM"):
            ack, detail = "AE", f"reasonCode {reason!r} inconnu (REAC, MODIF_DATA, FERM attendus)"
        elif patient is None:
            ack, detail = "AE", "aucun DMP pour cet INS"
        elif reason == "FERM":
            if patient.status == "terminated":
                ack, detail = "AE", "le DMP est déjà fermé"
            else:
                self.store.set_patient_status(patient.ins, "terminated")
        elif reason == "REAC":
            if patient.status != "terminated":
                ack, detail = "AE", "le DMP n'est pas fermé : réactivation impossible"
            else:
                self.store.set_patient_status(patient.ins, "active")
        else:
            self.store.update_patient(patient.ins, **wire.hl7_person(payload))
        findings = [rules.finding("DMP.PATIENT_UPDATE", detail, reqs=rules.REQ_MANAGE)] if detail else []
        patient = self.store.patient(patient_id[0]) if patient_id else None
        outer, message = wire.hl7_message("PRPA_IN201315UV02", payload, ack=ack, ack_detail=detail,
                                          wrapper="PRPA_IN201314UV02_Response")
        control = wire._sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.copy_reason(control, payload)
        wire.registration_event(control, patient, with_ids=False)
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201314ResponseUV02", ctx.request)
        return Outcome(body, findings, summary={"operation": operation}, label="OK" if ack == "AA" else "refusé")

    # -- habilitations / patient list -------------------------------------------------------
    def _vihf_patient(self, ctx: Context) -> str:
        claims = ctx.vihf.claims
        assert claims is not None
        if not claims.patient_ins:
            message = "resource-id (INS du patient) obligatoire dans le VIHF pour cette transaction"
            raise Refused(Outcome(faults.soap_fault("VIHF.RESOURCE_ID", message, kind="security"),
                                  [rules.finding("VIHF.RESOURCE_ID", message)], status=500,
                                  label="VIHF incomplet"))
        return claims.patient_ins

    def set_authorization(self, ctx: Context) -> Outcome:
        ins = self._vihf_patient(ctx)
        action = wire.soap_text(ctx.request.payload, "action").upper()
        operation = "TD0.3"
        if action not in ("AJOUT", "SUPPRESSION"):
            message = f"action {action!r} : AJOUT ou SUPPRESSION attendu"
            raise Refused(Outcome(faults.soap_fault("DMP.TD03", message), [rules.finding("DMP.TD03", message)],
                                  status=500, summary={"operation": operation}))
        findings = self._rights(ctx, "TD0.3.ajout" if action == "AJOUT" else "TD0.3.suppression")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = operation
            return refusal
        existing = self.store.authorization(ins, ctx.actor.id)
        status, text = "DMPOk", ""
        if self.store.patient(ins) is None:
            status, text = "DMPKo", f"aucun DMP pour l'INS {ins}"
        elif action == "AJOUT":
            if existing and existing.state == "VALIDE":
                text = "Autorisation déjà présente aucune action effectuée"
            elif existing and existing.state == "BLOQUE":
                status, text = "DMPKo", "professionnel bloqué par le patient : autorisation impossible"
            else:
                self.store.set_authorization(Authorization(
                    ins, ctx.actor.id, ctx.actor.name, ctx.actor.structure_id,
                    next((f"{r.code}" for r in ctx.vihf.claims.roles), "") if ctx.vihf.claims else ""))
                text = "Autorisation ajoutée"
        elif existing is None:
            text = "Aucune autorisation à supprimer"
        else:
            self.store.remove_authorization(ins, ctx.actor.id)
            text = "Autorisation supprimée"
        if status != "DMPOk":
            findings.append(rules.finding("DMP.TD03", text, reqs=rules.REQ_MANAGE))
        root = wire.simple_output(wire.HAB, "setAuthorization", [("status", status), ("context", text)])
        body = wire.response_envelope(
            root, "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorizationResponse", ctx.request)
        return Outcome(body, findings, summary={"operation": operation, "action": action}, label=status)

    def list_authorizations(self, ctx: Context) -> Outcome:
        ins = self._vihf_patient(ctx)
        findings = self._rights(ctx, "TD1.6")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = "TD1.6"
            return refusal
        mode = wire.soap_text(ctx.request.payload, "mode").upper() or "TOUTE"
        items: list[tuple[str, object]] = []
        for auth in self.store.authorizations(ins=ins):
            state = "ACTIVE" if auth.state == "VALIDE" else "BLOQUE"
            if mode not in ("TOUTE", state, "AUTORISE" if state == "ACTIVE" else "BLOQUE"):
                continue
            family, _, given = auth.actor_name.partition(" ")
            items.append(("listOfAuthorizationByPatient", [
                ("nationalId", auth.actor_id), ("nationalIdType", "1.2.250.1.71.4.2.1"),
                ("firstName", given or family), ("lastName", family if given else ""),
                ("codeSpeciality", auth.speciality), ("libSpeciality", ""),
                ("startOfAuthorization", time.strftime("%Y%m%d%H%M%S", time.gmtime(auth.started_at))),
                ("lastActionDate", time.strftime("%Y%m%d%H%M%S", time.gmtime(auth.updated_at))),
                ("mode", state),
            ]))
        root = wire.simple_output(wire.HAB, "listAuthorizationByPatient", [*items, ("status", "DMPOk"), ("context", None)])
        body = wire.response_envelope(
            root, "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatientResponse", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD1.6", "resultats": len(items)})

    def patient_list(self, ctx: Context) -> Outcome:
        findings = self._rights(ctx, "TD0.4")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = "TD0.4"
            return refusal
        items: list[tuple[str, object]] = []
        for auth in self.store.authorizations(actor_id=ctx.actor.id):
            patient = self.store.patient(auth.ins)
            if patient is None or auth.state != "VALIDE":
                continue
            def stamp(t):
                return (time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) if t else None)
            items.append(("patientlistData", [
                ("patientIdentifier", [("nationalId", patient.dmp_id), ("nationalIdType", "1.2.250.1.213.1.4.2")]),
                ("patientIdentifier", [("nationalId", patient.ins), ("nationalIdType", patient.oid)]),
                ("lastName", patient.family), ("firstName", patient.given), ("dateOfBirth", patient.birth_date),
                ("MT", "true" if auth.treating_doctor else "false"), ("message", "false"),
                ("lastAccessDate", stamp(auth.updated_at)), ("lastUpdateDate", stamp(patient.updated_at)),
                ("lastAddDate", stamp(patient.last_add_at)),
            ]))
        root = wire.simple_output(wire.PAT, "patientList", [*items, ("status", "DMPOk")])
        body = wire.response_envelope(
            root, "urn:si-dmp-patients:PatientSpecificEndPoint:patientListResponse", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD0.4", "resultats": len(items)})

    def patient_access(self, ctx: Context) -> Outcome:
        """TD1.5a/b/d (patient web account, OTP channel): removed from WSDL 2.01.04 since Mon espace
        santé; answered as the official examples show, with a note that they are obsolete."""
        self._vihf_patient(ctx)
        name = etree.QName(ctx.request.payload).localname
        operation = {"createPatientAccess": "TD1.5a", "patientOTPUpdate": "TD1.5b"}.get(name, "TD1.5d")
        fields: list[tuple[str, object]] = []
        if name != "patientOTPUpdate":
            fields = [("login", f"pat{secrets.token_hex(3)}"), ("password", secrets.token_urlsafe(6))]
        fields += [("status", "DMPOk"), ("context", "OTP mis à jour" if name == "patientOTPUpdate" else None)]
        root = wire.simple_output(wire.PAT, name, fields)
        body = wire.response_envelope(
            root, f"urn:si-dmp-patients:PatientSpecificEndPoint:{name}Response", ctx.request)
        note = rules.finding("DMP.OBSOLETE", f"{operation} ({name}) n'existe plus dans le WSDL 2.01.04 "
                             "(compte patient géré par Mon espace santé)", severity=Severity.INFO)
        return Outcome(body, [note], summary={"operation": operation})

    # -- XDS: registry ----------------------------------------------------------------------
    def _xds_failure(self, ctx: Context, findings: list[Finding], operation: str,
                     tag: str = "RegistryResponse") -> Outcome:
        if tag == "AdhocQueryResponse":
            root = wire.adhoc_response([], faults.registry_errors(findings))
            action = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
        else:
            root = wire.registry_response(faults.registry_errors(findings))
            action = {"TD2.1": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
                      "TD3.3": "urn:ihe:iti:2010:UpdateDocumentSetResponse"}.get(operation, "")
        return Outcome(self._envelope(ctx, root, action), findings,
                       summary={"operation": operation}, label="refusé")

    @staticmethod
    def _envelope(ctx: Context, root: etree._Element, action: str) -> bytes:
        return wire.response_envelope(root, action, ctx.request)

    def _query_patient(self, ctx: Context, value: str | None, operation: str) -> tuple[str, str]:
        patient = rules._patient(value or "")
        claims = ctx.vihf.claims
        assert claims is not None
        if patient is None:
            raise Refused(self._xds_failure(ctx, [rules.finding(
                "XDSStoredQueryParamNumber", f"identifiant patient de la requête absent ou mal formé : {value!r}")],
                operation, "AdhocQueryResponse"))
        if claims.patient_ins and (claims.patient_ins, claims.patient_oid) != patient:
            raise Refused(self._xds_failure(ctx, [rules.finding(
                "XDSPatientIdDoesNotMatch",
                f"patient de la requête ({patient[0]}) différent du resource-id du VIHF ({claims.patient_ins})")],
                operation, "AdhocQueryResponse"))
        return patient

    def _visible(self, ctx: Context, doc: StoredDocument) -> bool:
        return rules.visible_to_professional(doc.confidentiality, ctx.actor, doc.author_id)

    def stored_query(self, ctx: Context) -> Outcome:
        query = wire.parse_query(ctx.request.payload)
        operation = "TD3.1"
        summary: dict = {"operation": operation, "requete": query.name}
        right_action = "TD3.1.reference" if query.return_type == "ObjectRef" else "TD3.1.metadonnees"
        objects: list[bytes] = []
        if query.query_id == wire.FIND_DOCUMENTS:
            ins, _ = self._query_patient(ctx, query.first("$XDSDocumentEntryPatientId"), operation)
            findings = self._rights(ctx, right_action) + self._authorized(ctx, ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            docs = self.store.documents(
                ins, query.params.get("$XDSDocumentEntryStatus") or [APPROVED],
                class_codes=[c.split("^")[0] for c in query.params.get("$XDSDocumentEntryClassCode", [])],
                type_codes=[c.split("^")[0] for c in query.params.get("$XDSDocumentEntryTypeCode", [])],
                format_codes=[c.split("^")[0] for c in query.params.get("$XDSDocumentEntryFormatCode", [])],
                creation_from=query.first("$XDSDocumentEntryCreationTimeFrom"),
                creation_to=query.first("$XDSDocumentEntryCreationTimeTo"),
            )
            docs = [d for d in docs if self._visible(ctx, d)]
            objects = [wire.object_ref(d.entry_uuid) if query.return_type == "ObjectRef"
                       else wire.with_status(d.metadata, d.status) for d in docs]
        elif query.query_id == wire.GET_DOCUMENTS:
            claims = ctx.vihf.claims
            findings = self._rights(ctx, right_action)
            docs = [self.store.document(entry_uuid=u) for u in query.params.get("$XDSDocumentEntryEntryUUID", [])]
            docs += [self.store.document(unique_id=u) for u in query.params.get("$XDSDocumentEntryUniqueId", [])]
            if not docs:
                findings.append(rules.finding("XDSStoredQueryParamNumber",
                                              "GetDocuments sans $XDSDocumentEntryEntryUUID ni $XDSDocumentEntryUniqueId"))
            found = [d for d in docs if d is not None and claims and d.patient_ins == claims.patient_ins]
            if found:
                findings += self._authorized(ctx, found[0].patient_ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            objects = [wire.object_ref(d.entry_uuid) if query.return_type == "ObjectRef"
                       else wire.with_status(d.metadata, d.status) for d in found if self._visible(ctx, d)]
        elif query.query_id == wire.FIND_SUBMISSION_SETS:
            ins, _ = self._query_patient(ctx, query.first("$XDSSubmissionSetPatientId"), operation)
            findings = self._rights(ctx, right_action) + self._authorized(ctx, ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            objects = [wire.object_ref(s.entry_uuid) if query.return_type == "ObjectRef"
                       else s.metadata for s in self.store.submission_sets(ins)]
        elif query.query_id == wire.GET_ASSOCIATIONS:
            findings = self._rights(ctx, right_action)
            claims = ctx.vihf.claims
            uuids = query.params.get("$uuid", [])
            associations = [a for a in self.store.associations(uuids)
                            if claims is None or not a.patient_ins or a.patient_ins == claims.patient_ins]
            objects = [a.metadata or wire.object_ref(a.id) for a in associations]
        else:
            return self._xds_failure(ctx, [rules.finding(
                "XDSUnknownStoredQuery", f"requête enregistrée {query.query_id!r} non prise en charge "
                f"({', '.join(wire.STORED_QUERIES.values())})")], operation, "AdhocQueryResponse")
        summary["resultats"] = len(objects)
        body = wire.spliced_adhoc_response(objects, "urn:ihe:iti:2007:RegistryStoredQueryResponse", ctx.request)
        return Outcome(body, findings, summary=summary)

    def update_document_set(self, ctx: Context) -> Outcome:
        """ITI-57: status changes (archive, delete) and metadata updates (masking, visibility)."""
        operation = "TD3.3"
        payload = ctx.request.payload
        claims = ctx.vihf.claims
        assert claims is not None
        findings: list[Finding] = []
        planned: list[tuple[str, dict]] = []
        changes: list[str] = []
        associations = list(payload.iter(f"{{{wire.RIM}}}Association"))
        extrinsics = {e.get("id"): e for e in payload.iter(f"{{{wire.RIM}}}ExtrinsicObject")}
        for association in associations:
            kind = association.get("associationType", "")
            slots = {s.get("name"): [(v.text or "").strip() for v in s.iter(f"{{{wire.RIM}}}Value")]
                     for s in association.findall(f"{{{wire.RIM}}}Slot")}
            if kind == "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus":
                target = association.get("targetObject", "")
                doc = self.store.document(entry_uuid=target)
                new_status = (slots.get("NewStatus") or [""])[0]
                original = (slots.get("OriginalStatus") or [""])[0]
                if doc is None or doc.patient_ins != claims.patient_ins:
                    findings.append(rules.finding("XDSDocumentUniqueIdError",
                                                  f"document {target} inconnu dans le DMP de ce patient",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                if original and original != doc.status:
                    findings.append(rules.finding("XDSRegistryMetadataError",
                                                  f"statut d'origine {original} ≠ statut actuel {doc.status}",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                action = {DELETED: "TD3.3c.supprimer", ARCHIVED: "TD3.3d.archiver",
                          APPROVED: "TD3.3d.desarchiver"}.get(new_status)
                if action is None:
                    findings.append(rules.finding("XDSRegistryMetadataError",
                                                  f"nouveau statut {new_status!r} non pris en charge",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                findings += self._rights(ctx, action, author_id=doc.author_id,
                                         author_structure=doc.author_institution)
                planned.append((doc.entry_uuid, {"status": new_status}))
                changes.append(f"{action} {doc.unique_id}")
            elif kind == xc.HAS_MEMBER and association.get("targetObject") in extrinsics:
                new = extrinsics[association.get("targetObject")]
                lid = new.get("lid", "")
                doc = self.store.document(entry_uuid=lid)
                if doc is None or doc.patient_ins != claims.patient_ins:
                    findings.append(rules.finding("XDSDocumentUniqueIdError",
                                                  f"document {lid!r} (lid) inconnu dans le DMP de ce patient",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                entry = entry_from_element(new)
                codes = tuple(c.code for c in entry.confidentiality)
                before, after = set(doc.confidentiality), set(codes)
                for code, added, removed in ((rules.MASQUE_PS, "TD3.3a.masquer", "TD3.3a.demasquer"),
                                             (rules.INVISIBLE_PATIENT, "TD3.3b.visible_patient", "TD3.3b.visible_patient"),
                                             (rules.INVISIBLE_RL, "TD3.3b.visible_patient", "TD3.3b.visible_patient")):
                    if code in after - before:
                        findings += self._rights(ctx, added, author_id=doc.author_id)
                        changes.append(f"+{code} {doc.unique_id}")
                    if code in before - after:
                        findings += self._rights(ctx, removed, author_id=doc.author_id)
                        changes.append(f"-{code} {doc.unique_id}")
                metadata = wire.load_stored(doc.metadata)
                for old in metadata.findall(f"{{{wire.RIM}}}Classification"):
                    if old.get("classificationScheme") == xc.DE_CONFIDENTIALITY:
                        metadata.remove(old)
                anchor = metadata.find(f"{{{wire.RIM}}}ExternalIdentifier")
                for new_code in new.findall(f"{{{wire.RIM}}}Classification"):
                    if new_code.get("classificationScheme") == xc.DE_CONFIDENTIALITY:
                        clone = etree.fromstring(etree.tostring(new_code))
                        clone.set("classifiedObject", doc.entry_uuid)
                        if anchor is not None:
                            anchor.addprevious(clone)
                        else:
                            metadata.append(clone)
                planned.append((doc.entry_uuid, {"confidentiality": codes, "metadata": etree.tostring(metadata)}))
        if not planned and not findings:
            findings.append(rules.finding("XDSRegistryMetadataError",
                                          "mise à jour sans association UpdateAvailabilityStatus ni nouvelle "
                                          "version de métadonnées", reqs=rules.REQ_MANAGE))
        if any(f.is_error for f in findings):
            return self._xds_failure(ctx, findings, operation)
        for entry_uuid, change in planned:
            self.store.update_document(entry_uuid, **change)
        root = wire.registry_response(faults.registry_errors([f for f in findings if not f.is_error]))
        return Outcome(self._envelope(ctx, root, "urn:ihe:iti:2010:UpdateDocumentSetResponse"), findings,
                       summary={"operation": operation, "modifications": changes})

    # -- XDS: repository --------------------------------------------------------------------
    def retrieve(self, ctx: Context) -> Outcome:
        claims = ctx.vihf.claims
        assert claims is not None
        findings: list[Finding] = []
        documents: list[tuple[str, str, bytes]] = []
        for repository, unique_id in wire.parse_retrieve(ctx.request.payload):
            if repository != wire.REPOSITORY_ID:
                findings.append(rules.finding("XDSUnknownRepositoryId",
                                              f"entrepôt {repository!r} inconnu ({wire.REPOSITORY_ID} attendu)"))
                continue
            doc = self.store.document(unique_id=unique_id, with_content=True)
            if doc is None or doc.content is None:
                findings.append(rules.finding("XDSDocumentUniqueIdError", f"document {unique_id!r} inconnu"))
                continue
            if claims.patient_ins and doc.patient_ins != claims.patient_ins:
                findings.append(rules.finding("XDSPatientIdDoesNotMatch",
                                              f"document {unique_id} d'un autre patient que le resource-id du VIHF"))
                continue
            action = {DEPRECATED: "TD3.2.obsolete", ARCHIVED: "TD3.2.archive",
                      DELETED: "TD3.2.supprime"}.get(doc.status, "TD3.2.normal")
            denied = self._rights(ctx, action) + self._authorized(ctx, doc.patient_ins)
            if not self._visible(ctx, doc):
                denied += self._rights(ctx, "TD3.2.masque_ps", author_id=doc.author_id) or [
                    rules.finding("DMP.ACCESS_DENIED", f"document {unique_id} masqué aux professionnels")]
            findings += denied
            if any(f.is_error for f in denied):
                continue
            documents.append((doc.unique_id, doc.mime_type, doc.content))
        root, attachments = wire.retrieve_response(documents, faults.registry_errors(findings))
        envelope = self._envelope(ctx, root, "urn:ihe:iti:2007:RetrieveDocumentSetResponse")
        body, content_type = mtom.build(envelope, attachments,
                                        action="urn:ihe:iti:2007:RetrieveDocumentSetResponse")
        return Outcome(body, findings, content_type=content_type,
                       summary={"operation": "TD3.2", "documents": [d[0] for d in documents]},
                       label="OK" if documents else "refusé")

    def provide_and_register(self, ctx: Context) -> Outcome:
        """ITI-41 (TD2.1): checks, then one atomic write; acknowledged only after the commit."""
        operation = "TD2.1"
        settings = self.settings
        claims = ctx.vihf.claims
        assert claims is not None
        payload = ctx.request.payload
        submit = payload.find(f"{{{wire.LCM}}}SubmitObjectsRequest")
        object_list = submit.find(f"{{{wire.RIM}}}RegistryObjectList") if submit is not None else None
        if object_list is None:
            return self._xds_failure(ctx, [rules.finding("XDSRegistryMetadataError",
                                                    "ProvideAndRegisterDocumentSetRequest sans SubmitObjectsRequest/RegistryObjectList")],
                                     operation)
        relaxed: list[Finding] = []
        contents: dict[str, bytes] = {}
        errors: list[Finding] = []
        for document in payload.findall(f"{{{wire.XDSB}}}Document"):
            try:
                data = mtom.element_content(document, ctx.request.message)
            except mtom.MtomError as exc:
                errors.append(rules.finding("XDSMissingDocument", exc.message))
                continue
            if len(data) > settings.max_document_bytes:
                errors.append(rules.finding(
                    "XDSRepositoryError",
                    f"document {document.get('id')} de {len(data) / 1_048_576:.1f} Mo : au-delà de la "
                    f"limite de {settings.max_document_bytes / 1_048_576:.0f} Mo du DMP"))
                continue
            contents[document.get("id", "")] = data
        extrinsic_ids = [e.get("id", "") for e in object_list.iter(f"{{{wire.RIM}}}ExtrinsicObject")]
        for ident in extrinsic_ids:
            if ident in contents:
                continue
            alias = next((k for k in contents if k.lower() == ident.lower()), None)
            if alias is not None and settings.trust_official_examples:
                contents[ident] = contents.pop(alias)
                relaxed.append(rules.finding(
                    "DMP.RELAXED.DOCUMENT_ID",
                    f"option « exemples officiels » : Document id={alias!r} rattaché à l'ExtrinsicObject "
                    f"{ident!r} (casse différente)", severity=Severity.WARNING))
            elif not any(e.code == "XDSRepositoryError" for e in errors):
                errors.append(rules.finding("XDSMissingDocument",
                                            f"aucun Document pour l'ExtrinsicObject {ident!r}"))
        if errors:
            return self._xds_failure(ctx, relaxed + errors, operation)
        mapping = wire.assign_uuids(object_list)
        contents = {mapping.get(k, k): v for k, v in contents.items()}
        submission = parse_submission(object_list)
        if submission is None:
            return self._xds_failure(ctx, [rules.finding("XDSRegistryMetadataError",
                                                    "aucun lot de soumission (RegistryPackage classé SubmissionSet)")],
                                     operation)
        findings = relaxed + self._rights(ctx, "TD2.1")
        ins = rules._patient(submission.submission_set.patient_id)
        if ins and claims.patient_ins and ins[0] == claims.patient_ins:
            auth = self.store.authorization(ins[0], ctx.actor.id)
            if auth is not None and auth.state == "BLOQUE":
                findings.append(rules.finding("DMP.ACCESS_DENIED", "professionnel bloqué par le patient"))
        patient = self.store.patient(ins[0]) if ins else None
        if ins and patient is None:
            findings.append(rules.finding("XDSUnknownPatientId", f"aucun DMP pour l'INS {ins[0]}"))
        elif patient is not None and patient.status != "active":
            findings.append(rules.finding("XDSUnknownPatientId", f"le DMP de l'INS {ins[0]} est fermé"))
        metadata_findings = [f for f in check_metadata(submission) if f.rule_id != "XDS-PATIENT-MISMATCH"]
        metadata_findings += rules.check_submission(submission, claims, settings.value_sets)
        entries = {d.entry_uuid: d for d in submission.documents}
        replaced: list[str] = []
        for association in submission.associations:
            if association.type == xc.RPLC:
                previous = self.store.document(entry_uuid=association.target)
                if previous is None or previous.patient_ins != (ins[0] if ins else ""):
                    metadata_findings.append(rules.finding("XDSReplaceFailed",
                                                           f"document remplacé {association.target} inconnu dans ce DMP",
                                                           reqs=rules.REQ_MANAGE))
                else:
                    replaced.append(association.target)
        cda_findings: list[Finding] = []
        for entry in submission.documents:
            if rules._is_signature(entry) or entry.mime_type != "text/xml":
                continue
            data = contents.get(entry.entry_uuid, b"")
            try:
                root = parse_untrusted(data, what=f"le document {entry.unique_id}")
            except XmlInputError as exc:
                metadata_findings.append(rules.finding("DMP.CDA", exc.message))
                continue
            metadata_findings += check_against_cda(entry, root)
            if settings.validate_cda:
                cda_findings += self._validate_cda(root, entry.unique_id)
        if settings.strictness == "lenient":
            metadata_findings = [replace(f, severity=Severity.WARNING)
                                 if f.is_error and f.rule_id not in NEVER_LENIENT else f
                                 for f in metadata_findings]
        findings += metadata_findings
        if any(f.is_error for f in findings):
            return self._xds_failure(ctx, findings + cda_findings, operation)
        new = self._new_submission(submission, entries, contents, object_list, replaced, ins)
        try:
            self.store.submit(new)
        except StoreConflict as conflict:
            return self._xds_failure(ctx, [*findings, rules.finding(conflict.code, conflict.message)], operation)
        root = wire.registry_response(faults.registry_errors([f for f in findings if not f.is_error]))
        return Outcome(self._envelope(ctx, root, "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"),
                       findings + cda_findings,
                       summary={"operation": operation, "patient": ins[0] if ins else "",
                                "documents": [d.unique_id for d in new.documents],
                                "remplace": replaced})

    def _validate_cda(self, root: etree._Element, unique_id: str) -> list[Finding]:
        """The CDA engine's verdict, recorded as warnings: it informs the verdict, while the DMP's
        own feed rules decide acceptance (the real DMP does not run the CI-SIS schematrons)."""
        from banc.cda import validate_root  # lazy: Saxon is loaded only when validation is on

        verdict = validate_root(root, subject=unique_id)
        findings = [replace(f, severity=Severity.WARNING if f.is_error else f.severity,
                            location=f"{unique_id} {f.location}".strip()) for f in verdict.findings]
        findings += [rules.finding("DMP.CDA.NOT_EVALUATED", f"{unique_id} : {n.ruleset} non évalué ({n.reason})",
                                   severity=Severity.INFO) for n in verdict.not_evaluated]
        return findings

    def _new_submission(self, submission, entries, contents, object_list, replaced, ins) -> NewSubmission:
        ss = submission.submission_set
        author = lambda authors: (authors[0].person.id if authors and authors[0].person else "")  # noqa: E731
        institution = lambda authors: next((o.id for a in authors for o in a.institutions), "")  # noqa: E731
        package = next(p for p in object_list.iter(f"{{{wire.RIM}}}RegistryPackage") if p.get("id") == ss.entry_uuid)
        documents = []
        extrinsics = {e.get("id"): e for e in object_list.iter(f"{{{wire.RIM}}}ExtrinsicObject")}
        for entry_uuid, entry in entries.items():
            content = contents[entry_uuid]
            documents.append(StoredDocument(
                entry_uuid=entry_uuid, unique_id=entry.unique_id, patient_ins=ins[0], status=APPROVED,
                class_code=entry.class_code.code, type_code=entry.type_code.code,
                format_code=entry.format_code.code, facility_code=entry.healthcare_facility_type.code,
                practice_code=entry.practice_setting.code, creation_time=entry.creation_time,
                service_start=entry.service_start, service_stop=entry.service_stop,
                confidentiality=tuple(c.code for c in entry.confidentiality),
                author_id=author(entry.authors), author_institution=institution(entry.authors),
                submission_uuid=ss.entry_uuid, mime_type=entry.mime_type,
                hash=hashlib.sha1(content).hexdigest(), size=len(content),
                is_signature=rules._is_signature(entry),
                metadata=wire.registry_entry(extrinsics[entry_uuid], content), content=content,
            ))
        associations = []
        for element in object_list.iter(f"{{{wire.RIM}}}Association"):
            ident = element.get("id", "")
            if not wire.is_uuid(ident):
                ident = f"urn:uuid:{uuid.uuid4()}"
                element.set("id", ident)
            associations.append(StoredAssociation(ident, element.get("associationType", ""),
                                                  element.get("sourceObject", ""), element.get("targetObject", ""),
                                                  ins[0], etree.tostring(element)))
        stored_set = StoredSubmission(ss.entry_uuid, ss.unique_id, ins[0], ss.source_id, ss.submission_time,
                                      author(ss.authors), etree.tostring(package))
        return NewSubmission(stored_set, documents, associations, deprecate=replaced)

    # -- TD0.9 web access -------------------------------------------------------------------
    async def web_access(self, http: Request) -> Response:
        started = time.time()
        page = http.path_params.get("page", "TableauDeBord")
        ins = http.path_params.get("ins", "")
        findings: list[Finding] = []
        actor = rules.Actor("", "", "", "DIRECTE", "", "normal")
        body = b""
        if http.method == "POST":
            body = await http.body()
            form = await http.form()
            token = str(form.get("vihf", "") or "")
            if token:
                try:
                    assertion = parse_untrusted(base64.b64decode(token), what="le jeton VIHF")
                    check = check_vihf(assertion, policy=VihfPolicy(
                        trusted_ca=self.pki.ca_cert, trust_official_examples=self.settings.trust_official_examples))
                    findings += check.findings
                    if check.claims is not None and check.accepted:
                        actor = rules.Actor.from_claims(check.claims)
                except (XmlInputError, ValueError) as exc:
                    findings.append(rules.finding("VIHF.MISSING", f"jeton VIHF illisible : {exc}", reqs=rules.REQ_TD09))
        findings += rules.check_right("TD0.9", actor) if actor.id else []
        patient = self.store.patient(ins) if ins else None
        status = 200
        if ins and patient is None:
            status = 404
            findings.append(rules.finding("DMP.TD09", f"aucun DMP pour l'INS {ins}", reqs=rules.REQ_TD09,
                                          severity=Severity.WARNING))
        html_page = self._page(page, patient, actor, findings)
        cert = client_certificate(http.scope)
        self.journal.record(Exchange(
            service=SERVICE, operation="TD0.9", channel="https", request=body or str(http.url).encode(),
            response=html_page.encode(), status=str(status), peer=http.client.host if http.client else "",
            peer_certificate=certificate_subject(cert),
            summary={"operation": "TD0.9", "page": page, "patient": ins, "acteur": actor.id},
            findings=findings, started_at=started, duration_ms=(time.time() - started) * 1000,
        ))
        return HTMLResponse(html_page, status_code=status)

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


def data_paths(data_dir: Path) -> Path:
    return Path(data_dir) / "dmp.sqlite"
