"""The scenario engine on a small fake service: every outcome, evidence, resume, coverage."""

from __future__ import annotations

import io
import threading

import httpx
import pytest

from banc.dui import DuiProfile, Mailbox
from banc.recording import JournalMiddleware, note
from banc.scenario.drivers import ManualDriver, OperatorConsole, ThreadHandle
from banc.scenario.model import (
    DuiActs,
    Expect,
    Expectation,
    ManualProof,
    Outcome,
    Scenario,
)
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import FINISHED, WAITING, RunStore
from banc.scenario.verdicts import Coverage, coverage_matrix, requirement_verdicts
from banc.server import ServedApp
from banc.sheet import BenchSheet
from banc.verdict import Finding


async def fake_service(scope, receive, send):
    """A tiny 'INSi': the login header names the DUI, ?ins= the patient, ?faute=1 a defect."""
    query = dict(part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part)
    exchange = note(scope)
    exchange.operation = "recherche"
    exchange.summary["login"] = dict(scope["headers"]).get(b"x-login", b"").decode()
    exchange.summary["patient_ins"] = query.get("ins", "")
    if query.get("faute"):
        exchange.findings.append(Finding("FAUX.DEST", "destinataire absent", requirements=("SC.DOC.04.MS1",)))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def bench(journal, pki):
    app = JournalMiddleware(fake_service, journal, "faux")
    with ServedApp(app, pki=pki, client_cert="optional", name="faux") as server:
        sheet = BenchSheet(endpoints={"faux": server.url}, pki_dir=str(pki.directory),
                           journal=str(journal.path), admin_token="x")
        yield journal, sheet, server


DUI = DuiProfile("dui-a", mailboxes=(Mailbox("a@ssiad.mssante.fr"),))


def _call(server, pki, login="a@ssiad.mssante.fr", **params):
    httpx.get(f"{server.url}/", params=params, headers={"x-login": login},
              verify=pki.client_context()).raise_for_status()


def _scenario(*steps, inputs=lambda context: {"ins": "123456789012345"}):
    return Scenario("essai", "Essai", "profil d'essai", "", tuple(steps), inputs=inputs)


def _expect(timeout=3.0):
    return (Expectation("faux", ("recherche",), "recherche", where={"patient_ins": "{ins}"},
                        timeout=timeout),)


class ScriptedDriver:
    """Acts like a DUI through plain HTTP: one behaviour per step id."""

    name = "script"

    def __init__(self, server, pki, behaviours):
        self.server, self.pki, self.behaviours = server, pki, behaviours

    def start(self, step, params, context):
        return ThreadHandle.run(lambda: self.behaviours[step.id](self.server, self.pki, params))

    def request_proof(self, step, instruction, context):
        return None

    def close(self):
        pass


def test_every_outcome_with_requirements_and_evidence(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    scenario = _scenario(
        DuiActs("bon", "Bon patient", ("SC.INS.26.MS1",), action="a", params={"ins": "{ins}"}, expect=_expect()),
        DuiActs("mauvais", "Mauvais patient", ("SC.INS.27.MS1",), action="a", expect=_expect()),
        DuiActs("rien", "Rien envoyé", ("SC.DMP.04.MS1",), action="a", expect=_expect(1.0)),
        DuiActs("faute", "Échange fautif", ("SC.INS.26.MS1",), action="a", expect=_expect()),
        DuiActs("apres", "Après le rien", ("SC.DMP.01.MS1",), requires=("rien",), action="a", expect=_expect()),
        DuiActs("saad", "Seulement SAAD", ("SC.MSS.14.MS1",), applies_to=("SAAD",), action="a", expect=_expect()),
        ManualProof("capture", "Capture de la liste de travail", ("SC.MSS.26.MS1",),
                    instruction="Joignez une capture de la liste de travail de {ins}."),
    )
    behaviours = {
        "bon": lambda s, p, params: _call(s, p, ins=params["ins"]),
        "mauvais": lambda s, p, params: _call(s, p, ins="999999999999999"),
        "rien": lambda s, p, params: None,
        "faute": lambda s, p, params: _call(s, p, ins="123456789012345", faute="1"),
    }
    runner = Runner(journal, sheet, ScriptedDriver(server, pki, behaviours), console=Console(quiet=True))
    run = runner.play(scenario, DUI)
    outcomes = {s.step: s.outcome for s in run.steps}
    assert outcomes == {
        "bon": Outcome.PASSED, "mauvais": Outcome.FAILED, "rien": Outcome.FAILED,
        "faute": Outcome.FAILED, "apres": Outcome.SKIPPED, "saad": Outcome.OMITTED,
        "capture": Outcome.AWAITING_PROOF,
    }
    results = {s.step: s for s in run.steps}
    assert "patient_ins : attendu 123456789012345, observé 999999999999999" in results["mauvais"].reason
    assert results["rien"].reason.startswith("rien reçu")
    assert "FAUX.DEST" in {f.rule_id for f in results["faute"].findings}
    assert results["bon"].evidence and journal.get(results["bon"].evidence[0]).run == run.id
    assert "123456789012345" in results["capture"].reason
    assert all(s.requirements for s in run.steps)
    assert run.status == WAITING
    verdicts = {v.requirement: v.outcome for v in requirement_verdicts(run)}
    # "faute" failed for its exchange's SC.DOC.04.MS1 error only: SC.INS.26.MS1, which it also
    # verifies, passed there as in "bon"; SC.INS.27.MS1 ("mauvais patient") failed
    assert verdicts["SC.INS.26.MS1"] is Outcome.PASSED
    assert verdicts["SC.INS.27.MS1"] is Outcome.FAILED
    assert verdicts["SC.DOC.04.MS1"] is Outcome.FAILED  # cited by the mock's finding only
    assert verdicts["SC.DMP.01.MS1"] is Outcome.SKIPPED
    assert verdicts["SC.MSS.14.MS1"] is Outcome.OMITTED
    assert verdicts["SC.MSS.26.MS1"] is Outcome.AWAITING_PROOF
    stored = RunStore(journal).get(run.id)
    assert [s.outcome for s in stored.steps] == [s.outcome for s in run.steps]


def test_manual_proof_then_resume(bench, pki, tmp_path):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    scenario = _scenario(ManualProof("capture", "Capture", ("SC.MSS.26.MS1",), instruction="Joignez."))
    runner = Runner(journal, sheet, ScriptedDriver(server, pki, {}), console=Console(quiet=True))
    run = runner.play(scenario, DUI)
    assert run.steps[0].outcome is Outcome.AWAITING_PROOF
    proof = tmp_path / "capture.png"
    proof.write_bytes(b"\x89PNG")
    RunStore(journal).attach_proof(run.id, "capture", proof)
    resumed = runner.resume(scenario, run.id, DUI)
    assert resumed.steps[0].outcome is Outcome.PROOF_ATTACHED and resumed.status == FINISHED
    assert requirement_verdicts(resumed)[0].outcome is Outcome.PROOF_ATTACHED  # never "passed"


def test_manual_driver_waits_for_traffic_and_hears_the_operator(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    scenario = _scenario(
        DuiActs("trafic", "Le DUI cherche", ("SC.INS.26.MS1",), instruction="Cherchez l'INS {ins}.",
                expect=_expect(10)),
        DuiActs("refus", "Le DUI ne peut pas", ("SC.INS.27.MS1",), instruction="Faites X.", expect=_expect(10)),
    )
    operator = OperatorConsole(io.StringIO())
    output = io.StringIO()
    runner = Runner(journal, sheet, ManualDriver(operator), console=Console(output))
    timer = threading.Timer(0.5, lambda: _call(server, pki, ins="123456789012345"))
    timer.start()
    answers = threading.Timer(2.0, lambda: operator.lines.put("impossible module absent"))
    answers.start()
    run = runner.play(scenario, DUI)
    assert [s.outcome for s in run.steps] == [Outcome.PASSED, Outcome.FAILED]
    assert "module absent" in run.steps[1].reason
    assert "À FAIRE DANS LE DUI : Cherchez l'INS 123456789012345." in output.getvalue()


def test_exchanges_of_another_dui_do_not_count(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    journal.register_dui(DuiProfile("dui-b", mailboxes=(Mailbox("b@ssiad.mssante.fr"),)))
    scenario = _scenario(DuiActs("x", "X", ("SC.INS.26.MS1",), action="a", expect=_expect(1.0)))
    behaviours = {"x": lambda s, p, params: _call(s, p, login="b@ssiad.mssante.fr", ins="123456789012345")}
    run = Runner(journal, sheet, ScriptedDriver(server, pki, behaviours), console=Console(quiet=True)).play(scenario, DUI)
    assert run.steps[0].outcome is Outcome.FAILED
    assert journal.exchanges(service="faux")[-1].dui == "dui-b"


def test_expect_step_judges_traffic_without_a_driver_action(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    scenario = _scenario(Expect("lu", "Le DUI relève", ("SC.MSS.26.MS1",), expect=_expect(5)))
    threading.Timer(0.3, lambda: _call(server, pki, ins="123456789012345")).start()
    run = Runner(journal, sheet, ScriptedDriver(server, pki, {}), console=Console(quiet=True)).play(scenario, DUI)
    assert run.steps[0].outcome is Outcome.PASSED


def test_coverage_matrix_over_the_catalogue():
    scenario = _scenario(
        DuiActs("a", "A", ("SC.INS.26.MS1",), action="a", expect=_expect()),
        ManualProof("b", "B", ("SC.MSS.26.MS1",), instruction="x"),
    )
    rows = {r.requirement: r.coverage for r in coverage_matrix([scenario])}
    assert rows["SC.INS.26.MS1"] is Coverage.AUTOMATED
    assert rows["SC.MSS.26.MS1"] is Coverage.MANUAL
    assert rows["SC.TBB.02.MS1"] is Coverage.NOT_COVERED


def test_coverage_is_printed_by_the_cli_over_the_whole_catalogue(capsys):
    from banc.cli import main
    from banc.requirements import catalogue

    assert main(["couverture"]) == 0
    printed = capsys.readouterr().out
    for requirement in catalogue():
        assert requirement in printed
    assert "SC.INS.26.MS1    DOIT  automatisé" in printed
    assert "non couvert" not in printed  # every MS1 requirement of the catalogue has a step
    assert "SC.TBB.02.MS1    PEUT  preuve manuelle" in printed  # nothing observable: a screenshot


def test_absent_expectation_fails_only_when_the_forbidden_exchange_happens(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    forbidden = Expectation("faux", ("recherche",), "recherche interdite", where={"patient_ins": "{ins}"},
                            timeout=3.0, absent=True)
    behaviours = {
        "sage": lambda s, p, params: _call(s, p, ins="999999999999999"),  # another usager: allowed
        "fautif": lambda s, p, params: _call(s, p, ins="123456789012345"),
    }
    scenario = _scenario(
        DuiActs("sage", "Ne cherche pas cet usager", ("SC.MSS.15.MS1",), action="a", expect=(forbidden,)),
        DuiActs("fautif", "Cherche quand même", ("SC.MSS.16.MS1",), action="a", expect=(forbidden,)),
    )
    run = Runner(journal, sheet, ScriptedDriver(server, pki, behaviours), console=Console(quiet=True)).play(scenario, DUI)
    results = {s.step: s for s in run.steps}
    assert results["sage"].outcome is Outcome.PASSED
    assert results["fautif"].outcome is Outcome.FAILED
    assert results["fautif"].findings[0].rule_id.endswith("INTERDIT")
    assert results["fautif"].findings[0].requirements == ("SC.MSS.16.MS1",)
    assert results["fautif"].evidence


def test_result_checks_compare_the_dui_report_with_the_traffic(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)

    def lists_the_usager(result, context):
        if context.values["ins"] in result.get("usagers", []):
            return []
        return [Finding("SCN.LISTE", "usager absent de la liste du DUI", requirements=("SC.MSS.26.MS1",))]

    def step(step_id):
        return DuiActs(step_id, "Liste", ("SC.MSS.26.MS1",), action="liste", instruction="Montrez la liste.",
                       result_checks=(lists_the_usager,), remember={"usagers": f"vus_{step_id}"})

    scenario = _scenario(step("juste"), step("faux"))
    behaviours = {"juste": lambda s, p, params: {"usagers": ["123456789012345"]},
                  "faux": lambda s, p, params: {"usagers": []}}
    run = Runner(journal, sheet, ScriptedDriver(server, pki, behaviours), console=Console(quiet=True)).play(scenario, DUI)
    assert [s.outcome for s in run.steps] == [Outcome.PASSED, Outcome.FAILED]
    assert run.steps[1].findings[0].rule_id == "SCN.LISTE"
    assert RunStore(journal).get(run.id).inputs["vus_juste"] == ["123456789012345"]
    # an operator cannot hand the bench its DUI's screen: the step awaits a proof, never passes
    operator = OperatorConsole(io.StringIO())
    threading.Timer(0.3, lambda: operator.lines.put("fait")).start()
    manual = Runner(journal, sheet, ManualDriver(operator), console=Console(quiet=True)).play(
        _scenario(step("juste")), DUI)
    assert manual.steps[0].outcome is Outcome.AWAITING_PROOF


def test_refusal_expected_passes_only_on_a_refusal(bench, pki):
    from banc.scenario.drivers import ActionRefused

    journal, sheet, server = bench
    journal.register_dui(DUI)

    def refuse(s, p, params):
        raise ActionRefused("identité discordante")

    def step(step_id):
        return DuiActs(step_id, "Rattacher au mauvais usager", ("SC.MSS.25.MS1",), action="rattacher",
                       refusal_expected=True)

    run = Runner(journal, sheet, ScriptedDriver(server, pki, {"refuse": refuse, "accepte": lambda *a: {}}),
                 console=Console(quiet=True)).play(_scenario(step("refuse"), step("accepte")), DUI)
    assert [s.outcome for s in run.steps] == [Outcome.PASSED, Outcome.FAILED]
    assert run.steps[1].findings[0].requirements == ("SC.MSS.25.MS1",)


def test_an_expectation_remembers_an_identifier_from_the_traffic(bench, pki):
    journal, sheet, server = bench
    journal.register_dui(DUI)
    seen = Expectation("faux", ("recherche",), "recherche", timeout=3.0, remember={"patient_ins": "vu"})
    later = Expectation("faux", ("recherche",), "recherche du même", where={"patient_ins": "{vu}"}, timeout=3.0)
    scenario = _scenario(DuiActs("a", "A", ("SC.INS.26.MS1",), action="a", expect=(seen,)),
                         DuiActs("b", "B", ("SC.INS.27.MS1",), action="a", expect=(later,)))
    behaviours = {"a": lambda s, p, params: _call(s, p, ins="111111111111111"),
                  "b": lambda s, p, params: _call(s, p, ins="111111111111111")}
    run = Runner(journal, sheet, ScriptedDriver(server, pki, behaviours), console=Console(quiet=True)).play(scenario, DUI)
    assert [s.outcome for s in run.steps] == [Outcome.PASSED, Outcome.PASSED]
    assert RunStore(journal).get(run.id).inputs["vu"] == "111111111111111"


def test_a_failed_step_fails_only_the_requirements_its_errors_cite():
    from banc.scenario.runs import Run, StepResult

    def result(step, outcome, findings=()):
        return StepResult(step, step, "le DUI agit", outcome, ("SC.MSS.17.MS1", "SC.DOC.04.MS1"), "",
                          (), list(findings))

    headers = Finding("MSS.XMSS", "en-têtes X-MSS absents", requirements=("SC.MSS.17.MS1",))
    run = Run("r", "essai", "dui-a", "script", "terminé", 0.0, steps=[
        result("envoi", Outcome.FAILED, [headers]),
        result("rien", Outcome.PASSED),
    ])
    verdicts = {v.requirement: v.outcome for v in requirement_verdicts(run)}
    assert verdicts == {"SC.MSS.17.MS1": Outcome.FAILED, "SC.DOC.04.MS1": Outcome.PASSED}
    run.steps.append(result("muet", Outcome.FAILED))  # failed with no finding: every requirement fails
    assert {v.outcome for v in requirement_verdicts(run)} == {Outcome.FAILED}


def test_a_step_about_an_optional_function_is_omitted_unless_the_dui_declares_it(bench, pki):
    from dataclasses import replace

    journal, sheet, server = bench
    journal.register_dui(DUI)
    step = ManualProof("agenda", "Tableau de bord de l'agenda", ("SC.TBB.02.MS1",),
                       feature="tableau-de-bord-agenda", instruction="Joignez la capture.")
    runner = Runner(journal, sheet, ScriptedDriver(server, pki, {}), console=Console(quiet=True))
    assert runner.play(_scenario(step), DUI).steps[0].outcome is Outcome.OMITTED
    offering = replace(DUI, features=("tableau-de-bord-agenda",))
    assert runner.play(_scenario(step), offering).steps[0].outcome is Outcome.AWAITING_PROOF
    coverage = {row.requirement: row.coverage for row in coverage_matrix([_scenario(step)])}
    assert coverage["SC.TBB.02.MS1"] is Coverage.MANUAL
