"""End to end with the `manual` driver: a bench bound beyond loopback with a certificate for a
custom name, a DUI registered from its own TOML profile, and an "operator" in another process
acting with plain clients (httpx, smtplib, imaplib) from the configuration sheet only.

The bench binds 0.0.0.0 and the operator reaches it as `banc.ssiad.test` resolved to 127.0.0.2
(another loopback address: this sandbox allows no traffic to other interfaces); TLS is checked
against that name. The outcomes passed, failed (wrong patient), "rien reçu" and awaiting
manual proof all appear, each with its requirement ids; two DUIs are attributed apart; a
second process resets and seeds the mocks through the control plane.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.cli import main
from banc.directory import default_directory
from banc.population import cnam_test_identities
from banc.scenario.drivers import ManualDriver, OperatorConsole
from banc.scenario.model import DuiActs, Expectation, ManualProof, Outcome, Scenario
from banc.scenario.runner import Console, Runner
from banc.scenario.verdicts import registered_scenarios, requirement_verdicts

pytestmark = pytest.mark.slow

NAME, ADDRESS = "banc.ssiad.test", "127.0.0.2"
OPERATOR = Path(__file__).with_name("dui_operator.py")


def _person(name: str, first: str) -> dict:
    identity = next(i for i in cnam_test_identities() if (i.birth_name, i.first_name) == (name, first))
    return {"nom": identity.birth_name, "prenom": identity.first_name, "sexe": identity.sex,
            "naissance": identity.birth_date.isoformat(), "ins": identity.ins}


A, B = _person("ADRTROIS", "DOMINIQUE"), _person("ADRUN", "ZOE")


@pytest.fixture(scope="module", autouse=True)
def hosts_entry() -> Iterator[None]:
    """This process reaches the bench by its name too (what /etc/hosts does on a DUI's machine)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real(ADDRESS if host == NAME else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    yield
    socket.getaddrinfo = real


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, reference: Path) -> Iterator[RunningBench]:
    folder = tmp_path_factory.mktemp("e2e")
    with start_bench(data_dir=folder, pki_dir=folder / "pki", ports={}, host="0.0.0.0",
                     server_names=(NAME,), label="e2e") as running:
        yield running


def _profile(folder: Path, name: str, idam: str, mailbox: str, client_id: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'''nom = "{name}"
libelle = "DUI {name}"
[insi]
idam = "{idam}"
logiciel = "DUI {name}"
[psc]
client_id = "{client_id}"
secret = "{client_id}-secret"
redirections = ["https://{name}.test/psc/retour"]
[[mssante.boites]]
adresse = "{mailbox}"
authentification = "xoauth2"
''', encoding="utf-8")
    return path


def _sheet(bench: RunningBench) -> Path:
    return bench.sheet_files["json"]


def test_sheet_names_the_custom_host_and_the_certificate_covers_it(bench: RunningBench) -> None:
    sheet = json.loads(_sheet(bench).read_text(encoding="utf-8"))
    assert sheet["host"] == "0.0.0.0" and sheet["public_host"] == NAME
    assert all(NAME in url for label, url in sheet["endpoints"].items() if url.startswith("https://"))
    assert NAME in sheet["server_names"]


def test_manual_run_with_an_operator_in_another_process(bench: RunningBench, tmp_path: Path) -> None:
    directory = default_directory()
    nurse = directory.person("infirmiere_coordinatrice")
    mailbox = nurse.mailbox.address
    profile = _profile(tmp_path, "dui-e2e", "E2E-DUI-IDAM", mailbox, "dui-e2e")
    assert main(["dui", "enregistrer", str(profile), "--fiche", str(_sheet(bench))]) == 0
    plan = {
        "address": ADDRESS, "idam": "E2E-DUI-IDAM", "client_id": "dui-e2e", "secret": "dui-e2e-secret",
        "redirect_uri": "https://dui-e2e.test/psc/retour", "professional": nurse.national_id,
        "mailbox": mailbox, "to": directory.gp.mailbox.address,
        "steps": [
            [{"do": "insi", "args": [{k: v for k, v in A.items() if k != "ins"}]}],
            [{"do": "insi", "args": [{k: v for k, v in B.items() if k != "ins"}]}],
            [],
            [{"do": "psc_login"}, {"do": "send_mail"}],
            [{"do": "read_mail"}],
        ],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    scenario = Scenario("e2e", "Bout en bout", "essai", "", inputs=lambda context: {"ins": A["ins"]}, steps=(
        DuiActs("insi-bon", "INS de l'usager", ("SC.INS.26.MS1",), instruction="Cherchez l'INS.",
                expect=(Expectation("insi", ("rechercherInsAvecTraitsIdentite",), where={"patient_ins": "{ins}"},
                                    timeout=60),)),
        DuiActs("insi-mauvais", "INS du même usager", ("SC.INS.27.MS1",), instruction="Vérifiez l'INS.",
                expect=(Expectation("insi", ("rechercherInsAvecTraitsIdentite",), where={"patient_ins": "{ins}"},
                                    timeout=60),)),
        DuiActs("dmp-rien", "Test d'existence du DMP", ("SC.DMP.04.MS1",), instruction="Ouvrez le DMP.",
                expect=(Expectation("dmp", ("TD0.2",), timeout=3),)),
        DuiActs("mss-envoi", "Envoi MSSanté", ("SC.MSS.17.MS1",), instruction="Envoyez un message.",
                expect=(Expectation("mssante", ("smtp.submission",), timeout=60),)),
        DuiActs("mss-lecture", "Relève de la boîte", ("SC.MSS.26.MS1",), instruction="Relevez la boîte.",
                expect=(Expectation("mssante", ("imap.fetch",), timeout=60),)),
        ManualProof("capture", "Liste de travail", ("SC.MSS.26.MS1",),
                    instruction="Joignez une capture de la liste de travail des documents non lus."),
    ))
    operator = subprocess.Popen([sys.executable, str(OPERATOR), str(_sheet(bench)), str(tmp_path / "plan.json")])
    try:
        runner = Runner(bench.journal, bench.sheet, ManualDriver(OperatorConsole(io.StringIO())),
                        console=Console(quiet=True))
        run = runner.play(scenario, bench.journal.dui("dui-e2e"))
    finally:
        operator.wait(timeout=60)
    assert operator.returncode == 0
    results = {r.step: r for r in run.steps}
    outcomes = {step: r.outcome for step, r in results.items()}
    assert outcomes == {
        "insi-bon": Outcome.PASSED, "insi-mauvais": Outcome.FAILED, "dmp-rien": Outcome.FAILED,
        "mss-envoi": Outcome.PASSED, "mss-lecture": Outcome.PASSED, "capture": Outcome.AWAITING_PROOF,
    }, {s: r.reason for s, r in results.items()}
    assert f"attendu {A['ins']}, observé {B['ins']}" in results["insi-mauvais"].reason
    assert results["dmp-rien"].reason.startswith("rien reçu")
    assert results["insi-mauvais"].findings[0].requirements == ("SC.INS.27.MS1",)
    assert results["dmp-rien"].findings[0].requirements == ("SC.DMP.04.MS1",)
    verdicts = {v.requirement: v.outcome for v in requirement_verdicts(run)}
    assert verdicts == {"SC.INS.26.MS1": Outcome.PASSED, "SC.INS.27.MS1": Outcome.FAILED,
                        "SC.DMP.04.MS1": Outcome.FAILED, "SC.MSS.17.MS1": Outcome.PASSED,
                        "SC.MSS.26.MS1": Outcome.AWAITING_PROOF}
    for exchange_id in results["insi-bon"].evidence + results["mss-envoi"].evidence:
        assert bench.journal.get(exchange_id).dui == "dui-e2e"


def test_the_ins_scenario_played_by_an_operator_in_another_process(bench: RunningBench, tmp_path: Path) -> None:
    """A registered DSR scenario (`ins`: CR 00, verification, carte Vitale, CR 01, CR 02) with the manual
    driver: the INSi answers judged from the traffic; what the DUI then shows of the identities
    INSi could not confirm is awaited as a manual proof, never taken as passed."""
    directory = default_directory()
    person = next(p for p in directory.members(directory.ssiad.id) if p.mailbox)
    profile = _profile(tmp_path, "dui-ins", "E2E-INS-IDAM", person.mailbox.address, "dui-ins")
    assert main(["dui", "enregistrer", str(profile), "--fiche", str(_sheet(bench))]) == 0
    search = [[{"do": "insi_of", "args": [prefix]}] for prefix in ("usager", "usager", "inconnu", "homonyme1")]
    card = [{"do": "insi_card_of", "args": ["usager"]}]
    plan = {"address": ADDRESS, "idam": "E2E-INS-IDAM", "steps": [[], [], *search[:2], card, *search[2:]]}
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    operator = subprocess.Popen([sys.executable, str(OPERATOR), str(_sheet(bench)), str(tmp_path / "plan.json")])
    try:
        runner = Runner(bench.journal, bench.sheet, ManualDriver(OperatorConsole(io.StringIO())),
                        console=Console(quiet=True), planes=bench.planes(), timeout_scale=0.5)
        run = runner.play(registered_scenarios()["ins"], bench.journal.dui("dui-ins"))
    finally:
        operator.wait(timeout=60)
    assert operator.returncode == 0
    outcomes = {r.step: r.outcome for r in run.steps}
    assert outcomes == {
        "homonyme1-insi": Outcome.PASSED, "homonyme2-insi": Outcome.PASSED,
        "recherche": Outcome.PASSED, "verification": Outcome.PASSED, "recherche-carte": Outcome.PASSED,
        "recherche-inconnu": Outcome.AWAITING_PROOF, "recherche-homonymes": Outcome.AWAITING_PROOF,
    }, {r.step: r.reason for r in run.steps}
    answers = [bench.journal.get(i).summary.get("cr") for step in ("recherche", "recherche-inconnu",
                                                                   "recherche-homonymes")
               for i in run.result(step).evidence]
    assert answers == ["00", "01", "02"]
    assert all(bench.journal.get(i).dui == "dui-ins" for r in run.steps for i in r.evidence)


CONTROL_CLIENT = """
import json, sys
sys.path.insert(0, sys.argv[2])
import dui_operator
from banc.sheet import BenchSheet
sheet = BenchSheet.load(sys.argv[1])
dui_operator.resolve(sheet.public_host, sys.argv[3])
report = {}
for service in sheet.services():
    control = sheet.control(service)
    control.reset()
    report[service] = sorted(control.state())
print(json.dumps(report))
"""


def test_two_duis_attributed_apart_and_a_second_process_drives_the_control_plane(
    bench: RunningBench, tmp_path: Path,
) -> None:
    directory = default_directory()
    members = [p for p in directory.members(directory.ssiad.id) if p.mailbox][:2]
    for index, person in enumerate(members):
        name = f"dui-{'ab'[index]}"
        profile = _profile(tmp_path, name, f"IDAM-{name.upper()}", person.mailbox.address, name)
        assert main(["dui", "enregistrer", str(profile), "--fiche", str(_sheet(bench))]) == 0
    done = subprocess.run([sys.executable, "-c", CONTROL_CLIENT, str(_sheet(bench)), str(OPERATOR.parent), ADDRESS],
                          capture_output=True, text=True, timeout=120, check=True)
    states = json.loads(done.stdout)
    assert set(states) == {"psc", "annuaire", "insi", "dmp", "mssante"}
    # the reset kept the registered DUIs (the control plane re-applies them) — re-register anyway
    for name in ("dui-a", "dui-b"):
        assert main(["dui", "enregistrer", str(tmp_path / f"{name}.toml"), "--fiche", str(_sheet(bench))]) == 0
    since = bench.journal.last_id()
    plan = {"address": ADDRESS, "idam": "IDAM-DUI-B", "steps": []}
    code = (f"import json,sys; sys.path.insert(0, {str(OPERATOR.parent)!r}); import dui_operator as o; "
            f"sheet=json.load(open({str(_sheet(bench))!r})); o.resolve(sheet['public_host'], {ADDRESS!r}); "
            f"op=o.Operator(sheet, {plan!r}); op.insi({ {k: v for k, v in A.items() if k != 'ins'}!r}); "
            f"op.plan['idam']='IDAM-DUI-A'; op.insi({ {k: v for k, v in B.items() if k != 'ins'}!r})")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    searches = [e for e in bench.journal.exchanges(service="insi", since_id=since)
                if e.operation == "rechercherInsAvecTraitsIdentite"]
    assert [(e.dui, e.summary.get("patient_ins")) for e in searches] == [("dui-b", A["ins"]), ("dui-a", B["ins"])]
