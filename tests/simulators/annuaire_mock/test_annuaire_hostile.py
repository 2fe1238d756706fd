"""Hostile query classes against the Annuaire mock (ISSUE 11, item 14): non-ASCII digits,
hundreds of repeated parameters or values, forged page tokens, undecodable bodies. Each gets an
OperationOutcome naming the rule (never a 500), and is journaled. Inputs are generated here."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from simulators.annuaire_mock import DEFAULT_API_KEY

pytestmark = pytest.mark.slow


def refused(response: httpx.Response, status: int, rule: str) -> str:
    """The diagnostics of an OperationOutcome answer carrying `rule`."""
    assert response.status_code == status, response.text
    outcome = OperationOutcome.model_validate(response.json())
    codes = [i.details.coding[0].code for i in outcome.issue]
    assert f"ANNUAIRE.{rule}" in codes, codes
    return " ".join(i.diagnostics for i in outcome.issue)


@pytest.mark.parametrize(
    "count", ["\u00b2", "\u0661\u0660", "\uff15", "\u2460", "1\u00b2", " 5", "+5", "5\n"],
    ids=["superscript-two", "arabic-indic", "fullwidth", "circled", "mixed", "space", "plus",
         "newline"],
)
def test_count_with_non_ascii_digits(fhir: httpx.Client, count: str) -> None:
    message = refused(fhir.get("/Practitioner", params={"_count": count}), 400, "PARAM.COUNT")
    assert "entier" in message


@pytest.mark.parametrize(
    "value", ["\u0662\u0660\u0662\u0664-01-01", "ge2024-01-01\n", "2024-\u00b9\u00b2-01"],
    ids=["arabic-indic", "trailing-newline", "superscript"],
)
def test_dates_with_foreign_digits(fhir: httpx.Client, value: str) -> None:
    refused(fhir.get("/Practitioner", params={"_lastUpdated": value}), 400, "PARAM.DATE")


@pytest.mark.parametrize(
    "query",
    ["&".join(["family=A"] * 1500),
     "&".join(f"given=B{i}" for i in range(1500)),
     "&".join(["_include=PractitionerRole:practitioner"] * 300),  # 1 500 exceed h11's URL limit
     "family=" + ",".join(["A"] * 1500),
     "mailbox-mss:contains=" + ",".join(["abc"] * 1500),
     "_lastUpdated=" + ",".join(["ge2020-01-01"] * 1500)],
    ids=["repeated-param", "distinct-values", "repeated-include", "comma-values",
         "contains-values", "date-values"],
)
def test_too_many_parameters_or_values(fhir: httpx.Client, query: str) -> None:
    """1 500 criteria used to build an SQL expression deeper than SQLite accepts (a 500)."""
    rtype = "PractitionerRole" if "_include" in query else "Practitioner"
    message = refused(fhir.get(f"/{rtype}?{query}"), 400, "PARAM.TOO_MANY")
    assert ("1500" in message or "300" in message) and "au plus 100" in message


def test_too_many_parameters_in_a_post_search(fhir: httpx.Client) -> None:
    response = fhir.post("/Practitioner/_search", content="&".join(["family=A"] * 1500),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    refused(response, 400, "PARAM.TOO_MANY")


def test_a_hundred_values_are_still_searched(fhir: httpx.Client) -> None:
    """The limit refuses the absurd, not a wide legitimate search."""
    names = ",".join(["MARTIN", *(f"ABSENT{i}" for i in range(99))])
    response = fhir.get("/Practitioner", params={"family": names, "_count": "5"})
    assert response.status_code == 200, response.text
    assert Bundle.model_validate(response.json()).type == "searchset"


def test_post_search_body_that_is_not_utf8(fhir: httpx.Client) -> None:
    response = fhir.post("/Practitioner/_search", content=b"family=\xff\xfeMARTIN",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "UTF-8" in refused(response, 400, "PARAM.ENCODING")


def token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("raw", "status", "rule"),
    [
        (json.dumps({"t": "Patient", "q": [], "a": 0}).encode(), 404, "RESOURCE.UNKNOWN_TYPE"),
        (json.dumps({"t": "Practitioner", "q": [], "a": 10**30}).encode(), 410, "PAGE.INVALID"),
        (json.dumps({"t": "Practitioner", "q": [], "a": -1}).encode(), 410, "PAGE.INVALID"),
        (json.dumps({"t": "Practitioner", "q": [], "a": "12"}).encode(), 410, "PAGE.INVALID"),
        (json.dumps({"t": ["Practitioner"], "q": [], "a": 0}).encode(), 410, "PAGE.INVALID"),
        (b"[" * 2000 + b"]" * 2000, 410, "PAGE.INVALID"),
        (b'{"t": "Practitioner", "q": ' + b"[" * 2000 + b"]" * 2000 + b', "a": 0}', 410,
         "PAGE.INVALID"),
        (json.dumps({"t": "Practitioner", "q": [["family", "A"]] * 300, "a": 0}).encode(), 400,
         "PARAM.TOO_MANY"),
        (b"\xff\xfe\x00", 410, "PAGE.INVALID"),
    ],
    ids=["unknown-type", "huge-rowid", "negative-rowid", "string-rowid", "list-type",
         "deep-array", "deep-query", "300-pairs", "not-json"],
)
def test_forged_page_tokens(fhir: httpx.Client, raw: bytes, status: int, rule: str) -> None:
    refused(fhir.get("/_page", params={"id": token(raw)}), status, rule)


def test_hostile_requests_are_journaled(fhir: httpx.Client, annuaire_journal) -> None:
    since = annuaire_journal.last_id()
    fhir.get("/Practitioner", params={"_count": "\u00b2"})
    fhir.get("/Practitioner?" + "&".join(["family=A"] * 1500))
    recorded = annuaire_journal.exchanges(service="annuaire", since_id=since)
    assert [e.status for e in recorded] == ["400", "400"]
    assert [e.findings[0].rule_id for e in recorded] == ["ANNUAIRE.PARAM.COUNT",
                                                         "ANNUAIRE.PARAM.TOO_MANY"]


def test_an_unforeseen_error_is_an_operation_outcome(annuaire, annuaire_tls, annuaire_journal,
                                                     monkeypatch) -> None:
    """The last-resort handler: an error nobody planned for is still a FHIR answer, journaled
    (then the server closes that connection: a client of its own, not the shared one)."""

    def broken(query):
        raise RuntimeError("base verrouillée")

    monkeypatch.setattr(annuaire.store, "search", broken)
    since = annuaire_journal.last_id()
    response = httpx.get(f"{annuaire.base_url}/Practitioner", params={"family": "MARTIN"},
                         headers={"ESANTE-API-KEY": DEFAULT_API_KEY}, verify=annuaire_tls)
    message = refused(response, 500, "INTERNAL")
    assert "base verrouillée" in message
    (exchange,) = annuaire_journal.exchanges(service="annuaire", since_id=since)
    assert exchange.status == "500"


def test_findings_of_one_request_are_bounded(fhir: httpx.Client, annuaire_journal) -> None:
    """50 parameters of 10 bad dates each: one refusal with 20 detailed defects and a count."""
    query = "&".join(["_lastUpdated=" + ",".join(["x"] * 10)] * 50)
    since = annuaire_journal.last_id()
    message = refused(fhir.get(f"/Practitioner?{query}"), 400, "PARAM.DATE")
    assert "480 autres défauts" in message
    (exchange,) = annuaire_journal.exchanges(service="annuaire", since_id=since)
    assert len(exchange.findings) == 21
