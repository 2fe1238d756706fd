"""TD0.9: the contextual web access opens a page of the usager's DMP (documents list)."""

from __future__ import annotations

import base64

import pytest
from dmp_helpers import PATIENT
from lxml import etree

from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient

pytestmark = pytest.mark.slow


def posted(nurse: DmpClient, url: str, token: etree._Element | bytes):
    data = token if isinstance(token, bytes) else etree.tostring(token)
    return nurse.http.post(url, data={"vihf": base64.b64encode(data).decode()})


def test_documents_page(dmp: DmpMock, nurse: DmpClient) -> None:
    url = f"{dmp.url}/AccesDirect/DossierPatient/{PATIENT}"
    response = posted(nurse, url, nurse.vihf(PATIENT))
    assert response.status_code == 200 and "ADRUN" in response.text and "<table>" in response.text
    exchange = dmp.exchanges()[-1]
    assert exchange.operation == "TD0.9" and exchange.summary["acteur"] == nurse.author.rpps
    assert exchange.conform
    unknown = posted(nurse, f"{dmp.url}/AccesDirect/Documents/184057512345625", nurse.vihf("184057512345625"))
    assert unknown.status_code == 404 and "aucun DMP" in unknown.text


def test_documents_page_is_protected(dmp: DmpMock, nurse: DmpClient, pki) -> None:
    """No token, an unsigned, tampered, expired or other-patient token, or a token over another
    client certificate: 403 and no document listed (it used to list them all)."""
    import datetime as dt

    from banc.vihf import build_vihf, build_vihf_for

    url = f"{dmp.url}/AccesDirect/Documents/{PATIENT}"
    claims = nurse.claims(PATIENT)
    tampered = etree.tostring(nurse.vihf(PATIENT)).replace(b"CLAIRE SOIGNANTE", b"CLAIRE AUTRE")
    cases = {
        "sans-jeton": nurse.http.get(url),
        "non-signe": posted(nurse, url, build_vihf(claims)),
        "altere": posted(nurse, url, tampered),
        "expire": posted(nurse, url, build_vihf_for(pki.directory, claims,
                                                    now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))),
        "autre-patient": posted(nurse, url, nurse.vihf("297022A02077878")),
    }
    other = DmpClient(dmp.url, pki, client_cert="mss-app")
    try:
        cases["autre-certificat"] = posted(other, url, nurse.vihf(PATIENT))
    finally:
        other.close()
    for case, response in cases.items():
        assert response.status_code == 403, case
        assert "<table>" not in response.text and "ADRUN" not in response.text, case
        assert not dmp.exchanges()[-1].conform, case
