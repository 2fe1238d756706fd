"""Checks of a health message sent through MSSanté: what the Ségur rules and the MSSanté client
referential ask of the mail itself (RFC 5322 structure, UTF-8, `X-MSS-*` headers, subject
convention, one patient per message, IHE XDM archive and PDF/A copy of the document).

Pure functions: `inspect_message` reads the facts (XDM archives, CDA headers, PDFs) once;
`check_health_message` turns facts + mail into findings. The XDM layout, the ebRIM metadata
and the CDA itself are judged by their own modules (`banc.xdm`, `banc.xds`, `banc.cda`), whose
findings are included unchanged so each names its own rule.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any

from banc.identity import INS_OIDS, PATIENT_MAIL_DOMAIN
from banc.mail.message import Attachment, ParsedMail
from banc.verdict import Finding, RuleSet, Severity, Verdict

RULESET = "mssante"
RULES = RuleSet(RULESET, "MSS")
REQ_PRO = "SC.MSS.17.MS1"
REQ_PATIENT = "SC.MSS.18.MS1"
REQ_REPLACEMENT = "SC.MSS.20.MS1"
XDM_NAME = re.compile(r"(^|/)IHE_XDM\.ZIP$", re.IGNORECASE)
SUBJECT_CONVENTION = re.compile(r"^XDM/1\.0/DDM\+\S")
_LONG_LINE = re.compile(rb"[^\n]{999,}")
_MSG_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_MSG_IDS = re.compile(r"^(\s*<[^<>@\s]+@[^<>@\s]+>\s*)+$")

CdaValidator = Callable[..., Verdict]
"""`banc.cda.validate_root(root, subject=…)` or a stand-in: validates one parsed CDA."""


@dataclass
class DocumentFacts:
    """One CDA document found in an XDM archive of the message."""

    source: str
    root: Any
    code: str = ""
    title: str = ""
    ins: str | None = None
    ins_oid: str | None = None
    family: str = ""
    given: str = ""
    birth_time: str = ""
    sex: str = ""
    metadata_patient: str | None = None  # INS of METADATA.XML for this document
    document_id: str = ""  # `root^extension` of the CDA id
    set_id: str = ""
    version: str = ""
    replaces: tuple[str, ...] = ()  # ids of the documents this version replaces (RPLC)
    author_organisations: tuple[str, ...] = ()

    @property
    def traits_complete(self) -> bool:
        return all((self.family, self.given, self.birth_time, self.sex))


@dataclass
class HealthFacts:
    xdm: list[Attachment] = field(default_factory=list)
    documents: list[DocumentFacts] = field(default_factory=list)
    metadata_patients: set[str] = field(default_factory=set)
    pdfs: list[Attachment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # from reading the archives

    @property
    def patients(self) -> set[str]:
        """Every INS the message speaks of (metadata and CDA headers)."""
        return self.metadata_patients | {d.ins for d in self.documents if d.ins}


def finding(
    rule: str, message: str, location: str = "", *, requirements: tuple[str, ...] = (),
    severity: Severity = Severity.ERROR,
) -> Finding:
    """A finding of the `mssante` rule set; `check_health_message` cites the message's
    requirements for those given none here."""
    return RULES.finding(rule, message, severity=severity, location=location,
                         requirements=requirements)


def message_requirements(recipients: list[str]) -> tuple[str, ...]:
    """The requirements a message to `recipients` serves: sending to professionals through
    MSSanté (SC.MSS.17.MS1), to the usager's Mon espace santé mailbox (SC.MSS.18.MS1)."""
    patient = any(r.lower().endswith("@" + PATIENT_MAIL_DOMAIN) for r in recipients)
    professional = any(not r.lower().endswith("@" + PATIENT_MAIL_DOMAIN) for r in recipients)
    return tuple(r for r, wanted in ((REQ_PRO, professional or not patient), (REQ_PATIENT, patient))
                 if wanted)


# -- facts ------------------------------------------------------------------------------------

def inspect_message(parsed: ParsedMail) -> HealthFacts:
    """Read the XDM archives, their CDA documents and the PDFs of a message."""
    from banc.mail import xdm_facts

    facts = HealthFacts()
    for attachment in parsed.attachments:
        name = attachment.filename
        if XDM_NAME.search(name) or (attachment.content_type == "application/zip"
                                     and name.upper().endswith(".ZIP")):
            facts.xdm.append(attachment)
            xdm_facts.read_archive(attachment, facts)
        elif name.lower().endswith(".pdf") or attachment.content_type == "application/pdf":
            facts.pdfs.append(attachment)
    return facts


# -- checks -----------------------------------------------------------------------------------

def check_health_message(
    parsed: ParsedMail,
    recipients: list[str],
    facts: HealthFacts | None = None,
    *,
    validate_cda: CdaValidator | None = None,
    smtputf8: bool = False,
) -> list[Finding]:
    """Every finding about a message the DUI sent to `recipients` (envelope addresses).

    Each finding cites the requirement it serves: the rules of this module say which, and
    those that do not (structure, X-MSS-*, and the XDM/XDS/CDA modules' own findings when
    they cite none) serve the transmission the message performs (`message_requirements`)."""
    facts = facts if facts is not None else inspect_message(parsed)
    reqs = message_requirements(recipients)
    if any(d.replaces for d in facts.documents):  # « annule et remplace »
        reqs += (REQ_REPLACEMENT,)
    found: list[Finding] = []
    found += check_structure(parsed, smtputf8=smtputf8)
    found += check_x_mss(parsed, facts, recipients)
    found += check_documents(parsed, facts, recipients, reqs)
    found += facts.findings
    if validate_cda is not None:
        for doc in facts.documents:
            if doc.root is None:
                continue
            verdict = validate_cda(doc.root, subject=doc.source)
            found += verdict.findings
            # rule sets that could not run are never counted as passed: say so in the verdict
            found += [finding("CDA.NOT_EVALUATED", f"{doc.source} : {n.ruleset} non évalué ({n.reason})",
                              doc.source, severity=Severity.WARNING) for n in verdict.not_evaluated]
    return [f if f.requirements else replace(f, requirements=reqs) for f in found]


def check_structure(parsed: ParsedMail, *, smtputf8: bool = False) -> list[Finding]:
    """RFC 5322 / MIME structure: defects, 8-bit headers, identifiers, date, sender, UTF-8."""
    found = [finding("MIME.DEFECT", f"structure MIME défectueuse : {d}", "MIME")
             for d in dict.fromkeys(parsed.defects)]
    found += [finding("MIME.LIMIT", f"message hors des limites d'analyse du serveur : {reason}", "MIME")
              for reason in dict.fromkeys(parsed.limits)]
    if not smtputf8 and any(b > 0x7F for b in parsed.header_block):
        line = next(
            (ln for ln in parsed.header_block.split(b"\n") if any(b > 0x7F for b in ln)), b""
        )
        name = line.split(b":", 1)[0].decode("ascii", "replace")
        found.append(finding(
            "HEADER.8BIT",
            f"octets non ASCII bruts dans l'en-tête {name} : encoder selon la RFC 2047 (=?utf-8?…?=)",
            name,
        ))
    if parsed.raw.count(b"\n") != parsed.raw.count(b"\r\n"):
        found.append(finding("MIME.BARE_LF", "fins de ligne LF seules : CRLF obligatoire (RFC 5322 §2.1)", "message"))
    # only the long runs are measured: splitting 60 MB of bare LF would allocate 60 M objects
    longest = max((m.end() - m.start() - (parsed.raw[m.end() - 1] == 0x0D)
                   for m in _LONG_LINE.finditer(parsed.raw)), default=0)
    if longest > 998:
        found.append(finding("MIME.LINE_LENGTH", f"ligne de {longest} caractères : 998 au plus (RFC 5322 §2.1.1)", "message"))
    message_id = parsed.header("Message-ID")
    if not message_id:
        found.append(finding("HEADER.MESSAGE_ID", "en-tête Message-ID absent (RFC 5322 §3.6.4)", "Message-ID"))
    elif not _MSG_ID.match(message_id):
        found.append(finding("HEADER.MESSAGE_ID", f"Message-ID {message_id!r} mal formé (attendu <partie-gauche@domaine>)", "Message-ID"))
    for name in ("In-Reply-To", "References"):
        value = parsed.header(name)
        if value is not None and not _MSG_IDS.match(value):
            found.append(finding("HEADER.REFERENCES", f"{name} {value!r} n'est pas une liste d'identifiants <…@…> (RFC 5322)", name))
    date = parsed.header("Date")
    try:
        valid_date = bool(date) and parsedate_to_datetime(date) is not None
    except (TypeError, ValueError, IndexError):
        valid_date = False
    if not valid_date:
        found.append(finding("HEADER.DATE", f"en-tête Date absent ou illisible : {date!r} (RFC 5322 §3.3)", "Date"))
    if len(parsed.addresses("From")) != 1:
        found.append(finding("HEADER.FROM", "en-tête From absent ou sans adresse unique (RFC 5322 §3.6.2)", "From"))
    for content_type, charset, payload in parsed.texts:
        declared = (charset or "us-ascii").lower()
        if declared not in ("utf-8", "utf8", "us-ascii"):
            found.append(finding("TEXT.CHARSET", f"partie {content_type} en {declared} : UTF-8 attendu", content_type))
            continue
        try:
            payload.decode("utf-8" if declared != "us-ascii" else "ascii")
        except UnicodeDecodeError:
            found.append(finding("TEXT.CHARSET", f"partie {content_type} : octets invalides pour le jeu {declared} déclaré", content_type))
    return found


def check_x_mss(parsed: ParsedMail, facts: HealthFacts, recipients: list[str]) -> list[Finding]:
    """`X-MSS-CODECDA`, `X-MSS-INS`, `X-MSS-NIL`, `X-MSS-MES` (référentiel socle MSSanté #2)."""
    found: list[Finding] = []
    documents = facts.documents
    if not parsed.header("X-MSS-NIL"):
        found.append(finding("X_MSS_NIL.MISSING", "en-tête X-MSS-NIL absent : la référence produit du logiciel (ECO.2.4.3) doit accompagner tout message", "X-MSS-NIL"))
    codecda = parsed.header("X-MSS-CODECDA")
    if documents:
        expected = [d.code for d in documents if d.code]
        if codecda is None:
            found.append(finding("X_MSS_CODECDA.MISSING", f"en-tête X-MSS-CODECDA absent alors que le message porte un CDA (attendu : {','.join(expected)}) (ECO.2.4.1)", "X-MSS-CODECDA"))
        else:
            given = [c.strip() for c in codecda.split(",") if c.strip()]
            if sorted(given) != sorted(expected):
                found.append(finding("X_MSS_CODECDA.MISMATCH", f"X-MSS-CODECDA {codecda!r} ne correspond pas aux codes des documents CDA ({','.join(expected)}) (ECO.2.4.1)", "X-MSS-CODECDA"))
    elif codecda is not None:
        found.append(finding("X_MSS_CODECDA.UNEXPECTED", "X-MSS-CODECDA présent sans document CDA dans une archive IHE_XDM (ECO.2.4.1)", "X-MSS-CODECDA", severity=Severity.WARNING))
    ins_header = parsed.header("X-MSS-INS")
    if documents:
        qualified = all(d.ins and d.ins_oid in INS_OIDS and d.traits_complete for d in documents)
        if ins_header is None:
            found.append(finding("X_MSS_INS.MISSING", f"en-tête X-MSS-INS absent alors que le message porte un CDA (attendu : {'O' if qualified else 'N'}) (ECO.2.4.2)", "X-MSS-INS"))
        elif ins_header not in ("O", "N"):
            found.append(finding("X_MSS_INS.VALUE", f"X-MSS-INS {ins_header!r} : valeurs admises O ou N (ECO.2.4.2)", "X-MSS-INS"))
        elif (ins_header == "O") != qualified:
            why = ("les documents portent un INS avec son OID et les traits complets"
                   if qualified else "au moins un document ne porte pas d'INS qualifié (INS, OID et 4 traits)")
            found.append(finding("X_MSS_INS.INCONSISTENT", f"X-MSS-INS: {ins_header} alors que {why} (ECO.2.4.2)", "X-MSS-INS"))
    mes = parsed.header("X-MSS-MES")
    if mes is not None:
        if mes.upper() != "FIN":
            found.append(finding("X_MSS_MES.VALUE", f"X-MSS-MES {mes!r} : seule la valeur FIN est définie (ECO.2.2.8)", "X-MSS-MES"))
        if not any(r.lower().endswith("@" + PATIENT_MAIL_DOMAIN) for r in recipients):
            found.append(finding("X_MSS_MES.NOT_PATIENT", "X-MSS-MES ne concerne que les messages adressés à la messagerie de Mon espace santé", "X-MSS-MES", severity=Severity.WARNING))
    return found


def check_documents(
    parsed: ParsedMail, facts: HealthFacts, recipients: list[str], reqs: tuple[str, ...]
) -> list[Finding]:
    """XDM presence, one patient per message, INS agreement, PDF/A copy, subject convention."""
    found: list[Finding] = []
    carries_document = bool(facts.xdm or facts.pdfs) or any(
        a.filename.lower().endswith(".xml") for a in parsed.attachments
    )
    to_patient = [r for r in recipients if r.lower().endswith("@" + PATIENT_MAIL_DOMAIN)]
    if carries_document and not facts.xdm:
        found.append(finding("XDM.MISSING", "document joint sans archive IHE_XDM.ZIP : un document de santé se transmet dans une archive IHE XDM", "pièces jointes", requirements=reqs))
    if len(facts.xdm) > 1:
        found.append(finding("XDM.SEVERAL", f"{len(facts.xdm)} archives XDM dans un même message", "pièces jointes", requirements=reqs, severity=Severity.WARNING))
    patients = facts.patients
    if len(patients) > 1:
        found.append(finding("PATIENT.SEVERAL", f"le message concerne plusieurs patients ({', '.join(sorted(patients))}) : un seul patient par message", "IHE_XDM.ZIP", requirements=reqs))
    for doc in facts.documents:
        if doc.metadata_patient and doc.ins and doc.metadata_patient != doc.ins:
            found.append(finding("PATIENT.METADATA_CDA", f"INS {doc.metadata_patient} de METADATA.XML différent de l'INS {doc.ins} du CDA {doc.source}", doc.source, requirements=reqs))
    for address in to_patient:
        ins = address.split("@", 1)[0].upper()
        if facts.documents and patients and ins not in patients:
            found.append(finding("PATIENT.MAILBOX_MISMATCH", f"document du patient {', '.join(sorted(patients))} adressé à la messagerie d'un autre patient ({address})", address, requirements=(REQ_PATIENT,)))
        if facts.documents and not all(d.ins and d.ins_oid in INS_OIDS and d.traits_complete for d in facts.documents):
            found.append(finding("PATIENT.NOT_QUALIFIED", "envoi à la messagerie de Mon espace santé d'un document sans INS qualifié", address, requirements=(REQ_PATIENT,)))
    if facts.documents and not facts.pdfs:
        severity = Severity.ERROR if to_patient else Severity.WARNING
        found.append(finding("PDF.MISSING", "aucune copie PDF du document jointe au message (PDF/A-1 attendu avec le CDA)", "pièces jointes", requirements=reqs, severity=severity))
    for pdf in facts.pdfs:
        part = pdfa_part(pdf.payload)
        if part is None:
            found.append(finding("PDF.NOT_PDFA", f"{pdf.filename or 'pièce PDF'} n'est pas déclaré PDF/A (pas d'identification pdfaid dans les métadonnées XMP)", pdf.filename, requirements=reqs))
    subject = parsed.header("Subject") or ""
    if facts.documents:
        if not SUBJECT_CONVENTION.match(subject):
            found.append(finding("SUBJECT.CONVENTION", f"objet {subject!r} : convention « XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance> » attendue", "Subject", requirements=reqs, severity=Severity.WARNING))
        else:
            families = {d.family.upper() for d in facts.documents if d.family}
            if families and not any(f in subject.upper() for f in families):
                found.append(finding("SUBJECT.PATIENT", f"l'objet ne nomme pas le patient du document ({', '.join(sorted(families))})", "Subject", requirements=reqs, severity=Severity.WARNING))
    return found


def pdfa_part(payload: bytes) -> str | None:
    """The PDF/A part declared in the XMP metadata (e.g. '1'), None when absent or unreadable."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(payload)) as pdf:
            meta = pdf.open_metadata()
            return meta.get("pdfaid:part")
    except (pikepdf.PdfError, ValueError, OSError, KeyError):
        return None
