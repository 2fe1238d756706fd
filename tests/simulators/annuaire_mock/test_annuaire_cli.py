"""`banc annuaire …` against the running mock."""

from __future__ import annotations

import zipfile

import pytest

from banc.cli import main

pytestmark = pytest.mark.slow


def test_search_by_rpps_name_and_mailbox(annuaire, pki, capsys) -> None:
    common = ["--url", annuaire.base_url, "--ca", str(pki.ca_cert)]
    assert main(["annuaire", "chercher", "--rpps", "899900000011", *common]) == 0
    out = capsys.readouterr().out
    assert "1 professionnel(s)" in out and "helene.vidal@medecin.mssante.fr" in out
    assert main(["annuaire", "chercher", "--nom", "GARNIER", "--prenom", "Paul", *common]) == 0
    assert "paul.garnier@ch-riom-limagne.mssante.fr" in capsys.readouterr().out
    assert main(["annuaire", "chercher", "--bal", "camille.faure", *common]) == 0
    assert "FAURE" in capsys.readouterr().out


def test_errors_are_french_messages_not_traces(annuaire, pki, capsys) -> None:
    common = ["--url", annuaire.base_url, "--ca", str(pki.ca_cert)]
    assert main(["annuaire", "chercher", "--rpps", "1", "--cle", "mauvaise", *common]) == 2
    assert "clé d'API" in capsys.readouterr().err
    assert main(["annuaire", "chercher", "--rpps", "1", "--url", "https://localhost:1/fhir/v2",
                 "--ca", str(pki.ca_cert)]) == 2
    assert "injoignable" in capsys.readouterr().err


def test_extraction_download_and_people(annuaire, pki, tmp_path, capsys) -> None:
    assert main(["annuaire", "extraction", "--url", annuaire.base_url, "--ca", str(pki.ca_cert),
                 "--sortie", str(tmp_path)]) == 0
    [saved] = list(tmp_path.glob("PS_LibreAcces_*.zip"))
    assert zipfile.ZipFile(saved).namelist()[0].startswith("PS_LibreAcces_Personne_activite_")
    capsys.readouterr()
    assert main(["annuaire", "personnes"]) == 0
    out = capsys.readouterr().out
    assert "medecin_traitant" in out and "dui@ssiad-val-de-morge.mssante.fr (APP)" in out
