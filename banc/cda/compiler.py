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

ENGINE_VERSION = "7"
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
_TEMPLATE_LITERAL = re.compile(r"""templateId(?:/@root\s*=\s*|\[\s*@root\s*=\s*)['"]([^'"]+)['"]""")
_NOT_CONJUNCTIVE = re.compile(r"\sor\s|\||not\(|!=|except|\$")
_PATTERN_CALL = re.compile(
    r'(<xsl:attribute name="id">([^<]+)</xsl:attribute>\s*(?:<xsl:apply-templates/>)?\s*</svrl:active-pattern>\s*)'
    r'(<xsl:apply-templates select="/" mode="M\d+"/>)'
)
SKIP_PARAM = "banc-skip"
_DEFAULT_MODE_TEMPLATE = re.compile(r"<xsl:template\s+match=\"([^\"]*)\"(?![^>]*\bmode=)([^>]*)>")
_ACTIVE_PATTERN_WALK = re.compile(r"(</xsl:attribute>\s*)<xsl:apply-templates/>(\s*</svrl:active-pattern>)")


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
    body_reach: dict[str, int] = field(default_factory=dict)
    """Pattern id → how deep under `ClinicalDocument/component` its rules can match (see
    `body_reach`); patterns whose rules may match anywhere are absent."""
    preloaded: dict[str, str] = field(default_factory=dict)
    """Stylesheet parameter → value-set file: parsed once by the engine, not per document."""
    gates: dict[str, list[list[str]]] = field(default_factory=dict)
    """Pattern id → for each of its rules, the templateId roots its context requires.

    A pattern is listed only when every rule context requires at least one templateId root in
    a purely conjunctive way; such a pattern cannot fire on a document lacking them, so its
    pass over the document is skipped (the rule is not dropped: it could not match)."""

    def skipped(self, roots: set[str]) -> list[str]:
        return [
            pid for pid, rules in self.gates.items()
            if not any(set(required) <= roots for required in rules)
        ]

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
        contexts = [r.get("context") for r in pattern.iter(f"{{{SCH_NS}}}rule") if r.get("context")]
        reaches = [body_reach(c) for c in contexts]
        if pid and contexts and None not in reaches:
            meta.body_reach[pid] = max(1, *reaches)
        rules = []
        for rule in pattern.iter(f"{{{SCH_NS}}}rule"):
            context = rule.get("context", "")
            required = _TEMPLATE_LITERAL.findall(context)
            if not required or _NOT_CONJUNCTIVE.search(context):
                break
            rules.append(sorted(set(required)))
        else:
            if rules and pid:
                meta.gates[pid] = rules
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


def _split_top(text: str, separators: tuple[str, ...]) -> list[tuple[str, str]]:
    """Split an XPath pattern at top level (outside [], () and quotes): [(separator, part)]."""
    parts: list[tuple[str, str]] = []
    depth, quote, start, sep, i = 0, "", 0, "", 0
    while i < len(text):
        char = text[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif depth == 0:
            for candidate in separators:
                if text.startswith(candidate, i):
                    parts.append((sep, text[start:i]))
                    sep, i = candidate, i + len(candidate)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append((sep, text[start:]))
    return parts


_CLINICAL_DOCUMENT = re.compile(r"^(?:(?:hl7|cda):)?ClinicalDocument(?:\[|$)")
_NAME_TEST = re.compile(r"^(?:(?:hl7|cda):)?([\w*-]+|\*|node\(\))")


def body_reach(context: str) -> int | None:
    """How many levels into `ClinicalDocument/component` the rule context can match, or None.

    0: never inside `component`; 1: `component` itself; 2: its children; … Accepted: each union
    branch is `/ClinicalDocument…` or `//ClinicalDocument…` followed only by child steps (`/`).
    Anything else (descendant steps, unanchored contexts) gives None: conservative.
    """
    reach = 0
    for _, branch in _split_top(context, ("|",)):
        steps = _split_top(branch.strip(), ("//", "/"))
        if steps and steps[0] == ("", ""):
            steps = steps[1:]
        if not steps or steps[0][0] not in ("/", "//") or not _CLINICAL_DOCUMENT.match(steps[0][1]):
            return None
        rest = steps[1:]
        if any(sep != "/" for sep, _ in rest):
            return None
        if rest:
            name = _NAME_TEST.match(rest[0][1].strip())
            if name is None:
                return None
            if name.group(1) in ("component", "*", "node()"):
                reach = max(reach, len(rest))
    return reach


def header_only(context: str) -> bool:
    """True when the context cannot match below the children of `ClinicalDocument/component`."""
    reach = body_reach(context)
    return reach is not None and reach <= 1


def _stop_at_body(stylesheet: str, meta: RuleSetMeta) -> str:
    """In header patterns, do not walk the body deeper than their rules can match.

    An empty template for the nodes one level below the deepest reach, with a priority below
    every rule template and above the skeleton's descent template, ends the pass there.
    """
    modes = {
        m.group(2): re.search(r'mode="(M\d+)"', m.group(3)).group(1)
        for m in _PATTERN_CALL.finditer(stylesheet)
    }
    stops = "".join(
        f'<xsl:template match="Q{{urn:hl7-org:v3}}ClinicalDocument/Q{{urn:hl7-org:v3}}component{"/*" * reach}" '
        f'priority="-1.5" mode="{modes[pid]}"/>'
        for pid, reach in meta.body_reach.items()
        if pid in modes
    )
    end = stylesheet.rfind("</xsl:stylesheet>")
    return stylesheet[:end] + stops + stylesheet[end:] if stops and end > 0 else stylesheet


def _drop_idle_walks(stylesheet: str) -> str:
    """Remove the skeleton's `<xsl:apply-templates/>` inside each `svrl:active-pattern`.

    From the document node it walks the whole document in the default mode, once per pattern
    (231 walks for IHE), and can only output nothing: the default mode has no template but the
    entry point (`/`) and an empty `text()` one. Checked here; otherwise left untouched.
    """
    defaults = [m.group(1) for m in _DEFAULT_MODE_TEMPLATE.finditer(stylesheet)]
    if sorted(defaults) != ["/", "text()"]:
        return stylesheet
    return _ACTIVE_PATTERN_WALK.sub(r"\1\2", stylesheet)


_XSL_LITERAL_VARIABLE = re.compile(r"""<xsl:variable\s+name="([^"]+)"\s+select="'([^'"]+\.xml)'"\s*/>""")
_LITERAL_CALL = re.compile(r"""\b(?:doc|document)\(\s*'([^'"]+\.xml)'\s*\)""")
_VARIABLE_CALL = re.compile(r"\bdocument\(\s*\$([\w.-]+)\s*\)")


def _preload_documents(stylesheet: str, base: Path, meta: RuleSetMeta) -> str:
    """Read value-set files once per process instead of once per document.

    Each `doc('…')` / `document('…')` / `document($v)` (with `$v` a global literal path) that
    names an existing file becomes a stylesheet parameter whose default is the very same call,
    so the stylesheet is unchanged when the parameter is not given; the engine gives it the
    file already parsed. Saxon's document pool lives one transformation only.
    """
    variables = {m.group(1): m.group(2) for m in _XSL_LITERAL_VARIABLE.finditer(stylesheet)}
    params: dict[str, str] = {}  # relative reference → parameter name

    def param_for(ref: str) -> str | None:
        target = Path(os.path.normpath(base / ref))
        if not target.is_file():
            return None
        if ref not in params:
            params[ref] = f"banc-doc-{len(params) + 1}"
            meta.preloaded[params[ref]] = str(target)
        return params[ref]

    def literal(match: re.Match) -> str:
        name = param_for(match.group(1))
        return f"${name}" if name else match.group(0)

    def variable(match: re.Match) -> str:
        ref = variables.get(match.group(1))
        name = param_for(ref) if ref else None
        return f"${name}" if name else match.group(0)

    stylesheet = _VARIABLE_CALL.sub(variable, _LITERAL_CALL.sub(literal, stylesheet))
    head = re.search(r"<xsl:stylesheet\b[^>]*>", stylesheet)
    if not params or head is None:
        return stylesheet
    declarations = "".join(f'<xsl:param name="{name}" select="doc(\'{ref}\')"/>' for ref, name in params.items())
    return stylesheet[: head.end()] + declarations + stylesheet[head.end():]


def _add_skip_switch(stylesheet: str, meta: RuleSetMeta) -> str:
    """Let the engine skip, per document, the passes of patterns that cannot fire."""
    if not meta.gates:
        return stylesheet

    def wrap(match: re.Match) -> str:
        if match.group(2) not in meta.gates:
            return match.group(0)
        return (
            f"{match.group(1)}<xsl:if test=\"not(contains(${SKIP_PARAM}, ' {match.group(2)} '))\">"
            f"{match.group(3)}</xsl:if>"
        )

    stylesheet = _PATTERN_CALL.sub(wrap, stylesheet)
    head = re.search(r"<xsl:stylesheet\b[^>]*>", stylesheet)
    if head is None:
        return stylesheet
    param = f'<xsl:param name="{SKIP_PARAM}" select="\'\'"/>'
    return stylesheet[: head.end()] + param + stylesheet[head.end():]


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
    stylesheet = _add_skip_switch(_stop_at_body(_drop_idle_walks(stylesheet), meta), meta)
    stylesheet = _preload_documents(stylesheet, sch.parent, meta)
    partial = target.with_name(target.name + f".{os.getpid()}.tmp")
    partial.write_text(stylesheet, encoding="utf-8")
    os.replace(partial, target)
    meta_path.write_text(meta.to_json(), encoding="utf-8")
    return meta
