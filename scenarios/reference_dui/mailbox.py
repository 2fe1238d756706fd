"""The reference DUI's MSSanté transport: SMTP submission and IMAP reading of its two mailboxes.

The nurse's personal mailbox opens with SASL XOAUTH2 and the PSC access token of the session
(`connexion_psc`); the SSIAD's application mailbox with SASL EXTERNAL and the DUI's client
certificate, as its profile declares them. Both over TLS (STARTTLS for SMTP, implicit TLS for
IMAP), with the standard library's clients, as a vendor's DUI would.
"""

from __future__ import annotations

import base64
import imaplib
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlparse

from scenarios.reference_dui.base import DuiBase

CLIENT_CERTIFICATE = "dui"
"""The certificate the application mailbox is opened with (first of the profile's)."""


def xoauth2(address: str, token: str) -> bytes:
    return f"user={address}\x01auth=Bearer {token}\x01\x01".encode()


class MailTransport(DuiBase):
    @property
    def personal_mailbox(self) -> str:
        return self.nurse.mailbox.address if self.nurse.mailbox else ""

    @property
    def application_mailbox(self) -> str:
        return self.directory.ssiad_app_mailbox.address

    def _token(self) -> str:
        return str(self.facts.get("access_token", ""))

    def submit(self, sender: str, recipients: list[str], raw: bytes) -> None:
        """One SMTP transaction from `sender` (personal mailbox: XOAUTH2; application: EXTERNAL)."""
        url = urlparse(self.sheet.url("mssante.smtp"))
        application = sender == self.application_mailbox
        context = self.sheet.pki.client_context(CLIENT_CERTIFICATE if application else None)
        with smtplib.SMTP(url.hostname, url.port, timeout=120) as smtp:
            smtp.starttls(context=context)
            smtp.ehlo()
            if application:
                code, reply = smtp.docmd("AUTH", "EXTERNAL " + base64.b64encode(sender.encode()).decode())
            else:
                code, reply = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(
                    xoauth2(sender, self._token())).decode())
            if code != 235:
                raise RuntimeError(f"authentification SMTP refusée pour {sender} ({code} {reply.decode()})")
            smtp.sendmail(sender, recipients, raw)

    @contextmanager
    def imap(self, address: str) -> Iterator[imaplib.IMAP4_SSL]:
        """An authenticated IMAP session on `address`, INBOX selected."""
        url = urlparse(self.sheet.url("mssante.imaps"))
        application = address == self.application_mailbox
        context = self.sheet.pki.client_context(CLIENT_CERTIFICATE if application else None)
        session = imaplib.IMAP4_SSL(url.hostname or "", url.port or 993, ssl_context=context, timeout=120)
        try:
            answers = iter([address.encode() if application else xoauth2(address, self._token())])
            # after a refused XOAUTH2 the server sends its error as a challenge: answer empty
            session.authenticate("EXTERNAL" if application else "XOAUTH2", lambda _: next(answers, b""))
            session.select("INBOX")
            yield session
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                session.logout()

    def mailboxes_to_read(self) -> list[str]:
        """The application mailbox always; the personal one once a professional is logged in."""
        return [*([self.personal_mailbox] if self._token() and self.personal_mailbox else []),
                self.application_mailbox]
