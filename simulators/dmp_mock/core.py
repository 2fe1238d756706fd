"""Shared ground of the DMP mock's transaction handlers: settings, outcome, request context,
and how the shared decisions of `rules` (patient of the VIHF, rights, authorization) become a
refusal (SOAP Fault, HL7v3 refusal, RegistryResponse Failure). No decision is taken here."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from banc.soap import SOAP12_CONTENT_TYPE
from banc.verdict import Finding
from banc.vihf import VihfCheck
from simulators.dmp_mock import faults, rules, rules_patients, rules_xds, wire
from simulators.dmp_mock.models import (
    DmpStore,
    StoredDocument,
)

SERVICE = "dmp"
BASE = "/si-dmp-server/v2/services"


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
    authenticate_callers: bool = True
    """Tie the TLS certificate to the VIHF and to a known DUI (off only without TLS)."""
    max_request_bytes: int = 40 * 1024 * 1024
    max_document_bytes: int = 20 * 1024 * 1024
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
    tolerated: list[str] = field(default_factory=list)
    """What a relaxed setting let through (rights 'report', lenient metadata): the exchange is
    then 'tolerated', never 'conform' (summary `tolere`, finding DMP.TOLERATED)."""

    def tolerate(self, note: str | None) -> None:
        if note:
            self.tolerated.append(note)


class Refused(Exception):
    """Stop processing with this outcome (a fault or an error response)."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


class DmpCore:
    """State and shared checks; `PatientTransactions` and `DocumentTransactions` build on it."""

    store: DmpStore
    settings: DmpSettings

    # -- shared checks ----------------------------------------------------------------------
    def _require_patient(self, ctx: Context, body_patient: tuple[str, str] | None) -> None:
        """Refused with a security Fault when the VIHF names another patient than the body."""
        claims = ctx.vihf.claims
        assert claims is not None
        mismatch = rules.check_body_patient(claims, body_patient)
        if mismatch:
            raise Refused(Outcome(faults.refusal_fault(mismatch[0], kind="security"), mismatch,
                                  status=500, label="patient incohérent"))

    def _rights(self, ctx: Context, action: str, **owner: str) -> list[Finding]:
        findings, note = rules.downgraded(
            rules.check_right(action, ctx.actor, **owner), relax=self.settings.rights == "report",
            why=f"droits {action} (profil {ctx.actor.column}) en mode « signaler »")
        ctx.tolerate(note)
        return findings

    def _authorized(self, ctx: Context, ins: str) -> list[Finding]:
        findings, note = rules.downgraded(
            rules.check_authorized(ctx.actor, ins, self.store.authorization(ins, ctx.actor.id)),
            relax=self.settings.rights == "report",
            why=f"autorisation d'accès au DMP {ins} absente, en mode « signaler »")
        ctx.tolerate(note)
        return findings

    @staticmethod
    def _professional(ctx: Context) -> tuple[str, str]:
        """Name ("Prénom NOM") and speciality code (`G15_10/SM26`) the DMP records for the acting
        professional: from the professional register — the seeded example professional, then the
        bench directory — as the real DMP reads the RPPS, else from the VIHF (subject-id, roles)."""
        from banc.directory import default_directory
        from simulators.dmp_mock.seed import REGISTERED_PROFESSIONALS

        if ctx.actor.id in REGISTERED_PROFESSIONALS:
            return REGISTERED_PROFESSIONALS[ctx.actor.id]
        known = default_directory().professional(ctx.actor.id)
        if known is not None:
            return (f"{known.given} {known.family}",
                    f"G15_{known.profession}" + (f"/{known.specialty}" if known.specialty else ""))
        claims = ctx.vihf.claims
        return ctx.actor.name, rules_patients.speciality_code(claims.roles) if claims else ""

    def _hl7_refusal(self, ctx: Context, findings: list[Finding]) -> Outcome | None:
        errors = [f for f in findings if f.is_error]
        if not errors:
            return None
        return Outcome(faults.fault_from_findings(errors, kind="denied"), findings, status=500,
                       label="accès refusé")


    def _vihf_patient(self, ctx: Context) -> str:
        claims = ctx.vihf.claims
        assert claims is not None
        missing = rules.check_resource_id(claims)
        if missing:
            raise Refused(Outcome(faults.refusal_fault(missing[0], kind="security"), missing, status=500,
                                  label="VIHF incomplet"))
        return claims.patient_ins


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
        claims = ctx.vihf.claims
        assert claims is not None
        patient, refused = rules_xds.check_query_patient(value, claims)
        if patient is None:
            raise Refused(self._xds_failure(ctx, refused, operation, "AdhocQueryResponse"))
        return patient

    def _visible(self, ctx: Context, doc: StoredDocument) -> bool:
        return rules.visible_to_professional(doc.confidentiality, ctx.actor, doc.author_id)

