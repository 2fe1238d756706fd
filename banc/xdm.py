"""IHE XDM archives (ITI-32 media): build one, read one safely, check its layout and metadata.

MSSanté carries documents as `IHE_XDM.ZIP`: `INDEX.HTM`, `README.TXT` and
`IHE_XDM/SUBSET01/METADATA.XML` (an ebRIM SubmitObjectsRequest whose DocumentEntry `URI` slots
name the document files of the same folder). The receiver identifies the patient from the
metadata `patientId`, so a package whose metadata disagree with its CDA is a real defect.

Reading is defensive because the archive comes from outside: path traversal, absolute paths,
drive letters, symlinks, encrypted entries, duplicate names, too many entries, too many bytes
and suspicious compression ratios are refused with an `XdmError` whose French message names the
problem; sizes are enforced while decompressing, not trusted from the zip headers.
"""

from __future__ import annotations

import hashlib
import html
import io
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

from lxml import etree

from banc import xds
from banc.verdict import Finding, Severity
from banc.xml import XmlInputError, parse_untrusted

ROOT_FOLDER = "IHE_XDM"
DEFAULT_SUBSET = "SUBSET01"
METADATA = "METADATA.XML"
RULESET = "xdm"
REQ = ("SC.MSS.17.MS1",)


@dataclass(frozen=True)
class XdmLimits:
    """Refusal thresholds; the defaults fit MSSanté (messages ≤ 25 MB)."""

    max_entries: int = 500
    max_total_bytes: int = 200 * 1024 * 1024
    max_entry_bytes: int = 100 * 1024 * 1024
    max_ratio: float = 200.0
    """Uncompressed/compressed size above which an entry is treated as a zip bomb."""


class XdmError(ValueError):
    """An archive the bench refuses to open; `code` is stable, the message is French."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class XdmDocument:
    """A document to put into a subset: its file name (the metadata URI) and bytes."""

    name: str
    content: bytes
    mime_type: str = "text/xml"


@dataclass
class XdmSubset:
    name: str
    metadata: etree._Element | None
    submission: xds.Submission | None
    files: dict[str, bytes] = field(default_factory=dict)
    """Files of the subset folder other than METADATA.XML, by name (the URI)."""
    errors: list[Finding] = field(default_factory=list)


@dataclass
class XdmPackage:
    files: dict[str, bytes]
    subsets: list[XdmSubset]

    def document(self, uri: str, subset: str = DEFAULT_SUBSET) -> bytes | None:
        return next((s.files.get(uri) for s in self.subsets if s.name == subset), None)


# --- building --------------------------------------------------------------------------------


def _readme(producer: str) -> str:
    return (
        "Archive IHE XDM (profil IHE ITI XDM, support de partage de documents de santé).\r\n"
        f"Produite par : {producer}\r\n"
        f"Date : {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\r\n"
        "Contenu : INDEX.HTM (sommaire), IHE_XDM/SUBSET01/METADATA.XML (métadonnées XDS),\r\n"
        "documents CDA R2 dans IHE_XDM/SUBSET01/.\r\n"
    )


def _index(submission: xds.Submission, subset: str) -> str:
    rows = "\n".join(
        f'<li><a href="{ROOT_FOLDER}/{subset}/{html.escape(d.uri)}">{html.escape(d.title or d.uri)}</a>'
        f" — {html.escape(d.type_code.display or d.type_code.code)}</li>"
        for d in submission.documents
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Documents partagés</title>'
        f"</head><body><h1>Documents partagés</h1><ul>\n{rows}\n</ul>"
        f'<p><a href="README.TXT">README.TXT</a></p></body></html>\n'
    )


def build_xdm(
    submission: xds.Submission,
    documents: Sequence[XdmDocument],
    *,
    subset: str = DEFAULT_SUBSET,
    producer: str = "Banc Ségur",
    fix_metadata: bool = True,
) -> bytes:
    """Zip bytes of an XDM archive holding `documents` described by `submission`.

    With `fix_metadata` (default) each DocumentEntry gets the URI, hash and size of the
    document at the same position, so that metadata and files agree by construction; pass
    False to write the metadata exactly as given (to build defective archives on purpose).
    """
    if fix_metadata:
        entries = [
            replace(
                entry,
                uri=doc.name,
                hash=hashlib.sha1(doc.content).hexdigest(),
                size=len(doc.content),
                mime_type=doc.mime_type,
            )
            for entry, doc in zip(submission.documents, documents, strict=False)
        ]
        submission = xds.Submission(
            submission.submission_set,
            entries + submission.documents[len(entries) :],
            list(submission.associations),
        )
    metadata = etree.tostring(
        xds.to_submit_objects_request(submission), xml_declaration=True, encoding="UTF-8"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", _index(submission, subset).encode("utf-8"))
        archive.writestr("README.TXT", _readme(producer).encode("utf-8"))
        archive.writestr(f"{ROOT_FOLDER}/{subset}/{METADATA}", metadata)
        for doc in documents:
            archive.writestr(f"{ROOT_FOLDER}/{subset}/{doc.name}", doc.content)
    return buffer.getvalue()


def build_xdm_for_cda(
    cda: bytes,
    *,
    name: str = "DOC0001.XML",
    visibility: tuple[xds.Code, ...] = (),
    intended_recipients: tuple[str, ...] = (),
    replaces: str | None = None,
    producer: str = "Banc Ségur",
) -> bytes:
    """The XDM archive of one CDA document, metadata derived from its header."""
    root = parse_untrusted(cda)
    submission = xds.derive_submission(
        root,
        document_bytes=cda,
        visibility=visibility,
        intended_recipients=intended_recipients,
        replaces=replaces,
        uri=name,
    )
    return build_xdm(submission, [XdmDocument(name, cda)], producer=producer)


# --- reading ---------------------------------------------------------------------------------


def _safe_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if "\x00" in name:
        raise XdmError("bad-name", f"nom d'entrée invalide (octet nul) : {name!r}")
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        raise XdmError("absolute-path", f"chemin absolu refusé dans l'archive : {name!r}")
    if ".." in path.parts:
        raise XdmError(
            "path-traversal", f"remontée de répertoire (« .. ») refusée dans l'archive : {name!r}"
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise XdmError("symlink", f"lien symbolique refusé dans l'archive : {name!r}")
    if info.flag_bits & 0x1:
        raise XdmError("encrypted", f"entrée chiffrée refusée : {name!r}")
    return str(path)


def read_xdm(data: bytes, limits: XdmLimits = XdmLimits()) -> XdmPackage:
    """Open an XDM archive safely; raise `XdmError` for anything dangerous or unreadable."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise XdmError(
            "not-zip", f"l'archive XDM n'est pas un fichier ZIP lisible ({exc})"
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise XdmError(
                "too-many-entries",
                f"archive de {len(infos)} entrées, au-delà de la limite de {limits.max_entries}",
            )
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            name = _safe_name(info)
            if info.is_dir():
                continue
            if name.upper() in {n.upper() for n in files}:
                raise XdmError("duplicate", f"entrée en double dans l'archive : {name!r}")
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise XdmError(
                    "zip-bomb",
                    f"taux de compression suspect pour {name!r} "
                    f"({info.file_size / info.compress_size:.0f}:1, limite {limits.max_ratio:.0f}:1)",
                )
            content = _read_bounded(archive, info, name, limits, total)
            total += len(content)
            files[name] = content
    return XdmPackage(files=files, subsets=_subsets(files))


def _read_bounded(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: XdmLimits, total: int
) -> bytes:
    """Decompress in chunks, stopping as soon as a limit is crossed (headers may lie)."""
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(1024 * 1024):
                size += len(chunk)
                if size > limits.max_entry_bytes:
                    raise XdmError(
                        "too-large",
                        f"{name!r} dépasse {limits.max_entry_bytes // 1_048_576} Mo une fois décompressé",
                    )
                if total + size > limits.max_total_bytes:
                    raise XdmError(
                        "too-large",
                        f"l'archive dépasse {limits.max_total_bytes // 1_048_576} Mo une fois décompressée",
                    )
                if info.compress_size and size / info.compress_size > limits.max_ratio:
                    raise XdmError("zip-bomb", f"taux de compression suspect pour {name!r}")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise XdmError("corrupt", f"entrée illisible {name!r} ({exc})") from None
    return b"".join(chunks)


def _subsets(files: dict[str, bytes]) -> list[XdmSubset]:
    subsets: dict[str, XdmSubset] = {}
    for name in sorted(files):
        parts = PurePosixPath(name).parts
        if len(parts) == 3 and parts[0].upper() == ROOT_FOLDER:
            subset = subsets.setdefault(parts[1], XdmSubset(parts[1], None, None))
            if parts[2].upper() == METADATA:
                try:
                    subset.metadata = parse_untrusted(files[name], what=f"{name}")
                    subset.submission = xds.parse_submission(subset.metadata)
                except XmlInputError as exc:
                    subset.errors.append(_f("XDM-METADATA-XML", str(exc), name))
            else:
                subset.files[parts[2]] = files[name]
    return list(subsets.values())


# --- checks ----------------------------------------------------------------------------------


def _f(rule: str, message: str, location: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(
        rule_id=rule,
        message=message,
        severity=severity,
        location=location,
        ruleset=RULESET,
        requirements=REQ,
    )


def check_xdm(package: XdmPackage) -> list[Finding]:
    """Layout, metadata completeness, files ↔ metadata, metadata ↔ CDA header; one patient."""
    findings: list[Finding] = []
    upper = {n.upper() for n in package.files}
    for required in ("INDEX.HTM", "README.TXT"):
        if required not in upper:
            findings.append(
                _f("XDM-LAYOUT", f"fichier {required} absent à la racine de l'archive", required)
            )
    if not package.subsets:
        findings.append(
            _f("XDM-LAYOUT", f"aucun dossier {ROOT_FOLDER}/SUBSETnn dans l'archive", ROOT_FOLDER)
        )
    patients: set[str] = set()
    for subset in package.subsets:
        where = f"{ROOT_FOLDER}/{subset.name}"
        findings.extend(subset.errors)
        if subset.metadata is None and not subset.errors:
            findings.append(_f("XDM-LAYOUT", f"{where}/{METADATA} absent", where))
            continue
        if subset.submission is None:
            if not subset.errors:
                findings.append(
                    _f(
                        "XDM-METADATA",
                        f"{where}/{METADATA} ne contient pas de lot de soumission XDS",
                        where,
                    )
                )
            continue
        findings.extend(xds.check_metadata(subset.submission))
        patients.add(subset.submission.submission_set.patient_id)
        for entry in subset.submission.documents:
            findings.extend(_check_document(entry, subset, where))
    if len(patients) > 1:
        findings.append(
            _f(
                "XDM-PATIENTS",
                "l'archive concerne plusieurs patients ; un seul patient par message MSSanté",
                ROOT_FOLDER,
            )
        )
    return findings


def _check_document(entry: xds.DocumentEntry, subset: XdmSubset, where: str) -> list[Finding]:
    loc = f"{where}/{entry.uri or '?'}"
    if not entry.uri:
        return [
            _f(
                "XDM-URI",
                f"DocumentEntry {entry.entry_uuid} sans métadonnée URI (nom du fichier)",
                where,
            )
        ]
    content = next((v for k, v in subset.files.items() if k.upper() == entry.uri.upper()), None)
    if content is None:
        return [
            _f(
                "XDM-URI",
                f"le fichier {entry.uri} décrit par les métadonnées est absent de l'archive",
                loc,
            )
        ]
    findings = []
    if entry.hash and entry.hash.lower() != hashlib.sha1(content).hexdigest():
        findings.append(
            _f("XDM-HASH", f"empreinte SHA-1 de {entry.uri} différente de la métadonnée hash", loc)
        )
    if entry.size is not None and entry.size != len(content):
        findings.append(
            _f(
                "XDM-SIZE",
                f"taille de {entry.uri} ({len(content)} octets) ≠ métadonnée size ({entry.size})",
                loc,
            )
        )
    if entry.mime_type == "text/xml":
        try:
            root = parse_untrusted(content, what=entry.uri)
        except XmlInputError as exc:
            return [*findings, _f("XDM-DOCUMENT-XML", str(exc), loc)]
        findings.extend(xds.check_against_cda(entry, root))
    return findings


def check_xdm_bytes(data: bytes, limits: XdmLimits = XdmLimits()) -> list[Finding]:
    """`read_xdm` + `check_xdm`, a refused archive becoming one finding (never an exception)."""
    try:
        package = read_xdm(data, limits)
    except XdmError as exc:
        return [_f(f"XDM-{exc.code.upper()}", exc.message, "IHE_XDM.ZIP")]
    return check_xdm(package)
