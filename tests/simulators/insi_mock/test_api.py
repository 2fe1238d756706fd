"""Scenario-facing API of the mock: Python handles, admin HTTP endpoint (JSON), demo mode,
the launch contract."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from banc.cli.insi import build_traits_request
from banc.identity import Identity, IdentityStatus, nir_key
from banc.journal import Journal
from banc.mocks import MockContext
from simulators.insi_mock import launch

pytestmark = pytest.mark.slow

NEWCOMER = Identity(
    birth_name="DUPONT-MARTIN", first_names=("JEAN", "LOUIS"), sex="M", birth_date=date(1948, 3, 9),
    birth_place="2A004", matricule="148032A004123", status=IdentityStatus.QUALIFIEE,
)


def test_python_api_add_update_remove(insi_mock, zeep_insi) -> None:
    record = insi_mock.identities.add(NEWCOMER)
    assert record.identity.key == nir_key("148032A004123")  # computed when absent
    found = zeep_insi.traits("DUPONT-MARTIN", "LOUIS", "M", "1948-03-09")
    assert found.CR.CodeCR == "00" and found.INDIVIDU.TIQ.ListePrenom == "JEAN LOUIS"
    insi_mock.identities.update(record.ins, birth_name="DUPONT")
    assert zeep_insi.traits("DUPONT-MARTIN", "LOUIS", "M", "1948-03-09").CR.CodeCR == "01"
    assert zeep_insi.traits("DUPONT", "JEAN LOUIS", "M", "1948-03-09").CR.CodeCR == "00"
    assert insi_mock.identities.remove(record.ins)
    assert zeep_insi.traits("DUPONT", "JEAN", "M", "1948-03-09").CR.CodeCR == "01"


def test_python_api_register_software(insi_mock, post) -> None:
    assert post(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", idam="DUI-X")).status_code == 500
    insi_mock.register_software("DUI-X", "DUI de l'éditeur X")
    assert post(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", idam="DUI-X")).status_code == 200


def test_control_plane_over_https(insi_mock, pki, post, admin_token) -> None:
    """Another process drives the register through `/_banc` with the admin token."""
    from banc.control import ControlClient, ControlError

    control = ControlClient("insi", insi_mock.endpoints["insi.controle"], admin_token,
                            verify=str(pki.ca_cert))
    entry = {
        "birth_name": "ZANETTI", "first_names": ["LUCIA"], "sex": "F", "birth_date": "1931-10-02",
        "birth_place": "99127", "matricule": "2311099127001",
    }
    ins = control.act("ajouter_identite", **entry)["ins"]
    assert ins == "2311099127001" + nir_key("2311099127001")
    assert any(i["ins"] == ins for i in control.state()["identites"])
    assert post(build_traits_request("ZANETTI", "LUCIA", "F", "1931-10-02")).status_code == 200
    assert control.act("retirer_identite", ins=ins) == {"retiree": ins}
    with pytest.raises(ControlError, match="inconnu"):
        control.act("retirer_identite", ins=ins)
    with pytest.raises(ControlError, match="clé '99' incorrecte"):
        control.act("ajouter_identite", **{**entry, "key": "99"})
    with pytest.raises(ControlError, match="birth_date"):
        control.act("ajouter_identite", **{k: v for k, v in entry.items() if k != "birth_date"})
    control.act("enregistrer_logiciel", idam="DUI-Y", nom="DUI Y")
    assert "DUI-Y" in control.state()["logiciels"]
    assert post(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", idam="DUI-Y")).status_code == 200
    control.close()
    operations = [e.operation for e in insi_mock.exchanges()]
    assert "controle POST /actions/ajouter_identite" in operations


def test_register_dui_and_attribution(insi_mock, post) -> None:
    """`banc dui` registers the DUI's IDAM; its calls then carry the `idam` attribution key."""
    from banc.dui import DuiProfile

    result = insi_mock.control.register_dui(DuiProfile("dui-z", idam="DUI-Z", software="DUI Z"))
    assert result == {"logiciel": {"idam": "DUI-Z", "nom": "DUI Z"}}
    assert insi_mock.control.register_dui(DuiProfile("sans-idam"))["logiciel"] is None
    insi_mock.journal.register_dui(DuiProfile("dui-z", idam="DUI-Z"))
    since = insi_mock.journal.last_id()
    assert post(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", idam="DUI-Z")).status_code == 200
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.summary["idam"] == "DUI-Z" and exchange.dui == "dui-z"
    assert exchange.summary["patient_ins"] == "275126322074974"
    assert exchange.summary["patient_oid"] == "1.2.250.1.213.1.4.8"
    assert exchange.summary["client_certificate_sha256"]


def test_reset_returns_to_the_seeded_register(pki, tmp_path) -> None:
    mock = launch(MockContext(journal=Journal(tmp_path / "j.sqlite"), pki=pki, data_dir=tmp_path),
                  generated=3)
    try:
        seeded = mock.identities.count()
        mock.identities.add(NEWCOMER)
        mock.register_software("DUI-TEMPORAIRE")
        mock.control.reset()
        assert mock.identities.count() == seeded
        assert mock.identities.get("148032A004123") is None
        assert "DUI-TEMPORAIRE" not in mock.identities.known_idams()
        assert "BANC-SEGUR-DUI" in mock.identities.known_idams()
    finally:
        mock.stop()


def test_insecure_demo_mode_only_when_asked(pki, tmp_path) -> None:
    context = MockContext(
        journal=Journal(tmp_path / "j.sqlite"), pki=pki, data_dir=tmp_path, insecure=True
    )
    mock = launch(context, generated=0)
    try:
        assert mock.url.startswith("http://")
        response = httpx.post(
            mock.url, content=build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"),
            headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        )
        assert response.status_code == 200
        (exchange,) = mock.exchanges()
        assert exchange.summary["auth"] == "demo"
        assert [f.rule_id for f in exchange.findings] == ["INSI.AUTH.DEMO"]
    finally:
        mock.stop()


def test_fixture_file_and_restart_keep_state(pki, tmp_path) -> None:
    from banc.population import dump_identities

    fixture = tmp_path / "people.json"
    dump_identities([NEWCOMER], fixture)
    context = MockContext(journal=Journal(tmp_path / "j.sqlite"), pki=pki, data_dir=tmp_path)
    first = launch(context, generated=5, fixture=fixture)
    first.stop()
    assert first.identities.get("148032A004123") is not None
    second = launch(context, generated=5)
    try:
        assert second.identities.count() == first.identities.count()
        assert second.server.port != 0 and second.url.startswith("https://")
    finally:
        second.stop()
    third = launch(context, generated=5, reset=True)
    third.stop()
    assert third.identities.get("148032A004123") is None


def test_stop_does_not_wait_for_idle_keep_alive_clients(pki, tmp_path) -> None:
    import time

    import requests

    mock = launch(MockContext(journal=Journal(tmp_path / "j.sqlite"), pki=pki, data_dir=tmp_path), generated=0)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(pki.ca_cert)
    session.cert = (str(pki.cert("insi-auto")), str(pki.key("insi-auto")))
    answer = session.post(mock.url, data=build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"))
    assert answer.status_code == 200
    started = time.monotonic()
    mock.stop()
    assert time.monotonic() - started < 3
    session.close()


def test_lookups_are_the_evidence_of_an_insi_call(insi_mock, zeep_insi) -> None:
    zeep_insi.traits("CORSE", "ANTHONY", "M", "1980-03-02")
    found = insi_mock.lookups("180032B02040123")
    assert found and all(e.summary["cr"] == "00" for e in found)
    assert all("cr" in e.summary for e in insi_mock.lookups())


def test_wsdl_served_with_the_mock_address(insi_mock, zeep_factory) -> None:
    """A vendor points its client at `…/lps?wsdl`: the schemas come from the mock, the W3C
    WS-Addressing schema from disk, and the service address is the mock's."""
    base = insi_mock.url.removesuffix("/lps")
    client = zeep_factory(f"{insi_mock.url}?wsdl", None, "insi-manu", allow=(base,))
    assert client.service._binding_options["address"] == insi_mock.url
    answer = client.traits("NESSI", "MICHELANGELO", "M", "2010-08-07")
    assert answer.CR.CodeCR == "00"
    assert answer.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant == "1100863220830"


def test_concurrent_clients_all_answered_and_journaled(insi_mock, pki) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from banc.population import cnam_test_cases

    cases = [c for c in cnam_test_cases() if c.expected_cr == "00"] * 2
    since = insi_mock.journal.last_id()

    def ask(case) -> tuple[str, bytes]:
        request = build_traits_request(
            case.birth_name, case.first_name, case.sex, case.birth_date, case.birth_place
        )
        with httpx.Client(verify=pki.client_context("insi-auto"), timeout=60) as client:
            response = client.post(
                insi_mock.url, content=request,
                headers={"Content-Type": "application/soap+xml; charset=utf-8"},
            )
        return case.expected_ins, response.content

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, cases))
    for ins, body in answers:
        assert f"<NumIdentifiant>{ins[:13]}</NumIdentifiant><Cle>{ins[13:]}</Cle>".encode() in body
    recorded = insi_mock.exchanges(since_id=since)
    assert len(recorded) == len(cases)
    assert sorted(e.summary["patient_ins"] for e in recorded) == sorted(c.expected_ins for c in cases)
