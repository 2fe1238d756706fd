"""`banc psc …` against the running mock, in automatic and login-page modes."""

from __future__ import annotations

import json

import pytest

from banc.cli import main
from banc.directory import default_directory

pytestmark = pytest.mark.slow


def test_discovery_and_automatic_login(psc, pki, capsys) -> None:
    common = ["--emetteur", psc.issuer, "--ca", str(pki.ca_cert)]
    assert main(["psc", "decouverte", *common]) == 0
    assert psc.endpoints["psc.jwks_uri"] in capsys.readouterr().out
    assert main(["psc", "connexion", *common]) == 0
    out = capsys.readouterr().out
    assert "Hélène VIDAL (899900000011)" in out and "acr eidas1" in out
    assert "CABINET MEDICAL DES DOMES" in out


def test_login_through_the_page_and_errors(psc, pki, capsys) -> None:
    common = ["--emetteur", psc.issuer, "--ca", str(pki.ca_cert)]
    idec = default_directory().person("infirmiere_coordinatrice")
    psc.interactive()
    try:
        assert main(["psc", "connexion", *common]) == 2
        assert "page de connexion" in capsys.readouterr().err
        assert main(["psc", "connexion", idec.national_id, "--json", *common]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["userinfo"]["SubjectNameID"] == idec.national_id
        assert main(["psc", "connexion", idec.national_id, "--secret", "faux", *common]) == 2
        assert "refusé" in capsys.readouterr().err
    finally:
        psc.automatic()
