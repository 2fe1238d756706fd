"""A read receipt (MDN) a DUI submits is judged as a report — not as a health message, though it
embeds the original with its IHE_XDM.ZIP — and journaled with the message it acknowledges."""

from __future__ import annotations

from banc.directory import default_directory
from banc.mail.message import parse_mail
from banc.mail.reports import build_mdn
from banc.mail.senders import named_senders
from banc.population import population
from simulators.mssante_mock import rules

HOSPITAL_LETTER_TO = "ide@ssiad.mssante.fr"


def letter() -> bytes:
    sender = named_senders(default_directory())["hopital"]
    identity = next(i for i in population(20) if i.ins and i.carries_ins)
    message = sender.message([HOSPITAL_LETTER_TO], sender.document("LDL-SES", identity), notify=True)
    message.message_id = "<lettre-1@hopital.mssante.fr>"
    return message.build()


def test_a_dui_mdn_is_recognised_and_summarised() -> None:
    mdn = parse_mail(build_mdn(letter(), final_recipient=HOSPITAL_LETTER_TO, notify_to="x@hopital.mssante.fr"))
    report = rules.receipt(mdn)
    assert report is not None
    assert rules.check_receipt(mdn, report) == []
    summary = rules.summarise(mdn, HOSPITAL_LETTER_TO, ["x@hopital.mssante.fr"], None, report)
    assert summary["mdn"] is True and summary["mdn_original_message_id"] == "<lettre-1@hopital.mssante.fr>"
    assert rules.receipt(parse_mail(letter())) is None


def test_an_mdn_without_a_valid_disposition_or_original_is_named() -> None:
    raw = build_mdn(letter(), final_recipient=HOSPITAL_LETTER_TO, notify_to="x@hopital.mssante.fr")
    broken = raw.replace(b"automatic-action/MDN-sent-automatically; processed", b"lu").replace(
        b"Original-Message-ID: <lettre-1@hopital.mssante.fr>", b"X-Rien: 1")
    mdn = parse_mail(broken)
    found = rules.check_receipt(mdn, rules.receipt(mdn))
    assert {f.rule_id for f in found} == {"MSS.MDN.DISPOSITION", "MSS.MDN.ORIGINAL_MESSAGE_ID"}
    assert all(f.requirements == ("SC.MSS.26.MS1",) for f in found)
