"""The Annuaire mock's control plane: closed without the admin token, registers the DUI's API
key, publishes a professional the DUI then finds with a plain FHIR search, revokes keys, resets."""

from __future__ import annotations

import json

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from banc.control import ControlClient, ControlError
from banc.directory import make_rpps
from banc.dui import DuiProfile

pytestmark = pytest.mark.slow
NEW_RPPS = make_rpps(777_001)
NEWCOMER = {"rpps": NEW_RPPS, "nom": "Lefèvre", "prenom": "Anaïs", "sexe": "F",
            "profession": "60", "bal": "anais.lefevre@infirmier.mssante.fr",
            "organisation": "org-ssiad-morge"}

ROUTES = [
    ("GET", "/etat", None), ("POST", "/reinitialiser", None),
    ("POST", "/semer", json.dumps({"professionnels": [NEWCOMER]}).encode()),
    ("POST", "/dui", b'{"name": "pirate", "annuaire_api_key": "cle-pirate"}'),
    ("GET", "/actions", None),
    ("POST", "/actions/ajouter_professionnel", json.dumps(NEWCOMER).encode()),
    ("POST", "/actions/ajouter_cle_api", b'{"cle": "cle-pirate"}'),
    ("POST", "/actions/revoquer_cle_api", b'{"cle": "banc-segur-annuaire"}'),
]


@pytest.mark.parametrize(("method", "route", "body"), ROUTES, ids=[f"{m} {r}" for m, r, _ in ROUTES])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer faux"},
                                     {"ESANTE-API-KEY": "banc-segur-annuaire"}],
                         ids=["none", "wrong-token", "api-key-is-not-admin"])
def test_control_routes_refuse_callers_without_the_admin_token(annuaire, annuaire_tls, method,
                                                              route, body, headers) -> None:
    before = (set(annuaire.api_keys), annuaire.store.count())
    response = httpx.request(method, annuaire.endpoints["annuaire.controle"] + route, content=body,
                             headers=headers, verify=annuaire_tls)
    assert response.status_code == 401 and "jeton" in response.json()["erreur"]
    assert (set(annuaire.api_keys), annuaire.store.count()) == before


def test_dui_key_then_published_professional_found_by_a_fhir_search(
        annuaire, annuaire_tls, annuaire_journal, admin_token) -> None:
    control = ControlClient("annuaire", annuaire.endpoints["annuaire.controle"], admin_token,
                            verify=annuaire_tls)
    profile = DuiProfile("dui-ann", annuaire_api_key="cle-du-dui")
    assert control.register_dui(profile) == {"cle_api": "cle-du-dui"}
    added = control.act("ajouter_professionnel", **NEWCOMER)
    assert added["identifiant_national"] == "8" + NEW_RPPS and added["roles"] == 1
    annuaire_journal.register_dui(profile)
    since = annuaire_journal.last_id()
    with httpx.Client(base_url=annuaire.base_url, verify=annuaire_tls,
                      headers={"ESANTE-API-KEY": "cle-du-dui"}) as fhir:
        found = fhir.get("/Practitioner", params={"family": "LEFEVRE", "given": "anais"})
        roles = fhir.get("/PractitionerRole", params={"practitioner": NEW_RPPS,
                                                      "_include": "PractitionerRole:organization"})
    bundle = Bundle.model_validate(found.json())
    assert bundle.total == 1 and bundle.entry[0].resource.id == NEW_RPPS
    assert NEWCOMER["bal"] in found.text
    assert {e.resource.__resource_type__ for e in Bundle.model_validate(roles.json()).entry} == \
        {"PractitionerRole", "Organization"}
    recorded = annuaire_journal.exchanges(service="annuaire", since_id=since)
    assert {e.dui for e in recorded} == {"dui-ann"}
    assert all(e.summary["api_key"] == "cle-du-dui" for e in recorded)
    assert control.state()["ressources"]["Practitioner"] == annuaire.store.count("Practitioner")
    control.close()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({"rpps": "12345678901"}, "RPPS"), ({"sexe": "X"}, "sexe"), ({"profession": "99"}, "profession"),
     ({"bal": "pas-une-adresse"}, "adresse"), ({"organisation": "org-inconnue"}, "organisation"),
     ({"nom": " "}, "nom")],
)
def test_add_professional_names_what_is_wrong(annuaire, changes, expected) -> None:
    before = annuaire.store.count()
    with pytest.raises(ControlError, match=expected):
        annuaire.control.add_professional(**{**NEWCOMER, **changes})
    assert annuaire.store.count() == before


def test_revoked_key_then_reset(annuaire, fhir: httpx.Client) -> None:
    annuaire.control.add_key("cle-temporaire")
    annuaire.control.add_professional(**{**NEWCOMER, "rpps": make_rpps(777_002)})
    annuaire.control.revoke_key("banc-segur-annuaire")
    refused = fhir.get("/Practitioner", params={"_count": "1"})
    assert refused.status_code == 401
    annuaire.control.reset()
    assert annuaire.api_keys == {"banc-segur-annuaire"}
    assert fhir.get("/Practitioner", params={"_id": make_rpps(777_002)}).json()["total"] == 0
    assert fhir.get("/Practitioner", params={"_count": "1"}).status_code == 200
    with pytest.raises(ControlError, match="inconnue"):
        annuaire.control.revoke_key("jamais-vue")
