"""TD0.9: the contextual web access opens a page of the usager's DMP (documents list)."""

from __future__ import annotations

import base64

import pytest
from dmp_helpers import PATIENT
from lxml import etree

from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient

pytestmark = pytest.mark.slow


def test_documents_page(dmp: DmpMock, nurse: DmpClient) -> None:
    response = nurse.http.get(f"{dmp.url}/AccesDirect/Documents/{PATIENT}")
    assert response.status_code == 200 and "ADRUN" in response.text and "<table>" in response.text
    token = base64.b64encode(etree.tostring(nurse.vihf(PATIENT))).decode()
    posted = nurse.http.post(f"{dmp.url}/AccesDirect/DossierPatient/{PATIENT}", data={"vihf": token})
    assert posted.status_code == 200
    exchange = dmp.exchanges()[-1]
    assert exchange.operation == "TD0.9" and exchange.summary["acteur"] == nurse.author.rpps
    assert exchange.conform
    unknown = nurse.http.get(f"{dmp.url}/AccesDirect/Documents/184057512345625")
    assert unknown.status_code == 404 and "aucun DMP" in unknown.text
