"""Pure checks of an INSi request → findings. The same code judges live traffic and captures.

Order matters only for the fault: the app answers with the first error, so checks run from the
outside in — who is calling, is the message well-formed for the service, then the business
content. Rule ids are stable; requirement ids cite the DSR (SC.INS.27.MS1: call INSi with a
CPx card or a software certificate; SC.INS.26.MS1: verify/fetch the INS through INSi).
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime

from lxml import etree

from banc.identity import key_problem
from banc.soap import SOAP12_NS, WSA_NS
from banc.verdict import Finding, RuleSet, Severity
from banc.vihf import VihfPolicy, parse_vihf
from simulators.insi_mock.wire import (
    OPERATIONS,
    SAML_NS,
    InsiRequest,
    InsiSchemas,
    Traits,
    VitaleQuery,
)

REQ_AUTH = ("SC.INS.27.MS1",)
REQ_SEARCH = ("SC.INS.26.MS1",)
AUTHORISED_CN = ("INSI-AUTO", "INSI-MANU")
RULES = RuleSet("insi-mock", "INSI", REQ_SEARCH)
"""Rule ids `INSI.…`; findings cite SC.INS.26.MS1 unless they concern authentication."""

# Matched with fullmatch and ASCII digits only: `$` would accept a trailing newline and `\d`
# would accept Arabic-Indic or superscript digits, which int() reads but INSi does not.
_NAME = re.compile(r"[A-Z]+(?:(?:-|'| |--)[A-Z]+)*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_PLACE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{3}")
MAX_SCHEMA_FINDINGS = 20
"""XSD errors detailed per element: 20 000 bogus attributes are one refusal, not 20 000
journaled findings."""
_MATRICULE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}")


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the transport and the WS-Security header tell it."""

    client_cn: str | None  # CN of a client certificate the TLS layer verified, else None
    assertion_ok: bool | None = None  # None: no assertion; else the signature verification result
    assertion_detail: str = ""  # subject of the signer, or why verification failed
    insecure: bool = False  # plain-HTTP demo mode


def check_caller(caller: Caller) -> list[Finding]:
    """Mutual TLS with an INSI-AUTO/INSI-MANU certificate, or a signed card assertion."""
    if caller.insecure:
        return [RULES.finding(
            "auth.demo", "mode démonstration sans TLS : authentification non contrôlée",
            requirements=REQ_AUTH, severity=Severity.WARNING,
        )]
    if caller.client_cn is not None:
        if caller.client_cn in AUTHORISED_CN:
            return []
        return [RULES.finding(
            "auth.certificat",
            f"certificat client « CN={caller.client_cn} » non autorisé : le téléservice INSi "
            f"exige un certificat d'organisation de CN {' ou '.join(AUTHORISED_CN)}",
            location="TLS", requirements=REQ_AUTH,
        )]
    if caller.assertion_ok is None:
        return [RULES.finding(
            "auth.absente",
            "ni certificat client (CN INSI-AUTO/INSI-MANU) ni assertion de carte signée dans "
            "wsse:Security : appel non authentifié",
            location="TLS / soap:Header/wsse:Security", requirements=REQ_AUTH,
        )]
    if not caller.assertion_ok:
        return [RULES.finding(
            "auth.assertion",
            f"assertion de carte (wsse:Security) refusée : {caller.assertion_detail}",
            location="soap:Header/wsse:Security/saml:Assertion", requirements=REQ_AUTH,
        )]
    return []


def check_addressing(request: InsiRequest) -> list[Finding]:
    """wsa:Action names an operation of the WSDL and agrees with the body; MessageID present."""
    findings: list[Finding] = []
    action = request.addressing.action or request.content_type_action
    foreign = [
        etree.QName(h).namespace for h in request.envelope.headers
        if etree.QName(h).localname in ("Action", "MessageID") and etree.QName(h).namespace != WSA_NS
    ]
    if not action:
        hint = (
            f" (WS-Addressing reçu dans l'espace de noms {foreign[0]} : seul {WSA_NS} est accepté)"
            if foreign else " (ni paramètre action du Content-Type)"
        )
        findings.append(RULES.finding(
            "wsa.action", f"en-tête wsa:Action absent{hint}", location="soap:Header/wsa:Action",
        ))
    elif action not in OPERATIONS:
        findings.append(RULES.finding(
            "wsa.action",
            f"action « {action} » inconnue : attendu l'une de {', '.join(OPERATIONS)}",
            location="soap:Header/wsa:Action",
        ))
    else:
        operation, tag = OPERATIONS[action]
        payload = request.envelope.payload
        if payload is not None and payload.tag != tag:
            findings.append(RULES.finding(
                "wsa.action",
                f"l'action {operation} attend un corps {etree.QName(tag).localname}, reçu "
                f"{etree.QName(payload).localname}",
                location="soap:Body",
            ))
    media_type = request.content_type.split(";")[0].strip().lower()
    if media_type != "application/soap+xml":
        findings.append(RULES.finding(
            "http.content-type",
            f"Content-Type « {request.content_type} » : SOAP 1.2 s'envoie en application/soap+xml",
            location="HTTP Content-Type", severity=Severity.WARNING,
        ))
    if not request.addressing.message_id:
        findings.append(RULES.finding(
            "wsa.messageid", "en-tête wsa:MessageID absent", location="soap:Header/wsa:MessageID",
        ))
    return findings


def _without_soap_attributes(element: etree._Element) -> etree._Element:
    """A header block without `soap:mustUnderstand`/`role`/`relay`: SOAP processing attributes
    that clients (CXF, WCF) put on header blocks and that the service schemas do not declare."""
    soap_attributes = [a for a in element.attrib if a.startswith(f"{{{SOAP12_NS}}}")]
    if not soap_attributes:
        return element
    copy = deepcopy(element)
    for attribute in soap_attributes:
        del copy.attrib[attribute]
    return copy


def _schema_errors(schema: etree.XMLSchema, element: etree._Element, where: str) -> list[Finding]:
    if schema.validate(_without_soap_attributes(element)):
        return []
    errors = list(schema.error_log)
    findings = []
    for error in errors[:MAX_SCHEMA_FINDINGS]:
        message = re.sub(r"\{[^}]*\}", "", error.message)
        findings.append(RULES.finding(
            "xsd", f"{where} non conforme au schéma XSD INSi : {message}",
            location=error.path or where,
        ))
    if len(errors) > MAX_SCHEMA_FINDINGS:
        findings.append(RULES.finding(
            "xsd", f"{where} : {len(errors) - MAX_SCHEMA_FINDINGS} autres erreurs XSD non "
            "détaillées", location=where,
        ))
    return findings


def check_schema(request: InsiRequest, schemas: InsiSchemas) -> list[Finding]:
    """Body and service headers against the WSDL's XSDs; each error names the element."""
    findings: list[Finding] = []
    payload = request.envelope.payload
    if payload is not None and request.operation is None:
        findings.append(RULES.finding(
            "xsd",
            f"corps {etree.QName(payload).localname!r} inattendu : RECSANSVITALE ou RECVITALE attendu",
            location="soap:Body",
        ))
    elif payload is not None:
        findings += _schema_errors(schemas.request, payload, etree.QName(payload).localname)
    for header in (request.lps, request.bam, request.security):
        if header is not None:
            findings += _schema_errors(schemas.request, header, etree.QName(header).localname)
    return findings


def check_contexte_lps(request: InsiRequest, known_idams: frozenset[str] | set[str]) -> list[Finding]:
    """ContexteLPS present, Nature CTXLPS, Version 01_00, LPS identified, IDAM registered."""
    lps = request.lps
    where = "soap:Header/ctxlps:ContexteLPS"
    if lps is None:
        return [RULES.finding("lps.absent", "en-tête ctxlps:ContexteLPS absent", location=where)]
    findings: list[Finding] = []
    if lps.get("Nature") not in (None, "CTXLPS"):
        findings.append(RULES.finding("lps.champ", f"Nature « {lps.get('Nature')} » : CTXLPS attendu", location=f"{where}/@Nature"))
    if lps.get("Version") != "01_00":
        findings.append(RULES.finding("lps.champ", f"Version « {lps.get('Version')} » : 01_00 attendu", location=f"{where}/@Version"))
    values = request.lps_fields
    for path in ("Id", "Temps", "LPS/IDAM", "LPS/Version", "LPS/Instance", "LPS/Nom"):
        if not values.get(path, "").strip():
            findings.append(RULES.finding("lps.champ", f"ContexteLPS/{path} absent ou vide", location=f"{where}/{path}"))
    if "LPS/IDAM" in values and values.get("LPS/IDAM/@R") != "4":
        findings.append(RULES.finding(
            "lps.champ", f"attribut R de l'IDAM « {values.get('LPS/IDAM/@R')} » : 4 attendu",
            location=f"{where}/LPS/IDAM/@R",
        ))
    idam = values.get("LPS/IDAM", "").strip()
    if idam and idam not in known_idams:
        findings.append(RULES.finding(
            "lps.idam",
            f"identifiant de logiciel (IDAM) « {idam} » inconnu : logiciel non autorisé à "
            "appeler le téléservice INSi",
            location=f"{where}/LPS/IDAM",
        ))
    return findings


def check_contexte_bam(request: InsiRequest) -> list[Finding]:
    bam = request.bam
    where = "soap:Header/ctxbam:ContexteBAM"
    if bam is None:
        return [RULES.finding("bam.absent", "en-tête ctxbam:ContexteBAM absent", location=where)]
    findings: list[Finding] = []
    if bam.get("Version") != "01_02":
        findings.append(RULES.finding("bam.champ", f"Version « {bam.get('Version')} » : 01_02 attendu", location=f"{where}/@Version"))
    for path in ("Id", "Temps"):
        if not request.bam_fields.get(path, "").strip():
            findings.append(RULES.finding("bam.champ", f"ContexteBAM/{path} absent ou vide", location=f"{where}/{path}"))
    if "COUVERTURE" not in request.bam_fields:
        findings.append(RULES.finding("bam.champ", "ContexteBAM/COUVERTURE absent", location=f"{where}/COUVERTURE"))
    return findings


def _check_name(value: str | None, element: str, where: str) -> list[Finding]:
    if value is None or not value.strip():
        return [RULES.finding("traits.manquant", f"{element} absent ou vide", location=where)]
    if not _NAME.fullmatch(value):
        bad = sorted({c for c in value if not ("A" <= c <= "Z" or c in "-' ")})
        detail = (
            f"caractère(s) non autorisé(s) {' '.join(repr(c) for c in bad)}" if bad
            else "séparateurs mal placés"
        )
        return [RULES.finding(
            "traits.nom",
            f"{element} « {value} » : {detail} ; les traits sont transmis en majuscules sans "
            "accent (A-Z, tiret, apostrophe, espace)",
            location=where,
        )]
    return []


def check_date(value: str | None, where: str, today: date) -> list[Finding]:
    """YYYY-MM-DD; a lunar date (00 for an unknown month/day) is accepted, as INSi does."""
    if not value:
        return [RULES.finding("traits.manquant", "DateNaissance absente", location=where)]
    match = _DATE.fullmatch(value)
    if not match:
        return [RULES.finding("traits.date", f"DateNaissance « {value} » : format AAAA-MM-JJ attendu", location=where)]
    year, month, day = (int(g) for g in match.groups())
    if month > 12 or day > 31 or year < 1850:
        return [RULES.finding("traits.date", f"DateNaissance « {value} » : date impossible", location=where)]
    if month and day:
        try:
            born = date(year, month, day)
        except ValueError:
            return [RULES.finding("traits.date", f"DateNaissance « {value} » : date impossible", location=where)]
        if born > today:
            return [RULES.finding("traits.date", f"DateNaissance « {value} » : date future", location=where)]
    return []


def check_traits(traits: Traits, today: date) -> list[Finding]:
    where = "soap:Body/RECSANSVITALE"
    findings = _check_name(traits.birth_name, "NomNaissance", f"{where}/NomNaissance")
    if not traits.first_names:
        findings.append(RULES.finding("traits.manquant", "Prenom absent", location=f"{where}/Prenom"))
    for index, first in enumerate(traits.first_names, 1):
        findings += _check_name(first, "Prenom", f"{where}/Prenom[{index}]")
    if traits.sex not in ("M", "F"):
        findings.append(RULES.finding("traits.sexe", f"Sexe « {traits.sex or ''} » : M ou F attendu", location=f"{where}/Sexe"))
    findings += check_date(traits.birth_date, f"{where}/DateNaissance", today)
    if traits.birth_place is not None and not _PLACE.fullmatch(traits.birth_place):
        findings.append(RULES.finding(
            "traits.lieu",
            f"LieuNaissance « {traits.birth_place} » : code INSEE de 5 caractères attendu "
            "(ex. 63220, 2A020, 99350)",
            location=f"{where}/LieuNaissance",
        ))
    return findings


def check_vitale(query: VitaleQuery, today: date) -> list[Finding]:
    where = "soap:Body/RECVITALE"
    findings: list[Finding] = []
    read = [
        (element, number, key)
        for element, number, key in (
            ("MatriculeIndividu", query.matricule, query.key),
            ("MatriculeOD", query.holder_matricule, query.holder_key),
        )
        if number
    ]
    if not read:
        findings.append(RULES.finding(
            "vitale.matricule", "ni MatriculeIndividu ni MatriculeOD : NIR lu sur la carte attendu",
            location=f"{where}/MatriculeIndividu",
        ))
    for element, number, key in read:
        if not _MATRICULE.fullmatch(number.upper()):
            findings.append(RULES.finding(
                "vitale.matricule", f"NumIdentifiant « {number} » : 13 caractères attendus",
                location=f"{where}/{element}/NumIdentifiant",
            ))
            continue
        problem = key_problem(number, key)
        if problem:
            findings.append(RULES.finding(
                "vitale.cle",
                f"{element} : {problem} ; le NIR lu sur la carte Vitale se transmet avec sa clé",
                location=f"{where}/{element}/Cle",
            ))
    findings += check_date(query.birth_date, f"{where}/DateNaissance", today)
    if query.birth_name is not None:
        findings += _check_name(query.birth_name, "NomNaissance", f"{where}/NomNaissance")
    return findings


def check_request(
    request: InsiRequest, caller: Caller, schemas: InsiSchemas | None,
    known_idams: frozenset[str] | set[str], today: date,
) -> list[Finding]:
    """Every check of one request, outside in. The first error decides the fault."""
    findings = check_caller(caller) + check_addressing(request)
    if schemas is not None:
        findings += check_schema(request, schemas)
    else:
        findings.append(RULES.finding(
            "xsd.indisponible",
            "schémas XSD INSi absents (dossier de référence) : validation XSD non évaluée",
            severity=Severity.WARNING,
        ))
    findings += check_contexte_lps(request, known_idams) + check_contexte_bam(request)
    if request.traits is not None:
        findings += check_traits(request.traits, today)
    if request.vitale is not None:
        findings += check_vitale(request.vitale, today)
    return findings


def assertion_element(request: InsiRequest) -> etree._Element | None:
    if request.security is None:
        return None
    return request.security.find(f"{{{SAML_NS}}}Assertion")


def assertion_validity_problem(assertion: etree._Element, now: datetime) -> str | None:
    """Why a card assertion is not valid at `now` (French), None when it is.

    A signature stays mathematically valid forever: without this check an assertion captured
    in 2021 would still open the service. The window is the VIHF one (IssueInstant,
    Conditions NotBefore/NotOnOrAfter, else `VihfPolicy.max_age`, with its clock skew)."""
    claims = parse_vihf(assertion)
    policy = VihfPolicy()
    if claims.issue_instant is None:
        return "IssueInstant absent ou mal formé (date ISO 8601 UTC attendue)"
    if claims.issue_instant > now + policy.clock_skew:
        return f"émise dans le futur (IssueInstant {claims.issue_instant.isoformat()})"
    if claims.not_before and now + policy.clock_skew < claims.not_before:
        return f"pas encore valide (NotBefore {claims.not_before.isoformat()})"
    end = claims.not_on_or_after or claims.issue_instant + policy.max_age
    if now - policy.clock_skew >= end:
        return f"expirée depuis le {end.isoformat()}"
    return None


def verify_card_assertion(
    assertion: etree._Element, ca_file: str, now: datetime | None = None
) -> tuple[bool, str]:
    """Verify the enveloped XML signature of a card assertion against the bench CA, then its
    validity period at `now` (default: the current time).

    Returns (True, signer subject) or (False, French reason). Only local files are read.
    """
    from signxml import InvalidInput, InvalidSignature, XMLVerifier

    try:
        result = XMLVerifier().verify(deepcopy(assertion), ca_pem_file=ca_file)
    except (InvalidSignature, InvalidInput) as exc:
        return False, f"signature invalide ou certificat non émis par l'AC du banc ({exc})"
    except Exception as exc:  # signxml/cryptography raise several unrelated types on bad input
        return False, f"assertion illisible ({type(exc).__name__} : {exc})"
    problem = assertion_validity_problem(result.signed_xml, now or datetime.now(UTC))
    if problem:
        return False, f"assertion {problem}"
    return True, _signer_subject(result.signature_xml)


def _signer_subject(signature: etree._Element) -> str:
    """Subject of the first X509Certificate of the (verified) signature's KeyInfo."""
    import base64

    from cryptography import x509

    text = signature.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    if not text:
        return "signataire inconnu"
    certificate = x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    return certificate.subject.rfc4514_string()
