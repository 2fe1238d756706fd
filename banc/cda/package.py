"""The official ANS TestContenuCDA package, as users really have it.

Where it is found (first wins): an explicit path (`--ans`), `BANC_ANS_PACKAGE`, the copy made by
`banc ans install` in the user cache, then the reference folder used in development and CI.

The package is never modified (it may be read-only). Everything the engine needs to add — the
case-corrected include aliases, the missing StrucMin value set derived from JDV_J07, compiled
stylesheets — lives in a *work tree* under the cache that mirrors the package layout, so the
relative `document('../jeuxDeValeurs/…')` paths of the rules resolve exactly as in the package.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from banc.paths import cache_dir, reference_path
from banc.xml import parse_trusted_file

ENV_VAR = "BANC_ANS_PACKAGE"
REFERENCE_NAME = "ans-testcontenucda-3.0"
WORK_LAYOUT_VERSION = "1"
"""Bumped when the work tree's fix-ups change, so old trees are rebuilt rather than trusted."""

MAX_ZIP_ENTRIES = 20_000
MAX_ZIP_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200

_INCLUDE = re.compile(rb"<(?:sch:|iso:)?include\s+href\s*=\s*[\"']([^\"']+)[\"']")
_DOC_CALL = re.compile(rb"doc\(\s*'([^'$]+\.xml)'\s*\)")
_JDV_LITERAL = re.compile(rb"'((?:\.\./)+jeuxDeValeurs/[^']+\.xml)'")

MISSING_TYPECODE_VOC = "voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml"
TYPECODE_JDV = "JDV_J07_XdsTypeCode_CISIS.xml"
SVS_NS = "urn:ihe:iti:svs:2008"


_CONTENT_KEYS: dict[str, str] = {}


class PackageError(Exception):
    """The package is absent, incomplete or unsafe: a French message the user can act on."""


@dataclass
class WorkTree:
    """The cache mirror of one package content, with fix-ups and what could not be fixed."""

    root: Path
    warnings: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)
    """Schematron file (relative) → includes / value-set files it references that do not exist."""

    @property
    def schematrons(self) -> Path:
        return self.root / "schematrons"


@dataclass(frozen=True)
class AnsPackage:
    root: Path

    @property
    def schematrons(self) -> Path:
        return self.root / "schematrons"

    @property
    def xsd(self) -> Path:
        return self.root / "infrastructure" / "cda" / "CDA_extended.xsd"

    @property
    def stylesheet(self) -> Path | None:
        path = self.root / "FeuilleDeStyle" / "cda_CRBIO.xsl"
        return path if path.is_file() else None

    @property
    def examples(self) -> list[Path]:
        folder = self.root / "ExemplesCDA"
        return sorted(folder.glob("*.xml")) if folder.is_dir() else []

    def check(self) -> AnsPackage:
        required = [
            self.schematrons / "moteur" / "iso_svrl_for_xslt2.xsl",
            self.schematrons / "profils",
            self.xsd,
        ]
        absent = [str(p.relative_to(self.root)) for p in required if not p.exists()]
        if absent:
            raise PackageError(
                f"{self.root} n'est pas un paquet TestContenuCDA de l'ANS complet "
                f"(absent : {', '.join(absent)})"
            )
        return self

    def content_key(self) -> str:
        """Hash of every file the rules read, so a changed package gets a fresh work tree.

        Computed once per process and folder (reading the package takes about a second).
        """
        root = str(self.root.resolve())
        if root not in _CONTENT_KEYS:
            _CONTENT_KEYS[root] = self._hash_content()
        return _CONTENT_KEYS[root]

    def _hash_content(self) -> str:
        digest = hashlib.sha256(WORK_LAYOUT_VERSION.encode())
        for folder in ("schematrons", "jeuxDeValeurs"):
            base = self.root / folder
            for path in sorted(base.rglob("*")) if base.is_dir() else ():
                if path.is_file():
                    digest.update(path.relative_to(self.root).as_posix().encode())
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()[:16]

    def work_tree(self) -> WorkTree:
        """The cache mirror (built once per package content; safe against concurrent builders)."""
        target = cache_dir() / "ans" / self.content_key()
        if not (target / ".complete").exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
            try:
                for folder in ("schematrons", "jeuxDeValeurs"):
                    if (self.root / folder).is_dir():
                        shutil.copytree(self.root / folder, staging / folder)
                report = _fix_up(staging)
                (staging / "fixups.txt").write_text("\n".join(report), encoding="utf-8")
                (staging / ".complete").write_text("ok", encoding="utf-8")
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            try:
                staging.rename(target)
            except OSError:  # another process finished first: use theirs
                shutil.rmtree(staging, ignore_errors=True)
        return _load_tree(target)


def _case_insensitive(path: Path) -> Path | None:
    """The existing file whose path equals `path` up to letter case (Windows-authored includes)."""
    if path.exists():
        return path
    resolved = Path(os.path.normpath(path))

    def walk(current: Path, rest: tuple[str, ...]) -> Path | None:
        if not rest:
            return current if current.is_file() else None
        if not current.is_dir():
            return None
        for child in sorted(current.iterdir(), key=lambda c: c.name != rest[0]):
            if child.name.lower() == rest[0].lower():
                found = walk(child, rest[1:])
                if found is not None:
                    return found
        return None

    return walk(Path(resolved.parts[0]), resolved.parts[1:])


def _derive_typecode_voc(jdv: Path, target: Path) -> None:
    """Build the ART-DECOR `voc-…471` file StrucMin reads from the SVS value set JDV_J07."""
    tree = parse_trusted_file(str(jdv))
    root = etree.Element("valueSets")
    value_set = etree.SubElement(root, "valueSet", id="1.2.250.1.213.1.1.5.471")
    concepts = etree.SubElement(value_set, "conceptList")
    for concept in tree.iter(f"{{{SVS_NS}}}Concept"):
        etree.SubElement(
            concepts,
            "concept",
            code=concept.get("code", ""),
            codeSystem=concept.get("codeSystem", ""),
            displayName=concept.get("displayName", ""),
        )
    target.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _doc_target(sch: Path, ref: str, top: Path) -> Path | None:
    """Where `doc(ref)` of an included file resolves: from the including schematron's folder.

    The compiled stylesheet sits beside the top-level schematron, an ancestor of `sch`; the
    nearest ancestor where the reference exists, else where its folder exists, is the one.
    """
    folders = [sch.parent, *[p for p in sch.parent.parents if p.is_relative_to(top)]]
    for folder in folders:
        if (folder / ref).exists():
            return folder / ref
    for folder in folders:
        if (folder / ref).parent.is_dir():
            return folder / ref
    return None


def _fix_up(tree: Path) -> list[str]:
    """Apply the known fix-ups in the staging copy; return one line per action (the report)."""
    report: list[str] = []
    schematrons = tree / "schematrons"
    for sch in sorted(schematrons.rglob("*.sch")):
        data = sch.read_bytes()
        for href in _INCLUDE.findall(data):
            wanted = sch.parent / href.decode()
            if wanted.exists():
                continue
            found = _case_insensitive(wanted)
            rel = sch.relative_to(tree).as_posix()
            if found is not None:
                wanted.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(found, wanted)
                report.append(f"alias\t{rel}\t{href.decode()}\t{found.relative_to(tree).as_posix()}")
            else:
                report.append(f"missing-include\t{rel}\t{href.decode()}")
        for ref in _DOC_CALL.findall(data):
            rel = sch.relative_to(tree).as_posix()
            wanted = _doc_target(sch, ref.decode(), schematrons)
            if wanted is None or wanted.exists():
                continue
            jdv = tree / "jeuxDeValeurs" / TYPECODE_JDV
            if wanted.name == MISSING_TYPECODE_VOC and jdv.exists():
                _derive_typecode_voc(jdv, wanted)
                report.append(f"derived\t{rel}\t{ref.decode()}\tjeuxDeValeurs/{TYPECODE_JDV}")
            else:
                report.append(f"missing-value-set\t{rel}\t{ref.decode()}")
    return report


def _load_tree(root: Path) -> WorkTree:
    work = WorkTree(root)
    lines = (root / "fixups.txt").read_text(encoding="utf-8").splitlines()
    for line in lines:
        kind, rel, ref, *rest = line.split("\t")
        if kind == "derived":
            work.warnings.append(
                f"{ref} absent du paquet ANS : reconstitué à partir de {rest[0]} (mêmes concepts)"
            )
        elif kind in ("missing-include", "missing-value-set"):
            work.missing.setdefault(rel, []).append(ref)
    return work


def missing_value_sets(sch: Path, tree_root: Path) -> list[str]:
    """Value-set files named by literal `'../jeuxDeValeurs/…'` paths in `sch` that do not exist.

    Paths are resolved from the schematron's folder, where its compiled stylesheet is written.
    """
    data = sch.read_bytes()
    absent = []
    for ref in sorted(set(_JDV_LITERAL.findall(data))):
        resolved = os.path.normpath(sch.parent / ref.decode())
        if not Path(resolved).exists():
            absent.append(ref.decode())
    return absent


# --- discovery --------------------------------------------------------------------------------


def installed_dir() -> Path:
    return cache_dir() / "ans-package"


def find_package(explicit: str | Path | None = None) -> AnsPackage:
    """The package to use, or `PackageError` saying where it was looked for."""
    if explicit:
        path = Path(explicit)
        if not path.is_dir():
            raise PackageError(f"--ans {path} : dossier introuvable")
        return AnsPackage(path).check()
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise PackageError(f"{ENV_VAR}={env} : dossier introuvable")
        return AnsPackage(path).check()
    if (installed_dir() / "schematrons").is_dir():
        return AnsPackage(installed_dir()).check()
    reference = reference_path(REFERENCE_NAME)
    if reference is not None:
        return AnsPackage(reference).check()
    raise PackageError(
        "paquet ANS TestContenuCDA introuvable : téléchargez-le depuis "
        "https://github.com/ansforge/TestContenuCDA-3-0 puis lancez « banc ans install CHEMIN_OU_URL », "
        f"ou indiquez son dossier avec --ans ou la variable {ENV_VAR}"
    )


# --- installation -----------------------------------------------------------------------------


def _safe_extract(archive: zipfile.ZipFile, dest: Path) -> None:
    """Extract refusing path traversal, links, too many entries and decompression bombs."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise PackageError(f"archive refusée : {len(entries)} entrées (limite {MAX_ZIP_ENTRIES})")
    total = 0
    for info in entries:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
            raise PackageError(f"archive refusée : chemin dangereux « {name} »")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise PackageError(f"archive refusée : lien symbolique « {name} »")
        total += info.file_size
        if total > MAX_ZIP_BYTES:
            raise PackageError("archive refusée : contenu décompressé trop volumineux")
        if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
            raise PackageError(f"archive refusée : taux de compression suspect pour « {name} »")
    root = dest.resolve()
    for info in entries:
        target = (dest / info.filename).resolve()
        if not target.is_relative_to(root):
            raise PackageError(f"archive refusée : chemin dangereux « {info.filename} »")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, target.open("wb") as out:
            written = 0
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > info.file_size:
                    raise PackageError(f"archive refusée : taille réelle de « {info.filename} » mensongère")
                out.write(chunk)


def _package_root(folder: Path) -> Path:
    """The folder holding `schematrons/`: the folder itself or its single top-level child."""
    if (folder / "schematrons").is_dir():
        return folder
    children = [c for c in folder.iterdir() if c.is_dir()]
    if len(children) == 1 and (children[0] / "schematrons").is_dir():
        return children[0]
    raise PackageError("le contenu fourni ne contient pas de dossier « schematrons » : ce n'est pas le paquet ANS")


def _download(url: str, dest: Path) -> Path:
    import httpx

    target = dest / "package.zip"
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            size = 0
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_ZIP_BYTES:
                        raise PackageError("téléchargement refusé : plus de 512 Mo")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise PackageError(f"téléchargement de {url} impossible : {exc}") from None
    return target


def install(source: str) -> AnsPackage:
    """Copy a package (folder, zip file, or http(s)/file URL of a zip) into the user cache."""
    destination = installed_dir()
    with tempfile.TemporaryDirectory(prefix="banc-ans-", dir=cache_dir()) as tmp:
        staging = Path(tmp)
        parsed = urllib.parse.urlparse(source)
        if parsed.scheme in ("http", "https"):
            local = _download(source, staging)
        elif parsed.scheme == "file":
            local = Path(urllib.request.url2pathname(parsed.path))
        else:
            local = Path(source)
        if not local.exists():
            raise PackageError(f"{source} : fichier ou dossier introuvable")
        extracted = staging / "content"
        if local.is_dir():
            shutil.copytree(_package_root(local), extracted)
        elif zipfile.is_zipfile(local):
            unpacked = staging / "unpacked"
            with zipfile.ZipFile(local) as archive:
                _safe_extract(archive, unpacked)
            shutil.copytree(_package_root(unpacked), extracted)
        else:
            raise PackageError(f"{source} n'est ni un dossier ni une archive zip")
        AnsPackage(extracted).check()
        if destination.exists():
            shutil.rmtree(destination)
        shutil.move(str(extracted), destination)
    return AnsPackage(destination)

