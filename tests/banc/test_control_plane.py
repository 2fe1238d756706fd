"""The shared control plane, journal recorder, attribution and rule-set factory (issue 10)."""

from __future__ import annotations

import httpx
import pytest

from banc.control import Action, ControlClient, ControlError, with_control
from banc.dui import DuiProfile, Mailbox, fingerprint
from banc.journal import MAX_KEPT_BYTES, Exchange
from banc.recording import JournalMiddleware, note
from banc.server import PortInUse, ServedApp
from banc.verdict import RuleSet, Severity


class FakePlane:
    service = "essai"

    def __init__(self) -> None:
        self.duis: list[str] = []
        self.resets = 0

    def state(self) -> dict:
        return {"duis": self.duis, "reinitialisations": self.resets}

    def reset(self) -> None:
        self.resets += 1

    def seed(self, **params) -> dict:
        return {"seme": params}

    def register_dui(self, profile: DuiProfile) -> dict:
        self.duis.append(profile.name)
        return {"enregistre": profile.name}

    def actions(self) -> dict[str, Action]:
        return {"saluer": Action("dit bonjour", lambda qui: {"bonjour": qui})}


async def _mock_app(scope, receive, send):
    exchange = note(scope)
    exchange.operation = "ECHO"
    exchange.summary.update(login="secretariat@ssiad.mssante.fr", patient_ins="123")
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body[::-1]})


@pytest.fixture
def served(pki, journal):
    plane = FakePlane()
    app = JournalMiddleware(with_control(_mock_app, plane, "jeton"), journal, "essai")
    with ServedApp(app, pki=pki, client_cert="optional", name="essai") as server:
        yield server, plane


def test_control_plane_requires_token_and_answers(served, pki, journal):
    server, plane = served
    control = f"{server.url}/_banc"
    refused = httpx.get(f"{control}/etat", verify=str(pki.ca_cert))
    assert refused.status_code == 401 and "jeton" in refused.json()["erreur"]
    wrong = httpx.post(f"{control}/reinitialiser", verify=str(pki.ca_cert),
                       headers={"Authorization": "Bearer faux"})
    assert wrong.status_code == 401 and plane.resets == 0
    client = ControlClient("essai", control, "jeton", verify=str(pki.ca_cert))
    client.reset()
    client.register_dui(DuiProfile("dui-a"))
    assert client.state() == {"duis": ["dui-a"], "reinitialisations": 1}
    assert client.act("saluer", qui="hôpital") == {"bonjour": "hôpital"}
    with pytest.raises(ControlError, match="inconnue"):
        client.act("voler")
    with pytest.raises(ControlError, match="paramètres invalides"):
        client.act("saluer", personne="x")
    client.close()
    operations = [e.operation for e in journal.exchanges()]
    assert "controle GET /etat" in operations and "controle POST /dui" in operations


def test_recorder_observes_and_journal_attributes(served, pki, journal):
    server, _ = served
    journal.register_dui(DuiProfile("dui-a", mailboxes=(Mailbox("Secretariat@SSIAD.mssante.fr"),)))
    journal.register_dui(DuiProfile("dui-b", client_certificates=(pki.cert("dui").read_text(),)))
    journal.set_active_run("dui-a", "run-1")
    response = httpx.post(f"{server.url}/echo?x=1", content=b"abc", verify=str(pki.ca_cert),
                          headers={"Authorization": "Bearer secretsecretsecret"})
    assert response.content == b"cba"
    exchange = journal.exchanges(service="essai")[-1]
    assert (exchange.operation, exchange.request, exchange.response) == ("ECHO", b"abc", b"cba")
    assert exchange.dui == "dui-a" and exchange.run == "run-1"
    assert exchange.summary["http"]["headers"]["authorization"].endswith("…")
    assert "secretsecretsecret" not in str(exchange.summary)
    # the DUI's own certificate attributes an exchange with no more specific key
    with_cert = journal.record(Exchange("essai", summary={
        "client_certificate_sha256": fingerprint(pki.cert("dui").read_text())}))
    assert journal.get(with_cert).dui == "dui-b"
    unknown = journal.record(Exchange("essai", summary={"login": "inconnu@x.fr"}))
    assert journal.get(unknown).dui is None


def test_oversized_body_is_capped_with_size_and_hash(journal):
    big = b"x" * (MAX_KEPT_BYTES + 1)
    ident = journal.record(Exchange("essai", request=big))
    kept = journal.get(ident)
    assert len(kept.request) < 100_000
    assert kept.summary["request_tronque"]["taille"] == len(big)


def test_port_in_use_is_one_clear_error(pki):
    with ServedApp(_mock_app, pki=pki, name="premier") as first, pytest.raises(PortInUse, match="déjà utilisé"):
        ServedApp(_mock_app, pki=pki, name="second", port=first.port).start()


def test_ruleset_binds_prefix_and_requirements():
    rules = RuleSet("dmp", "dmp", ("SC.DMP.04.MS1",))
    found = rules.warning("vihf.signature", "jeton non signé")
    assert (found.rule_id, found.severity, found.ruleset) == ("DMP.VIHF.SIGNATURE", Severity.WARNING, "dmp")
    assert found.requirements == ("SC.DMP.04.MS1",)
    assert rules.error("DMP.X", "m").rule_id == "DMP.X"
    with pytest.raises(ValueError, match="catalogue"):
        rules.error("X", "m", requirements=("SC.NOPE.99.MS1",))
