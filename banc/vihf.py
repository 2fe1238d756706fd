"""VIHF tokens (SAML 2.0 assertion of the DMP): build them, and check them as the DMP does.

The VIHF ("vecteur d'identification et d'habilitation formelle") travels in `wsse:Security`
of every DMP request. It says who acts (professional, structure, role), for which patient
(`resource-id`), how they authenticated (`Authentification_mode`) and from which software
(`LPS_*`). In indirect modes the software signs it with its organisation certificate
(enveloped XML-DSig, exclusive c14n, RSA-SHA256 or RSA-SHA1); in direct mode (CPS card on the
TLS channel) the token may be unsigned.

`build_vihf` is used by the reference DUI, the notebooks and the tests; `check_vihf` by the DMP
mock and by verdicts on captured traffic. Signatures go through `signxml` (a maintained XML-DSig
library), never hand-rolled crypto.

The official ANS example tokens are signed by foreign test certificates that expired years ago.
`VihfPolicy(trust_official_examples=True)` accepts them: the signature is still verified with
the embedded certificate at the token's own date, and each relaxation is reported as a warning
finding (`VIHF.RELAXED.*`), so a verdict never hides what it let through.
"""

from __future__ import annotations

import base64
import contextvars
import dataclasses
import datetime as dt
import functools
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
    methods,
)
from signxml.exceptions import InvalidCertificate, InvalidInput, InvalidSignature

from banc.identity import INS_OIDS, check_ins, parse_xds_patient_id
from banc.verdict import Finding, Severity

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
HL7_NS = "urn:hl7-org:v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XS_NS = "http://www.w3.org/2001/XMLSchema"
ISSUER_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"

ATTR_ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
ATTR_SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
ATTR_PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
ATTR_RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
ATTR_MODE = "Authentification_mode"

MODES = ("DIRECTE", "INDIRECTE", "INDIRECTE_RENFORCEE")
SIGNED_MODES = ("INDIRECTE", "INDIRECTE_RENFORCEE")
"""Indirect modes: the software vouches for the professional, so the token must be signed."""

OID_SECTEUR_ACTIVITE = "1.2.250.1.71.4.2.4"
OID_PROFESSION = "1.2.250.1.71.1.2.7"
OID_SPECIALITE = "1.2.250.1.71.4.2.5"
OID_PURPOSE = "1.2.250.1.213.1.1.4.248"
ROLE_CODE_SYSTEMS = {
    OID_PROFESSION: "profession",
    OID_SPECIALITE: "spécialité",
    "1.2.250.1.213.1.1.4.6": "rôle (non professionnel de santé)",
    "1.2.250.1.213.1.1.4.5": "profession/spécialité (TRE_G15)",
}
PURPOSES = ("normal", "BRIS_DE_GLACE", "CENTRE_15")

REQ = ("SC.DMP.04.MS1",)
"""The feed profile of the 'Service DMP intégré aux LPS' guide, which defines the VIHF."""

_SIMPLE_ATTRIBUTES = (
    "Identifiant_Structure", "Secteur_Activite", "VIHF_Version", ATTR_MODE, ATTR_RESOURCE_ID,
    "Ressource_URN", "LPS_ID", "LPS_Nom", "LPS_Version", "LPS_ID_HOMOLOGATION_DMP",
)
MANDATORY_ATTRIBUTES = (*_SIMPLE_ATTRIBUTES, ATTR_ROLE, ATTR_PURPOSE)


@dataclass(frozen=True)
class Role:
    code: str
    code_system: str
    display_name: str = ""


@dataclass
class VihfClaims:
    """What a VIHF says. Used to build a token, and filled when one is parsed."""

    subject_nameid: str  # national id of the professional (RPPS/ADELI "8…") or agent id
    subject_name: str  # "Prénom NOM", the subject-id attribute
    structure_id: str  # Identifiant_Structure (FINESS, SIRET… as the structure is known)
    patient_ins: str = ""
    patient_oid: str = "1.2.250.1.213.1.4.10"
    roles: tuple[Role, ...] = (Role("10", OID_PROFESSION, "Médecin"),)
    secteur_activite: str = "SA07"
    mode: str = "INDIRECTE"
    purpose: str = "normal"
    lps_id: str = "BANC-SEGUR-DUI"
    lps_nom: str = "DUI de référence du Banc Ségur"
    lps_version: str = "1.0"
    lps_homologation: str = "BANC-HOMOLOGATION-TEST"
    version: str = "3.0"
    resource_urn: str = "urn:dmp"
    # filled by parse_vihf only
    issuer: str = ""
    issue_instant: dt.datetime | None = None
    not_before: dt.datetime | None = None
    not_on_or_after: dt.datetime | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        return f"{self.patient_ins}^^^&{self.patient_oid}&ISO^NH" if self.patient_ins else ""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _attribute(statement: etree._Element, name: str, value: str) -> None:
    attribute = etree.SubElement(statement, _q(SAML_NS, "Attribute"), Name=name)
    element = etree.SubElement(attribute, _q(SAML_NS, "AttributeValue"), nsmap={"xs": XS_NS})
    element.set(_q(XSI_NS, "type"), "xs:string")
    element.text = value


def _coded(statement: etree._Element, name: str, tag: str, items: list[Role]) -> None:
    attribute = etree.SubElement(statement, _q(SAML_NS, "Attribute"), Name=name)
    for item in items:
        value = etree.SubElement(attribute, _q(SAML_NS, "AttributeValue"))
        coded = etree.SubElement(value, _q(HL7_NS, tag), nsmap={None: HL7_NS})
        coded.set("code", item.code)
        coded.set("codeSystem", item.code_system)
        if item.display_name:
            coded.set("displayName", item.display_name)
        coded.set(_q(XSI_NS, "type"), "CE")


class _Sha1Signer(XMLSigner):
    """signxml refuses SHA-1 by default; the DMP still accepts RSA-SHA1 tokens, so the bench
    must be able to produce them (to test that a DUI's SHA-1 tokens are judged correctly)."""

    def check_deprecated_methods(self) -> None:
        return None


def build_vihf(
    claims: VihfClaims,
    *,
    cert_pem: bytes | None = None,
    key_pem: bytes | rsa.RSAPrivateKey | None = None,
    issuer: str | None = None,
    algorithm: str = "rsa-sha256",
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = dt.timedelta(hours=1),
) -> etree._Element:
    """A VIHF assertion; signed (enveloped, exc-c14n) when a certificate and key are given.

    `issuer` defaults to the signing certificate's subject DN, as the DMP requires.
    `algorithm` is 'rsa-sha256' (recommended) or 'rsa-sha1' (still accepted by the DMP).
    """
    now = now or dt.datetime.now(dt.UTC)
    if issuer is None and cert_pem:
        issuer = x509.load_pem_x509_certificate(cert_pem).subject.rfc4514_string()
    assertion_id = f"_{uuid.uuid4()}"
    root = etree.Element(
        _q(SAML_NS, "Assertion"), nsmap={"saml2": SAML_NS, "xsi": XSI_NS},
        ID=assertion_id, IssueInstant=_iso(now), Version="2.0",
    )
    issuer_el = etree.SubElement(root, _q(SAML_NS, "Issuer"), Format=ISSUER_FORMAT)
    issuer_el.text = issuer or "CN=VIHF-NON-SIGNE"
    if cert_pem and key_pem:
        etree.SubElement(root, _q(DS_NS, "Signature"), Id="placeholder", nsmap={"ds": DS_NS})
    subject = etree.SubElement(root, _q(SAML_NS, "Subject"))
    etree.SubElement(subject, _q(SAML_NS, "NameID")).text = claims.subject_nameid
    conditions = etree.SubElement(root, _q(SAML_NS, "Conditions"))
    conditions.set("NotBefore", _iso(now - dt.timedelta(minutes=1)))
    conditions.set("NotOnOrAfter", _iso(now + lifetime))
    authn = etree.SubElement(root, _q(SAML_NS, "AuthnStatement"), AuthnInstant=_iso(now))
    context = etree.SubElement(authn, _q(SAML_NS, "AuthnContext"))
    etree.SubElement(context, _q(SAML_NS, "AuthnContextClassRef")).text = (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
        if claims.mode == "DIRECTE"
        else "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
    )
    statement = etree.SubElement(root, _q(SAML_NS, "AttributeStatement"))
    _attribute(statement, "Identifiant_Structure", claims.structure_id)
    _attribute(statement, "Secteur_Activite", f"{claims.secteur_activite}^{OID_SECTEUR_ACTIVITE}")
    _attribute(statement, ATTR_SUBJECT_ID, claims.subject_name)
    _coded(statement, ATTR_ROLE, "Role", list(claims.roles))
    _attribute(statement, "VIHF_Version", claims.version)
    _attribute(statement, ATTR_MODE, claims.mode)
    if claims.patient_ins:
        _attribute(statement, ATTR_RESOURCE_ID, claims.resource_id)
    _attribute(statement, "Ressource_URN", claims.resource_urn)
    _coded(statement, ATTR_PURPOSE, "PurposeOfUse", [Role(claims.purpose, OID_PURPOSE, "Accès normal")])
    _attribute(statement, "LPS_ID", claims.lps_id)
    _attribute(statement, "LPS_Nom", claims.lps_nom)
    _attribute(statement, "LPS_Version", claims.lps_version)
    _attribute(statement, "LPS_ID_HOMOLOGATION_DMP", claims.lps_homologation)
    if not (cert_pem and key_pem):
        return root
    sha1 = algorithm == "rsa-sha1"
    signer = (_Sha1Signer if sha1 else XMLSigner)(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA1 if sha1 else SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signer.namespaces = {"ds": DS_NS}
    return signer.sign(
        root, key=key_pem, cert=cert_pem.decode(), reference_uri=assertion_id, id_attribute="ID"
    )


@functools.lru_cache(maxsize=16)
def _signing_material(cert_path: Path, key_path: Path, mtime: float) -> tuple[bytes, rsa.RSAPrivateKey]:
    """Certificate and loaded key, kept: loading (and validating) an RSA key costs ~50 ms, more
    than signing; `mtime` in the cache key picks up a re-issued certificate."""
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return cert_path.read_bytes(), key


def build_vihf_for(
    pki_dir: Path, claims: VihfClaims, *, signing: str = "vihf-signing", **options: object
) -> etree._Element:
    """Convenience: sign with `<signing>.pem/.key` of a `banc.pki.TestPki` directory."""
    cert_path, key_path = Path(pki_dir) / f"{signing}.pem", Path(pki_dir) / f"{signing}.key"
    cert_pem, key = _signing_material(cert_path, key_path, key_path.stat().st_mtime)
    return build_vihf(claims, cert_pem=cert_pem, key_pem=key, **options)  # type: ignore[arg-type]


# -- parsing --------------------------------------------------------------------------------


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _values(attribute: etree._Element) -> list[str]:
    out = []
    for value in attribute.findall(_q(SAML_NS, "AttributeValue")):
        coded = next(iter(value), None)
        if coded is not None and isinstance(coded.tag, str):
            out.append(f"{coded.get('code', '')}^{coded.get('codeSystem', '')}")
        else:
            out.append((value.text or "").strip())
    return out


def parse_vihf(assertion: etree._Element) -> VihfClaims:
    """Claims of an assertion (no checks); attribute names matched case-insensitively."""
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind(f"{_q(SAML_NS, 'AttributeStatement')}/{_q(SAML_NS, 'Attribute')}"):
        attributes.setdefault(attribute.get("Name", ""), []).extend(_values(attribute))
    lowered = {k.lower(): v for k, v in attributes.items()}

    def first(name: str) -> str:
        return (lowered.get(name.lower()) or [""])[0]

    resource = first(ATTR_RESOURCE_ID)
    ins, oid = "", ""
    if resource:
        try:
            ins, oid = parse_xds_patient_id(resource)
        except ValueError:
            ins, oid = "", ""
    roles = tuple(
        Role(*value.split("^", 1)) for value in lowered.get(ATTR_ROLE.lower(), []) if "^" in value
    )
    conditions = assertion.find(_q(SAML_NS, "Conditions"))
    return VihfClaims(
        subject_nameid=(assertion.findtext(f"{_q(SAML_NS, 'Subject')}/{_q(SAML_NS, 'NameID')}") or "").strip(),
        subject_name=first(ATTR_SUBJECT_ID),
        structure_id=first("Identifiant_Structure"),
        patient_ins=ins,
        patient_oid=oid,
        roles=roles,
        secteur_activite=first("Secteur_Activite").split("^")[0],
        mode=first(ATTR_MODE),
        purpose=first(ATTR_PURPOSE).split("^")[0],
        lps_id=first("LPS_ID"),
        lps_nom=first("LPS_Nom"),
        lps_version=first("LPS_Version"),
        lps_homologation=first("LPS_ID_HOMOLOGATION_DMP"),
        version=first("VIHF_Version"),
        resource_urn=first("Ressource_URN"),
        issuer=(assertion.findtext(_q(SAML_NS, "Issuer")) or "").strip(),
        issue_instant=_parse_time(assertion.get("IssueInstant")),
        not_before=_parse_time(conditions.get("NotBefore")) if conditions is not None else None,
        not_on_or_after=(
            _parse_time(conditions.get("NotOnOrAfter")) if conditions is not None else None
        ),
        attributes=attributes,
    )


# -- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VihfPolicy:
    """How strictly to judge. Defaults are the DMP's; each relaxation is reported.

    `max_age`: a token without Conditions is valid this long after IssueInstant (the DMP's exact
    window is not published (?) — configurable). `trust_official_examples`: accept the ANS
    example tokens (foreign, expired certificates), with warnings saying so.
    """

    trusted_ca: Path | None = None
    trust_official_examples: bool = False
    max_age: dt.timedelta = dt.timedelta(hours=2)
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)
    allowed_modes: tuple[str, ...] = MODES


@dataclass
class VihfCheck:
    claims: VihfClaims | None
    findings: list[Finding]
    signed: bool = False
    signer_subject: str = ""
    signer_der: bytes = b""
    """DER of the certificate embedded in the signature (b"" when unsigned): what the DMP ties
    to the DUI and to the TLS client certificate."""

    @property
    def accepted(self) -> bool:
        return not any(f.is_error for f in self.findings)


def _finding(rule: str, message: str, severity: Severity = Severity.ERROR, location: str = "") -> Finding:
    return Finding(
        rule_id=f"VIHF.{rule}", message=message, severity=severity, location=location or "VIHF",
        ruleset="vihf", requirements=REQ,
    )


def _dn_equal(issuer: str, subject: x509.Name) -> bool:
    try:
        parsed = x509.Name.from_rfc4514_string(issuer)
    except ValueError:
        return issuer.strip() == subject.rfc4514_string()
    return parsed == subject or parsed.rfc4514_string() == subject.rfc4514_string()


_CONFIG = SignatureConfiguration(
    require_x509=True,
    signature_methods=frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA1}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA1}),
    default_reference_c14n_method=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
)


def _check_signature(
    assertion: etree._Element, claims: VihfClaims, policy: VihfPolicy, now: dt.datetime,
    findings: list[Finding],
) -> tuple[bool, str]:
    signature = assertion.find(_q(DS_NS, "Signature"))
    if signature is None:
        if claims.mode in SIGNED_MODES:
            findings.append(_finding(
                "UNSIGNED",
                f"jeton VIHF non signé en mode {claims.mode} : la signature XML (enveloppée, "
                "exc-c14n) par le certificat de la structure est obligatoire",
            ))
        return False, ""
    c14n = signature.find(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'CanonicalizationMethod')}")
    if c14n is None or c14n.get("Algorithm") != CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value:
        findings.append(_finding(
            "C14N", "la signature du VIHF doit utiliser la canonicalisation exclusive "
            "(http://www.w3.org/2001/10/xml-exc-c14n#)",
        ))
    method = signature.find(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'SignatureMethod')}")
    if method is None or method.get("Algorithm") not in {m.value for m in _CONFIG.signature_methods}:
        findings.append(_finding(
            "ALGORITHM", "algorithme de signature du VIHF non accepté : RSA-SHA256 ou RSA-SHA1 attendu"
        ))
        return True, ""
    standalone = etree.fromstring(etree.tostring(assertion))
    relaxed = policy.trust_official_examples
    cert_text = (signature.findtext(f".//{_q(DS_NS, 'X509Certificate')}") or "").strip()
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(cert_text))
    except ValueError as exc:
        findings.append(_finding(
            "RELAXED.SIGNATURE" if relaxed and cert_text else "SIGNATURE",
            f"certificat de signature du VIHF absent ou illisible ({exc}) : signature non vérifiable",
            Severity.WARNING if relaxed and cert_text else Severity.ERROR,
        ))
        return True, ""
    subject = cert.subject.rfc4514_string()
    try:
        result = XMLVerifier().verify(
            standalone, ca_pem_file=str(policy.trusted_ca) if policy.trusted_ca else None,
            expect_config=_CONFIG, id_attribute="ID",
        )
        signed = result[0] if isinstance(result, list) else result
        if signed.signed_xml is None or signed.signed_xml.get("ID") != assertion.get("ID"):
            findings.append(_finding(
                "SIGNATURE", "la signature du VIHF ne couvre pas l'assertion elle-même (référence "
                "vers un autre élément : signature déplacée ?)",
            ))
            return True, subject
    except InvalidCertificate as exc:
        if not relaxed:
            findings.append(_finding(
                "CERTIFICATE",
                f"certificat de signature du VIHF refusé ({subject}) : non émis par l'autorité de "
                f"confiance du banc ou hors de sa période de validité — {exc}",
            ))
            return True, subject
        findings.append(_finding(
            "RELAXED.CERTIFICATE",
            f"option « exemples officiels » : certificat {subject} étranger à l'AC du banc "
            f"(fin de validité {cert.not_valid_after_utc:%Y-%m-%d}) accepté",
            Severity.WARNING,
        ))
        at = claims.issue_instant or cert.not_valid_before_utc
        try:
            XMLVerifier().verify(
                standalone, x509_cert=cert, id_attribute="ID",
                expect_config=dataclasses.replace(_CONFIG, verification_time=at),
            )
        except (InvalidSignature, InvalidInput, InvalidCertificate) as inner:
            findings.append(_finding(
                "RELAXED.SIGNATURE",
                "option « exemples officiels » : signature non vérifiable avec le certificat "
                f"inclus ({inner}) — les exemples ANS ont été reformatés après signature",
                Severity.WARNING,
            ))
    except (InvalidSignature, InvalidInput) as exc:
        findings.append(_finding(
            "SIGNATURE", f"signature du VIHF invalide (jeton altéré ou mal signé) : {exc}"
        ))
        return True, subject
    except (etree.DocumentInvalid, etree.XMLSyntaxError) as exc:
        # signxml validates the ds:Signature structure against the XML-DSig schema: foreign
        # content in it (an assertion wrapped in ds:Object, signature-wrapping attack) lands here
        findings.append(_finding(
            "SIGNATURE", "structure de la signature du VIHF non conforme à XML-DSig (contenu "
            f"étranger dans ds:Signature : signature enveloppante ?) : {exc}"
        ))
        return True, subject
    if not _dn_equal(claims.issuer, cert.subject):
        severity = Severity.WARNING if policy.trust_official_examples else Severity.ERROR
        findings.append(_finding(
            "ISSUER" if severity is Severity.ERROR else "RELAXED.ISSUER",
            f"Issuer du VIHF « {claims.issuer} » différent du DN du certificat de signature "
            f"« {subject} »",
            severity,
        ))
    return True, subject


def _check_validity(claims: VihfClaims, policy: VihfPolicy, now: dt.datetime, findings: list[Finding]) -> None:
    if claims.issue_instant is None:
        findings.append(_finding("VALIDITY", "IssueInstant absent ou mal formé (ISO 8601 UTC attendu)"))
        return
    problems = []
    if claims.issue_instant > now + policy.clock_skew:
        problems.append(f"émis dans le futur ({_iso(claims.issue_instant)})")
    if claims.not_before and now + policy.clock_skew < claims.not_before:
        problems.append(f"pas encore valide (NotBefore {_iso(claims.not_before)})")
    end = claims.not_on_or_after or claims.issue_instant + policy.max_age
    if now - policy.clock_skew >= end:
        problems.append(f"expiré depuis le {_iso(end)}")
    for problem in problems:
        if policy.trust_official_examples:
            findings.append(_finding(
                "RELAXED.VALIDITY", f"option « exemples officiels » : jeton {problem} accepté",
                Severity.WARNING,
            ))
        else:
            findings.append(_finding("VALIDITY", f"jeton VIHF {problem}"))


def _check_attributes(claims: VihfClaims, policy: VihfPolicy, findings: list[Finding]) -> None:
    names = {k.lower() for k in claims.attributes}
    for name in MANDATORY_ATTRIBUTES:
        if name.lower() not in names:
            findings.append(_finding("ATTRIBUTE", f"attribut obligatoire {name} absent du VIHF"))
    if claims.mode in SIGNED_MODES and ATTR_SUBJECT_ID.lower() not in names:
        findings.append(_finding(
            "ATTRIBUTE", f"attribut {ATTR_SUBJECT_ID} (nom de l'utilisateur) obligatoire en mode {claims.mode}"
        ))
    if not claims.subject_nameid:
        findings.append(_finding("SUBJECT", "Subject/NameID (identifiant de l'utilisateur) absent"))
    if claims.version and claims.version != "3.0":
        findings.append(_finding("VERSION", f"VIHF_Version {claims.version!r} : 3.0 attendu"))
    if claims.mode and claims.mode not in MODES:
        findings.append(_finding("MODE", f"Authentification_mode {claims.mode!r} inconnu ({', '.join(MODES)})"))
    elif claims.mode and claims.mode not in policy.allowed_modes:
        findings.append(_finding("MODE", f"mode d'authentification {claims.mode} non autorisé sur ce banc"))
    secteur = claims.attributes.get("Secteur_Activite", [""])
    for value in secteur:
        if not re.fullmatch(rf"SA\d{{2}}\^{re.escape(OID_SECTEUR_ACTIVITE)}", value):
            findings.append(_finding(
                "CODE", f"Secteur_Activite {value!r} : « SAxx^{OID_SECTEUR_ACTIVITE} » attendu"
            ))
    for role in claims.roles:
        if role.code_system not in ROLE_CODE_SYSTEMS:
            findings.append(_finding(
                "CODE", f"rôle {role.code!r} dans le système de codes {role.code_system!r} inconnu "
                f"(attendus : {', '.join(ROLE_CODE_SYSTEMS)})",
            ))
    if ATTR_ROLE.lower() in names and not any(r.code_system in (OID_PROFESSION, "1.2.250.1.213.1.1.4.6", "1.2.250.1.213.1.1.4.5") for r in claims.roles):
        findings.append(_finding("CODE", f"aucun rôle de profession ({OID_PROFESSION}) dans le VIHF"))
    purposes = [v for k, vs in claims.attributes.items() if k.lower() == ATTR_PURPOSE.lower() for v in vs]
    for value in purposes:
        code, _, system = value.partition("^")
        if system != OID_PURPOSE or code not in PURPOSES:
            findings.append(_finding(
                "CODE", f"purposeofuse {value!r} : code parmi {', '.join(PURPOSES)} du système {OID_PURPOSE} attendu"
            ))
    if claims.resource_urn and claims.resource_urn != "urn:dmp":
        findings.append(_finding("RESOURCE_URN", f"Ressource_URN {claims.resource_urn!r} : « urn:dmp » attendu"))
    raw_resource = [v for k, vs in claims.attributes.items() if k.lower() == ATTR_RESOURCE_ID.lower() for v in vs]
    if raw_resource and not claims.patient_ins:
        findings.append(_finding("RESOURCE_ID", f"resource-id {raw_resource[0]!r} : INS^^^&OID&ISO^NH attendu"))
    elif claims.patient_ins:
        for problem in check_ins(claims.patient_ins, claims.patient_oid):
            findings.append(_finding("RESOURCE_ID", f"resource-id : {problem}"))


JUDGED_AT: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("vihf_judged_at", default=None)
"""The instant a VIHF is judged at when the caller passes no `now`: unset, the current time. An
imported capture (`banc.capture`) sets it to the request's capture time, so a token that was
valid when the DUI sent it is not reported expired days later."""


def check_vihf(
    assertion: etree._Element | None,
    *,
    policy: VihfPolicy,
    expected_patient: tuple[str, str] | None = None,
    require_patient: bool = False,
    now: dt.datetime | None = None,
) -> VihfCheck:
    """Judge a VIHF assertion as the DMP does; `expected_patient` = (INS, OID) of the body."""
    if assertion is None:
        return VihfCheck(None, [_finding("MISSING", "jeton VIHF (saml2:Assertion dans wsse:Security) absent")])
    if assertion.tag != _q(SAML_NS, "Assertion"):
        return VihfCheck(None, [_finding("MISSING", f"élément {assertion.tag} : saml2:Assertion attendu")])
    now = now or JUDGED_AT.get() or dt.datetime.now(dt.UTC)
    claims = parse_vihf(assertion)
    findings: list[Finding] = []
    issuer = assertion.find(_q(SAML_NS, "Issuer"))
    if issuer is None or issuer.get("Format") != ISSUER_FORMAT:
        findings.append(_finding("ISSUER", f"Issuer absent ou sans Format={ISSUER_FORMAT}"))
    _check_attributes(claims, policy, findings)
    _check_validity(claims, policy, now, findings)
    signed, subject = _check_signature(assertion, claims, policy, now, findings)
    if require_patient and not claims.patient_ins:
        findings.append(_finding("RESOURCE_ID", "resource-id (INS du patient) obligatoire pour cette transaction"))
    if expected_patient and claims.patient_ins:
        ins, oid = expected_patient
        if (claims.patient_ins, claims.patient_oid) != (ins, oid):
            findings.append(_finding(
                "PATIENT_MISMATCH",
                f"resource-id du VIHF ({claims.patient_ins}, {INS_OIDS.get(claims.patient_oid, claims.patient_oid)}) "
                f"différent du patient de la requête ({ins}, {INS_OIDS.get(oid, oid)})",
            ))
    return VihfCheck(claims, findings, signed, subject, signer_certificate(assertion) if signed else b"")


def signer_certificate(assertion: etree._Element) -> bytes:
    """DER of the X509Certificate of the assertion's own ds:Signature (b"" if absent/unreadable)."""
    text = assertion.findtext(f"{_q(DS_NS, 'Signature')}//{_q(DS_NS, 'X509Certificate')}") or ""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        return b""
