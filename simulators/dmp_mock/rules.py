"""Pure checks of the DMP mock: parsed message (+ state) → findings. No I/O, no raising.

The same functions judge live traffic (the mock) and captures (verdicts, `banc` CLI): access
rights (data file `data/rights.tsv`, transcribed from PDT-INF-526), WS-Addressing, DMP metadata
rules on what is fed (value sets, patient identity across SubmissionSet / DocumentEntry / VIHF,
authorInstitution, signature document), and what a viewer may see (masking, visibility). The
decisions of each transaction (which XDS error, which refusal) are in `rules_xds.py` (ITI-18,
ITI-41, ITI-43, ITI-57) and `rules_hl7.py` (patients, authorizations, TD0.9); every finding of
the mock comes from one of the rule sets below.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import ClassVar

from lxml import etree

from banc.identity import INS_OIDS, check_ins, parse_xds_patient_id
from banc.paths import reference_path
from banc.soap import Addressing, mtom
from banc.verdict import Finding, RuleSet, Severity
from banc.vihf import OID_PROFESSION, VihfCheck, VihfClaims
from banc.xds import codes as xc
from banc.xds.model import DocumentEntry, Submission
from banc.xml import XmlInputError, parse_untrusted
from simulators.dmp_mock.faults import XDS_CODES
from simulators.dmp_mock.models import DELETED, Authorization

RULESET = "dmp"
REQ_FEED = ("SC.DMP.01.MS1", "SC.DMP.04.MS1")
REQ_PROFILE = ("SC.DMP.04.MS1",)
REQ_MANAGE = ("SC.DMP.02.MS1",)
REQ_TD09 = ("SC.DMP.03.MS1",)
RIGHTS_FILE = Path(__file__).parent / "data" / "rights.tsv"

MASQUE_PS = xc.MASQUE_PS.code
INVISIBLE_PATIENT = xc.INVISIBLE_PATIENT.code
INVISIBLE_RL = xc.INVISIBLE_REPRESENTANTS_LEGAUX.code

SIGNATURE_CLASS = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"
SIGNATURE_TYPE = "E1762"
SIGNATURE_FORMAT = "http://www.w3.org/2000/09/xmldsig#"


# -- vocabulary: the rule sets every finding of the mock comes from ---------------------------


@dataclass(frozen=True)
class VerbatimCodes(RuleSet):
    """Rule ids that are another standard's codes, kept as that standard spells them.

    The IHE XDS.b error codes (`XDSPatientIdDoesNotMatch`) are the `errorCode` a DUI reads in
    the RegistryError, so their case is the standard's; `banc.soap`'s wire-error codes
    (`mtom-bad-boundary`) are the fault Detail code. `known`, when set, lists the allowed codes:
    any other is a programming error, like an uncatalogued requirement."""

    known: frozenset[str] = frozenset()

    def rule_id(self, code: str) -> str:
        if self.known and code not in self.known:
            raise ValueError(f"code {code!r} inconnu du jeu de règles {self.name}")
        return f"{self.prefix}.{code}" if self.prefix else code


RULES = RuleSet(RULESET, "DMP", REQ_FEED)
"""The DMP's own rules (`DMP.…`); findings cite the feed requirements unless they say otherwise."""
ADDRESSING = RuleSet(RULESET, "WSA", REQ_FEED)
"""WS-Addressing and routing (`WSA.…`)."""
TOKEN = RuleSet(RULESET, "VIHF", REQ_FEED)
"""What the DMP checks of the VIHF beyond `banc.vihf` (`VIHF.…`: resource-id, patient of the body)."""
UNREADABLE = VerbatimCodes(RULESET, "SOAP", REQ_FEED)
"""A request that cannot be read (`SOAP.<wire code>`)."""
XDS = VerbatimCodes(RULESET, "", REQ_FEED, known=frozenset(XDS_CODES))
"""IHE XDS.b error codes, verbatim (`XDSUnknownPatientId`)."""


# -- WS-Addressing ---------------------------------------------------------------------------


def check_addressing(addressing: Addressing, *, present: frozenset[str]) -> list[Finding]:
    """The DMP requires MessageID, Action and To. An empty `<To/>` (as the official examples
    send) counts as present, and so does an empty `<Action/>` (what a client generated from a
    WSDL with `soapAction=""` sends: the interaction is then identified by the body); ReplyTo
    defaults to anonymous (WS-Addressing 1.0)."""
    missing = [*addressing.missing("MessageID"), *(n for n in ("Action", "To") if n not in present)]
    return [ADDRESSING.finding("MISSING", f"en-tête WS-Addressing {name} absent", location=f"wsa:{name}")
            for name in missing]


# -- routing ---------------------------------------------------------------------------------

HL7_ACTION = "urn:hl7-org:v3:"
PAT_ACTION = "urn:si-dmp-patients:PatientSpecificEndPoint:"
HAB_ACTION = "urn:si-dmp-habilitations:HabilitationsEndPoint:"
SERVICES: dict[str, str] = {
    **{HL7_ACTION + i: "patients" for i in
       ("PRPA_IN201307UV02", "PRPA_IN201305UV02", "PRPA_IN201311UV02", "PRPA_IN201314UV02")},
    **{PAT_ACTION + o: "patientsSpecific" for o in
       ("patientList", "createPatientAccess", "patientOTPUpdate", "updatePatientAccess")},
    **{HAB_ACTION + o: "habilitations" for o in ("setAuthorization", "listAuthorizationByPatient")},
    "urn:ihe:iti:2007:RegistryStoredQuery": "registry",
    "urn:ihe:iti:2010:UpdateDocumentSet": "registry",
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "repository",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "repository",
}
"""Canonical action → service it belongs to (the actions the mock answers)."""

TRANSACTIONS: dict[str, str] = {
    HL7_ACTION + "PRPA_IN201307UV02": "TD0.2", HL7_ACTION + "PRPA_IN201305UV02": "TD0.5",
    HL7_ACTION + "PRPA_IN201311UV02": "TD1.1", HL7_ACTION + "PRPA_IN201314UV02": "TD1.x",
    PAT_ACTION + "patientList": "TD0.4", PAT_ACTION + "createPatientAccess": "TD1.5a",
    PAT_ACTION + "patientOTPUpdate": "TD1.5b", PAT_ACTION + "updatePatientAccess": "TD1.5d",
    HAB_ACTION + "setAuthorization": "TD0.3", HAB_ACTION + "listAuthorizationByPatient": "TD1.6",
    "urn:ihe:iti:2007:RegistryStoredQuery": "TD3.1", "urn:ihe:iti:2010:UpdateDocumentSet": "TD3.3",
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "TD2.1", "urn:ihe:iti:2007:RetrieveDocumentSet": "TD3.2",
}
"""Canonical action → the DMP transaction it names in the journal when refused before its handler
(VIHF or caller refused): a scenario waiting for a TD2.1 then sees the refusal, not "rien reçu".
Handlers refine it (an ITI-18 may be TD3.1 or TD3.3a; a PRPA_IN201307 TD0.2 or TD0.1…)."""

BODY_ACTIONS: dict[str, str] = {
    **{f"{{urn:hl7-org:v3}}{a.removeprefix(HL7_ACTION)}": a for a in SERVICES if a.startswith(HL7_ACTION)},
    **{f"{{urn:si-dmp-patients}}{a.removeprefix(PAT_ACTION)}": a for a in SERVICES if a.startswith(PAT_ACTION)},
    **{f"{{urn:si-dmp-habilitations}}{a.removeprefix(HAB_ACTION)}": a for a in SERVICES if a.startswith(HAB_ACTION)},
    f"{{{xc.NS_QUERY}}}AdhocQueryRequest": "urn:ihe:iti:2007:RegistryStoredQuery",
    f"{{{xc.NS_LCM}}}SubmitObjectsRequest": "urn:ihe:iti:2010:UpdateDocumentSet",
    f"{{{xc.NS_XDSB}}}ProvideAndRegisterDocumentSetRequest": "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    f"{{{xc.NS_XDSB}}}RetrieveDocumentSetRequest": "urn:ihe:iti:2007:RetrieveDocumentSet",
}
"""Body element → canonical action: how the service identifies an interaction whose Action is
empty (PatientsSpecific.wsdl and patientCertif.wsdl declare `soapAction=""`)."""

WSDL_ACTIONS = {
    "urn:hl7-org:v3:setAuthorization": HAB_ACTION + "setAuthorization",
    "urn:hl7-org:v3:listAuthorizationByPatient": HAB_ACTION + "listAuthorizationByPatient",
}
"""Actions the official Habilitations.wsdl (v2.01.04) makes a generated client send, which differ
from the service's own `urn:si-dmp-habilitations:…` actions."""

GENERIC_ACTIONS = frozenset({"", "urn:anonymous", "http://www.w3.org/2005/08/addressing/soap/fault"})

UNSUPPORTED = {
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bAsync":
        "variante asynchrone de l'ITI-41 non proposée par le DMP : utilisez ProvideAndRegisterDocumentSet-b",
    "urn:ihe:iti:2007:RetrieveDocumentSetAsync":
        "variante asynchrone de l'ITI-43 non proposée par le DMP : utilisez RetrieveDocumentSet",
    "urn:ihe:iti:2007:RegisterDocumentSet-bAsyncResponse":
        "réponse asynchrone d'ITI-42 : le DMP n'émet ni ne reçoit de messages asynchrones",
    "{urn:si-dmp-patients}identityCertification":
        "certification d'identité patient (patientCertif.wsdl) : service hors du périmètre LPS du "
        "simulateur (l'INS se vérifie par le téléservice INSi)",
}
"""Operations of the official WSDLs the mock refuses by name (never silently)."""


def resolve_action(action: str, body_tag: str, service: str) -> tuple[str | None, list[Finding]]:
    """The canonical action of a request, and findings: an INFO note when it was inferred (empty
    or WSDL-specific Action), an error when the action is unknown, unsupported, addressed to
    another service or contradicted by the body."""
    from_body = BODY_ACTIONS.get(body_tag)
    notes: list[Finding] = []
    if action in SERVICES:
        canonical = action
    elif action in WSDL_ACTIONS:
        canonical = WSDL_ACTIONS[action]
        notes.append(ADDRESSING.finding("ACTION.WSDL", f"action {action!r} du WSDL officiel comprise comme "
                                        f"{canonical!r}", severity=Severity.INFO, location="wsa:Action"))
    elif action.strip() in GENERIC_ACTIONS and body_tag in UNSUPPORTED:
        return None, [_wrong_action(UNSUPPORTED[body_tag])]
    elif action.strip() in GENERIC_ACTIONS and from_body is not None:
        canonical = from_body
        notes.append(ADDRESSING.finding("ACTION.BODY", f"wsa:Action vide (soapAction=\"\" dans le WSDL officiel) : "
                                        f"interaction identifiée par le corps {etree.QName(body_tag).localname}",
                                        severity=Severity.INFO, location="wsa:Action"))
    elif action in UNSUPPORTED:
        return None, [_wrong_action(UNSUPPORTED[action])]
    else:
        what = f"action {action!r} inconnue du DMP" if action.strip() else (
            f"wsa:Action vide et corps {body_tag!r} non reconnu")
        return None, [_wrong_action(what)]
    if SERVICES[canonical] != service:
        return None, [_wrong_action(f"action {canonical!r} adressée au service {service!r} : "
                                    f"elle relève du service {SERVICES[canonical]!r}")]
    if from_body is not None and from_body != canonical:
        return None, [_wrong_action(f"action {canonical!r} mais corps "
                                    f"{etree.QName(body_tag).localname} (interaction {from_body!r})")]
    return canonical, notes


def _wrong_action(message: str) -> Finding:
    return ADDRESSING.finding("ACTION", message, location="wsa:Action")


# -- who connects: TLS certificate, DUI, VIHF --------------------------------------------------


@dataclass(frozen=True)
class RegisteredDui:
    """A DUI the DMP knows (homologated software of a structure): the TLS client certificates
    it presents, the certificates that sign its VIHF, and its structure when declared."""

    name: str
    client_certificates: frozenset[str]  # SHA-256 fingerprints (banc.dui.fingerprint)
    vihf_certificates: frozenset[str]
    structure_id: str = ""  # '' = acts for any structure (the bench's own DUI)


def _subject_values(der: bytes) -> set[str]:
    from cryptography import x509

    try:
        subject = x509.load_der_x509_certificate(der).subject
    except ValueError:
        return set()
    return {str(attribute.value).strip() for attribute in subject}


def check_caller(client_der: bytes | None, vihf: VihfCheck, duis: Iterable[RegisteredDui], *,
                 relaxed: bool = False) -> list[Finding]:
    """The DMP authenticates the structure by its TLS certificate and ties it to the VIHF.

    - indirect modes: the TLS certificate is a registered DUI's, or an organisation certificate
      of the VIHF's structure (IGC Santé: the structure id in the subject, OU); the VIHF is signed
      by a certificate of the same DUI (or of the same structure), so a token captured from one
      client is refused over another client's certificate; a DUI with a declared structure
      speaks for that structure only;
    - DIRECTE: the identity comes from the professional's card on the TLS channel: the TLS
      certificate must name the token's subject (national id), signed token or not.
    `relaxed` (official examples option): the refusals become warnings saying so."""
    from banc.dui import fingerprint

    claims = vihf.claims
    if claims is None:
        return []
    severity = Severity.WARNING if relaxed else Severity.ERROR
    prefix = "RELAXED." if relaxed else ""

    def refuse(code: str, message: str) -> list[Finding]:
        note = " (toléré : option « exemples officiels »)" if relaxed else ""
        return [RULES.finding(prefix + code, message + note, severity=severity, location="TLS",
                              requirements=REQ_PROFILE)]

    if not client_der:
        return refuse("CERTIFICATE", "aucun certificat client TLS : le DMP authentifie la structure par son certificat")
    client_fp = fingerprint(client_der)
    subject = _subject_values(client_der)
    if claims.mode == "DIRECTE":
        if claims.subject_nameid not in subject:
            return refuse("CERTIFICATE", f"mode DIRECTE : le certificat TLS ({', '.join(sorted(subject))}) n'est pas la "
                          f"carte du professionnel {claims.subject_nameid} que nomme le VIHF — en accès direct "
                          "l'identité vient de la carte CPS présentée sur le canal TLS")
        return []
    dui = next((d for d in duis if client_fp in d.client_certificates), None)
    if dui is None and claims.structure_id not in subject:
        return refuse("CERTIFICATE", f"certificat client TLS ({', '.join(sorted(subject))}) ni d'un DUI enregistré ni "
                      f"de la structure {claims.structure_id} du VIHF (Identifiant_Structure)")
    if dui is not None and dui.structure_id and dui.structure_id != claims.structure_id:
        return refuse("STRUCTURE", f"le DUI « {dui.name} » est enregistré pour la structure {dui.structure_id}, "
                      f"le VIHF parle pour la structure {claims.structure_id}")
    signer = fingerprint(vihf.signer_der) if vihf.signer_der else ""
    same_dui = dui is not None and (signer in dui.vihf_certificates or signer == client_fp)
    same_structure = bool(vihf.signer_der) and claims.structure_id in _subject_values(vihf.signer_der) and (
        dui is None)
    if not (same_dui or same_structure):
        return refuse("VIHF_BINDING", f"VIHF signé par « {vihf.signer_subject or 'aucun certificat'} », qui "
                      f"n'appartient pas au DUI du certificat client TLS"
                      f"{' « ' + dui.name + ' »' if dui else ''} : jeton émis pour un autre client ?")
    return []


# -- access rights ---------------------------------------------------------------------------


@cache
def rights_table(path: Path = RIGHTS_FILE) -> dict[str, dict[str, str]]:
    """action → {profile.mode → oui/non/own/structure}, from the data file."""
    with path.open(encoding="utf-8") as handle:
        rows = [line for line in handle if not line.startswith("#")]
    return {row["action"]: {k: v for k, v in row.items() if k != "action"}
            for row in csv.DictReader(rows, delimiter="\t")}


ACCESS_MODES = {"normal": "normal", "BRIS_DE_GLACE": "bdg", "CENTRE_15": "regulation"}


@dataclass(frozen=True)
class Actor:
    """Who acts, as the DMP derives it from the VIHF (and the patient's authorizations)."""

    id: str
    name: str
    structure_id: str
    mode: str
    profession: str
    purpose: str = "normal"
    treating_doctor: bool = False

    @classmethod
    def from_claims(cls, claims: VihfClaims, *, treating_doctor: bool = False) -> Actor:
        profession = next((r.code for r in claims.roles if r.code_system == OID_PROFESSION), "")
        return cls(claims.subject_nameid, claims.subject_name, claims.structure_id, claims.mode,
                   profession, claims.purpose or "normal", treating_doctor)

    @property
    def column(self) -> str:
        mode = ACCESS_MODES.get(self.purpose, "normal")
        if self.mode == "INDIRECTE":
            return f"es.{mode if mode == 'regulation' else 'normal'}"
        if self.treating_doctor:
            return f"mt.{'bdg' if mode == 'bdg' else 'normal'}"
        if not self.profession:
            return "cpe.normal"
        return f"{'medecin' if self.profession == '10' else 'ps'}.{mode}"


def right(action: str, actor: Actor) -> str:
    """'oui', 'non', 'own' or 'structure' for this action and actor profile."""
    return rights_table().get(action, {}).get(actor.column, "non")


def check_right(action: str, actor: Actor, *, author_id: str = "", author_structure: str = "") -> list[Finding]:
    value = right(action, actor)
    location = f"{action} / {actor.column}"
    if value == "oui":
        return []
    if value == "own" and author_id and author_id == actor.id:
        return []
    if value == "structure" and author_structure and author_structure == actor.structure_id:
        return []
    detail = {
        "own": "réservé à l'auteur du document",
        "structure": "réservé à la structure auteur du document",
    }.get(value, "non autorisé pour ce profil")
    return [RULES.finding(
        "ACCESS_DENIED",
        f"{action} refusé : {detail} (profil {actor.column}, matrice PDT-INF-526)",
        location=location, requirements=REQ_MANAGE,
    )]


# -- visibility ------------------------------------------------------------------------------


def visible_to_professional(confidentiality: Iterable[str], actor: Actor, author_id: str) -> bool:
    """A document masked to professionals (MASQUE_PS) is seen only by its author and the
    treating doctor, or in emergency modes (PDT-INF-526, TD3.2 'documents masqués aux PS')."""
    if MASQUE_PS not in set(confidentiality):
        return True
    return not check_right("TD3.2.masque_ps", actor, author_id=author_id)


def visible_to_patient(confidentiality: Iterable[str], *, legal_representative: bool = False) -> bool:
    codes = set(confidentiality)
    if INVISIBLE_PATIENT in codes:
        return False
    return not (legal_representative and INVISIBLE_RL in codes)


def tolerance(relaxed_by_settings: list[str], findings: list[Finding]) -> Finding | None:
    """An exchange accepted only because a setting relaxed the DMP's rules (rights 'report',
    lenient metadata, a `.RELAXED` finding of the official-examples option) is 'tolerated', never
    conform: the note that says so, or None when nothing was relaxed or the exchange failed."""
    what = relaxed_by_settings + [f.rule_id for f in findings if ".RELAXED" in f.rule_id]
    if not what or any(f.is_error for f in findings):
        return None
    return RULES.finding("TOLERATED", "échange accepté par tolérance, non conforme au DMP réel : "
                         + " ; ".join(dict.fromkeys(what)), severity=Severity.WARNING)


def downgraded(findings: list[Finding], *, relax: bool, why: str) -> tuple[list[Finding], str | None]:
    """A setting that reports instead of refusing (`rights='report'`): the refusals become
    warnings and `why` is the tolerance note; unchanged (and no note) otherwise."""
    if not (relax and findings):
        return findings, None
    return [replace(f, severity=Severity.WARNING) for f in findings], why


# -- the request as a whole: readable, the VIHF's patient, authorization ----------------------


def unreadable(code: str, message: str) -> Finding:
    """A request the wire layer could not read (`SOAP.<code>`, the fault Detail's code)."""
    return UNREADABLE.finding(code, message)


def relaxations(notes: Iterable[str]) -> list[Finding]:
    """What the wire layer let through under the official-examples option (SOAP 1.1)."""
    return [RULES.finding("RELAXED.MESSAGE", note, severity=Severity.WARNING) for note in notes]


def internal_error(exc: Exception) -> Finding:
    """The simulator itself failed: recorded, never a stack trace to the client."""
    return RULES.finding("INTERNAL", f"erreur interne : {exc!r}")


def check_body_patient(claims: VihfClaims, body_patient: tuple[str, str] | None) -> list[Finding]:
    """The VIHF resource-id must name the patient of the body (when both are present)."""
    if body_patient and claims.patient_ins and (claims.patient_ins, claims.patient_oid) != body_patient:
        return [TOKEN.finding("PATIENT_MISMATCH", f"resource-id du VIHF ({claims.patient_ins}) différent du "
                              f"patient de la requête ({body_patient[0]})")]
    return []


def check_resource_id(claims: VihfClaims) -> list[Finding]:
    """Transactions on one patient's DMP (authorizations, patient access) need the VIHF's INS."""
    if claims.patient_ins:
        return []
    return [TOKEN.finding("RESOURCE_ID",
                          "resource-id (INS du patient) obligatoire dans le VIHF pour cette transaction")]


def check_authorized(actor: Actor, ins: str, authorization: Authorization | None) -> list[Finding]:
    """Consulting a DMP in normal mode needs the patient's authorization (TD0.3); emergency
    modes (bris de glace, centre 15) and the treating doctor do without."""
    if actor.purpose in ("BRIS_DE_GLACE", "CENTRE_15") or actor.treating_doctor:
        return []
    if authorization is not None and authorization.state == "VALIDE":
        return []
    state = "bloqué par le patient" if authorization is not None else "non autorisé"
    return [RULES.finding("NOT_AUTHORIZED", f"professionnel {actor.id} {state} sur le DMP {ins} : déclarez "
                          "l'autorisation (TD0.3) avant de consulter", requirements=REQ_MANAGE)]


def consultable(status: str) -> bool:
    """A deleted document (ITI-57 → Deleted, TD3.3c) is gone: no query, retrieval or update
    reaches it any more; archived and deprecated ones stay consultable (PDT-INF-526 TD3.2)."""
    return status != DELETED


# -- value sets ------------------------------------------------------------------------------


@dataclass
class ValueSets:
    """DMP metadata value sets: JDV files of the ANS package when present, else not evaluated."""

    sets: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    FILES: ClassVar[dict[str, str]] = {
        "healthcareFacilityTypeCode": "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml",
        "practiceSettingCode": "JDV_J04_XdsPracticeSettingCode_CISIS.xml",
        "typeCode": "JDV_J07_XdsTypeCode_CISIS.xml",
    }

    @classmethod
    def load(cls) -> ValueSets:
        result = cls()
        for name, filename in cls.FILES.items():
            path = reference_path("ans-testcontenucda-3.0", "jeuxDeValeurs", filename)
            if path is None:
                result.missing.append(name)
                continue
            tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
            result.sets[name] = {
                (c.get("code", ""), c.get("codeSystem", ""))
                for c in tree.iter("{urn:ihe:iti:svs:2008}Concept")
            }
        return result


KNOWN_CLASS_CODES = {c.code for c in xc.CLASS_BY_TYPE.values()} | {xc.DEFAULT_CLASS.code}
KNOWN_FORMAT_CODES = (
    {c.code for c in xc.FORMAT_BY_TEMPLATE.values()}
    | {c.code for c in xc.FORMAT_DOMICILE.values()}
    | {xc.FORMAT_N1_PDF.code, xc.FORMAT_N1_TEXT.code}
)


def is_signature(entry: DocumentEntry) -> bool:
    return entry.class_code.code == SIGNATURE_CLASS or entry.format_code.code == SIGNATURE_FORMAT


def check_value_sets(entry: DocumentEntry, value_sets: ValueSets) -> list[Finding]:
    where = f"DocumentEntry {entry.entry_uuid}"
    if is_signature(entry):
        wrong = [name for name, code, expected in (
            ("classCode", entry.class_code.code, SIGNATURE_CLASS),
            ("typeCode", entry.type_code.code, SIGNATURE_TYPE),
            ("formatCode", entry.format_code.code, SIGNATURE_FORMAT),
        ) if code != expected]
        return [RULES.finding("SIGNATURE_CODES",
                              f"{where} : document de signature avec {', '.join(wrong)} inattendu(s) "
                              f"(attendus {SIGNATURE_CLASS}, {SIGNATURE_TYPE}, {SIGNATURE_FORMAT})",
                              location=where)] if wrong else []
    findings = []
    for name, code in (("healthcareFacilityTypeCode", entry.healthcare_facility_type),
                       ("practiceSettingCode", entry.practice_setting),
                       ("typeCode", entry.type_code)):
        allowed = value_sets.sets.get(name)
        if allowed is not None and code.code and (code.code, code.scheme) not in allowed:
            findings.append(RULES.finding(
                "VALUE_SET",
                f"{where} : {name} {code.code!r} ({code.scheme}) absent du jeu de valeurs CI-SIS",
                location=where,
            ))
    if entry.class_code.code and entry.class_code.scheme != xc.CS_CLASS:
        findings.append(RULES.finding("VALUE_SET",
                                      f"{where} : classCode dans le système {entry.class_code.scheme!r}, "
                                      f"{xc.CS_CLASS} attendu", location=where))
    elif entry.class_code.code and entry.class_code.code not in KNOWN_CLASS_CODES:
        findings.append(RULES.finding("VALUE_SET.UNCERTAIN",
                                      f"{where} : classCode {entry.class_code.code!r} hors de la liste connue du "
                                      "banc (JDV_J06 absent des références)", location=where,
                                      severity=Severity.WARNING))
    if entry.format_code.code and entry.format_code.code not in KNOWN_FORMAT_CODES:
        findings.append(RULES.finding("VALUE_SET.UNCERTAIN",
                                      f"{where} : formatCode {entry.format_code.code!r} hors de la liste connue "
                                      "du banc", location=where, severity=Severity.WARNING))
    return findings


def check_mtom(payload: etree._Element, multipart: bool) -> list[Finding]:
    """The DMP integration guide ("Service DMP intégré aux LPS", profil d'alimentation) requires
    ITI-41 documents as MTOM/XOP attachments; inline base64 is accepted but reported."""
    inline = [d.get("id", "?") for d in payload.iter(f"{{{xc.NS_XDSB}}}Document")
              if not any(child.tag == mtom.XOP_INCLUDE for child in d)]
    if not inline:
        return []
    how = "message SOAP simple, sans MTOM" if not multipart else "message MTOM mais contenu en ligne"
    return [RULES.finding("MTOM", f"ITI-41 : document(s) {', '.join(inline)} en base64 dans le corps SOAP "
                          f"({how}) : le guide d'intégration du DMP exige MTOM/XOP (xop:Include)",
                          location="xdsb:Document", requirements=REQ_PROFILE, severity=Severity.WARNING)]


def check_signature_document(data: bytes, unique_id: str) -> list[Finding]:
    """The signature document must be an XML-DSig `Signature` (XAdES, IHE DSG). Its
    cryptographic verification is out of the mock's scope (see docs/dmp-mock.md)."""
    try:
        root = parse_untrusted(data, what=f"le document de signature {unique_id}")
    except XmlInputError as exc:
        return [RULES.finding("SIGNATURE_DOCUMENT", exc.message, location=unique_id)]
    if root.tag != "{http://www.w3.org/2000/09/xmldsig#}Signature":
        return [RULES.finding("SIGNATURE_DOCUMENT",
                              f"document de signature {unique_id} : ds:Signature attendu, {root.tag} trouvé",
                              location=unique_id)]
    return []


def patient_of(value: str) -> tuple[str, str] | None:
    """(INS, OID) of a CX patient id, tolerating the `^^date` suffix some senders add."""
    head = "^".join(value.split("^")[:4])
    try:
        return parse_xds_patient_id(head)
    except ValueError:
        return None


def check_submission(submission: Submission, claims: VihfClaims | None,
                     value_sets: ValueSets) -> list[Finding]:
    """DMP-specific rules on a ProvideAndRegister submission (beyond `banc.xds.check_metadata`)."""
    findings: list[Finding] = []
    ss = submission.submission_set
    ss_patient = patient_of(ss.patient_id)
    if ss_patient is None:
        findings.append(RULES.finding("PATIENT_ID", f"patientId du lot mal formé : {ss.patient_id!r}",
                                      location="SubmissionSet"))
    else:
        ins, oid = ss_patient
        if oid not in INS_OIDS:
            findings.append(RULES.finding("PATIENT_ID", f"patientId du lot : OID {oid} qui n'est pas un OID "
                                          "d'INS", location="SubmissionSet"))
        findings.extend(RULES.finding("PATIENT_ID", f"patientId du lot : {p}", location="SubmissionSet")
                        for p in check_ins(ins))
        if claims is not None and claims.patient_ins and (claims.patient_ins, claims.patient_oid) != ss_patient:
            findings.append(XDS.finding(
                "XDSPatientIdDoesNotMatch",
                f"patientId du lot ({ins}, OID {oid}) différent du resource-id du VIHF "
                f"({claims.patient_ins}, OID {claims.patient_oid})",
                location="SubmissionSet",
            ))
    for entry in submission.documents:
        where = f"DocumentEntry {entry.entry_uuid}"
        if patient_of(entry.patient_id) != ss_patient:
            findings.append(XDS.finding("XDSPatientIdDoesNotMatch",
                                        f"{where} : patientId {entry.patient_id!r} différent de celui du lot",
                                        location=where))
        findings.extend(check_value_sets(entry, value_sets))
    signatures = [d for d in submission.documents if is_signature(d)]
    signs = [a for a in submission.associations if a.type == xc.SIGNS]
    if not signatures:
        findings.append(RULES.finding("SIGNATURE_MISSING",
                                      "lot sans document de signature XAdES (Signature01) : le DMP exige la "
                                      "signature du lot", location="SubmissionSet"))
    elif not any(a.source in {s.entry_uuid for s in signatures} for a in signs):
        findings.append(RULES.finding("SIGNATURE_MISSING",
                                      "document de signature sans association "
                                      "urn:ihe:iti:2007:AssociationType:signs", location="Association"))
    return findings
