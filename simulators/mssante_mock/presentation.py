"""SC.DOC.08.MS1: the DLU and the FLUDT a DUI sends must be auto-presentable, with the ESMS's own
stylesheet.

What we check, reading the CI-SIS "Structuration minimale" volet's self-presenting CDA (§3.3.2
and §3.9 — our reading, marked (?) in the docs): the CDA names its stylesheet with an
`<?xml-stylesheet type="text/xsl" href="…"?>` processing instruction before the root; `href` is
a file of the same IHE_XDM folder (relative, no URL: a recipient offline must display it); that
file is an XSLT stylesheet that compiles. The stylesheet is compiled with every access denied
(no file, no network) and never run on the document: a hostile stylesheet cannot make the
operator read files or loop.
"""

from __future__ import annotations

import re

from lxml import etree

from banc.mail.health import RULES, HealthFacts
from banc.verdict import Finding
from banc.xdm import XdmError, read_xdm
from banc.xml import XmlInputError, parse_untrusted

REQ = ("SC.DOC.08.MS1",)
TEMPLATES = {"1.2.250.1.213.1.1.1.22": "DLU", "1.2.250.1.213.1.1.1.23": "FLUDT"}
"""Templates of the documents SC.DOC.08.MS1 names (DLU-DLU, DLU-FLUDT)."""
XSL_TYPES = ("text/xsl", "application/xslt+xml", "text/xml", "application/xml")
XSLT_NS = "http://www.w3.org/1999/XSL/Transform"
_PSEUDO = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _kind(root: etree._Element) -> str | None:
    ids = {t.get("root") for t in root.iterfind("{urn:hl7-org:v3}templateId")}
    return next((kind for template, kind in TEMPLATES.items() if template in ids), None)


def _stylesheet_reference(root: etree._Element) -> dict[str, str] | None:
    """Pseudo-attributes of the first `xml-stylesheet` PI before the root, None when absent."""
    node = root.getprevious()
    while node is not None:
        if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-stylesheet":
            return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                    for m in _PSEUDO.finditer(node.text or "")}
        node = node.getprevious()
    return None


def _error(rule: str, message: str, location: str) -> Finding:
    return RULES.error(f"AUTOPRESENTABLE.{rule}", message, location=location, requirements=REQ)


def _stylesheet_problem(content: bytes, name: str) -> str | None:
    try:
        tree = parse_untrusted(content, what=name)
    except XmlInputError as exc:
        return f"feuille de style {name} illisible : {exc}"
    if etree.QName(tree).namespace != XSLT_NS or etree.QName(tree).localname not in ("stylesheet", "transform"):
        return f"{name} n'est pas une feuille de style XSLT (racine {tree.tag})"
    try:
        etree.XSLT(tree, access_control=etree.XSLTAccessControl.DENY_ALL)
    except (etree.XSLTParseError, etree.XSLTError) as exc:
        return f"feuille de style {name} non compilable : {str(exc)[:200]}"
    return None


def check_self_presenting(facts: HealthFacts) -> list[Finding]:
    """Findings for every DLU or FLUDT of the message that is not delivered with its stylesheet."""
    wanted = [(d, kind) for d in facts.documents if d.root is not None and (kind := _kind(d.root))]
    if not wanted:
        return []
    folders: dict[str, dict[str, bytes]] = {}
    for attachment in facts.xdm:
        try:
            package = read_xdm(attachment.payload)
        except XdmError:
            continue  # the archive's own finding says why
        for subset in package.subsets:
            folders[f"{attachment.filename or 'IHE_XDM.ZIP'}/IHE_XDM/{subset.name}"] = {
                k.upper(): v for k, v in subset.files.items()}
    found = []
    for doc, kind in wanted:
        reference = _stylesheet_reference(doc.root)
        if reference is None or reference.get("type", "").lower() not in XSL_TYPES or not reference.get("href"):
            found.append(_error("PI", f"{kind} {doc.source} non auto-présentable : pas d'instruction "
                                "<?xml-stylesheet type=\"text/xsl\" href=\"…\"?> nommant la feuille de style "
                                "de l'établissement", doc.source))
            continue
        href = reference["href"]
        if re.search(r"^[a-z][a-z0-9+.-]*:|^/|\.\.", href, re.IGNORECASE) or "\\" in href:
            found.append(_error("HREF", f"{kind} {doc.source} : feuille de style « {href} » hors de l'archive "
                                "(adresse absolue ou URL) : elle doit accompagner le document dans l'IHE_XDM",
                                doc.source))
            continue
        folder = folders.get(doc.source.rsplit("/", 1)[0], {})
        content = folder.get(href.upper())
        if content is None:
            found.append(_error("MISSING", f"{kind} {doc.source} : feuille de style {href} absente du dossier "
                                "du document dans l'IHE_XDM", doc.source))
            continue
        problem = _stylesheet_problem(content, href)
        if problem:
            found.append(_error("XSLT", f"{kind} {doc.source} : {problem}", doc.source))
    return found
