"""Hostile input classes against the INSi mock (ISSUE 11, items 11, 14, 15): each gets a precise
refusal — never a 500 of the simulator, never an answer that should not be given — and the
journal keeps the refused exchange. Inputs are generated here, by code."""

from __future__ import annotations

import json

import httpx
import pytest
from lxml import etree

from banc.cli.insi import ACTION_VITALE, CONTENT_TYPE, build_traits_request, build_vitale_request
from banc.identity import nir_key

pytestmark = pytest.mark.slow

ADRUN_NIR = "2751263220749"
ADRUN_BORN = "1975-12-31"
ADRUN_ENTRY = {
    "birth_name": "ZANETTI", "first_names": ["LUCIA"], "sex": "F", "birth_date": "1931-10-02",
    "birth_place": "99127", "matricule": "2311099127001",
}


def control_url(insi_mock) -> str:
    return insi_mock.endpoints["insi.controle"]


# -- item 11: the control plane (which replaced the admin API) requires the admin token ------

CONTROL_ROUTES = [
    ("GET", "/etat", None),
    ("POST", "/reinitialiser", None),
    ("POST", "/semer", json.dumps({"identites": [ADRUN_ENTRY]}).encode()),
    ("POST", "/dui", b'{"name": "pirate", "idam": "LOGICIEL-PIRATE"}'),
    ("GET", "/actions", None),
    ("POST", "/actions/ajouter_identite", json.dumps(ADRUN_ENTRY).encode()),
    ("POST", "/actions/retirer_identite", json.dumps({"ins": f"{ADRUN_NIR}74"}).encode()),
    ("POST", "/actions/enregistrer_logiciel", b'{"idam": "LOGICIEL-PIRATE"}'),
    ("GET", "/route-inconnue", None),
]
CREDENTIALS = {
    "none": {},
    "wrong-token": {"Authorization": "Bearer pas-le-bon-jeton"},
    "basic-scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "bearer-without-token": {"Authorization": "Bearer"},
}


@pytest.mark.parametrize(("method", "route", "body"), CONTROL_ROUTES,
                         ids=[f"{m} {r}" for m, r, _ in CONTROL_ROUTES])
@pytest.mark.parametrize("credentials", list(CREDENTIALS))
def test_control_routes_refuse_callers_without_the_admin_token(
    insi_mock, pki, method, route, body, credentials
) -> None:
    """With no token (or a wrong one), nobody lists the register (names, birth dates, NIR),
    changes it or registers a software — even with a valid client certificate."""
    before = (insi_mock.identities.count(), insi_mock.identities.software())
    since = insi_mock.journal.last_id()
    with httpx.Client(verify=pki.client_context("insi-auto"), timeout=10) as client:
        response = client.request(method, control_url(insi_mock) + route, content=body,
                                  headers=CREDENTIALS[credentials])
    assert response.status_code == 401, response.text
    assert "jeton d'administration" in response.json()["erreur"]
    assert ADRUN_NIR not in response.text
    assert (insi_mock.identities.count(), insi_mock.identities.software()) == before
    assert insi_mock.identities.get(ADRUN_NIR) is not None
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.status == "401" and exchange.summary["controle"] is True


@pytest.mark.parametrize("path", ["/admin/identities", "/admin/software"])
def test_the_former_admin_routes_are_gone(insi_mock, pki, path) -> None:
    with httpx.Client(verify=pki.client_context("insi-auto"), timeout=10) as client:
        listing = client.get(insi_mock.url.removesuffix("/lps") + path)
    assert listing.status_code == 404 and ADRUN_NIR not in listing.text


# -- item 14: headers, paths and JSON that used to make the mock answer 500 ----------------

@pytest.mark.parametrize(
    "host", ["evil\\q", "evil\\g<9>", 'a"><soap12:address location="https://evil', "a b",
             "localhost:99999999", "", "h\u00f4te.fr".encode()],
    ids=["regex-escape", "group-reference", "xml-injection", "space", "long-port", "empty",
         "utf-8-bytes"],
)
def test_wsdl_refuses_a_hostile_host_header(insi_mock, pki, host) -> None:
    """The Host header becomes the service address in the served WSDL: anything that is not a
    host name (regex escapes, quotes that would break out of the attribute) is refused."""
    since = insi_mock.journal.last_id()
    with httpx.Client(verify=pki.client_context("insi-auto"), timeout=10) as client:
        response = client.get(f"{insi_mock.url}?wsdl", headers={"Host": host})
    assert response.status_code == 400, response.text
    assert "en-tête Host" in response.text and "invalide" in response.text
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.status == "400"


@pytest.mark.parametrize("host", ["localhost:8443", "127.0.0.1:9101", "[::1]:9101", "insi.test"])
def test_wsdl_carries_a_genuine_host(insi_mock, pki, host) -> None:
    with httpx.Client(verify=pki.client_context("insi-auto"), timeout=10) as client:
        response = client.get(f"{insi_mock.url}?wsdl", headers={"Host": host})
    assert response.status_code == 200
    address = etree.fromstring(response.content).find(
        ".//{http://schemas.xmlsoap.org/wsdl/soap12/}address")
    assert address.get("location") == f"https://{host}/lps"


@pytest.mark.parametrize(
    "path",
    ["/xsd/CTX%00.xsd", "/xsd/CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd%00.xsd",
     "/xsd/" + "a" * 5000 + ".xsd", "/xsd/%2e%2e/%2e%2e/%2e%2e/etc/passwd.xsd",
     "/xsd/CTX/ROOT%20ctxlps.xsd", "/xsd/\u00e9t\u00e9.xsd"],
    ids=["nul", "nul-inside-a-real-name", "name-too-long", "dotdot", "space", "non-ascii"],
)
def test_schema_paths_that_name_no_schema(insi_mock, pki, path) -> None:
    base = insi_mock.url.removesuffix("/lps")
    with httpx.Client(verify=pki.client_context("insi-auto"), timeout=10) as client:
        response = client.get(base + path)
    assert response.status_code == 404, response.text
    assert response.text.startswith("schéma inconnu")


@pytest.mark.parametrize(
    ("route", "body", "status", "expected"),
    [
        ("/actions/ajouter_identite", b"[" * 50_000 + b"]" * 50_000, 400, "illisible"),
        ("/actions/ajouter_identite", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, 400, "illisible"),
        ("/semer", b'{"identites": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400, "illisible"),
        ("/semer", b'{"identites": [1, 2]}', 422, "objet JSON"),
        ("/semer", b'{"identites": "texte"}', 422, "liste"),
        ("/actions/ajouter_identite", b"[1, 2]", 400, "objet JSON"),
        ("/actions/enregistrer_logiciel", b'{"idam": 12}', 422, "idam"),
        ("/actions/enregistrer_logiciel", b'{"idam": ""}', 422, "idam"),
        ("/actions/ajouter_identite", "{\"birth_name\": \"\u00e9\"}".encode("utf-16"), 422,
         "first_names"),  # JSON in UTF-16 is read (RFC 8259 detection): incomplete identity
        ("/actions/ajouter_identite", b'{"birth_name": "A\x00B"}', 400, "illisible"),
        ("/actions/ajouter_identite", json.dumps({**ADRUN_ENTRY, "birth_date": "1931-02-30"}).encode(),
         422, "invalide"),
        ("/actions/ajouter_identite", json.dumps({**ADRUN_ENTRY, "first_names": 5}).encode(), 422,
         "invalide"),
    ],
    ids=["deep-array", "deep-object", "deep-in-seed", "list-of-numbers", "string",
         "top-level-list", "idam-number", "idam-empty", "utf-16", "nul-in-json",
         "impossible-date", "first-names-number"],
)
def test_control_json_that_cannot_be_used_is_refused(insi_mock, pki, admin_token, route, body,
                                                     status, expected) -> None:
    before = insi_mock.identities.count()
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(verify=pki.client_context(), timeout=30, headers=headers) as client:
        response = client.post(control_url(insi_mock) + route, content=body)
    assert response.status_code == status, response.text
    assert expected in response.json()["erreur"]
    assert insi_mock.identities.count() == before


# -- item 15: a carte Vitale read is only as good as its NIR key ---------------------------

def vitale_with_holder(matricule: str, key: str | None) -> bytes:
    """A carte Vitale search naming only the card holder (MatriculeOD)."""
    data = build_vitale_request(ADRUN_NIR, nir_key(ADRUN_NIR), ADRUN_BORN)
    tree = etree.fromstring(data)
    ns = {"vit": "http://www.cnamts.fr/INSiRecVit"}
    individual = tree.find(".//vit:MatriculeIndividu", ns)
    individual.tag = "{http://www.cnamts.fr/INSiRecVit}MatriculeOD"
    individual.find("vit:NumIdentifiant", ns).text = matricule
    cle = individual.find("vit:Cle", ns)
    if key is None:
        individual.remove(cle)
    else:
        cle.text = key
    return etree.tostring(tree)


@pytest.mark.parametrize("key", ["00", "99", "7A", "", None, "074", "７４"],
                         ids=["00", "99", "7A", "empty", "none", "three-digits", "fullwidth"])
@pytest.mark.parametrize("element", ["MatriculeIndividu", "MatriculeOD"])
def test_carte_vitale_with_a_wrong_nir_key_is_refused(insi_mock, post, element, key) -> None:
    if element == "MatriculeIndividu":
        data = build_vitale_request(ADRUN_NIR, key, ADRUN_BORN)
        if key == "":  # build_vitale_request leaves an empty key out: write it empty
            data = data.replace(b"</vit:NumIdentifiant>", b"</vit:NumIdentifiant><vit:Cle/>")
    else:
        data = vitale_with_holder(ADRUN_NIR, key)
    since = insi_mock.journal.last_id()
    response = post(data, content_type=CONTENT_TYPE.format(action=ACTION_VITALE))
    assert response.status_code == 500, response.text
    assert b"<CodeCR>" not in response.content
    assert b'code="insi_102"' in response.content
    (exchange,) = insi_mock.exchanges(since_id=since)
    finding = next(f for f in exchange.findings if f.is_error)
    assert finding.rule_id == "INSI.VITALE.CLE"
    assert element in finding.message and "74" in finding.message  # the expected key
    assert finding.location.endswith(f"{element}/Cle")
    assert finding.requirements == ("SC.INS.26.MS1",)


@pytest.mark.parametrize("element", ["MatriculeIndividu", "MatriculeOD"])
def test_carte_vitale_with_the_right_key_is_found(post, element) -> None:
    data = (build_vitale_request(ADRUN_NIR, "74", ADRUN_BORN) if element == "MatriculeIndividu"
            else vitale_with_holder(ADRUN_NIR, "74"))
    response = post(data, content_type=CONTENT_TYPE.format(action=ACTION_VITALE))
    assert response.status_code == 200, response.text
    assert b"<CodeCR>00</CodeCR>" in response.content


def test_zeep_carte_vitale_with_a_wrong_key_raises_the_fault(zeep_insi) -> None:
    from zeep.exceptions import Fault as ZeepFault

    with pytest.raises(ZeepFault) as caught:
        zeep_insi.service.rechercherInsAvecCarteVitale(
            MatriculeIndividu={"NumIdentifiant": ADRUN_NIR, "Cle": "99"},
            DateNaissance=ADRUN_BORN, _soapheaders=zeep_insi.headers(),
        )
    assert "clé '99' incorrecte" in caught.value.message
    assert caught.value.detail.find("{urn:siram}Erreur").get("code") == "insi_102"


# -- item 14, the same classes inside the SOAP message ------------------------------------

def _traits(**replace: bytes) -> bytes:
    data = build_traits_request("ADRUN", "ZOE", "F", ADRUN_BORN)
    for old, new in replace.items():
        data = data.replace(old.encode(), new)
    return data


@pytest.mark.parametrize(
    ("data", "siram", "expected"),
    [
        (_traits(ZOE=b"Z\x00OE"), "desir_510", "bien formé"),
        (_traits(ZOE="ZOÉ".encode("latin-1")), "desir_510", "bien formé"),
        (_traits(**{"</ins:RECSANSVITALE>": b"<a>" * 5000 + b"</a>" * 5000
                    + b"</ins:RECSANSVITALE>"}), "desir_510", "bien formé"),
        (_traits(**{"<ins:RECSANSVITALE": b"<ins:RECSANSVITALE "
                    + b" ".join(b'a%d="1"' % i for i in range(20_000))}), "desir_511", "a0"),
    ],
    ids=["nul-in-text", "undeclared-latin-1", "deep-nesting", "20000-attributes"],
)
def test_hostile_soap_bodies_are_one_precise_fault(insi_mock, post, data, siram, expected) -> None:
    since = insi_mock.journal.last_id()
    response = post(data)
    assert response.status_code == 500 and f'code="{siram}"'.encode() in response.content
    assert expected.encode() in response.content
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert len(exchange.findings) <= 21  # 20 detailed XSD errors and one summary at most
