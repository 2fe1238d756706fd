"""What happens to a message once submitted: judge it, record it, deliver it to the hosted
mailboxes, bounce what cannot be delivered (DSN), and let the simulated correspondents answer
with read receipts (MDN) — the operator's and the recipients' behaviour in one place, called
by the SMTP server and by the simulated correspondents alike."""

from __future__ import annotations

import email.policy
import time
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser

from banc.journal import Journal
from banc.mail.health import CdaValidator, HealthFacts
from banc.mail.message import ParsedMail, parse_mail
from banc.mail.reports import DeliveryStatus, build_dsn, build_mdn
from banc.recording import exchange_for_stream
from banc.verdict import Finding
from simulators.mssante_mock import faults, rules
from simulators.mssante_mock.models import MailStore
from simulators.mssante_mock.wire import DsnEnvelope, Recipient

SERVICE = "mssante"


@dataclass
class Submission:
    """One SMTP transaction as the server saw it."""

    sender: str
    recipients: list[Recipient]
    raw: bytes
    dsn: DsnEnvelope = field(default_factory=DsnEnvelope)
    principal: str = ""
    peer: str = ""
    certificate_der: bytes | None = None
    summary: dict = field(default_factory=dict)  # what the sender knows (bench messages)
    channel: str = "smtp"
    smtputf8: bool = False


@dataclass
class Outcome:
    journal_id: int
    findings: list[Finding]
    delivered: list[str]
    bounced: list[DeliveryStatus]
    receipts: list[int] = field(default_factory=list)  # journal ids of MDN/DSN produced
    reply: str = ""  # the SMTP reply, as journaled


class Postmaster:
    """Routes messages between the hosted mailboxes."""

    def __init__(
        self, store: MailStore, journal: Journal, *, hostname: str, checks: bool = True,
        validate_cda: CdaValidator | None = None,
    ) -> None:
        self.validate_cda = validate_cda
        self.store = store
        self.journal = journal
        self.hostname = hostname
        self.checks = checks

    # -- submission -------------------------------------------------------------------------
    def submit(
        self, submission: Submission, *, operation: str = "smtp.submission", judge: bool = True
    ) -> Outcome:
        """Judge (when checks are on and `judge`), journal, deliver, bounce, acknowledge."""
        started = time.perf_counter()
        judged = self.checks and judge
        parsed = parse_mail(submission.raw, headers_only=not judged)
        recipients = [r.address for r in submission.recipients]
        report = rules.receipt(parsed)
        if report is not None:  # a read receipt: judged as a report, nothing to integrate
            facts, findings = None, (rules.check_receipt(parsed, report, smtputf8=submission.smtputf8)
                                     if judged else [])
        else:
            facts, findings = self._judge(parsed, submission) if judged else (None, [])
        delivered, bounced = [], []
        for rcpt in submission.recipients:
            refusal = rules.delivery_refusal(rcpt.address, self.store.mailbox(rcpt.address),
                                             len(submission.raw))
            if refusal is None:
                delivered.append(rcpt.address)
            else:
                findings.append(refusal)
                bounced.append(faults.dsn_status(rcpt.address, refusal, rcpt.original))
        summary = {**submission.summary, **rules.summarise(parsed, submission.sender, recipients, facts, report)}
        summary.update(
            {"delivered": delivered, "bounced": [b.recipient for b in bounced],
             "principal": submission.principal, "checks": self.checks,
             "mailbox": submission.sender}
        )
        if submission.channel == "smtp" and submission.principal:
            summary["login"] = submission.principal  # attribution of the exchange to a DUI
        errors = sum(1 for f in findings if f.is_error)
        response = f"250 2.0.0 message accepté ({errors} anomalie(s) relevée(s))"
        exchange = exchange_for_stream(
            SERVICE, operation, channel=submission.channel, peer=submission.peer,
            certificate_der=submission.certificate_der, request=submission.raw,
            response=response.encode(), status="250", summary=summary, findings=findings,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        journal_id = self.journal.record(exchange)
        outcome = Outcome(journal_id, findings, delivered, bounced, reply=response)
        self._deliver_all(submission, parsed, facts, delivered, journal_id, outcome)
        self._dsn(submission, delivered, bounced, outcome)
        return outcome

    def _judge(self, parsed: ParsedMail, submission: Submission) -> tuple[HealthFacts | None, list[Finding]]:
        """Facts and findings of a submission. A check that breaks on hostile content (a
        validator's bug, a library's recursion) is a finding, never a 4xx: a 451 would make
        the sender retry the same message for ever."""
        recipients = [r.address for r in submission.recipients]
        try:
            facts = rules.inspect(parsed)
            return facts, rules.check_submission(parsed, recipients, facts,
                                                 validate_cda=self.validate_cda,
                                                 smtputf8=submission.smtputf8)
        except Exception as exc:  # any failure of a check is reported, not raised
            return None, [rules.check_aborted(exc, recipients)]

    def _deliver_all(
        self, submission: Submission, parsed: ParsedMail, facts: HealthFacts | None,
        delivered: list[str], journal_id: int, outcome: Outcome,
    ) -> None:
        for address in delivered:
            self.store.deliver(address, submission.raw, journal_id=journal_id)
            record = self.store.mailbox(address)
            if record is None or not record.simulated or record.is_patient:
                continue
            notify_to = rules.receipt_address(parsed)
            if facts is None and notify_to:  # the simulated recipient opens the message to file it
                facts = rules.inspect_safely(parse_mail(submission.raw))
            if facts is not None:
                self._integrate(submission.raw, facts, address, notify_to, outcome)

    # -- receipts ---------------------------------------------------------------------------
    def _integrate(
        self, raw: bytes, facts: HealthFacts, recipient: str, notify_to: str | None,
        outcome: Outcome,
    ) -> None:
        """The simulated recipient's software files the documents (remembering versions for
        later replacements) and answers the MDN when one was asked for."""
        code, reason = rules.integration_outcome(facts, self.store, recipient)
        if code is None:
            for doc in facts.documents:
                self.store.file_document(recipient, doc.document_id, doc.set_id, doc.version,
                                         doc.author_organisations)
        if not notify_to:
            return
        mdn = build_mdn(raw, final_recipient=recipient, notify_to=notify_to, error_code=code)
        outcome.receipts.append(
            self._receipt(mdn, recipient, notify_to, "mdn", {
                "error_code": code, "reason": reason,
                "mdn_original_message_id": str(BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
                                               .get("Message-ID", ""))})
        )

    def _dsn(
        self, submission: Submission, delivered: list[str], bounced: list[DeliveryStatus],
        outcome: Outcome,
    ) -> None:
        if not submission.sender:
            return  # null reverse-path: never answer a bounce with a bounce
        by_address = {r.address: r for r in submission.recipients}
        statuses = [b for b in bounced if by_address[b.recipient].notify_failure]
        statuses += [
            DeliveryStatus(a, "delivered", "2.0.0", "", by_address[a].original)
            for a in delivered if by_address[a].notify_success
        ]
        if not statuses:
            return
        dsn = build_dsn(
            submission.raw, sender=submission.sender, statuses=statuses,
            reporting_mta=self.hostname, envelope_id=submission.dsn.envelope_id,
            return_full=submission.dsn.ret_full,
        )
        outcome.receipts.append(
            self._receipt(dsn, f"MAILER-DAEMON@{self.hostname}", submission.sender, "dsn",
                          {"statuses": [s.__dict__ for s in statuses]})
        )

    def _receipt(self, raw: bytes, sender: str, to: str, kind: str, summary: dict) -> int:
        """Deliver a receipt the mock produced (MDN/DSN) and journal it."""
        record = self.store.mailbox(to)
        delivered = record is not None and record.is_open
        headers = BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        exchange = exchange_for_stream(
            SERVICE, kind, channel="smtp", response=raw,
            status="delivered" if delivered else "undeliverable",
            summary={"from": sender, "to": to, "mailbox": to, "message_id": str(headers.get("Message-ID", "")),
                     **summary},
        )
        journal_id = self.journal.record(exchange)
        if delivered:
            self.store.deliver(to, raw, journal_id=journal_id)
        return journal_id

    # -- refusals ---------------------------------------------------------------------------
    def refused(
        self, operation: str, request: bytes, reply: str, *, peer: str = "",
        findings: list[Finding] | None = None, summary: dict | None = None, channel: str = "smtp",
        certificate_der: bytes | None = None,
    ) -> int:
        """Journal a command the server refused (auth, sender, size…)."""
        return self.journal.record(exchange_for_stream(
            SERVICE, operation, channel=channel, peer=peer, certificate_der=certificate_der,
            request=request, response=reply.encode(), status=reply.split(" ", 1)[0],
            summary=summary, findings=findings,
        ))
