"""Build health messages the MSSanté way: an IHE_XDM.ZIP with the CDA, its PDF copy, the
`X-MSS-*` headers and the subject convention — for the simulated correspondents, the CLI and the
tests (which then break one thing at a time to get each defective variant)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, localtime

from banc.xds.derive import header_facts
from banc.xml import parse_untrusted

DEFAULT_NIL = "BANC-SEGUR-0001"
"""X-MSS-NIL of the bench's own simulated software (a real one comes from convergence.esante.gouv.fr)."""


@dataclass
class HealthMessage:
    """What goes into one message; `build()` gives the RFC 5322 bytes."""

    sender: str
    recipients: list[str]
    cda: bytes | None = None
    pdf: bytes | None = None
    pdf_name: str = "document.pdf"
    xdm: bytes | None = None  # a prepared archive (else built from `cda`)
    subject: str | None = None
    body: str = "Bonjour,\n\nVeuillez trouver ci-joint le document.\n\nCordialement.\n"
    nil: str | None = DEFAULT_NIL
    notify_to: str | None = None  # Disposition-Notification-To (MDN request)
    no_reply: bool = False  # X-MSS-MES: FIN
    extra_headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    omit_headers: tuple[str, ...] = ()  # headers removed after building (broken variants)

    def facts(self) -> dict[str, str]:
        """Code, title and patient traits read from the CDA header ('' when no CDA)."""
        if self.cda is None:
            return {}
        facts = header_facts(parse_untrusted(self.cda))
        birth = facts.birth_time[:8]
        return {
            "code": facts.type_code.code if facts.type_code else "",
            "title": facts.title,
            "family": facts.patient_family,
            "given": facts.patient_given,
            "birth": f"{birth[6:8]}/{birth[4:6]}/{birth[:4]}" if len(birth) == 8 else "",
            "qualified": "O" if facts.ins and facts.patient_family and facts.patient_given
            and birth and facts.sex else "N",
        }

    def build(self) -> bytes:
        from banc.xdm import build_xdm_for_cda

        facts = self.facts()
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = format_datetime(localtime())
        domain = self.sender.rsplit("@", 1)[-1]
        message["Message-ID"] = self.message_id or f"<{uuid.uuid4().hex}@{domain}>"
        if self.subject is not None:
            message["Subject"] = self.subject
        elif facts:
            label = facts["title"] or "Document"
            message["Subject"] = (f"XDM/1.0/DDM+{label} {facts['family'].upper()} "
                                  f"{facts['given']} {facts['birth']}")
        else:
            message["Subject"] = "Message"
        if facts:
            message["X-MSS-CODECDA"] = facts["code"]
            message["X-MSS-INS"] = facts["qualified"]
        if self.nil:
            message["X-MSS-NIL"] = self.nil
        if self.no_reply:
            message["X-MSS-MES"] = "FIN"
        if self.notify_to:
            message["Disposition-Notification-To"] = self.notify_to
        for name, value in self.extra_headers.items():
            message[name] = value
        for name in self.omit_headers:
            del message[name]
        message.set_content(self.body, charset="utf-8")
        archive = self.xdm if self.xdm is not None else (
            build_xdm_for_cda(self.cda) if self.cda is not None else None
        )
        if archive is not None:
            message.add_attachment(archive, maintype="application", subtype="zip",
                                   filename="IHE_XDM.ZIP")
        if self.pdf is not None:
            message.add_attachment(self.pdf, maintype="application", subtype="pdf",
                                   filename=self.pdf_name)
        return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # RFC 5322: CRLF
