"""The MSSanté control plane over HTTPS (`banc.control.ControlClient`, admin token): routes
refused without the token, a DUI profile's mailboxes (certificate and XOAUTH2), the simulated
correspondents' actions seen by the DUI through imaplib, and the journal's attribution of the
DUI's SMTP/IMAP exchanges by login."""

from __future__ import annotations

import dataclasses
import email
import imaplib
import smtplib
from collections.abc import Iterator

import httpx
import pytest

from banc.control import ControlClient, ControlError
from banc.dui import DuiProfile, Mailbox
from banc.identity import patient_mail_address
from banc.mail.compose import HealthMessage
from banc.mail.reports import read_dsn
from simulators.mssante_mock import MssanteMock
from simulators.mssante_mock.app import from_context

pytestmark = pytest.mark.slow
TOKEN = "jeton-test"
SECRETARIAT = "secretariat@ssiad-val-de-morge.mssante.fr"
APP_BOX = "bal-dui-test@ssiad-val-de-morge.mssante.fr"
INS = "297022A02077878"


@pytest.fixture(scope="module")
def running(mock_context) -> Iterator[MssanteMock]:
    context = dataclasses.replace(mock_context("mss-control"), admin_token=TOKEN)
    mock = from_context(context)
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def plane(running, pki) -> Iterator[ControlClient]:
    client = ControlClient("mssante", running.endpoints["mssante.controle"], TOKEN,
                           verify=pki.client_context())
    yield client
    client.close()


@pytest.fixture(scope="module")
def profile(pki) -> DuiProfile:
    return DuiProfile(name="dui-test", mailboxes=(Mailbox(SECRETARIAT, "xoauth2"),
                                                  Mailbox(APP_BOX, "certificat")),
                      client_certificates=(pki.cert("dui").read_text(),))


def inbox(mss: MssanteMock, pki, address: str = SECRETARIAT) -> list[email.message.Message]:
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(), timeout=30) as imap:
        imap.authenticate("XOAUTH2", lambda _: (f"user={address}\x01auth=Bearer "
                                                f"{mss.token_for(address)}\x01\x01").encode())
        imap.select("INBOX")
        _typ, data = imap.fetch("1:*", "(BODY.PEEK[])")
    return [email.message_from_bytes(item[1]) for item in data if isinstance(item, tuple)]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/etat"), ("POST", "/reinitialiser"), ("POST", "/semer"), ("POST", "/dui"),
    ("GET", "/actions"), ("POST", "/actions/envoyer_lettre_sortie"),
])
def test_every_route_needs_the_admin_token(running, pki, method: str, path: str) -> None:
    url = running.endpoints["mssante.controle"] + path
    assert httpx.request(method, url, verify=pki.client_context(), json={}).status_code == 401
    wrong = httpx.request(method, url, verify=pki.client_context(), json={},
                          headers={"Authorization": "Bearer faux"})
    assert wrong.status_code == 401


def test_register_dui_mailboxes_and_their_authentication(running, plane, profile, pki) -> None:
    registered = plane.register_dui(profile)
    boxes = {b["adresse"]: b for b in registered["boites"]}
    assert boxes[APP_BOX]["type"] == "APP" and boxes[APP_BOX]["certificat_cn"] == "DUI-SSIAD-TEST"
    assert boxes[SECRETARIAT]["authentification"] == "xoauth2" and not boxes[SECRETARIAT]["creee"]
    # the application mailbox opens with the DUI's certificate (SASL EXTERNAL)…
    with imaplib.IMAP4_SSL("127.0.0.1", running.imap.port, ssl_context=pki.client_context("dui")) as imap:
        assert imap.authenticate("EXTERNAL", lambda _: APP_BOX.encode())[0] == "OK"
    # …and the journal names the login, the key by which exchanges are attributed to the DUI
    auth = running.journal.exchanges(operation="imap.authenticate")[-1]
    assert auth.summary["login"] == APP_BOX
    assert plane.state()["dui"] == {"dui-test": [SECRETARIAT, APP_BOX]}


def test_hospital_discharge_letter_reaches_the_dui(running, plane, pki) -> None:
    sent = plane.act("envoyer_lettre_sortie", ins=INS, accuse=True)
    assert sent["livre"] == [SECRETARIAT]
    mine = [m for m in inbox(running, pki) if m["Message-ID"] == sent["message_id"]]
    assert mine and mine[0]["X-MSS-CODECDA"]
    assert "IHE_XDM.ZIP" in [p.get_filename() for p in mine[0].walk()]
    journaled = running.journal.exchanges(operation="correspondant")[-1]
    assert journaled.summary["patient_ins"] == INS
    assert journaled.summary["document_unique_id"] == sent["document"]
    fetch = running.journal.exchanges(operation="imap.fetch")[-1]
    assert sent["message_id"] in fetch.summary["message_ids"] and fetch.summary["login"] == SECRETARIAT


def test_gp_request_replacement_and_deletion(running, plane, pki) -> None:
    request = plane.act("envoyer_demande_medecin", ins=INS)
    assert request["demande"]["livre"] == request["synthese"]["livre"] == [SECRETARIAT]
    replaced = plane.act("envoyer_remplacement", document=request["synthese"]["document"])
    assert replaced["remplace"] == request["synthese"]["document"]
    assert replaced["set_id"] == request["synthese"]["set_id"]
    deleted = plane.act("envoyer_suppression", document=replaced["document"])
    assert deleted["supprime"] == replaced["document"]
    subjects = {m["Message-ID"]: m["Subject"] for m in inbox(running, pki)}
    assert subjects[deleted["message_id"]].startswith("Suppression du document")
    assert {request["demande"]["message_id"], replaced["message_id"]} <= set(subjects)
    with pytest.raises(ControlError, match="inconnu"):
        plane.act("envoyer_remplacement", document="1.2.3^inexistant")


def test_patient_mailbox_closed_then_opened_and_the_usager_replies(running, plane, pki) -> None:
    patient = patient_mail_address(INS).lower()  # addresses are compared case-insensitively
    plane.act("fermer_boite_patient", ins=INS)
    raw = HealthMessage(sender=SECRETARIAT, recipients=[patient], body="Bonjour\n").build()
    with smtplib.SMTP("127.0.0.1", running.smtp.starttls_port, timeout=30) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: f"user={SECRETARIAT}\x01auth=Bearer "
                                              f"{running.token_for(SECRETARIAT)}\x01\x01")
        smtp.sendmail(SECRETARIAT, [patient], raw)
        plane.act("ouvrir_boite_patient", ins=INS)
        smtp.sendmail(SECRETARIAT, [patient], raw)
    submissions = running.journal.exchanges(operation="smtp.submission")[-2:]
    assert [s.summary["bounced"] for s in submissions] == [[patient], []]
    assert all(s.summary["login"] == SECRETARIAT for s in submissions)
    assert any(s.status == "5.2.1" for m in running.messages(SECRETARIAT) for s in read_dsn(m))
    message_id = email.message_from_bytes(raw)["Message-ID"]
    answer = plane.act("repondre_usager", ins=INS, message_id=message_id, texte="Merci\n")
    assert answer["livre"] == [SECRETARIAT]
    replies = [m for m in inbox(running, pki) if m["In-Reply-To"] == message_id]
    assert replies and replies[0]["From"].lower() == patient


def test_reset_goes_back_to_the_seeded_state_and_keeps_the_dui(running, plane) -> None:
    before = plane.state()
    assert before["messages"] > 0
    plane.reset()
    after = plane.state()
    assert after["messages"] == 0 and after["documents_envoyes"] == []
    assert after["mailboxes"] == before["mailboxes"]
    assert running.store.mailbox(APP_BOX).certificate_cn == "DUI-SSIAD-TEST"
    with pytest.raises(ControlError, match="inconnue"):
        plane.act("action_inexistante")


def test_smtp_and_imap_exchanges_are_attributed_to_the_registered_dui(running, profile, pki) -> None:
    running.journal.register_dui(profile)  # what `banc dui enregistrer` writes
    since = running.journal.last_id()
    raw = HealthMessage(sender=SECRETARIAT, recipients=[SECRETARIAT], body="note\n").build()
    with smtplib.SMTP("127.0.0.1", running.smtp.starttls_port, timeout=30) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: f"user={SECRETARIAT}\x01auth=Bearer "
                                              f"{running.token_for(SECRETARIAT)}\x01\x01")
        smtp.sendmail(SECRETARIAT, [SECRETARIAT], raw)
    inbox(running, pki)
    exchanges = running.journal.exchanges(since_id=since)
    by_operation = {e.operation: e for e in exchanges}
    for operation in ("smtp.submission", "imap.authenticate", "imap.select", "imap.fetch"):
        assert by_operation[operation].dui == "dui-test", operation


def test_an_application_mailbox_keeps_its_certificate_when_the_profile_lists_it(running, plane, pki) -> None:
    app_box = "dui@ssiad-val-de-morge.mssante.fr"  # seeded with CN BAL-APPLICATIVE-SSIAD (mss-app)
    both = DuiProfile(name="dui-deux-certificats", mailboxes=(Mailbox(app_box, "certificat"),),
                      client_certificates=(pki.cert("dui").read_text(), pki.cert("mss-app").read_text()))
    assert plane.register_dui(both)["boites"][0]["certificat_cn"] == "BAL-APPLICATIVE-SSIAD"
    with pytest.raises(ControlError, match="sans certificat client"):
        plane.register_dui(DuiProfile(name="sans-certificat", mailboxes=(Mailbox(app_box, "certificat"),)))
