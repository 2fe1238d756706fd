"""Compile-time analysis: absent value sets make rules 'not evaluated', never passed or failed."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from banc.cda.compiler import RuleSetMeta, _analyse, _drop_idle_walks
from banc.cda.engine import Engine
from banc.verdict import Severity, Verdict

SCH = """<schema xmlns="http://purl.oclc.org/dsdl/schematron" xmlns:banc="urn:banc-segur">
  <pattern id="variables"><let name="jdvPresent" value="'../jeuxDeValeurs/present.xml'"/>
    <let name="jdvAbsent" value="'../jeuxDeValeurs/absent.xml'"/></pattern>
  <pattern id="ok"><rule context="cda:code"><assert test="document($jdvPresent)//x">a</assert></rule></pattern>
  <pattern id="degraded"><rule context="cda:code"><assert test="document($jdvAbsent)//x">b</assert></rule></pattern>
  <pattern id="gated"><rule context="cda:section[cda:templateId/@root='1.2.3']">
    <assert id="r1" banc:requirements="SC.DOC.04.MS1 SC.DOC.01.MS1" test="true()">c</assert></rule></pattern>
  <pattern id="open"><rule context="cda:section[cda:templateId/@root='1.2.3' or cda:code]"><assert test="1">d</assert></rule></pattern>
</schema>"""


def test_analysis_finds_absent_value_sets_requirements_and_gates(tmp_path: Path) -> None:
    (tmp_path / "jeuxDeValeurs").mkdir()
    (tmp_path / "jeuxDeValeurs" / "present.xml").write_text("<x/>")
    base = tmp_path / "schematrons"
    base.mkdir()
    meta = _analyse(etree.fromstring(SCH), base)
    assert meta.degraded_patterns == {"degraded": ["../jeuxDeValeurs/absent.xml"]}
    assert meta.requirements == {"r1": ["SC.DOC.04.MS1", "SC.DOC.01.MS1"]}
    assert meta.gates == {"gated": [["1.2.3"]]}
    assert meta.skipped({"9.9"}) == ["gated"] and meta.skipped({"1.2.3"}) == []


def test_failures_of_degraded_patterns_become_not_evaluated() -> None:
    svrl = """<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:active-pattern id="degraded"/>
      <svrl:failed-assert location="/ClinicalDocument/code"><svrl:text>b</svrl:text></svrl:failed-assert>
      <svrl:active-pattern id="gated"/>
      <svrl:failed-assert id="r1" role="warning" location="/x"><svrl:text> c  </svrl:text></svrl:failed-assert>
      <svrl:successful-report location="/y"><svrl:text>interdit</svrl:text></svrl:successful-report>
    </svrl:schematron-output>"""
    meta = RuleSetMeta(requirements={"r1": ["SC.DOC.04.MS1"]}, degraded_patterns={"degraded": ["absent.xml"]})
    verdict = Verdict("t")
    Engine._collect(verdict, "volet", meta, svrl)
    assert [n.ruleset for n in verdict.not_evaluated] == ["volet"]
    assert "absent.xml" in verdict.not_evaluated[0].reason
    first, second = verdict.findings
    assert (first.rule_id, first.severity, first.message, first.requirements) == (
        "r1", Severity.WARNING, "c", ("SC.DOC.04.MS1",))
    assert second.severity is Severity.ERROR and second.rule_id == "gated"
    assert not verdict.conform


def test_idle_walks_are_removed_only_when_provably_idle() -> None:
    body = ('<xsl:template match="text()" priority="-1"/><xsl:template match="/"><svrl:active-pattern>'
            '<xsl:attribute name="id">p</xsl:attribute><xsl:apply-templates/></svrl:active-pattern></xsl:template>')
    assert "<xsl:apply-templates/>" not in _drop_idle_walks(body)
    busy = body + '<xsl:template match="cda:x"><out/></xsl:template>'
    assert "<xsl:apply-templates/>" in _drop_idle_walks(busy)
