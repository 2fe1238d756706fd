"""Documents broken on purpose, built from the official examples: each is caught by the rule
expected, and the JSON report cites that rule's DSR requirement."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from lxml import etree

from banc.cda.engine import Engine
from banc.report import as_record

pytestmark = [pytest.mark.slow, pytest.mark.reference]

NS = {"c": "urn:hl7-org:v3"}
C = "{urn:hl7-org:v3}"


def _ins(doc: etree._Element) -> etree._Element:
    return doc.xpath("c:recordTarget/c:patientRole/c:id[starts-with(@root,'1.2.250.1.213.1.4.')]", namespaces=NS)[0]


def _remove(doc: etree._Element, xpath: str) -> None:
    found = doc.xpath(xpath, namespaces=NS)
    assert found, xpath
    for element in found:
        element.getparent().remove(element)


def _set_ins(value: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        _ins(doc).set("extension", value)
    return mutate


def _wrong_key(doc: etree._Element) -> None:
    ins = _ins(doc)
    value = ins.get("extension")
    ins.set("extension", value[:13] + f"{(int(value[13:]) + 1) % 97:02d}")


def _pdf_replaced(doc: etree._Element) -> None:
    text = doc.find(f"{C}component/{C}nonXMLBody/{C}text")
    text.text = base64.b64encode(b"ceci n'est pas un PDF").decode()


def _replacement_v1(doc: etree._Element) -> None:
    related = etree.SubElement(doc, f"{C}relatedDocument", typeCode="RPLC")
    parent = etree.SubElement(related, f"{C}parentDocument")
    etree.SubElement(parent, f"{C}id", root="1.2.3.4", extension="ancien")
    doc.find(f"{C}versionNumber").set("value", "1")
    # relatedDocument sits after the header elements it follows in the schema order
    anchor = doc.find(f"{C}componentOf")
    if anchor is None:
        anchor = doc.find(f"{C}component")
    anchor.addprevious(related)


def _empty_recipient(doc: etree._Element) -> None:
    recipient = doc.find(f"{C}informationRecipient/{C}intendedRecipient")
    for child in list(recipient):
        recipient.remove(child)


def _unknown_document(doc: etree._Element) -> None:
    _remove(doc, "c:templateId[@root='1.2.250.1.213.1.1.1.29']")
    doc.find(f"{C}code").set("code", "00000-0")


@dataclass(frozen=True)
class Mutation:
    name: str
    example: str
    mutate: Callable[[etree._Element], None]
    ruleset: str
    rule: str  # rule id, or a fragment of the message for official asserts without id
    requirement: str | None = None


LDL = "LDL-SES_2022.01.xml"
N1 = "DOC_NON_STRUCTURE_CDA-R2-N1.xml"
MUTATIONS = [
    Mutation("INS supprimé", LDL, lambda d: _remove(d, "c:recordTarget/c:patientRole/c:id[starts-with(@root,'1.2.250.1.213.1.4.')]"),
             "dsr", "dsr-ins-present", "SC.DOC.03.MS1"),
    Mutation("OID INS inconnu", LDL, lambda d: _ins(d).set("root", "1.2.250.1.213.1.4.99"), "dsr", "dsr-ins-oid", "SC.DOC.03.MS1"),
    Mutation("clé NIR fausse", LDL, _wrong_key, "dsr", "dsr-ins-key", "SC.DOC.03.MS1"),
    Mutation("INS tronqué", LDL, _set_ins("27512632207497"), "dsr", "dsr-ins-format", "SC.DOC.03.MS1"),
    Mutation("INS corse 2A clé fausse", LDL, _set_ins("297022A02077879"), "dsr", "dsr-ins-key", "SC.DOC.03.MS1"),
    Mutation("INS corse 2B clé fausse", LDL, _set_ins("160012B02077714"), "dsr", "dsr-ins-key", "SC.DOC.03.MS1"),
    Mutation("organisation de l'auteur absente", LDL,
             lambda d: _remove(d, "c:author/c:assignedAuthor/c:representedOrganization"),
             "dsr", "dsr-author-organisation", "SC.DOC.02.MS1"),
    Mutation("organisation responsable sans identifiant", LDL,
             lambda d: _remove(d, "c:custodian/c:assignedCustodian/c:representedCustodianOrganization/c:id"),
             "dsr", "dsr-custodian-organisation", "SC.DOC.02.MS1"),
    Mutation("confidentialité invalide", LDL, lambda d: d.find(f"{C}confidentialityCode").set("code", "X"),
             "dsr", "dsr-confidentiality", "SC.DOC.01.MS1"),
    Mutation("destinataires absents", LDL, lambda d: _remove(d, "c:informationRecipient"),
             "dsr", "dsr-recipients", "SC.DOC.04.MS1"),
    Mutation("destinataire non identifié", LDL, _empty_recipient, "dsr", "dsr-recipient-identified", "SC.DOC.04.MS1"),
    Mutation("setId absent", LDL, lambda d: _remove(d, "c:setId"), "dsr", "dsr-set-id", "SC.MSS.20.MS1"),
    Mutation("numéro de version invalide", LDL, lambda d: d.find(f"{C}versionNumber").set("value", "0"),
             "dsr", "dsr-version-number", "SC.DMP.02.MS1"),
    Mutation("remplacement en version 1", LDL, _replacement_v1, "dsr", "dsr-replacement-version", "SC.MSS.20.MS1"),
    Mutation("N1 sans PDF", N1, _pdf_replaced, "dsr", "dsr-n1-pdf", "SC.DOC.03.MS1"),
    Mutation("N1 en texte brut", N1, lambda d: d.find(f"{C}component/{C}nonXMLBody/{C}text").set("mediaType", "text/plain"),
             "dsr", "dsr-n1-pdf", "SC.DOC.03.MS1"),
    Mutation("section Traitements supprimée", "DLU-EHPAD-DLU_2022.01.xml",
             lambda d: _remove(d, "c:component/c:structuredBody/c:component[c:section/c:templateId/@root='1.3.6.1.4.1.19376.1.5.3.1.3.19']"),
             "CI-SIS_DLU-EHPAD-DLU_2022.01", "Traitements"),
    Mutation("templateId du volet supprimé", "VSM_1.4_2022.01.xml",
             lambda d: _remove(d, "c:templateId[@root='1.2.250.1.213.1.1.1.13']"),
             "CI-SIS_VSM_1.4_2022.01", "1.2.250.1.213.1.1.1.13"),
    Mutation("code du document changé", LDL, lambda d: d.find(f"{C}code").set("code", "34133-9"),
             "CI-SIS_LDL-SES_2022.01", "11490-0"),
    Mutation("qualifiant de nom interdit", LDL,
             lambda d: d.find(f"{C}recordTarget/{C}patientRole/{C}patient/{C}name/{C}family").set("qualifier", "SP"),
             "StrucMin", "qualifiers"),
    Mutation("élément inconnu du schéma", LDL, lambda d: d.insert(0, etree.Element(f"{C}inconnu")), "xsd", "xsd"),
    Mutation("date de naissance absente", LDL,
             lambda d: _remove(d, "c:recordTarget/c:patientRole/c:patient/c:birthTime"),
             "CI-SIS_LDL-SES_2022.01", "date de naissance"),
]


def test_at_least_twenty_mutations() -> None:
    assert len(MUTATIONS) >= 20


@pytest.fixture(scope="module")
def originals(cda_engine: Engine, example_files: dict) -> dict:
    """Verdicts of the unmutated examples, computed once."""
    names = {m.example for m in MUTATIONS}
    return {n: cda_engine.validate(example_files[n], subject=n) for n in names}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_mutation_is_caught(mutation: Mutation, cda_engine: Engine, example_files: dict, originals: dict) -> None:
    original = originals[mutation.example]
    doc = etree.fromstring(example_files[mutation.example].read_bytes())
    mutation.mutate(doc)
    verdict = cda_engine.validate(etree.tostring(doc), subject=mutation.name)
    assert not verdict.conform

    def matches(f) -> bool:
        return f.ruleset == mutation.ruleset and (f.rule_id == mutation.rule or mutation.rule in f.message)

    assert not any(matches(f) for f in original.errors), "the unmutated example must not trip the rule"
    assert any(matches(f) for f in verdict.errors), [(f.ruleset, f.rule_id, f.message[:90]) for f in verdict.errors]
    if mutation.requirement:
        record = as_record(verdict)
        cited = {r for failure in record["failures"] if failure["rule_id"] == mutation.rule for r in failure["requirements"]}
        assert mutation.requirement in cited


def test_corsican_ins_with_right_key_passes(cda_engine: Engine, example_files: dict) -> None:
    doc = etree.fromstring(example_files[LDL].read_bytes())
    _set_ins("297022A02077878")(doc)
    verdict = cda_engine.validate(etree.tostring(doc), subject="corse")
    assert not [f for f in verdict.findings if f.rule_id.startswith("dsr-ins")]


def test_unknown_document_runs_profiles_and_says_no_volet(cda_engine: Engine, example_files: dict) -> None:
    doc = etree.fromstring(example_files[LDL].read_bytes())
    _unknown_document(doc)
    verdict = cda_engine.validate(etree.tostring(doc), subject="inconnu")
    assert verdict.details["volet"] is None
    assert {"StrucMin", "ModelesDeContenusCDA", "Modeles_ANS", "IHE"} <= set(verdict.details["rulesets"])
    assert any(n.ruleset == "volet" and "aucun volet" in n.reason for n in verdict.not_evaluated)


def test_ambiguous_code_is_not_evaluated_not_guessed(cda_engine: Engine, example_files: dict) -> None:
    doc = etree.fromstring(example_files["DLU-EHPAD-DLU_2022.01.xml"].read_bytes())
    _remove(doc, "c:templateId[@root='1.2.250.1.213.1.1.1.22']")
    verdict = cda_engine.validate(etree.tostring(doc), subject="ambigu")
    assert verdict.details["volet"] is None
    assert any(n.ruleset == "volet" and "plusieurs volets" in n.reason for n in verdict.not_evaluated)


def test_forced_volet(cda_engine: Engine, example_files: dict) -> None:
    verdict = cda_engine.validate(example_files[LDL], volet="CI-SIS_LDL-EES_2022.01", subject="forcé")
    assert verdict.details["volet"] == "CI-SIS_LDL-EES_2022.01"
    assert any(f.ruleset == "CI-SIS_LDL-EES_2022.01" and "18761-7" in f.message for f in verdict.errors)


def test_schematron_that_cannot_compile_names_the_missing_include(cda_engine: Engine, example_files: dict) -> None:
    verdict = cda_engine.validate(
        example_files["BIO-CR-BIO_2024.01_TSH_1.xml"], volet="CI-SIS_BIO-CR-BIO_2023.01", subject="bio"
    )
    reasons = [n.reason for n in verdict.not_evaluated if n.ruleset == "CI-SIS_BIO-CR-BIO_2023.01"]
    assert reasons and "Entete_CR-BIO.sch" in reasons[0] and "inclusions absentes" in reasons[0]


def test_missing_includes_are_reported_not_evaluated(cda_engine: Engine, example_files: dict) -> None:
    verdict = cda_engine.validate(example_files["CNAM-HR_2021.01.xml"], subject="cnam")
    assert any(
        n.ruleset == "CI-SIS_CNAM-HR_2021.01" and "JDV_BDM_CNAM-HR-CISIS.sch" in n.reason
        for n in verdict.not_evaluated
    )
