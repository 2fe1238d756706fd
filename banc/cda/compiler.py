"""Schematron → XSLT 2 with the ISO skeleton shipped in the ANS package, cached on disk.

The three steps are the package's own (`moteur/`): `iso_dsdl_include.xsl` (includes),
`iso_abstract_expand.xsl` (abstract patterns), `iso_svrl_for_xslt2.xsl` (the validating
stylesheet). The result is written beside the schematron in the work tree, so the rules'
relative `document()` paths resolve as in the package, under a name that carries the engine
version: a second process finds it and skips these steps (≈4 s for StrucMin).

SaxonC-HE cannot export a compiled stylesheet (SEF export needs Saxon-EE, measured), so the
last step — Saxon compiling the 10 MB StrucMin stylesheet, ≈12–15 s — is paid once per process;
`banc.cda.service` keeps a process warm so the command line does not pay it each time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from banc.xml import parse_trusted_file

ENGINE_VERSION = "1"
SCH_NS = "http://purl.oclc.org/dsdl/schematron"
BANC_NS = "urn:banc-segur"
PLACEHOLDER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!-- banc-placeholder: value set absent from the ANS package -->\n'
    '<ValueSet xmlns="urn:ihe:iti:svs:2008" id="banc-placeholder"/>\n'
)
_VAR_REF = re.compile(r"\$([\w.-]+)")
_LITERAL_DOC = re.compile(r"""(?:document|doc)\(\s*'([^']+\.xml)'\s*\)""")
_LITERAL_PATH = re.compile(r"^\s*'([^']+\.xml)'\s*$")


class CompileError(Exception):
    """A rule set that cannot be compiled; the French message names the cause."""


@dataclass
class RuleSetMeta:
    """What the engine needs to know about a compiled rule set besides its stylesheet."""

    requirements: dict[str, list[str]] = field(default_factory=dict)
    """Assert/report id → DSR requirement ids (our `banc:requirements` attribute)."""
    degraded_patterns: dict[str, list[str]] = field(default_factory=dict)
    """Pattern id → value-set files it reads that are absent (its failures are 'not evaluated')."""
    missing_includes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RuleSetMeta:
        return cls(**json.loads(text))


def compiled_path(sch: Path) -> Path:
    return sch.with_name(f"{sch.stem}.banc{ENGINE_VERSION}.xsl")


def _analyse(expanded: etree._Element, base: Path) -> RuleSetMeta:
    """Requirement ids per assert, and patterns whose value-set files are absent."""
    meta = RuleSetMeta()
    literals: dict[str, str] = {}
    for let in expanded.iter(f"{{{SCH_NS}}}let"):
        match = _LITERAL_PATH.match(let.get("value", ""))
        if match:
            literals[let.get("name", "")] = match.group(1)

    def absent(ref: str) -> bool:
        return not Path(os.path.normpath(base / ref)).exists()

    for pattern in expanded.iter(f"{{{SCH_NS}}}pattern"):
        pid = pattern.get("id", "")
        refs: set[str] = set()
        for element in pattern.iter():
            for value in element.attrib.values():
                refs.update(literals[n] for n in _VAR_REF.findall(value) if n in literals)
                refs.update(_LITERAL_DOC.findall(value))
        missing = sorted(r for r in refs if absent(r))
        if missing:
            meta.degraded_patterns[pid] = missing
    for tag in ("assert", "report"):
        for check in expanded.iter(f"{{{SCH_NS}}}{tag}"):
            reqs = check.get(f"{{{BANC_NS}}}requirements")
            if reqs and check.get("id"):
                meta.requirements[check.get("id")] = reqs.split()
    return meta


def _placeholders(meta: RuleSetMeta, base: Path) -> None:
    """Give absent value sets an empty stand-in so Saxon does not abort the whole rule set.

    The stand-in lives in the work tree only; failures of the patterns that read it are turned
    into 'not evaluated' entries by the engine, never reported as passed or failed.
    """
    for refs in meta.degraded_patterns.values():
        for ref in refs:
            target = Path(os.path.normpath(base / ref))
            if target.parent.exists() and not target.exists():
                target.write_text(PLACEHOLDER, encoding="utf-8")


def compile_schematron(processor, moteur: Path, sch: Path, missing_includes: list[str]) -> RuleSetMeta:
    """Write the validating stylesheet beside `sch` (unless cached) and return its metadata."""
    target = compiled_path(sch)
    meta_path = target.with_suffix(".json")
    if target.exists() and meta_path.exists():
        return RuleSetMeta.from_json(meta_path.read_text(encoding="utf-8"))
    xslt = processor.new_xslt30_processor()
    try:
        include = xslt.compile_stylesheet(stylesheet_file=str(moteur / "iso_dsdl_include.xsl"))
        expand = xslt.compile_stylesheet(stylesheet_file=str(moteur / "iso_abstract_expand.xsl"))
        svrl = xslt.compile_stylesheet(stylesheet_file=str(moteur / "iso_svrl_for_xslt2.xsl"))
    except Exception as exc:  # saxonche raises PySaxonApiError (no public base class)
        raise CompileError(f"moteur Schematron du paquet ANS inutilisable ({moteur}) : {exc}") from None
    try:
        included = include.transform_to_string(source_file=str(sch))
        expanded_text = expand.transform_to_string(xdm_node=processor.parse_xml(xml_text=included))
    except Exception as exc:
        hint = f" ; inclusions absentes : {', '.join(missing_includes)}" if missing_includes else ""
        raise CompileError(f"le schématron {sch.name} ne peut pas être assemblé : {exc}{hint}") from None
    expanded_file = sch.with_name(f"{sch.stem}.banc{ENGINE_VERSION}.expanded.sch")
    expanded_file.write_text(expanded_text, encoding="utf-8")
    meta = _analyse(parse_trusted_file(str(expanded_file)).getroot(), sch.parent)
    meta.missing_includes = list(missing_includes)
    _placeholders(meta, sch.parent)
    svrl.set_parameter("generate-fired-rule", processor.make_string_value("false"))
    try:
        stylesheet = svrl.transform_to_string(xdm_node=processor.parse_xml(xml_text=expanded_text))
    except Exception as exc:
        raise CompileError(f"le schématron {sch.name} ne peut pas être traduit en XSLT : {exc}") from None
    partial = target.with_name(target.name + f".{os.getpid()}.tmp")
    partial.write_text(stylesheet, encoding="utf-8")
    os.replace(partial, target)
    meta_path.write_text(meta.to_json(), encoding="utf-8")
    return meta
