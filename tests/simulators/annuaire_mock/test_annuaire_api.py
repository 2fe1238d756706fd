"""The Annuaire FHIR API through httpx over TLS, used the way a DUI uses the real one."""

from __future__ import annotations

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.practitioner import Practitioner

from banc.directory import default_directory
from simulators.annuaire_mock import DEFAULT_API_KEY, seed

pytestmark = pytest.mark.slow

BAL_META = seed.EXT_MAILBOX_METADATA


def mss_addresses(resource) -> list[tuple[str, str]]:
    """(address, BAL type) of the MSSanté telecoms of a parsed resource — the client pattern."""
    found = []
    for telecom in resource.telecom or ():
        urls = {e.url: e for e in telecom.extension or ()}
        email_type = urls.get(seed.EXT_EMAIL_TYPE)
        if telecom.system == "email" and email_type and email_type.valueCoding.code == "MSSANTE":
            meta = {e.url: e for e in urls[BAL_META].extension}
            found.append((telecom.value, meta["type"].valueCodeableConcept.coding[0].code))
    return found


def search(fhir: httpx.Client, path: str, **params) -> Bundle:
    response = fhir.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return Bundle.model_validate(response.json())


def outcome(response: httpx.Response, status: int, rule: str) -> OperationOutcome:
    assert response.status_code == status, response.text
    parsed = OperationOutcome.model_validate(response.json())
    assert parsed.issue[0].details.coding[0].code == rule
    assert parsed.issue[0].diagnostics
    return parsed


def test_find_gp_by_rpps_idnps_and_name_and_get_mailbox(fhir: httpx.Client) -> None:
    gp = default_directory().gp
    for value in (gp.rpps, f"{seed.SYSTEM_RPPS}|{gp.rpps}", f"{seed.SYSTEM_IDNPS}|{gp.national_id}"):
        bundle = search(fhir, "/Practitioner", identifier=value)
        assert bundle.total == 1 and bundle.entry[0].resource.id == gp.rpps
    # wrong system for that value: nothing
    assert search(fhir, "/Practitioner", identifier=f"{seed.SYSTEM_IDNPS}|{gp.rpps}").total == 0
    by_name = search(fhir, "/Practitioner", family="vidal", given="helene")
    ids = [e.resource.id for e in by_name.entry]
    assert gp.rpps in ids
    practitioner = next(e.resource for e in by_name.entry if e.resource.id == gp.rpps)
    assert isinstance(practitioner, Practitioner)
    assert mss_addresses(practitioner) == [("helene.vidal@medecin.mssante.fr", "PER")]
    assert search(fhir, "/Practitioner", name="DR", family="VIDAL").total >= 1
    assert gp.rpps in {e.resource.id for e in
                       search(fhir, "/Practitioner", **{"family:contains": "idal"}).entry}
    read = fhir.get(f"/Practitioner/{gp.rpps}")
    assert read.status_code == 200 and read.json()["identifier"][0]["value"] == gp.national_id


def test_mailbox_search_modifiers_and_type(fhir: httpx.Client) -> None:
    address = "helene.vidal@medecin.mssante.fr"
    assert search(fhir, "/Practitioner", **{"mailbox-mss:exact": address}).total == 1
    assert search(fhir, "/Practitioner", **{"mailbox-mss:exact": address.upper()}).total == 0
    assert search(fhir, "/Practitioner", **{"mailbox-mss": "helene.vidal@"}).total == 1
    contains = search(fhir, "/Practitioner", **{"mailbox-mss:contains": "@medecin.mssante.fr"})
    expected = [p for p in default_directory().professionals
                if p.mailbox and not p.mailbox.liste_rouge
                and p.mailbox.domain == "medecin.mssante.fr"]
    assert contains.total == len(expected) > 50
    across = [p for p in default_directory().professionals if p.mailbox
              and not p.mailbox.liste_rouge and "vidal@medecin" in p.mailbox.address]
    found = search(fhir, "/Practitioner", **{"mailbox-mss:contains": "VIDAL@medecin"})
    assert found.total == len(across) >= 1
    assert search(fhir, "/PractitionerRole", **{"mailbox-mss:contains": "helene.vid"}).total == 1
    ssiad = default_directory().ssiad
    apps = search(fhir, "/Organization", **{"mailbox-mss-type": "APP"})
    assert ssiad.id in {e.resource.id for e in apps.entry}
    with_system = search(fhir, "/Organization",
                         **{"mailbox-mss-type": f"{seed.CS_BAL_TYPE}|APP"})
    assert with_system.total == apps.total
    org = fhir.get(f"/Organization/{ssiad.id}").json()
    parsed = Bundle.model_validate({"resourceType": "Bundle", "type": "collection",
                                    "entry": [{"resource": org}]}).entry[0].resource
    assert ("dui@ssiad-val-de-morge.mssante.fr", "APP") in mss_addresses(parsed)


def test_liste_rouge_mailboxes_are_not_published(fhir: httpx.Client) -> None:
    hidden = next(p for p in default_directory().professionals
                  if p.mailbox and p.mailbox.liste_rouge)
    assert search(fhir, "/Practitioner", **{"mailbox-mss:exact": hidden.mailbox.address}).total == 0
    found = search(fhir, "/Practitioner", identifier=hidden.rpps)
    assert found.total == 1 and not found.entry[0].resource.telecom


def test_page_through_500_practitioners(fhir: httpx.Client) -> None:
    bundle = search(fhir, "/Practitioner")
    total = bundle.total
    assert total == len(default_directory().professionals) >= 500
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        assert len(bundle.entry) <= 50
        seen += [e.resource.id for e in bundle.entry]
        following = [link.url for link in bundle.link if link.relation == "next"]
        if not following:
            break
        response = fhir.get(following[0])
        assert response.status_code == 200
        bundle = Bundle.model_validate(response.json())
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 50)
    small = search(fhir, "/Practitioner", _count="7", _total="none")
    assert len(small.entry) == 7 and small.total is None


def test_include_organization_and_revinclude_roles(fhir: httpx.Client) -> None:
    directory = default_directory()
    gp = directory.gp
    roles = search(fhir, "/PractitionerRole", practitioner=gp.rpps,
                   _include="PractitionerRole:organization")
    modes = {(e.resource.get_resource_type(), e.search.mode) for e in roles.entry}
    assert modes == {("PractitionerRole", "match"), ("Organization", "include")}
    org = next(e.resource for e in roles.entry if e.search.mode == "include")
    assert org.id == "org-cabinet-domes" and org.name == "CABINET MEDICAL DES DOMES"
    assert roles.total == 1  # included resources do not count
    nurse = directory.person("infirmiere_liberale")
    back = search(fhir, "/Practitioner", identifier=nurse.rpps,
                  _revinclude="PractitionerRole:practitioner")
    included = [e.resource for e in back.entry if e.search.mode == "include"]
    assert {r.organization.reference for r in included} == {
        "Organization/org-cabinet-domes", "Organization/org-ssiad-morge"}
    members = search(fhir, "/PractitionerRole", organization="Organization/org-ssiad-morge",
                     _include="PractitionerRole:practitioner")
    names = {e.resource.name[0].family for e in members.entry
             if e.resource.get_resource_type() == "Practitioner"}
    assert {"FAURE", "BERNARD"} <= names
    services = search(fhir, "/Organization", partof="org-ch-riom")
    assert [e.resource.id for e in services.entry] == ["org-ch-riom-geriatrie"]


def test_last_updated_active_and_post_search(fhir: httpx.Client) -> None:
    total = search(fhir, "/Practitioner", _count="0").total
    before = search(fhir, "/Practitioner", _lastUpdated="lt2024-01-01", _count="0").total
    since = search(fhir, "/Practitioner", _lastUpdated="ge2024-01-01", _count="0").total
    assert before + since == total and before > 0 and since > 0
    inactive = search(fhir, "/Practitioner", active="false", _count="0").total
    active = search(fhir, "/Practitioner", active="true", _count="0").total
    assert inactive + active == total and inactive > 0
    posted = fhir.post("/Practitioner/_search", data={"identifier": default_directory().gp.rpps})
    assert posted.status_code == 200 and posted.json()["total"] == 1


def test_bad_requests_give_operation_outcomes(fhir: httpx.Client, annuaire, annuaire_tls) -> None:
    outcome(fhir.get("/Practitioner", params={"colour": "blue"}), 400, "ANNUAIRE.PARAM.UNKNOWN")
    outcome(fhir.get("/Practitioner", params={"family:fuzzy": "x"}), 400, "ANNUAIRE.PARAM.MODIFIER")
    outcome(fhir.get("/Practitioner", params={"_count": "-3"}), 400, "ANNUAIRE.PARAM.COUNT")
    outcome(fhir.get("/Practitioner", params={"_lastUpdated": "hier"}), 400, "ANNUAIRE.PARAM.DATE")
    outcome(fhir.get("/Practitioner", params={"active": "oui"}), 400, "ANNUAIRE.PARAM.BOOLEAN")
    outcome(fhir.get("/Practitioner", params={"_include": "Practitioner:organization"}), 400,
            "ANNUAIRE.PARAM.INCLUDE")
    outcome(fhir.get("/Practitioner", params={"_total": "all"}), 400, "ANNUAIRE.PARAM.TOTAL")
    outcome(fhir.get("/Patient"), 404, "ANNUAIRE.RESOURCE.UNKNOWN_TYPE")
    outcome(fhir.get("/Practitioner/00000000000"), 404, "ANNUAIRE.RESOURCE.NOT_FOUND")
    outcome(fhir.get("/_page", params={"id": "garbage!"}), 410, "ANNUAIRE.PAGE.INVALID")
    outcome(fhir.put("/Practitioner/1", json={}), 405, "ANNUAIRE.METHOD.WRITE")
    outcome(fhir.post("/Practitioner", json={"resourceType": "Practitioner"}), 405,
            "ANNUAIRE.METHOD.WRITE")
    no_key = httpx.get(annuaire.base_url + "/Practitioner", verify=annuaire_tls)
    outcome(no_key, 401, "ANNUAIRE.AUTH.MISSING_KEY")
    outcome(fhir.get("/Practitioner", headers={"ESANTE-API-KEY": "revoquee"}), 401,
            "ANNUAIRE.AUTH.UNKNOWN_KEY")


def test_every_exchange_is_journaled_with_its_verdict(fhir: httpx.Client, annuaire_journal) -> None:
    since = annuaire_journal.last_id()
    fhir.get("/Practitioner", params={"identifier": default_directory().gp.rpps})
    fhir.get("/Practitioner", headers={"ESANTE-API-KEY": ""})
    exchanges = annuaire_journal.exchanges(service="annuaire", since_id=since)
    assert [e.status for e in exchanges] == ["200", "401"]
    assert exchanges[0].conform and exchanges[0].summary["total"] == 1
    assert not exchanges[1].conform
    assert exchanges[1].findings[0].rule_id == "ANNUAIRE.AUTH.MISSING_KEY"
    http = exchanges[0].summary["http"]
    assert (http["method"], http["path"]) == ("GET", "/fhir/v2/Practitioner")
    assert http["query"].startswith("identifier=")
    assert http["headers"]["esante-api-key"].endswith("…")  # redacted copy of the header
    assert exchanges[0].summary["api_key"] == DEFAULT_API_KEY  # the attribution key, whole
    assert "api_key" not in exchanges[1].summary  # an empty header attributes nothing
    assert b'"resourceType": "Bundle"' in exchanges[0].response
