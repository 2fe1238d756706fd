"""Fixtures for the INSi mock: one running mock per module (TLS, optional client certificate),
a zeep client built from the shared WSDL unchanged, and a raw HTTPS poster."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import requests
import zeep
from zeep.plugins import HistoryPlugin
from zeep.wsa import WsAddressingPlugin

from banc.cli.insi import ACTION_TRAITS, CONTENT_TYPE
from banc.mocks import MockContext
from banc.pki import TestPki
from banc.soap.offline import OfflineTransport
from simulators.insi_mock import InsiMock, launch

BINDING = "{http://www.cnamts.fr/webservice}ICIRServiceBinding"


ADMIN_TOKEN = "jeton-test"


@pytest.fixture(scope="module")
def admin_token() -> str:
    """The control-plane token of the module's mock."""
    return ADMIN_TOKEN


@pytest.fixture(scope="module")
def insi_mock(reference: Path, mock_context: Callable[[str], MockContext]) -> Iterator[InsiMock]:
    mock = launch(replace(mock_context("insi"), admin_token=ADMIN_TOKEN), generated=40)
    yield mock
    mock.stop()


class ZeepInsi:
    """A vendor-style zeep client: shared WSDL, offline schema resolution, mutual TLS."""

    def __init__(
        self, wsdl: Path | str, url: str | None, pki: TestPki, cert: str | None,
        allow: tuple[str, ...] = (),
    ) -> None:
        session = requests.Session()
        session.trust_env = False  # ignore CA bundles of the environment: trust the bench CA only
        session.verify = str(pki.ca_cert)
        if cert:
            session.cert = (str(pki.cert(cert)), str(pki.key(cert)))
        self.history = HistoryPlugin()
        self.client = zeep.Client(
            str(wsdl), transport=OfflineTransport(session=session, allow=allow),
            plugins=[WsAddressingPlugin(), self.history],
        )
        self.service = self.client.create_service(BINDING, url) if url else self.client.service

    def headers(self, idam: str = "BANC-SEGUR-DUI") -> list:
        now = dt.datetime.now(dt.UTC).isoformat()
        lps = self.client.get_element("{urn:siram:lps:ctxlps}ContexteLPS")(
            Id=str(uuid.uuid4()), Temps=now, Emetteur="DUI-TEST",
            LPS={"IDAM": {"_value_1": idam, "R": "4"}, "Version": "2.1.0",
                 "Instance": str(uuid.uuid4()), "Nom": "DUI SSIAD TEST"},
            Nature="CTXLPS", Version="01_00",
        )
        bam = self.client.get_element("{urn:siram:bam:ctxbam}ContexteBAM")(
            Id=str(uuid.uuid4()), Temps=now, Emetteur="DUI-TEST", COUVERTURE={}, Version="01_02",
        )
        return [lps, bam]

    def traits(self, name: str, first: str | list[str], sex: str, born: str,
               place: str | None = None, **kwargs: object):
        return self.service.rechercherInsAvecTraitsIdentite(
            NomNaissance=name, Prenom=[first] if isinstance(first, str) else first, Sexe=sex,
            DateNaissance=born, LieuNaissance=place, _soapheaders=self.headers(**kwargs),
        )


@pytest.fixture(scope="module")
def wsdl(reference: Path) -> Path:
    return reference / "insi" / "wsdl" / "DESIR_ICIR_EXP_1.5.0.wsdl"


@pytest.fixture(scope="module")
def zeep_factory(pki: TestPki) -> Callable[..., ZeepInsi]:
    """Build other zeep clients: `zeep_factory(wsdl, url, cert, allow=())`."""

    def build(wsdl: Path | str, url: str | None, cert: str | None, allow: tuple[str, ...] = ()):
        return ZeepInsi(wsdl, url, pki, cert, allow)

    return build


@pytest.fixture(scope="module")
def zeep_insi(insi_mock: InsiMock, pki: TestPki, wsdl: Path) -> ZeepInsi:
    return ZeepInsi(wsdl, insi_mock.url, pki, "insi-auto")


Poster = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def post(insi_mock: InsiMock, pki: TestPki) -> Poster:
    """POST raw bytes to the mock with a client certificate (None: without one)."""

    def send(data: bytes, cert: str | None = "insi-auto", content_type: str | None = None,
             url: str | None = None) -> httpx.Response:
        headers = {"Content-Type": content_type or CONTENT_TYPE.format(action=ACTION_TRAITS)}
        with httpx.Client(verify=pki.client_context(cert), timeout=30) as client:
            return client.post(url or insi_mock.url, content=data, headers=headers)

    return send
