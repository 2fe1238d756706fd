"""`banc validate`: exit codes, formats, and bad input that names the file and spares the batch."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import banc.cli.validate as validate_cli
from banc.cda.engine import Engine
from banc.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.reference]


@pytest.fixture(autouse=True)
def warm_backend(monkeypatch: pytest.MonkeyPatch, cda_engine: Engine) -> None:
    """The session engine instead of the background service (tested in test_service.py)."""
    monkeypatch.setattr(validate_cli, "_backend", lambda package, in_process: cda_engine.validate)


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "vide": tmp_path / "vide.xml",
        "pas-xml": tmp_path / "texte.xml",
        "binaire": tmp_path / "binaire.xml",
        "doctype": tmp_path / "xxe.xml",
        "pas-cda": tmp_path / "autre.xml",
        "zip": tmp_path / "document.zip",
        "enorme": tmp_path / "enorme.xml",
        "absent": tmp_path / "absent.xml",
    }
    files["vide"].write_bytes(b"")
    files["pas-xml"].write_text("bonjour", encoding="utf-8")
    files["binaire"].write_bytes(bytes(range(256)) * 4)
    files["doctype"].write_text(
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>',
        encoding="utf-8",
    )
    files["pas-cda"].write_text("<facture><total>3</total></facture>", encoding="utf-8")
    with zipfile.ZipFile(files["zip"], "w") as archive:
        archive.writestr("doc.xml", "<a/>")
    with files["enorme"].open("wb") as handle:  # sparse: 200 MB announced, nothing written
        handle.truncate(200 * 1024 * 1024)
    return files


def test_bad_inputs_exit_2_name_the_file_and_the_batch_goes_on(
    bad_inputs: dict[str, Path], example_files: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    good = example_files["LDL-SES_2022.01.xml"]
    args = [str(p) for p in bad_inputs.values()] + [str(good)]
    assert main(["validate", "--format", "json", *args]) == 2
    captured = capsys.readouterr()
    records = {r["file"]: r for r in json.loads(captured.out)}
    assert records[str(good)]["conform"] is True and "input_error" not in records[str(good)]
    expected = {
        "vide": "vide", "pas-xml": "pas du XML", "binaire": "pas du XML", "doctype": "DOCTYPE",
        "pas-cda": "pas un document CDA", "zip": "archive zip", "enorme": "200 Mo", "absent": "introuvable",
    }
    for key, path in bad_inputs.items():
        record = records[str(path)]
        assert record["conform"] is None, "an input error is not judged: neither conform nor non-conform"
        assert expected[key] in record["input_error"] and str(path) in record["input_error"]
        assert captured.err.count(record["input_error"]) == 1  # the JSON report is for machines
        assert "b'" not in record["input_error"]
    assert "Traceback" not in captured.err


def test_input_errors_are_printed_once_and_exit_2(
    bad_inputs: dict[str, Path], example_files: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text on the terminal: once, in the report, not on stderr too; never counted as non conforme."""
    good = str(example_files["LDL-SES_2022.01.xml"])
    text_file = bad_inputs["pas-xml"]
    assert main(["validate", str(text_file), good]) == 2
    captured = capsys.readouterr()
    message = f"{text_file} n'est pas du XML : il commence par le caractère « b » (U+0062), pas par « < »"
    assert (captured.out + captured.err).count(message) == 1 and message in captured.out
    assert "1/1 document(s) conforme(s) ; 1 fichier(s) non jugé(s) (entrée invalide)" in captured.out
    assert "NON CONFORME" not in captured.out
    junit = tmp_path / "r.xml"
    assert main(["validate", "--format", "junit", "--out", str(junit), str(text_file), good]) == 2
    suite = etree.parse(str(junit)).getroot()
    assert (suite.get("failures"), suite.get("errors")) == ("0", "1")
    assert suite.find("testcase/error").get("message") == message
    assert capsys.readouterr().err.count(message) == 1


def test_exit_codes_and_formats(example_files: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conform = str(example_files["LDL-SES_2022.01.xml"])
    failing = str(example_files["IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"])
    assert main(["validate", conform]) == 0
    assert "CONFORME" in capsys.readouterr().out
    assert main(["validate", conform, failing]) == 1
    text = capsys.readouterr().out
    assert "NON CONFORME" in text and "1.2.250.1.213.1.1.1.45" in text
    junit = tmp_path / "r.xml"
    assert main(["validate", "--format", "junit", "--out", str(junit), failing]) == 1
    suite = etree.parse(str(junit)).getroot()
    # one testcase per document × rule set: the volet's, the DSR's and the N1 checks fail
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {"CI-SIS_IMG-CR-IMG_2024.01", "dsr", "n1"} and suite.get("failures") == "3"
    assert all(len(case.findall("failure")) <= 1 for case in suite.iter("testcase"))
    assert suite.get("tests") == str(len(list(suite.iter("testcase")))) and suite.get("errors") == "0"
    page = tmp_path / "r.html"
    assert main(["validate", "--format", "html", "--out", str(page), conform, failing]) == 1
    html = page.read_text(encoding="utf-8")
    assert "NON CONFORME" in html and "<iframe" in html and "CI-SIS_IMG-CR-IMG_2024.01" in html


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["validate", "--jobs", "0", "x.xml"]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert main(["validate", "--ans", str(tmp_path / "rien"), "x.xml"]) == 2
    assert "introuvable" in capsys.readouterr().err
