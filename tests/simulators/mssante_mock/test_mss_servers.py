"""The MSSanté mock through real clients only: `smtplib` and `imaplib` over TLS with the test PKI."""

from __future__ import annotations

import base64
import email
import email.policy
import imaplib
import smtplib
import socket
import ssl
import time

import pytest
from mss_samples import DUI, DUI_APP, GP, HOSPITAL, make_cda, make_ins, set_header

from banc.access_tokens import TokenSigner
from banc.identity import PATIENT_MAIL_DOMAIN
from banc.mail.compose import HealthMessage
from banc.mail.reports import read_dsn, read_mdn
from banc.pki import TestPki
from simulators.mssante_mock.app import MssanteMock
from simulators.mssante_mock.models import KnownPatient

pytestmark = pytest.mark.slow

INS = make_ins(7)


def xoauth2(address: str, token: str) -> str:
    return f"user={address}\x01auth=Bearer {token}\x01\x01"


def submit(mss: MssanteMock, pki: TestPki, sender: str, recipients: list[str], raw: bytes,
           **options) -> dict:
    with smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=30) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: xoauth2(sender, mss.token_for(sender)))
        return smtp.sendmail(sender, recipients, raw, **options)


def imap_messages(mss: MssanteMock, pki: TestPki, address: str) -> list[bytes]:
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(),
                           timeout=30) as imap:
        imap.authenticate("XOAUTH2", lambda _: xoauth2(address, mss.token_for(address)).encode())
        imap.select("INBOX")
        typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
        assert typ == "OK"
        return [item[1] for item in data if isinstance(item, tuple)]


@pytest.fixture(scope="module", autouse=True)
def known_patient(mss: MssanteMock) -> None:
    mss.patients.add(KnownPatient(INS, "1.2.250.1.213.1.4.10", "DURAND", "Jeanne", "19790328", "F"))


def test_dui_sends_xdm_reads_it_back_and_gets_the_mdn(mss, pki, pdfa_bytes) -> None:
    raw = HealthMessage(sender=DUI, recipients=[HOSPITAL], cda=make_cda(INS), pdf=pdfa_bytes,
                        notify_to=DUI).build()
    message_id = email.message_from_bytes(raw)["Message-ID"]
    since = mss.journal.last_id()
    assert submit(mss, pki, DUI, [HOSPITAL], raw) == {}
    received = [m for m in imap_messages(mss, pki, HOSPITAL) if message_id.encode() in m]
    assert received and received[0].replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    mdns = [read_mdn(m) for m in imap_messages(mss, pki, DUI)]
    mine = [r for r in mdns if r and r.original_message_id == message_id]
    assert mine and mine[0].error_code is None
    assert mine[0].disposition.endswith("processed")
    submission = mss.journal.exchanges(since_id=since, operation="smtp.submission")[0]
    assert submission.request == raw and submission.conform, submission.findings
    assert submission.summary["patients"] == [INS]


def test_hospital_sends_to_the_dui_which_fetches_it(mss, pki, pdfa_bytes) -> None:
    message = HealthMessage(sender=HOSPITAL, recipients=[DUI], cda=make_cda(INS, doc_id="LDL-9"),
                            pdf=pdfa_bytes)
    outcome = mss.send_as(message)
    assert outcome.delivered == [DUI]
    fetched = [m for m in imap_messages(mss, pki, DUI) if b"From: " + HOSPITAL.encode() in m]
    assert fetched
    parsed = email.message_from_bytes(fetched[-1], policy=email.policy.default)
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["IHE_XDM.ZIP", "document.pdf"]


def test_hospital_sends_over_smtp_and_the_dui_fetches_over_imap(mss, pki, pdfa_bytes) -> None:
    raw = HealthMessage(sender=HOSPITAL, recipients=[DUI], cda=make_cda(INS, doc_id="LDL-10"),
                        pdf=pdfa_bytes).build()
    message_id = email.message_from_bytes(raw)["Message-ID"].encode()
    assert submit(mss, pki, HOSPITAL, [DUI], raw) == {}
    assert any(message_id in m for m in imap_messages(mss, pki, DUI))


def test_new_mail_is_announced_to_a_selected_session(mss, pki) -> None:
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context()) as imap:
        imap.authenticate("XOAUTH2", lambda _: xoauth2(DUI, mss.token_for(DUI)).encode())
        count = int(imap.select("INBOX")[1][0])
        imap.response("EXISTS")  # drop SELECT's own EXISTS
        mss.send_as(HealthMessage(sender=GP, recipients=[DUI], body="Nouveau\n"))
        deadline = time.monotonic() + 10
        announced: list[int] = []
        while count + 1 not in announced and time.monotonic() < deadline:
            imap.noop()
            announced += [int(v) for v in imap.response("EXISTS")[1] if v is not None]
        assert count + 1 in announced


def test_application_mailbox_with_client_certificate_over_implicit_tls(mss, pki) -> None:
    raw = HealthMessage(sender=DUI_APP, recipients=[GP], body="Bonjour\n").build()
    with smtplib.SMTP_SSL("127.0.0.1", mss.smtp.implicit_port,
                          context=pki.client_context("mss-app"), timeout=30) as smtp:
        smtp.ehlo("dui")
        code, _ = smtp.auth("EXTERNAL", lambda _=None: DUI_APP)
        assert code == 235
        assert smtp.sendmail(DUI_APP, [GP], raw) == {}
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context("mss-app")) as imap:
        assert imap.authenticate("EXTERNAL", lambda _: DUI_APP.encode())[0] == "OK"


def test_certificate_of_another_mailbox_is_refused(mss, pki) -> None:
    with smtplib.SMTP_SSL("127.0.0.1", mss.smtp.implicit_port,
                          context=pki.client_context("dui"), timeout=30) as smtp:
        smtp.ehlo("dui")
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.auth("EXTERNAL", lambda _=None: DUI_APP)
    assert b"MSS.AUTH.CERTIFICATE_NOT_AUTHORIZED" in refused.value.smtp_error


def test_auth_before_starttls_is_refused_and_journaled(mss) -> None:
    since = mss.journal.last_id()
    with socket.create_connection(("127.0.0.1", mss.smtp.starttls_port), timeout=10) as sock:
        stream = sock.makefile("rwb")
        stream.readline()
        stream.write(b"EHLO dui\r\n")
        stream.flush()
        ehlo = [stream.readline()]
        while ehlo[-1].startswith(b"250-"):
            ehlo.append(stream.readline())
        assert not any(b"AUTH" in line for line in ehlo)
        stream.write(b"AUTH PLAIN " + base64.b64encode(b"\0" + DUI.encode() + b"\0secret") + b"\r\n")
        stream.flush()
        reply = stream.readline()
    assert reply.startswith(b"530")
    refused = mss.journal.exchanges(since_id=since, operation="smtp.refus")
    assert refused and refused[0].status == "530"


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        (lambda m: m.token_for(DUI, lifetime=-600), "TOKEN.EXPIRED"),
        (lambda m: TokenSigner.generate(m.signer.issuer).issue("899900000037"), "TOKEN.UNKNOWN_KEY"),
        (lambda m: m.token_for(GP), "MSS.AUTH.NOT_AUTHORIZED"),
    ],
    ids=["expiré", "émetteur étranger", "porteur non habilité"],
)
def test_bad_tokens_are_refused_with_the_rule(mss, pki, token, rule) -> None:
    since = mss.journal.last_id()
    with smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=30) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.auth("XOAUTH2", lambda _=None: xoauth2(DUI, token(mss)))
    assert refused.value.smtp_code == 535
    assert rule.encode() in refused.value.smtp_error
    journaled = mss.journal.exchanges(since_id=since, operation="smtp.refus")
    assert rule in [f.rule_id for e in journaled for f in e.findings]
    with (imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context()) as imap,
          pytest.raises(imaplib.IMAP4.error, match=rule.replace(".", r"\."))):
        imap.authenticate("XOAUTH2", lambda _: xoauth2(DUI, token(mss)).encode())


def test_imap_login_is_refused_with_an_explanation(mss, pki) -> None:
    with (imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context()) as imap,
          pytest.raises(imaplib.IMAP4.error, match="XOAUTH2")):
        imap.login(DUI, "motdepasse")


def test_sender_must_be_the_authenticated_mailbox(mss, pki) -> None:
    with (pytest.raises(smtplib.SMTPSenderRefused) as refused,
          smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=30) as smtp):
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: xoauth2(DUI, mss.token_for(DUI)))
        smtp.sendmail(GP, [HOSPITAL], b"Subject: x\r\n\r\nx\r\n")
    assert refused.value.smtp_code == 553


def _dsns(mss: MssanteMock, since_uid: int = 0) -> list:
    return [s for m in mss.messages(DUI) for s in read_dsn(m)]


def test_bounces_unknown_closed_and_oversize_with_dsn(mss, pki) -> None:
    closed = f"{make_ins(8)}@{PATIENT_MAIL_DOMAIN}"
    mss.patients.add(KnownPatient(make_ins(8), "1.2.250.1.213.1.4.10", "MARTIN", "Paul", "19500101", "M"))
    mss.patients.close(make_ins(8))
    unknown = f"{make_ins(9)}@{PATIENT_MAIL_DOMAIN}"
    before = len(_dsns(mss))
    raw = HealthMessage(sender=DUI, recipients=[closed, unknown], body="Bonjour\n").build()
    submit(mss, pki, DUI, [closed, unknown], raw)
    big = HealthMessage(sender=DUI, recipients=[GP], body="x\n").build() + b"A" * 0
    big = set_header(big, "X-Padding", None)
    padding = (b"x" * 76 + b"\r\n") * (26 * 1024 * 1024 // 78)
    submit(mss, pki, DUI, [GP], big.rstrip(b"\r\n") + b"\r\n" + padding)
    statuses = {(s.recipient, s.status) for s in _dsns(mss)[before:]}
    assert (closed, "5.2.1") in statuses
    assert (unknown, "5.1.1") in statuses
    assert (GP, "5.2.3") in statuses


def test_notify_success_and_never(mss, pki) -> None:
    before = len(_dsns(mss))
    raw = HealthMessage(sender=DUI, recipients=[GP], body="Bonjour\n").build()
    submit(mss, pki, DUI, [GP], raw, rcpt_options=["NOTIFY=SUCCESS"])
    submit(mss, pki, DUI, ["inconnu@medecin.mssante.fr"], raw, rcpt_options=["NOTIFY=NEVER"])
    new = _dsns(mss)[before:]
    assert [(s.recipient, s.action) for s in new] == [(GP, "delivered")]


@pytest.mark.parametrize(
    ("cda", "code"),
    [
        (lambda: make_cda(make_ins(42)), 902),
        (lambda: make_cda(None), 903),
        (lambda: make_cda(INS, family="DURANT"), 904),
        (lambda: make_cda(INS, birth=""), 905),
    ],
    ids=["patient inconnu", "sans INS", "traits différents", "INS incomplet"],
)
def test_mdn_integration_errors(mss, pki, pdfa_bytes, cda, code) -> None:
    raw = HealthMessage(sender=DUI, recipients=[HOSPITAL], cda=cda(), pdf=pdfa_bytes,
                        notify_to=DUI).build()
    message_id = email.message_from_bytes(raw)["Message-ID"]
    submit(mss, pki, DUI, [HOSPITAL], raw)
    reports = [read_mdn(m) for m in mss.messages(DUI)]
    mine = [r for r in reports if r and r.original_message_id == message_id]
    assert mine and mine[0].error_code == code


def test_malformed_mime_is_accepted_and_flagged(mss, pki) -> None:
    raw = (b"From: " + DUI.encode() + b"\r\nTo: " + GP.encode() + b"\r\nSubject: r\xc3\xa9sum\xc3\xa9\r\n"
           b"Content-Type: multipart/mixed\r\n\r\nsans boundary\r\n")
    since = mss.journal.last_id()
    submit(mss, pki, DUI, [GP], raw)
    exchange = mss.journal.exchanges(since_id=since, operation="smtp.submission")[0]
    rules = {f.rule_id for f in exchange.findings}
    assert {"MSS.HEADER.8BIT", "MSS.MIME.DEFECT", "MSS.HEADER.MESSAGE_ID", "MSS.X_MSS_NIL.MISSING"} <= rules
    assert not exchange.conform


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_below_1_2_is_refused(mss, pki) -> None:
    context = pki.client_context()
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=context, timeout=10)


def test_everyday_imap_commands(mss, pki) -> None:
    """What a mail client does besides FETCH: SEARCH, STORE, APPEND to Sent, COPY, EXPUNGE."""
    mailbox = "camille.faure@ssiad-val-de-morge.mssante.fr"
    for n in range(3):
        mss.send_as(HealthMessage(sender=GP, recipients=[mailbox], body=f"corps {n}\n",
                                  subject=f"Sujet {n}"))
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context()) as imap:
        imap.authenticate("XOAUTH2", lambda _: xoauth2(mailbox, mss.token_for(mailbox)).encode())
        assert imap.select("INBOX") == ("OK", [b"3"])
        assert imap.search(None, "SUBJECT", '"Sujet 1"') == ("OK", [b"2"])
        assert imap.search(None, "FROM", "vidal") == ("OK", [b"1 2 3"])
        imap.store("1", "+FLAGS", "(\\Seen)")
        assert imap.search(None, "UNSEEN") == ("OK", [b"2 3"])
        sent = HealthMessage(sender=mailbox, recipients=[GP], body="envoyé\n").build()
        assert imap.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(time.time()), sent)[0] == "OK"
        assert imap.status("Sent", "(MESSAGES)")[1] == [b"Sent (MESSAGES 1)"]
        assert imap.create("Archives")[0] == "OK"
        assert imap.copy("2", "Archives")[0] == "OK"
        imap.store("3", "+FLAGS", "(\\Deleted)")
        assert imap.expunge() == ("OK", [b"3"])
        header = imap.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1][0][1]
        assert header.strip() == b"Subject: Sujet 1"
    assert len(mss.messages(mailbox, "Archives")) == 1
    assert len(mss.messages(mailbox)) == 2


def test_attachments_through_bodystructure_and_parts(mss, pki, pdfa_bytes) -> None:
    """A client lists attachments from BODYSTRUCTURE and downloads one part: the XDM zip."""
    mailbox = "julien.roux@ch-riom-limagne.mssante.fr"
    mss.send_as(HealthMessage(sender=DUI, recipients=[mailbox], cda=make_cda(INS), pdf=pdfa_bytes))
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context()) as imap:
        imap.authenticate("XOAUTH2", lambda _: xoauth2(mailbox, mss.token_for(mailbox)).encode())
        imap.select("INBOX", readonly=True)
        structure = imap.fetch("1", "(BODYSTRUCTURE)")[1][0]
        assert b'("filename" "IHE_XDM.ZIP")' in structure
        assert b'("filename" "document.pdf")' in structure
        part = imap.fetch("1", "(BODY.PEEK[2])")[1][0][1]
    assert base64.b64decode(part).startswith(b"PK\x03\x04")


def test_replacement_versions_and_authors(mss, pki, pdfa_bytes) -> None:
    """« Annule et remplace » (SC.MSS.20.MS1): the recipient checks the replaced version (900)
    and that the new author belongs to the original author's organisation (901)."""
    def send(cda: bytes) -> int | None:
        raw = HealthMessage(sender=DUI, recipients=[HOSPITAL], cda=cda, pdf=pdfa_bytes,
                            notify_to=DUI).build()
        message_id = email.message_from_bytes(raw)["Message-ID"]
        submit(mss, pki, DUI, [HOSPITAL], raw)
        reports = [r for r in map(read_mdn, mss.messages(DUI)) if r and r.original_message_id == message_id]
        assert reports
        return reports[0].error_code

    assert send(make_cda(INS, doc_id="PP-1", set_id="PP")) is None
    assert send(make_cda(INS, doc_id="PP-2", set_id="PP", version=2, replaces="PP-9")) == 900
    assert send(make_cda(INS, doc_id="PP-3", set_id="PP", version=2, replaces="PP-1",
                         author_org="1999999999")) == 901
    assert send(make_cda(INS, doc_id="PP-4", set_id="PP", version=2, replaces="PP-1")) is None
    assert send(make_cda(INS, doc_id="PP-5", set_id="PP", version=3, replaces="PP-1")) == 900


def test_imap_starttls_port(mss, pki) -> None:
    imap = imaplib.IMAP4("127.0.0.1", mss.imap.starttls_port, timeout=30)
    try:
        assert "LOGINDISABLED" in imap.capabilities
        assert not any(c.startswith("AUTH=") for c in imap.capabilities)
        with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
            imap.authenticate("XOAUTH2", lambda _: xoauth2(DUI, mss.token_for(DUI)).encode())
        imap.starttls(ssl_context=pki.client_context())
        assert "AUTH=XOAUTH2" in imap.capabilities
        assert imap.authenticate("XOAUTH2", lambda _: xoauth2(DUI, mss.token_for(DUI)).encode())[0] == "OK"
    finally:
        imap.logout()


def test_malformed_search_gets_bad_with_the_reason_and_the_session_goes_on(mss, pki) -> None:
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context()) as imap:
        imap.authenticate("XOAUTH2", lambda _: xoauth2(DUI, mss.token_for(DUI)).encode())
        imap.select("INBOX")
        with pytest.raises(imaplib.IMAP4.error, match="HEADER attend un nom"):
            imap.search(None, "HEADER", "Message-ID")
        assert imap.search(None, "ALL")[0] == "OK"
