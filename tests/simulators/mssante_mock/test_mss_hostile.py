"""Hostile input does not take the mock down (ISSUE 11 item 9): each message of `hostile.ALL`
is parsed and checked within a bounded cost, accepted with a finding that says what was not
analysed (never a 451, which makes the sender retry for ever), stored and served over IMAP —
while the process's peak memory grows by less than `MEMORY_CEILING_MB` (docs/mssante-mock.md)."""

from __future__ import annotations

import imaplib
import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

import hostile
import pytest
from mss_samples import DUI, GP, make_cda, make_ins

from banc.mail.compose import HealthMessage
from banc.mail.health import check_health_message
from banc.mail.message import parse_mail
from banc.requirements import catalogue
from simulators.mssante_mock.app import MssanteMock

MEMORY_CEILING_MB = 256
"""Peak RSS growth allowed while all the hostile messages are submitted, stored and fetched."""
SECONDS_PER_MESSAGE = 10


def _peak_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)


def _xoauth2(mss: MssanteMock, address: str) -> str:
    return f"user={address}\x01auth=Bearer {mss.token_for(address)}\x01\x01"


@pytest.mark.parametrize("make", list(hostile.ALL.values()), ids=list(hostile.ALL))
def test_checks_stay_cheap_and_say_what_they_skipped(make) -> None:
    raw = make(DUI, GP)
    started = time.perf_counter()
    findings = check_health_message(parse_mail(raw), [GP])
    assert time.perf_counter() - started < SECONDS_PER_MESSAGE
    rules = {f.rule_id for f in findings}
    assert rules & {"MSS.MIME.LIMIT", "MSS.MIME.BARE_LF"}, rules
    assert all(f.requirements and set(f.requirements) <= set(catalogue()) for f in findings)


@pytest.mark.slow
def test_hostile_mails_are_accepted_stored_and_served_under_the_memory_ceiling(mss, pki) -> None:
    context = pki.client_context()
    since = mss.journal.last_id()
    _reset_peak()
    baseline = _peak_kib()
    with smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=120) as smtp:
        smtp.starttls(context=context)
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: _xoauth2(mss, DUI))
        for name, make in hostile.ALL.items():
            started = time.perf_counter()
            smtp.mail(DUI)
            smtp.rcpt(DUI)
            code, reply = smtp.data(make(DUI, DUI))
            assert code == 250, (name, reply)
            assert time.perf_counter() - started < SECONDS_PER_MESSAGE, name
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=context, timeout=120) as imap:
        imap.authenticate("XOAUTH2", lambda _: _xoauth2(mss, DUI).encode())
        count = int(imap.select("INBOX")[1][0])
        typ, data = imap.fetch(f"{count - len(hostile.ALL) + 1}:{count}", "(BODYSTRUCTURE ENVELOPE)")
        assert typ == "OK" and len([d for d in data if d]) >= len(hostile.ALL)
        assert imap.noop()[0] == "OK"
    growth_mb = (_peak_kib() - baseline) / 1024
    assert growth_mb < MEMORY_CEILING_MB, f"{growth_mb:.0f} Mo"
    submissions = mss.journal.exchanges(since_id=since, operation="smtp.submission")
    assert len(submissions) == len(hostile.ALL)
    assert all(e.status == "250" for e in submissions)
    # the others are still served: a normal message goes through
    assert mss.send_as(HealthMessage(sender=GP, recipients=[DUI], body="ordinaire\n")).delivered == [DUI]


@pytest.fixture(scope="module")
def breaking_mss(mock_context) -> Iterator[MssanteMock]:
    def broken_validator(root, subject: str = ""):
        raise RecursionError("maximum recursion depth exceeded")

    context = mock_context("mss-breaking")
    mock = MssanteMock(journal=context.journal, pki=context.pki, data_dir=context.data_dir,
                       validate_cda=broken_validator)
    yield mock
    mock.stop()


@pytest.mark.slow
def test_a_check_that_breaks_is_a_finding_not_a_451(breaking_mss, pki) -> None:
    mss = breaking_mss
    raw = HealthMessage(sender=DUI, recipients=[GP], cda=make_cda(make_ins(3))).build()
    since = mss.journal.last_id()
    with smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=60) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: _xoauth2(mss, DUI))
        assert smtp.sendmail(DUI, [GP], raw) == {}
    submission = mss.journal.exchanges(since_id=since, operation="smtp.submission")[0]
    aborted = [f for f in submission.findings if f.rule_id == "MSS.CHECK.ABORTED"]
    assert aborted and "RecursionError" in aborted[0].message
    assert aborted[0].requirements == ("SC.MSS.17.MS1",)
    assert submission.summary["delivered"] == [GP]


@pytest.mark.slow
def test_recipients_beyond_the_limit_get_452(mss, pki) -> None:
    from simulators.mssante_mock.smtp import MAX_RECIPIENTS

    with smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=60) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: _xoauth2(mss, DUI))
        smtp.mail(DUI)
        codes = [smtp.rcpt(f"inconnu{n}@medecin.mssante.fr")[0] for n in range(MAX_RECIPIENTS + 1)]
        assert codes[:MAX_RECIPIENTS] == [250] * MAX_RECIPIENTS
        code, reply = smtp.rcpt("encore@medecin.mssante.fr")
        assert codes[-1] == code == 452 and b"100 au plus" in reply
        smtp.rset()
