"""The Python API scenarios use, the `launch` contract, and the `banc mss` command line."""

from __future__ import annotations

import email

import pytest
from mss_samples import DUI, GP, HOSPITAL, make_cda, make_ins

from banc.cli import main
from banc.identity import PATIENT_MAIL_DOMAIN
from banc.journal import Journal
from banc.mail.compose import HealthMessage
from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.mssante_mock import launch
from simulators.mssante_mock.app import MssanteMock
from simulators.mssante_mock.models import KnownPatient

pytestmark = pytest.mark.slow

INS = make_ins(11)


def test_launch_contract(tmp_path, pki: TestPki) -> None:
    context = MockContext(journal=Journal(tmp_path / "j.sqlite"), pki=pki, data_dir=tmp_path)
    mock = launch(context)
    try:
        assert mock.name == "mssante"
        assert {"mssante.smtp", "mssante.smtps", "mssante.imaps"} <= set(mock.endpoints)
        assert mock.postmaster.validate_cda is not None  # banc.cda engine plugged in
        assert (tmp_path / "mssante" / "mssante.sqlite").exists()
    finally:
        mock.stop()


def test_x_mss_mes_fin_forbids_the_patient_reply(mss: MssanteMock) -> None:
    mss.patients.add(KnownPatient(INS, "1.2.250.1.213.1.4.10", "DURAND", "Jeanne", "19790328", "F"))
    patient = f"{INS}@{PATIENT_MAIL_DOMAIN}"
    closed = HealthMessage(sender=DUI, recipients=[patient], body="Bonjour\n", no_reply=True).build()
    open_ = HealthMessage(sender=DUI, recipients=[patient], body="Bonjour\n").build()
    mss.send_as(closed, sender=DUI, recipients=[patient])
    mss.send_as(open_, sender=DUI, recipients=[patient])
    since = mss.journal.last_id()
    assert mss.patients.reply(INS, email.message_from_bytes(closed)["Message-ID"]) is None
    refused = mss.journal.exchanges(since_id=since, operation="patient.reponse")
    assert refused and "FIN" in refused[0].response.decode()
    answer = mss.patients.reply(INS, email.message_from_bytes(open_)["Message-ID"])
    assert answer is not None and answer.delivered == [DUI]
    assert mss.patients.is_open(INS)
    mss.patients.close(INS)
    assert not mss.patients.is_open(INS)


def test_cli_sends_as_hospital_to_a_running_mock(tmp_path, pki: TestPki) -> None:
    mock = MssanteMock(journal=Journal(tmp_path / "j.sqlite"), pki=pki,
                       data_dir=tmp_path / "sim" / "mssante")
    cda = tmp_path / "ldl.xml"
    cda.write_bytes(make_cda(make_ins(12)))
    try:
        code = main(["mss", "envoyer", "--de", "hopital", "--a", DUI, "--cda", str(cda),
                     "--serveur", f"smtp://127.0.0.1:{mock.smtp.starttls_port}",
                     "--data", str(tmp_path / "sim"), "--pki", str(pki.directory)])
        assert code == 0
        received = mock.messages(DUI)
        assert received and b"From: " + HOSPITAL.encode() in received[-1]
        assert b"IHE_XDM.ZIP" in received[-1]
        code = main(["mss", "envoyer", "--de", "medecin", "--document", "VSM",
                     "--ins", "297022A02077878", "--defaut", "sans-pdf", "--a", DUI,
                     "--serveur", f"smtps://127.0.0.1:{mock.smtp.implicit_port}",
                     "--data", str(tmp_path / "sim"), "--pki", str(pki.directory)])
        assert code == 0
        latest = email.message_from_bytes(mock.messages(DUI)[-1])
        assert latest["X-MSS-CODECDA"] and latest["X-MSS-INS"] == "O"
        assert [p.get_filename() for p in latest.walk() if p.get_filename()] == ["IHE_XDM.ZIP"]
    finally:
        mock.stop()


def test_cli_checks_a_captured_message(tmp_path, capsys) -> None:
    good = tmp_path / "ok.eml"
    good.write_bytes(HealthMessage(sender=DUI, recipients=[GP], body="Bonjour\n").build())
    assert main(["mss", "verifier", str(good)]) == 0
    bad = tmp_path / "ko.eml"
    bad.write_bytes(HealthMessage(sender=DUI, recipients=[GP], nil=None, body="x\n").build())
    assert main(["mss", "verifier", str(bad)]) == 1
    assert "MSS.X_MSS_NIL.MISSING" in capsys.readouterr().out
    assert main(["mss", "verifier", str(tmp_path / "absent.eml")]) == 2


def test_cda_engine_findings_reach_the_journal(mss: MssanteMock, reference, pdfa_bytes) -> None:
    """With the CDA engine plugged in (as `launch` does), its findings join the mail's."""
    from banc.cda import validate_root
    from simulators.mssante_mock.delivery import Postmaster, Submission
    from simulators.mssante_mock.wire import Recipient

    postmaster = Postmaster(mss.store, mss.journal, hostname="mss.test", validate_cda=validate_root)
    raw = HealthMessage(sender=DUI, recipients=[GP], cda=make_cda(make_ins(13)), pdf=pdfa_bytes).build()
    outcome = postmaster.submit(Submission(sender=DUI, recipients=[Recipient(GP)], raw=raw))
    rulesets = {f.ruleset for f in outcome.findings}
    assert "mssante" not in rulesets  # the mail itself is compliant …
    assert "StrucMin" in rulesets  # … the minimal test CDA is not, and the engine says why
    recorded = mss.journal.get(outcome.journal_id)
    assert recorded is not None and not recorded.conform


def test_patient_mailbox_only_for_a_qualified_identity(mss: MssanteMock) -> None:
    from banc.identity import IdentityError, IdentityStatus
    from banc.population import cnam_test_identities, with_status

    qualified = cnam_test_identities()[2]
    record = mss.patients.add_identity(qualified)
    assert record.address == f"{qualified.ins}@{PATIENT_MAIL_DOMAIN}".lower() and record.is_patient
    with pytest.raises(IdentityError):
        mss.patients.add_identity(with_status(qualified, IdentityStatus.VALIDEE))
