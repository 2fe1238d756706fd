"""Which rule sets judge a document, decided from the document itself.

Official: the four profiles always; the volet from `data/volets.tsv` (header templateIds first,
then the document code when a single volet claims it), in the version the document declares
(the `@extension` `YYYY.NN` of the volet's header templateId) when the package has it. Ours: every `schematrons/<name>/` folder
with a `ruleset.toml` saying which documents it applies to (adding a file, no code change).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from banc.paths import OWN_SCHEMATRONS

HL7 = "urn:hl7-org:v3"
VOLETS_TABLE = Path(__file__).parent / "data" / "volets.tsv"
VERSION = re.compile(r"\d{4}\.\d{2}")
"""A volet version as the CI-SIS writes it in a templateId's @extension and a schematron's name."""
_STEM = re.compile(r"(?P<family>.+?)(?:_\d+(?:\.\d+)*)?_(?P<version>\d{4}\.\d{2})")
"""`CI-SIS_<volet>[_<old numbering>]_<YYYY.NN>`: CI-SIS_VSM_1.4_2022.01 and CI-SIS_VSM_2023.01 are
two versions of one volet."""

PROFILES: dict[str, str] = {
    "StrucMin": "profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch",
    "ModelesDeContenusCDA": "profils/CI-SIS_ModelesDeContenusCDA.sch",
    "Modeles_ANS": "profils/CI-SIS_Modeles_ANS.sch",
    "IHE": "profils/IHE.sch",
}
"""Applied to every document, each with its default phase, as the official pipeline does."""


@dataclass(frozen=True)
class VoletRow:
    schematron: str
    template_ids: frozenset[str]
    codes: frozenset[str]


@dataclass(frozen=True)
class OwnRuleSet:
    name: str
    schematron: Path
    title: str
    template_ids: frozenset[str]
    codes: frozenset[str]

    def applies(self, header: Header) -> bool:
        if not self.template_ids and not self.codes:
            return True
        return bool(self.template_ids & header.template_ids) or header.code in self.codes


@dataclass(frozen=True)
class Header:
    template_ids: frozenset[str]
    code: str
    structured: bool
    non_xml_body: bool
    extensions: frozenset[tuple[str, str]] = field(default=frozenset())
    """(root, extension) of the header templateIds that carry an extension."""

    @classmethod
    def of(cls, root: etree._Element) -> Header:
        templates = root.findall(f"{{{HL7}}}templateId")
        template_ids = frozenset(t.get("root", "") for t in templates)
        extensions = frozenset((t.get("root", ""), t.get("extension", "").strip()) for t in templates if t.get("extension"))
        code = root.find(f"{{{HL7}}}code")
        body = root.find(f"{{{HL7}}}component")
        structured = body is not None and body.find(f"{{{HL7}}}structuredBody") is not None
        non_xml = body is not None and body.find(f"{{{HL7}}}nonXMLBody") is not None
        return cls(template_ids, code.get("code", "") if code is not None else "", structured, non_xml, extensions)


@dataclass(frozen=True)
class VoletChoice:
    schematron: str | None
    reason: str
    """French, for the report: why this volet (or why none), and in which version."""
    declared: str | None = None
    """The version the document declares (`YYYY.NN` or whatever its @extension says), if any."""


def family(stem: str) -> tuple[str, str | None]:
    """(volet family, version) of a schematron stem: ("CI-SIS_VSM", "2022.01") for CI-SIS_VSM_1.4_2022.01."""
    match = _STEM.fullmatch(stem)
    return (match["family"], match["version"]) if match else (stem, None)


def versions(stem: str, available: set[str]) -> dict[str, str]:
    """Version → schematron stem, for every version of `stem`'s volet in the package."""
    name = family(stem)[0]
    found = {}
    for other in available:
        other_family, version = family(other)
        if other_family == name and version:
            found[version] = other
    return found


def _versioned(row: VoletRow, header: Header, available: set[str], why: str) -> VoletChoice:
    """The version of `row`'s volet that the document declares, or the table's with the reason."""
    declared = sorted({ext for root, ext in header.extensions if root in row.template_ids})
    known = versions(row.schematron, available)
    newest = max(known) if known else None
    default = (
        "le plus récent" if family(row.schematron)[1] == newest else "par défaut du banc"
    )
    if not declared:
        return VoletChoice(row.schematron, f"{why} ; version non déclarée : volet {default} appliqué")
    wanted = declared[-1]
    if len(declared) > 1:
        why += f" (versions déclarées {', '.join(declared)} : la plus récente retenue)"
    if wanted in known:
        return VoletChoice(known[wanted], f"{why}, version {wanted} déclarée", wanted)
    if not VERSION.fullmatch(wanted):
        return VoletChoice(
            row.schematron,
            f"{why} ; version déclarée « {wanted} » au format inconnu (AAAA.NN attendu) : volet {default} "
            f"{row.schematron} appliqué",
            wanted,
        )
    have = ", ".join(sorted(known)) or "aucune"
    return VoletChoice(
        row.schematron,
        f"{why} ; version {wanted} déclarée absente du paquet ANS (versions présentes : {have}) : "
        f"{row.schematron} appliqué à la place",
        wanted,
    )


@cache
def volet_table() -> tuple[VoletRow, ...]:
    rows = []
    for line in VOLETS_TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("schematron\t"):
            continue
        name, tids, codes = ([*line.split("\t"), "", ""])[:3]
        rows.append(VoletRow(name.strip(), frozenset(tids.split()), frozenset(codes.split())))
    return tuple(rows)


def choose_volet(header: Header, available: set[str]) -> VoletChoice:
    """The volet a document claims: by templateId, else by code when a single volet claims it."""
    rows = [r for r in volet_table() if r.schematron in available]
    by_template = [r for r in rows if r.template_ids & header.template_ids]
    if by_template:
        best = max(by_template, key=lambda r: len(r.template_ids & header.template_ids))
        tid = ", ".join(sorted(best.template_ids & header.template_ids))
        return _versioned(best, header, available, f"templateId {tid} de l'en-tête")
    by_code = [r for r in rows if header.code and header.code in r.codes]
    if len(by_code) == 1:
        return _versioned(
            by_code[0], header, available,
            f"code de document {header.code} (templateId du volet absent de l'en-tête)",
        )
    if by_code:
        names = ", ".join(r.schematron for r in by_code)
        return VoletChoice(
            None,
            f"code de document {header.code} revendiqué par plusieurs volets ({names}) sans "
            "templateId pour les départager : précisez le volet (--volet)",
        )
    return VoletChoice(None, "aucun volet du CI-SIS reconnu (templateId et code) : seuls les profils s'appliquent")


@cache
def own_rulesets(folder: Path = OWN_SCHEMATRONS) -> tuple[OwnRuleSet, ...]:
    """Our rule sets: `schematrons/<name>/ruleset.toml` (+ the schematron it names)."""
    found = []
    for config in sorted(folder.glob("*/ruleset.toml")):
        data = tomllib.loads(config.read_text(encoding="utf-8"))
        applies = data.get("applies", {})
        found.append(
            OwnRuleSet(
                name=config.parent.name,
                schematron=config.parent / data["schematron"],
                title=data.get("title", config.parent.name),
                template_ids=frozenset(applies.get("template_ids", ())),
                codes=frozenset(applies.get("codes", ())),
            )
        )
    return tuple(found)
