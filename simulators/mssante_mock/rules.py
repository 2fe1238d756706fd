"""Pure checks of the MSSanté mock: the health-message rules of `banc.mail.health` applied to
what the DUI submits, and the simulated recipient's integration decision (MDN codes 900–906).

No network, no state changes: the store is only read (which patients a recipient knows)."""

from __future__ import annotations

import re
from dataclasses import replace

from banc.identity import PATIENT_MAIL_DOMAIN
from banc.mail.health import (
    RULES,
    CdaValidator,
    HealthFacts,
    check_health_message,
    check_structure,
    inspect_message,
    message_requirements,
)
from banc.mail.message import ParsedMail
from banc.mail.reports import MdnReport, read_mdn
from banc.verdict import Finding
from simulators.mssante_mock import presentation
from simulators.mssante_mock.auth import CHANNEL_REQUIREMENTS
from simulators.mssante_mock.auth import RULES as AUTH_RULES
from simulators.mssante_mock.models import MailboxRecord, MailStore


def check_submission(
    parsed: ParsedMail,
    recipients: list[str],
    facts: HealthFacts,
    *,
    validate_cda: CdaValidator | None = None,
    smtputf8: bool = False,
) -> list[Finding]:
    """Every finding about a message submitted by the DUI."""
    return [*check_health_message(parsed, recipients, facts, validate_cda=validate_cda, smtputf8=smtputf8),
            *presentation.check_self_presenting(facts)]


REQ_RECEIPT = ("SC.MSS.26.MS1",)
"""A read receipt is the receiving DUI's word that it integrated the incoming message (the
worklist of SC.MSS.26.MS1 is where it went): the closest requirement of the DSR catalogue."""
_DISPOSITION = re.compile(r"^(manual|automatic)-action/MDN-sent-(manually|automatically);\s*"
                          r"(displayed|deleted|dispatched|processed)(/error\b.*)?$", re.IGNORECASE | re.DOTALL)


def receipt(parsed: ParsedMail) -> MdnReport | None:
    """The read receipt (MDN, RFC 8098) a DUI sends, None when the message is not one."""
    if not (parsed.header("Content-Type") or "").lower().startswith("multipart/report"):
        return None
    return read_mdn(parsed.raw)


def check_receipt(parsed: ParsedMail, report: MdnReport, *, smtputf8: bool = False) -> list[Finding]:
    """An MDN is judged as a report, not as a health message (the original it embeds carries
    the documents): its structure, the message it answers and a valid disposition."""
    found = check_structure(parsed, smtputf8=smtputf8)
    if not report.original_message_id:
        found.append(RULES.error("MDN.ORIGINAL_MESSAGE_ID", "accusé de lecture sans Original-Message-ID : "
                                 "le message accusé n'est pas identifiable (RFC 8098 §3.2.5)", location="MDN"))
    if not _DISPOSITION.match(report.disposition.strip()):
        found.append(RULES.error("MDN.DISPOSITION", f"Disposition {report.disposition!r} invalide "
                                 "(RFC 8098 §3.2.6 : action/envoi; processed, displayed…)", location="MDN"))
    return [f if f.requirements else replace(f, requirements=REQ_RECEIPT) for f in found]


def inspect(parsed: ParsedMail) -> HealthFacts:
    return inspect_message(parsed)


def inspect_safely(parsed: ParsedMail) -> HealthFacts | None:
    """The facts a simulated recipient reads to file a message; None (nothing filed, no MDN)
    when the content breaks the reader."""
    try:
        return inspect_message(parsed)
    except Exception:  # an unreadable message is simply not integrated
        return None


def check_aborted(exc: Exception, recipients: list[str]) -> Finding:
    """The content checks broke on this message: the verdict must not pass it."""
    return RULES.error("CHECK.ABORTED",
                       f"contrôle du contenu interrompu ({type(exc).__name__} : {str(exc)[:200]}) : "
                       "le message n'a pas pu être vérifié",
                       location="message", requirements=message_requirements(recipients))


MAILBOX_LIMIT_BYTES = 25 * 1024 * 1024
"""Messages above 25 MB are refused by MSSanté mailboxes (DOMAIN.md §6)."""


def delivery_refusal(address: str, record: MailboxRecord | None, size: int) -> Finding | None:
    """Why a recipient cannot take the message (None when it can): a warning on the sender's
    verdict, a bounce (DSN) on the wire."""
    def warn(rule: str, message: str) -> Finding:
        return RULES.warning(f"DELIVERY.{rule}", message, location=address,
                             requirements=message_requirements([address]))

    if record is None:
        return warn("UNKNOWN", f"{address} : boîte aux lettres inconnue de l'annuaire MSSanté")
    if not record.is_open:
        return warn("CLOSED", f"{address} : boîte aux lettres fermée (messagerie désactivée)")
    if size > MAILBOX_LIMIT_BYTES:
        return warn("TOO_LARGE", f"{address} : message de {size / 1_048_576:.1f} Mo, au-delà de 25 Mo")
    return None


def sender_refusal(mail_from: str, authenticated: str) -> Finding | None:
    """MAIL FROM must be the mailbox the session authenticated for."""
    if not mail_from or mail_from.lower() == authenticated:
        return None
    return AUTH_RULES.error("SENDER", f"expéditeur {mail_from} différent de la boîte authentifiée {authenticated}",
                            location="MAIL FROM", requirements=CHANNEL_REQUIREMENTS["smtp"])


def receipt_address(parsed: ParsedMail) -> str | None:
    """Where the sender wants the MDN (`Disposition-Notification-To`), if anywhere."""
    found = parsed.addresses("Disposition-Notification-To")
    return found[0] if found else None


def integration_outcome(
    facts: HealthFacts, store: MailStore, recipient: str = ""
) -> tuple[int | None, str]:
    """What the simulated recipient's software answers after trying to file the document:
    (None, reason) when integrated, else (code 900–906, reason) as in the ANS IG table."""
    if not facts.xdm:
        return None, "message sans archive IHE_XDM : lu, rien à intégrer"
    if not facts.documents:
        return 906, "archive IHE_XDM illisible ou sans document CDA"
    patients = facts.patients
    if len(patients) > 1:
        return 906, f"plusieurs patients dans le message ({', '.join(sorted(patients))})"
    for doc in facts.documents:
        if not doc.ins:
            return 903, f"{doc.source} ne porte pas d'INS"
        if not doc.traits_complete:
            return 905, f"{doc.source} : INS sans les 4 traits (nom de naissance, prénom, date de naissance, sexe)"
        if doc.metadata_patient and doc.metadata_patient != doc.ins:
            return 904, f"INS de METADATA.XML {doc.metadata_patient} ≠ INS du CDA {doc.ins}"
        known = store.patient(doc.ins)
        if known is None:
            return 902, f"patient {doc.ins} inconnu du destinataire"
        mismatched = [
            name for name, ours, theirs in (
                ("nom de naissance", known.family, doc.family),
                ("prénom", known.given, doc.given),
                ("date de naissance", known.birth_date, doc.birth_time[:8]),
                ("sexe", known.sex, doc.sex),
            ) if ours.upper() != theirs.upper()
        ]
        if mismatched or known.oid != doc.ins_oid:
            return 904, f"traits du CDA différents de ceux du destinataire : {', '.join(mismatched) or 'OID'}"
        for replaced in doc.replaces:
            latest = store.latest_filed(recipient, doc.set_id)
            if latest is None or latest.document_id != replaced:
                held = latest.document_id if latest else "aucune"
                return 900, f"{doc.source} remplace {replaced}, version détenue : {held}"
            if not set(latest.author_organisations) & set(doc.author_organisations):
                return 901, f"{doc.source} : l'auteur n'appartient pas à la structure auteur du document remplacé"
    return None, "document intégré"


def _normalised(facts: HealthFacts) -> dict:
    """The journal's normalised fields (`banc.journal.SUMMARY_FIELDS`) a message fills: its
    patient and first document, when there is one of each."""
    fields: dict = {}
    if len(facts.patients) == 1:
        fields["patient_ins"] = next(iter(facts.patients))
        oid = next((d.ins_oid for d in facts.documents if d.ins_oid), None)
        if oid:
            fields["patient_oid"] = oid
    if facts.documents:
        fields["document_unique_id"] = facts.documents[0].document_id
        fields["set_id"] = facts.documents[0].set_id
    return fields


def summarise(parsed: ParsedMail, sender: str, recipients: list[str], facts: HealthFacts | None,
              report: MdnReport | None = None) -> dict:
    """The small JSON summary the journal keeps beside the raw message (an MDN: the message it
    acknowledges and its disposition)."""
    summary = {
        "from": sender,
        "to": recipients,
        "subject": parsed.header("Subject") or "",
        "message_id": parsed.header("Message-ID") or "",
        "size": len(parsed.raw),
        "patient_mailbox": any(r.endswith("@" + PATIENT_MAIL_DOMAIN) for r in recipients),
    }
    if report is not None:
        summary.update(mdn=True, mdn_original_message_id=report.original_message_id,
                       mdn_disposition=report.disposition, mdn_error_code=report.error_code)
    if facts is not None:
        summary.update(_normalised(facts))
        summary["patients"] = sorted(facts.patients)
        summary["documents"] = [{"source": d.source, "code": d.code, "ins": d.ins} for d in facts.documents]
        summary["pdfs"] = [p.filename for p in facts.pdfs]
    return summary
