"""The MSSanté control actions take the run's usager (identity traits), not only an identity of
the bench's own population: the letter names them and reports what a receiving DUI must show;
the usager gets a Mon espace santé mailbox; bad traits are a 422 naming the problem. Over the
control plane's HTTPS route, as the scenario runner calls it from another process."""

from __future__ import annotations

import dataclasses
import email
from collections.abc import Iterator

import pytest

from banc.control import ControlClient, ControlError
from banc.identity import IdentityStatus, patient_mail_address
from banc.population import generated_identities, identity_to_dict
from simulators.mssante_mock import MssanteMock
from simulators.mssante_mock.app import from_context

pytestmark = pytest.mark.slow
TOKEN = "jeton-usager"


@pytest.fixture(scope="module")
def running(mock_context) -> Iterator[MssanteMock]:
    mock = from_context(dataclasses.replace(mock_context("mss-usager"), admin_token=TOKEN))
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def plane(running, pki) -> Iterator[ControlClient]:
    client = ControlClient("mssante", running.endpoints["mssante.controle"], TOKEN, verify=pki.client_context())
    yield client
    client.close()


@pytest.fixture(scope="module")
def usager():
    return generated_identities(1, seed=987654, corsica_every=0, homonym_every=0)[0]


def test_the_letter_is_written_for_the_runs_usager(running, plane, usager) -> None:
    sent = plane.act("envoyer_lettre_sortie", usager=identity_to_dict(usager), accuse=True)
    assert sent["patient_ins"] == usager.ins and sent["patient_nom"] == usager.birth_name
    assert sent["titre"] and sent["date"][:8].isdigit() and sent["auteur"] and sent["organisation"]
    (box,) = sent["livre"]
    message = email.message_from_bytes(running.messages(box)[-1])
    assert message["Message-ID"] == sent["message_id"] and message["Disposition-Notification-To"]
    assert usager.birth_name.upper() in message["Subject"].upper()


@pytest.mark.parametrize(("traits", "said"), [("DUPONT", "objet de traits"), ({"sex": "F"}, "trait first_names absent"),
                                              ({"birth_name": "X", "first_names": ["Y"], "sex": "F",
                                                "birth_date": "hier"}, "traits invalides")])
def test_bad_traits_are_a_422_naming_the_problem(plane, traits, said) -> None:
    with pytest.raises(ControlError) as refused:
        plane.act("envoyer_lettre_sortie", usager=traits)
    assert refused.value.status == 422 and said in refused.value.message


def test_the_usager_gets_a_mon_espace_sante_mailbox_only_when_qualified(running, plane, usager) -> None:
    assert plane.act("ajouter_boite_patient", usager=identity_to_dict(usager)) == {
        "boite": patient_mail_address(usager.ins)}
    assert running.patients.is_open(usager.ins)
    provisional = dataclasses.replace(usager, status=IdentityStatus.PROVISOIRE)
    with pytest.raises(ControlError) as refused:
        plane.act("ajouter_boite_patient", usager=identity_to_dict(provisional))
    assert refused.value.status == 422 and "qualifiée" in refused.value.message


def test_a_fetch_of_several_messages_is_journaled_per_message(running, plane, usager, pki) -> None:
    import imaplib

    sent = [plane.act("envoyer_lettre_sortie", usager=identity_to_dict(usager)) for _ in range(2)]
    (box,) = sent[0]["livre"]
    with imaplib.IMAP4_SSL("127.0.0.1", running.imap.port, ssl_context=pki.client_context(), timeout=30) as imap:
        imap.authenticate("XOAUTH2", lambda _: (f"user={box}\x01auth=Bearer "
                                                f"{running.token_for(box)}\x01\x01").encode())
        imap.select("INBOX")
        imap.fetch("1:*", "(BODY.PEEK[])")
    per_message = {e.summary["message_id"] for e in running.journal.exchanges(operation="imap.fetch.message")}
    assert {s["message_id"] for s in sent} <= per_message
