"""Reports of real runs: the tour played against the reference DUI (once clean, once with a
document naming no recipient), through `banc rapport` — the HTML report, its JUnit read by a
JUnit consumer, the JSON against its schema, the xlsx read back, the evidence pack (hashes,
redaction), and the HTML opened in a headless Chromium at two sizes."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml
from lxml import etree
from openpyxl import load_workbook

from banc.bench import RunningBench, start_bench
from banc.cli import main
from banc.cli.run import register_everywhere
from banc.scenario.model import Outcome
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import Run
from banc.scenario.verdicts import registered_scenarios
from scenarios.reference_dui import ReferenceDriver

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).parents[3]
SCHEMA = json.loads((REPOSITORY / "docs" / "schemas" / "execution.schema.json").read_text())


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("rapports"), pki_dir=pki.directory, ports={},
                     label="rapports") as running:
        yield running


def _play(bench: RunningBench, *faults: str) -> Run:
    driver = ReferenceDriver(faults=faults) if faults else ReferenceDriver()
    try:
        profile = driver.default_profile(bench.sheet)
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        return Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True), planes=bench.planes(),
                      timeout_scale=0.2).play(registered_scenarios()["tour"], profile)
    finally:
        driver.close()


@pytest.fixture(scope="module")
def clean_run(bench: RunningBench) -> Run:
    run = _play(bench)
    assert all(s.outcome is Outcome.PASSED for s in run.steps), [(s.step, s.reason) for s in run.steps]
    return run


@pytest.fixture(scope="module")
def faulty_run(bench: RunningBench) -> Run:
    run = _play(bench, "sans-destinataire")
    assert run.result("mssante-envoi").outcome is Outcome.FAILED
    return run


def _rapport(bench: RunningBench, run: Run, target: Path, *options: str) -> Path:
    assert main(["rapport", run.id, "--journal", str(bench.journal.path), "--sortie", str(target), *options]) == 0
    return target


def test_html_report_of_a_failed_run(bench, faulty_run, tmp_path) -> None:
    html = _rapport(bench, faulty_run, tmp_path / "rapport.html").read_text(encoding="utf-8")
    assert "<svg class=\"sequence\"" in html and "Jeton VIHF (assertion SAML 2.0)" in html
    assert "Métadonnées XDS (SubmitObjectsRequest)" in html and "Métadonnées XDS (METADATA.XML" in html
    assert html.count("Rendu du document (feuille de style de l'ANS)") >= 2  # the CDA sent to the DMP and by mail
    for lane in ("DUI", "INSi", "DMP", "MSSanté", "Annuaire", "PSC"):
        assert f">{lane}</text>" in html
    # the finding is beside the exchange it cites
    exchange = re.search(r"<article class='exchange preuve' id='(echange-\d+)'>(.*?)</article>",
                         html[html.index("id='etape-mssante-envoi'"):], re.S)
    assert exchange and "informationRecipient" in exchange.group(2) and "erreur" in exchange.group(2)
    assert "0.1.0" in html and "ans-testcontenucda" in html and "dui-reference" in html
    assert re.search(r"badge ko'?\"?>1 échoué|badge ko\">\d+ échoué", html)
    links = set(re.findall(r"href=['\"]#([^'\"]+)['\"]", html))
    anchors = set(re.findall(r"id=['\"]([^'\"]+)['\"]", html))
    assert links <= anchors, links - anchors
    assert not re.search(r"(src|href)=['\"]https?:", html)  # self-contained


def test_junit_and_json_of_a_failed_run(bench, faulty_run, tmp_path) -> None:
    junit = JUnitXml.fromfile(str(_rapport(bench, faulty_run, tmp_path / "r.xml", "--format", "junit")))
    cases = [case for suite in junit for case in suite]
    failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
    assert {c.name for c in failed} == {"SC.DOC.04.MS1"}  # the mail step failed, but only for SC.DOC.04
    passed = {c.name for c in cases if not c.result}
    assert "SC.MSS.17.MS1" in passed
    assert all(len(c.result) == 1 for c in failed)
    assert "informationRecipient" in failed[0].result[0].text
    data = json.loads(_rapport(bench, faulty_run, tmp_path / "r.json", "--format", "json").read_text())
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["conforme"] is False and data["execution"] == faulty_run.id


def test_xlsx_read_back_matches_the_run(bench, faulty_run, tmp_path) -> None:
    book = load_workbook(_rapport(bench, faulty_run, tmp_path / "fiche.xlsx", "--format", "xlsx"))
    rows = list(book["Preuves"].iter_rows(values_only=True))[1:]
    results = {r[1]: r[6] for r in rows}
    assert results["SC.DOC.04.MS1"] == "échoué" and results["SC.INS.26.MS1"] == "réussi"
    dmp = next(r for r in rows if r[1] == "SC.DMP.04.MS1")
    assert "VIHF" in dmp[5] and dmp[7].startswith("echanges/")


def test_evidence_pack_hashes_verify_and_name_real_files(bench, clean_run, tmp_path) -> None:
    pack = zipfile.ZipFile(_rapport(bench, clean_run, tmp_path / "paquet.zip", "--paquet"))
    names = set(pack.namelist())
    sums = pack.read("SHA256SUMS").decode().splitlines()
    assert len(sums) == len(names) - 2
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(pack.read(name)).hexdigest() == digest, name
    assert {"rapport.html", "rapport.json", "rapport.junit.xml", "fiche-referencement.xlsx"} <= names
    assert any(n.endswith("requete.eml") for n in names) and any(n.endswith("requete.mime") for n in names)
    assert any(n.startswith("documents/") for n in names)
    mime = next(n for n in names if n.endswith("requete.mime"))
    assert b"Assertion" in pack.read(mime)
    sheet = load_workbook(io.BytesIO(pack.read("fiche-referencement.xlsx")))["Preuves"]
    cited = {row[7] for row in sheet.iter_rows(min_row=2, values_only=True) if row[7]}
    assert cited and cited <= names, cited - names
    # every document carried has the SVRL report of each rule set the engine ran on it
    documents = {n.removeprefix("documents/").removesuffix(".xml") for n in names if n.startswith("documents/")}
    reports = [n for n in names if n.startswith("svrl/")]
    assert {n.split("/")[1] for n in reports} == documents
    for name in reports:
        root = etree.fromstring(pack.read(name))
        assert etree.QName(root).localname == "schematron-output", name
    assert any(n.endswith("/dsr.svrl.xml") for n in reports), reports


def _texts(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """A file and what hides inside it (zip members, decoded mail parts)."""
    import email
    import email.policy

    yield name, data
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            for member in inner.namelist():
                yield from _texts(f"{name}/{member}", inner.read(member))
    elif name.endswith(".eml"):
        for part in email.message_from_bytes(data, policy=email.policy.default).walk():
            if not part.is_multipart():
                yield from _texts(f"{name}#{part.get_filename() or 'texte'}", part.get_payload(decode=True) or b"")


def test_redacted_pack_holds_no_name_or_ins_of_the_usager(bench, clean_run, tmp_path) -> None:
    secrets = [str(v) for k, v in clean_run.inputs.items() if k.startswith("usager_") and k.endswith(("_nom", "_prenom", "_ins"))]
    assert len(secrets) == 3
    plain = zipfile.ZipFile(_rapport(bench, clean_run, tmp_path / "p.zip", "--paquet"))
    assert any(secrets[0].encode() in data for n in plain.namelist() for _, data in _texts(n, plain.read(n)))
    pack = zipfile.ZipFile(_rapport(bench, clean_run, tmp_path / "m.zip", "--paquet", "--masquer"))
    for name in pack.namelist():
        for where, data in _texts(name, pack.read(name)):
            for secret in secrets:
                assert secret.upper().encode() not in data.upper(), (where, secret)
    manifest = json.loads(pack.read("manifeste.json"))
    assert manifest["masquage"]["actif"] is True
    for entry in manifest["fichiers"]:
        assert hashlib.sha256(pack.read(entry["fichier"])).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_report_in_a_browser_nothing_overlaps_the_findings(bench, faulty_run, tmp_path, browser, size) -> None:
    report = _rapport(bench, faulty_run, tmp_path / "rapport.html")
    out = REPOSITORY / "out"
    out.mkdir(exist_ok=True)
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(report.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        problems = page.evaluate(_OVERLAPS)
        assert problems == [], problems
        target = page.locator("table.exigences a[href^='#etape-']").first
        href = target.get_attribute("href")
        target.click()
        assert page.evaluate("location.hash") == href
        assert page.evaluate(f"document.querySelector('{href}').getBoundingClientRect().top") < height / 2
        page.locator("svg.sequence a").first.click()
        assert page.evaluate("location.hash").startswith("#echange-")
        page.locator("#etape-mssante-envoi table.findings").first.scroll_into_view_if_needed()
        # the check sees an overlap when there is one (a findings table wider than its column)
        page.add_style_tag(content="table.findings{table-layout:auto;width:160%}")
        assert page.evaluate(_OVERLAPS)
        page.reload()
        page.locator("#etape-mssante-envoi table.findings").first.scroll_into_view_if_needed()
        page.screenshot(path=str(out / f"rapport-execution-{width}x{height}.png"))
        page.screenshot(path=str(out / f"rapport-execution-{width}x{height}-page.png"), full_page=True)
    finally:
        page.close()
    shutil.copy(report, out / "rapport-execution.html")


_OVERLAPS = """
() => {
  const problems = [];
  for (const table of document.querySelectorAll('table.findings')) {
    const box = table.getBoundingClientRect();
    const column = table.parentElement.getBoundingClientRect();
    if (box.right > column.right + 1) problems.push('tableau plus large que sa colonne : ' + box.right + ' > ' + column.right);
    for (const cell of table.querySelectorAll('td, th')) {
      const c = cell.getBoundingClientRect();
      if (c.right > box.right + 1 || cell.scrollWidth > cell.clientWidth + 1) problems.push('cellule débordante : ' + cell.textContent.slice(0, 40));
    }
    const article = table.closest('article');
    for (const other of article.querySelectorAll('pre, h4, p, details, svg')) {
      if (table.contains(other) || other.contains(table)) continue;
      const o = other.getBoundingClientRect();
      if (o.width && o.height && o.left < box.right && o.right > box.left && o.top < box.bottom && o.bottom > box.top)
        problems.push('chevauchement : ' + other.tagName + ' ' + other.textContent.slice(0, 30));
    }
  }
  return problems;
}
"""
