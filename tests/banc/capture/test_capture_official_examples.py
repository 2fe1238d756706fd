"""A capture made from the ANS example requests (DMP kit, INSi example), sent through the
recorder in forward-proxy mode (CONNECT, TLS on both sides) to the bench's DMP and INSi mocks,
is classified and judged offline — the same operations and findings the mocks gave live — and
`banc capture importer` prints the report, names and INS masked on request."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from banc.capture.flows import read_capture
from banc.capture.process import RecorderProcess
from banc.capture.replay import OFFICIAL_EXAMPLES, ReplaySettings, import_capture
from banc.cli import main
from banc.dui import DuiProfile
from banc.journal import Journal
from banc.mocks import MockContext, available
from banc.pki import TestPki

pytestmark = [pytest.mark.slow, pytest.mark.reference]

SETTINGS = {"dmp": {**OFFICIAL_EXAMPLES["dmp"], "validate_cda": False}}
"""The official examples' settings (see test_dmp_official_examples); the CDA engine is exercised
by the reference DUI capture test."""
ORDER = ["TD0.2", "TD0.3", "TD0.4", "TD1.3a", "TD1.6", "TD2.1", "TD3.1", "TD3.2", "TD3.3d", "TD3.3c"]
SERVICES = {"TD0.3": "habilitations", "TD1.6": "habilitations", "TD0.4": "patientsSpecific",
            "TD2.1": "repository", "TD3.2": "repository", "TD3.1": "registry", "TD3.3c": "registry",
            "TD3.3d": "registry"}
INS = "207058575627097"
IDAM = "NumAutorisation"
"""The INSi example's LPS IDAM: declared live to the mock and in the DUI profile offline."""
INSI_EXAMPLE = "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml"


def _content_type(data: bytes) -> str:
    if data.startswith(b"--"):
        boundary = data.split(b"\n", 1)[0][2:].strip().decode()
        return f'multipart/related; type="application/xop+xml"; boundary="{boundary}"'
    return "application/soap+xml; charset=utf-8"


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, mock_context: Callable[[str], MockContext],
             pki: TestPki, reference: Path) -> Iterator[tuple]:
    folder = tmp_path_factory.mktemp("capture-ans")
    context = mock_context("capture-ans")
    launchers = available()
    mocks = {name: launchers[name](context) for name in ("insi", "dmp")}
    mocks["insi"].register_software(IDAM)
    for name, value in SETTINGS["dmp"].items():
        setattr(mocks["dmp"].settings, name, value)
    messages = reference / "dmp" / "messages"
    certificates = folder / "clients"  # one proxy, two services, each its own client certificate
    certificates.mkdir()
    for host, name in (("localhost", "dui"), ("127.0.0.1", "insi-auto")):
        (certificates / f"{host}.pem").write_text(pki.cert(name).read_text() + pki.key(name).read_text())
    since = context.journal.last_id()
    try:
        with RecorderProcess(["--ecoute", "0", "--pki", str(pki.directory), "--sortie", str(folder),
                              "--ca-amont", str(pki.ca_cert), "--certificat-client", str(certificates)]) as recorder, \
                httpx.Client(proxy=recorder.url, verify=pki.client_context("dui"), timeout=60) as http:
            for td in ORDER:
                data = next(messages.glob(f"{td}_-_*_requete.xml")).read_bytes()
                http.post(f"{mocks['dmp'].server.url}/si-dmp-server/v2/services/{SERVICES.get(td, 'patients')}",
                          content=data, headers={"content-type": _content_type(data)})
            data = (messages / INSI_EXAMPLE).read_bytes()
            # offline, the certificate judged is the one the DUI presented (here INSI-AUTO)
            with httpx.Client(proxy=recorder.url, verify=pki.client_context("insi-auto"), timeout=60) as insi:
                insi.post(mocks["insi"].url.replace("localhost", "127.0.0.1"), content=data, headers={"content-type": _content_type(data)})
        live = [e for e in context.journal.exchanges(since_id=since) if e.service in mocks]
    finally:
        for mock in mocks.values():
            mock.stop()
    yield folder, recorder.capture_file, live


def test_examples_are_classified_and_judged_as_live(captured, pki: TestPki) -> None:
    folder, capture, live = captured
    profile = DuiProfile(name="dui-exemples-ans", client_certificates=(pki.cert("dui").read_text(),
                                                                         pki.cert("insi-auto").read_text()),
                         idam=IDAM)
    journal = Journal(folder / "import.sqlite")
    imported = import_capture(read_capture(capture), journal, profile,
                              ReplaySettings(pki=pki, mock_settings=SETTINGS))
    assert [(i.exchange.service, i.exchange.operation) for i in imported] == \
        [(e.service, e.operation) for e in live]
    operations = {i.exchange.operation for i in imported}
    assert {"TD0.2", "TD0.3", "TD2.1", "TD3.1", "TD3.2", "TD3.3"} <= operations
    assert "rechercherInsAvecTraitsIdentite" in operations
    search = next(i for i in imported if i.exchange.service == "insi")
    capture = search.exchange.summary["capture"]
    assert search.judged and capture["statut_amont"] == capture["statut_simulateur"]
    assert not any(f.rule_id.startswith("INSI.AUTH") for f in search.exchange.findings)  # its own certificate
    def judged(findings: list) -> list:  # messages name the entry UUIDs the mock assigns afresh
        return [(f.rule_id, f.severity, f.requirements) for f in findings]

    for got, seen in zip(imported, live, strict=True):
        assert got.judged and judged(got.exchange.findings) == judged(seen.findings), got.exchange.operation
    feed = next(i.exchange for i in imported if i.exchange.operation == "TD2.1")
    assert feed.summary.get("tolere") is True  # accepted only by the examples' tolerances, and said so
    assert any(f.rule_id == "DMP.TOLERATED" for f in feed.findings)
    assert journal.exchanges(dui=profile.name) == [i.exchange for i in imported]


def test_importer_command_reports_and_masks(captured, pki: TestPki, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, capture, _ = captured
    profile = tmp_path / "dui.toml"
    profile.write_text(f'nom = "dui-exemples-ans"\n[insi]\nidam = "{IDAM}"\n[tls]\n'
                       f'certificats = ["{pki.cert("dui")}", "{pki.cert("insi-auto")}"]\n',
                       encoding="utf-8")
    journal = tmp_path / "journal.sqlite"
    args = ["capture", "importer", str(capture), "--dui", str(profile), "--journal", str(journal),
            "--pki", str(pki.directory), "--exemples-officiels", "--sortie", str(tmp_path / "rapports")]
    code = main(args)
    plain = capsys.readouterr().out
    assert "DMP — alimentation, ITI-41 (TD2.1)" in plain
    assert "INSi — recherche ou vérification d'INS par les traits d'identité" in plain
    assert code == (0 if "NON CONFORME" not in plain else 1)
    main([*args, "--masquer"])
    masked = capsys.readouterr().out
    assert INS in plain and INS not in masked  # the TD2.1 example's patient, in its XDS findings
    assert masked.count("•••") > 0 and len(masked.splitlines()) == len(plain.splitlines())
    assert "DMP — alimentation, ITI-41 (TD2.1)" in masked



def test_an_import_is_a_run_with_the_reports_and_pack_of_a_scenario_run(
        captured, pki: TestPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`banc capture importer` records the import as an execution: one step per captured
    exchange, its reports written, and `banc rapport RUN --paquet` packs the captured requests."""
    _, capture, _ = captured
    profile = tmp_path / "dui.toml"
    profile.write_text(f'nom = "dui-exemples-ans"\n[insi]\nidam = "{IDAM}"\n[tls]\n'
                       f'certificats = ["{pki.cert("dui")}", "{pki.cert("insi-auto")}"]\n', encoding="utf-8")
    journal = tmp_path / "journal.sqlite"
    main(["capture", "importer", str(capture), "--dui", str(profile), "--journal", str(journal),
          "--pki", str(pki.directory), "--exemples-officiels", "--sortie", str(tmp_path / "rapports")])
    run_id = re.search(r"Exécution (\S+) : rapport", capsys.readouterr().out).group(1)
    assert (tmp_path / "rapports" / run_id / "rapport.html").is_file()
    assert main(["rapport", run_id, "--journal", str(journal), "--format", "json",
                 "--sortie", str(tmp_path / "r.json")]) == 0
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    steps = data["etapes"]
    assert len(steps) == len(Journal(journal).exchanges(dui="dui-exemples-ans"))
    feed = next(s for s in steps if s["etape"].endswith("-TD2.1"))
    assert {"SC.DMP.01.MS1", "SC.DMP.04.MS1"} <= set(feed["exigences"])
    assert main(["rapport", run_id, "--journal", str(journal), "--paquet",
                 "--sortie", str(tmp_path / "paquet.zip")]) == 0
    names = zipfile.ZipFile(tmp_path / "paquet.zip").namelist()
    assert any("TD2.1" in n and n.endswith("requete.mime") for n in names), names
