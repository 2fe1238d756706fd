"""MDN (RFC 8098, ANS conventions) and DSN (RFC 3464): built, then read back by the standard
library parser and by our readers."""

from __future__ import annotations

import email
import email.policy

from banc.mail.reports import DeliveryStatus, build_dsn, build_mdn, read_dsn, read_mdn

ORIGINAL = (
    b"From: dui@ssiad.mssante.fr\r\nTo: med@ch.mssante.fr\r\n"
    b"Subject: XDM/1.0/DDM+Lettre DURAND Jeanne 28/03/1979\r\nMessage-ID: <abc@ssiad.mssante.fr>\r\n"
    b"Original-Recipient: rfc822;med@ch.mssante.fr\r\n"
    b"Disposition-Notification-To: dui@ssiad.mssante.fr\r\n\r\ncorps\r\n"
)


def test_mdn_success() -> None:
    raw = build_mdn(ORIGINAL, final_recipient="med@ch.mssante.fr", notify_to="dui@ssiad.mssante.fr")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "disposition-notification"
    assert [p.get_content_type() for p in message.iter_parts()] == [
        "text/plain", "message/disposition-notification", "message/rfc822"]
    report = read_mdn(raw)
    assert report is not None
    assert report.disposition == "automatic-action/MDN-sent-automatically; processed"
    assert report.error_code is None
    assert report.original_message_id == "<abc@ssiad.mssante.fr>"
    assert str(message["Subject"]).startswith("XDM/1.0/DDM+")


def test_mdn_integration_error() -> None:
    raw = build_mdn(ORIGINAL, final_recipient="med@ch.mssante.fr", notify_to="dui@ssiad.mssante.fr",
                    error_code=902)
    report = read_mdn(raw)
    assert report is not None and report.error_code == 902
    assert "processed/Error: 902^Identifiant patient inconnu" in report.disposition
    subject = str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])
    assert subject.startswith("[KO Intégration système !][902] XDM/1.0/DDM+")
    assert all(b < 0x80 for b in raw.split(b"\r\n\r\n", 1)[0])


def test_dsn_lists_each_recipient() -> None:
    raw = build_dsn(ORIGINAL, sender="dui@ssiad.mssante.fr", reporting_mta="mss.test", statuses=[
        DeliveryStatus("x@ch.mssante.fr", "failed", "5.1.1", "550 5.1.1 inconnu"),
        DeliveryStatus("med@ch.mssante.fr", "delivered", "2.0.0"),
    ], envelope_id="ENV1")
    statuses = read_dsn(raw)
    assert [(s.recipient, s.action, s.status) for s in statuses] == [
        ("x@ch.mssante.fr", "failed", "5.1.1"), ("med@ch.mssante.fr", "delivered", "2.0.0")]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_param("report-type") == "delivery-status"
    assert b"Original-Envelope-Id: ENV1" in raw
    assert b"text/rfc822-headers" in raw  # RET=HDRS by default


def test_readers_ignore_ordinary_mail() -> None:
    assert read_mdn(ORIGINAL) is None
    assert read_dsn(ORIGINAL) == []
