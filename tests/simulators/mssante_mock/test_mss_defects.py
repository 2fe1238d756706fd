"""The table of defective health messages: each one is flagged by the rule that names its
defect (pure checks, no server). The compliant message next to them has no error."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from mss_samples import DUI, GP, make_cda, make_ins, set_header

from banc.identity import PATIENT_MAIL_DOMAIN
from banc.mail.compose import HealthMessage
from banc.mail.health import check_health_message
from banc.mail.message import parse_mail
from banc.requirements import catalogue
from banc.xdm import XdmDocument, build_xdm, build_xdm_for_cda
from banc.xds import derive_submission
from banc.xml import parse_untrusted

INS_A = make_ins(1)
INS_B = make_ins(2)
PATIENT_A = f"{INS_A}@{PATIENT_MAIL_DOMAIN}"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def message(pdf: bytes | None, **options) -> bytes:
    options.setdefault("cda", make_cda(INS_A))
    return HealthMessage(sender=DUI, recipients=options.pop("recipients", [GP]), pdf=pdf,
                         **options).build()


def two_patients(pdf: bytes) -> bytes:
    msg = HealthMessage(sender=DUI, recipients=[GP], cda=make_cda(INS_A), pdf=pdf).build()
    # a second archive for another patient, as a second attachment
    parsed = parse_mail(msg)
    parsed.message.add_attachment(build_xdm_for_cda(make_cda(INS_B, family="MARTIN")),
                                  maintype="application", subtype="zip", filename="IHE_XDM_2.ZIP")
    return parsed.message.as_bytes()


def metadata_of_other_patient(pdf: bytes) -> bytes:
    cda_a, cda_b = make_cda(INS_A), make_cda(INS_B, family="MARTIN")
    submission = derive_submission(parse_untrusted(cda_b), document_bytes=cda_b, uri="DOC0001.XML")
    archive = build_xdm(submission, [XdmDocument("DOC0001.XML", cda_a)])
    return message(pdf, xdm=archive)


def no_metadata(pdf: bytes) -> bytes:
    archive = _zip({"INDEX.HTM": b"<html/>", "README.TXT": b"x",
                    "IHE_XDM/SUBSET01/DOC0001.XML": make_cda(INS_A)})
    return message(pdf, xdm=archive)


def entity_metadata(pdf: bytes) -> bytes:
    evil = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<r>&e;</r>")
    archive = _zip({"INDEX.HTM": b"<html/>", "README.TXT": b"x",
                    "IHE_XDM/SUBSET01/METADATA.XML": evil,
                    "IHE_XDM/SUBSET01/DOC0001.XML": make_cda(INS_A)})
    return message(pdf, xdm=archive)


def traversal(pdf: bytes) -> bytes:
    archive = _zip({"INDEX.HTM": b"<html/>", "../../etc/cron.d/evil": b"* * * * * root sh"})
    return message(pdf, xdm=archive)


def bomb(pdf: bytes) -> bytes:
    archive = _zip({"INDEX.HTM": b"<html/>", "IHE_XDM/SUBSET01/DOC0001.XML": b"\0" * 20_000_000})
    return message(pdf, xdm=archive)


def broken_mime(pdf: bytes) -> bytes:
    raw = message(pdf)
    boundary_line = raw.rsplit(b"\n--", 1)
    return boundary_line[0] + b"\n"  # closing boundary cut off


def latin1_text(pdf: bytes) -> bytes:
    raw = message(pdf, body="Lettre de liaison accentuée\n")
    parsed = parse_mail(raw)
    text = next(p for p in parsed.message.walk() if p.get_content_type() == "text/plain")
    text.set_content("Lettre accentuée".encode("latin-1"), maintype="text", subtype="plain",
                     cte="8bit", params={"charset": "iso-8859-1"})
    return parsed.message.as_bytes()


def cda_without_xdm(pdf: bytes) -> bytes:
    parsed = parse_mail(HealthMessage(sender=DUI, recipients=[GP], pdf=pdf).build())
    parsed.message.add_attachment(make_cda(INS_A), maintype="text", subtype="xml",
                                  filename="DOC0001.XML")
    return parsed.message.as_bytes()


Builder = Callable[[bytes], bytes]

DEFECTS: list[tuple[str, Builder, list[str], str]] = [
    # (defect, builder, envelope recipients, expected rule)
    ("X-MSS-NIL absent", lambda p: message(p, nil=None), [GP], "MSS.X_MSS_NIL.MISSING"),
    ("X-MSS-CODECDA absent", lambda p: set_header(message(p), "X-MSS-CODECDA", None), [GP],
     "MSS.X_MSS_CODECDA.MISSING"),
    ("X-MSS-CODECDA faux", lambda p: set_header(message(p), "X-MSS-CODECDA", "34112-3"), [GP],
     "MSS.X_MSS_CODECDA.MISMATCH"),
    ("X-MSS-INS absent", lambda p: set_header(message(p), "X-MSS-INS", None), [GP],
     "MSS.X_MSS_INS.MISSING"),
    ("X-MSS-INS: N avec INS qualifié", lambda p: set_header(message(p), "X-MSS-INS", "N"), [GP],
     "MSS.X_MSS_INS.INCONSISTENT"),
    ("X-MSS-INS hors valeurs", lambda p: set_header(message(p), "X-MSS-INS", "OUI"), [GP],
     "MSS.X_MSS_INS.VALUE"),
    ("X-MSS-MES invalide", lambda p: set_header(message(p, recipients=[PATIENT_A]), "X-MSS-MES", "NON"),
     [PATIENT_A], "MSS.X_MSS_MES.VALUE"),
    ("Message-ID absent", lambda p: set_header(message(p), "Message-ID", None), [GP],
     "MSS.HEADER.MESSAGE_ID"),
    ("Message-ID mal formé", lambda p: set_header(message(p), "Message-ID", "12345"), [GP],
     "MSS.HEADER.MESSAGE_ID"),
    ("In-Reply-To mal formé", lambda p: set_header(message(p), "In-Reply-To", "réponse"), [GP],
     "MSS.HEADER.REFERENCES"),
    ("Date absente", lambda p: set_header(message(p), "Date", None), [GP], "MSS.HEADER.DATE"),
    ("en-tête 8 bits brut", lambda p: set_header(message(p), "Subject", "Lettre é".encode()), [GP],
     "MSS.HEADER.8BIT"),
    ("MIME tronqué", broken_mime, [GP], "MSS.MIME.DEFECT"),
    ("texte en ISO-8859-1", latin1_text, [GP], "MSS.TEXT.CHARSET"),
    ("CDA joint sans archive XDM", cda_without_xdm, [GP], "MSS.XDM.MISSING"),
    ("zip avec remontée de répertoire", traversal, [GP], "MSS.XDM.PATH_TRAVERSAL"),
    ("bombe zip", bomb, [GP], "MSS.XDM.ZIP_BOMB"),
    ("XDM sans METADATA.XML", no_metadata, [GP], "XDM-LAYOUT"),
    ("METADATA.XML avec entité externe", entity_metadata, [GP], "XDM-METADATA-XML"),
    ("deux patients dans un message", two_patients, [GP], "MSS.PATIENT.SEVERAL"),
    ("INS des métadonnées ≠ INS du CDA", metadata_of_other_patient, [GP], "MSS.PATIENT.METADATA_CDA"),
    ("PDF absent pour le patient", lambda p: message(None, recipients=[PATIENT_A]), [PATIENT_A],
     "MSS.PDF.MISSING"),
    ("PDF non PDF/A", lambda p: message(b"%PDF-1.4\n%%EOF\n"), [GP], "MSS.PDF.NOT_PDFA"),
    ("document d'un autre patient vers Mon espace santé",
     lambda p: message(p, cda=make_cda(INS_B), recipients=[PATIENT_A]), [PATIENT_A],
     "MSS.PATIENT.MAILBOX_MISMATCH"),
    ("document sans INS vers Mon espace santé",
     lambda p: message(p, cda=make_cda(None), recipients=[PATIENT_A]), [PATIENT_A],
     "MSS.PATIENT.NOT_QUALIFIED"),
    ("objet hors convention", lambda p: message(p, subject="Courrier"), [GP], "MSS.SUBJECT.CONVENTION"),
]


def test_table_is_large_enough() -> None:
    assert len(DEFECTS) >= 15
    assert len({rule for *_, rule in DEFECTS}) >= 15


def test_compliant_message_has_no_error(pdfa_bytes: bytes) -> None:
    findings = check_health_message(parse_mail(message(pdfa_bytes)), [GP])
    assert [f for f in findings if f.is_error] == []


@pytest.mark.parametrize(("defect", "build", "recipients", "rule"), DEFECTS,
                         ids=[d[0] for d in DEFECTS])
def test_defect_is_flagged(defect: str, build: Builder, recipients: list[str], rule: str,
                           pdfa_bytes: bytes) -> None:
    findings = check_health_message(parse_mail(build(pdfa_bytes)), recipients)
    flagged = {f.rule_id for f in findings}
    assert rule in flagged, f"{defect}: {sorted(flagged)}"
    hit = next(f for f in findings if f.rule_id == rule)
    assert hit.message and hit.ruleset
    # every content finding cites the requirement it serves, from the catalogue (item 8)
    assert all(f.requirements and set(f.requirements) <= set(catalogue()) for f in findings), \
        [f.rule_id for f in findings if not f.requirements]


def test_replacement_findings_cite_annule_et_remplace(pdfa_bytes: bytes) -> None:
    raw = message(pdfa_bytes, cda=make_cda(INS_A, doc_id="R-2", set_id="R", version=2, replaces="R-1"),
                  nil=None)
    findings = check_health_message(parse_mail(raw), [GP])
    nil = next(f for f in findings if f.rule_id == "MSS.X_MSS_NIL.MISSING")
    assert nil.requirements == ("SC.MSS.17.MS1", "SC.MSS.20.MS1")
