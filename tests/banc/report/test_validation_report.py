"""Validation reports from verdicts built by hand: the reason of each verdict, unjudged files
apart, JUnit one testcase per document × rule set as a JUnit consumer reads it."""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

from banc.cda.engine import input_verdict
from banc.report import summary, to_html, to_junit_xml, to_text, why
from banc.verdict import Finding, NotEvaluated, Severity, Verdict

RULESETS = ["xsd", "StrucMin", "IHE", "dsr"]


def _dsr_only() -> Verdict:
    return Verdict("ldl.xml", [
        Finding("dsr-recipients", "Le document ne mentionne aucun destinataire", ruleset="dsr",
                requirements=("SC.DOC.04.MS1",)),
        Finding("ihe-1", "note IHE", severity=Severity.WARNING, ruleset="IHE"),
    ], details={"rulesets": RULESETS, "volet": None})


def _official() -> Verdict:
    return Verdict("img.xml", [Finding("v1", "templateId absent", ruleset="CI-SIS_IMG"),
                               Finding("v2", "autre", ruleset="CI-SIS_IMG")],
                   [NotEvaluated("Modeles_ANS", "jeu de valeurs absent")],
                   details={"rulesets": [*RULESETS, "CI-SIS_IMG"], "volet": "CI-SIS_IMG"})


def test_reason_names_the_rule_sets_and_the_requirement() -> None:
    assert why(_dsr_only()).startswith(
        "règle(s) du banc seulement (dsr : 1 erreur(s)), exigence(s) DSR SC.DOC.04.MS1 : Le document")
    assert why(_official()) == "règles officielles de l'ANS en échec (CI-SIS_IMG) — CI-SIS_IMG : 2 erreur(s)"
    assert why(Verdict("ok.xml", details={"rulesets": RULESETS})) == "aucune erreur sur 4 jeu(x) de règles"


def test_junit_one_testcase_per_document_and_rule_set(tmp_path: Path) -> None:
    missing = input_verdict("absent.xml", "absent.xml : fichier introuvable", "absent")
    path = tmp_path / "v.xml"
    path.write_text(to_junit_xml([_dsr_only(), _official(), missing]), encoding="utf-8")
    [suite] = list(JUnitXml.fromfile(str(path)))
    cases = {(c.classname, c.name): [type(r) for r in c.result] for c in suite}
    assert cases[("ldl.xml", "dsr")] == [Failure] and cases[("ldl.xml", "IHE")] == []
    assert cases[("img.xml", "CI-SIS_IMG")] == [Failure]
    assert cases[("img.xml", "Modeles_ANS")] == [Skipped]
    assert cases[("absent.xml", "entrée")] == [Error]
    assert {k for k, v in cases.items() if v == [Failure]} == {("ldl.xml", "dsr"), ("img.xml", "CI-SIS_IMG")}
    failure = next(r for c in suite if c.name == "CI-SIS_IMG" for r in c.result)
    assert "templateId absent" in failure.text and "autre" in failure.text
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (11, 2, 1, 1)


def test_html_puts_unjudged_files_apart_and_says_why() -> None:
    missing = input_verdict("absent.xml", "absent.xml : fichier introuvable", "absent")
    page = to_html([_dsr_only(), missing])
    judged, unjudged = page.split("Fichiers non jugés")[0], page.split("Fichiers non jugés")[1]
    assert "ldl.xml" in judged and "absent.xml" not in judged.split("Documents jugés")[1]
    assert "absent.xml : fichier introuvable" in unjudged and "entrée invalide" in unjudged
    assert "Pourquoi" in page and "avertissement" in page and "warning" not in page
    assert "Volet : aucun volet du CI-SIS reconnu." in page and "banc 0.1.0" in page
    assert summary([_dsr_only(), missing]) == "0/1 document(s) conforme(s), 1 non conforme(s) ; 1 fichier(s) non jugé(s) (entrée invalide)"
    assert "avertissement" in to_text([_dsr_only()])
