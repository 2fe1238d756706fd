"""The evidence pack of a run: one zip a vendor hands to a reviewer.

It holds the reports (HTML, JSON, JUnit, referencing sheet), every raw exchange of the run as
the mocks received and answered it (SOAP with its VIHF token, MTOM parts, mails as `.eml` with
their XDM archives, the IMAP transcript), the documents those exchanges carried, the manual
proofs attached by the operator, the SVRL report of every rule set on every document (the CDA
engine run again on it), and a manifest: `manifeste.json` (what each file is) and
`SHA256SUMS` (checkable with `sha256sum -c`).

`redact=True` masks the run's personal data (values of the run inputs whose key ends in
`_nom`, `_prenom`, `_ins`, `_nir`, `_naissance`) in every file, looking inside the containers
where they hide (mail parts in base64, zip members: XDM archives, the xlsx); a PDF cannot be
masked reliably, so it is left out and the manifest says so. Hashes are those of the files as
packed (masked when masked).
"""

from __future__ import annotations

import email
import email.encoders
import email.policy
import hashlib
import io
import json
import quopri
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape as html_escape
from pathlib import Path

from banc.journal import Exchange, Journal
from banc.scenario.report.model import RunReport
from banc.soap import mtom
from banc.verdict import Verdict
from banc.xdm import XdmError, read_xdm

PERSONAL_SUFFIXES = ("_nom", "_prenom", "_ins", "_nir", "_naissance")
MASK = "[masque]"
_CDA_ROOT = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<([A-Za-z0-9_]+:)?ClinicalDocument\b", re.S)


@dataclass(frozen=True)
class PackFile:
    name: str
    data: bytes
    description: str


def exchange_folder(exchange: Exchange) -> str:
    """`echanges/0021-dmp-TD2.1`: where an exchange's files are in the pack (the referencing
    sheet names the same files)."""
    operation = re.sub(r"[^A-Za-z0-9.]+", "-", exchange.operation).strip("-")[:40] or "echange"
    return f"echanges/{exchange.id:04d}-{exchange.service}-{operation}"


def _request_name(exchange: Exchange) -> str:
    if exchange.channel in ("smtp", "api") and exchange.request.lstrip()[:1] != b"<" and exchange.request:
        return "requete.eml"
    if exchange.operation == "imap.session":
        return "transcription-imap.txt"
    content_type = _content_type(exchange)
    if mtom.is_multipart(content_type):
        return "requete.mime"
    return "requete" + _extension(exchange.request)


def evidence_file(exchange: Exchange) -> str:
    """The file of the pack a reviewer opens first for this exchange: its request, or its
    journal record when the request has no body (a GET)."""
    name = _request_name(exchange) if exchange.request else "journal.json"
    return f"{exchange_folder(exchange)}/{name}"


def _extension(data: bytes) -> str:
    head = data.lstrip()[:1]
    return ".xml" if head == b"<" else ".json" if head in (b"{", b"[") else ".txt"


def _content_type(exchange: Exchange) -> str:
    http = exchange.summary.get("http")
    headers = http.get("headers", {}) if isinstance(http, dict) else {}
    return str(headers.get("content-type", "")) if isinstance(headers, dict) else ""


def exchange_files(exchange: Exchange) -> list[PackFile]:
    """The raw request and response, the exchange's journal record, and the parts a reviewer
    looks for (MTOM parts, mail attachments such as the XDM archive)."""
    folder = exchange_folder(exchange)
    label = f"journal:{exchange.id} {exchange.service} {exchange.operation}"
    record = {"id": exchange.id, "service": exchange.service, "operation": exchange.operation,
              "canal": exchange.channel, "statut": exchange.status, "debut": exchange.started_at,
              "duree_ms": exchange.duration_ms, "pair": exchange.peer, "certificat": exchange.peer_certificate,
              "dui": exchange.dui, "execution": exchange.run, "session": exchange.session,
              "resume": exchange.summary, "constats": [f.to_dict() for f in exchange.findings]}
    files = [PackFile(f"{folder}/journal.json",
                      json.dumps(record, ensure_ascii=False, indent=2, default=str).encode(),
                      f"{label} : enregistrement du journal (en-têtes, résumé, constats du simulateur)")]
    if exchange.request:
        files.append(PackFile(evidence_file(exchange), exchange.request, f"{label} : requête brute"))

    if exchange.response:
        files.append(PackFile(f"{folder}/reponse{_extension(exchange.response)}", exchange.response,
                              f"{label} : réponse brute"))
    files.extend(_inner_parts(exchange, folder, label))
    return files


def _inner_parts(exchange: Exchange, folder: str, label: str) -> list[PackFile]:
    content_type = _content_type(exchange)
    found: list[tuple[str, bytes]] = []
    if mtom.is_multipart(content_type):
        try:
            message = mtom.parse(exchange.request, content_type)
        except mtom.MtomError:
            return []
        found.append(("enveloppe-soap.xml", message.root.data))
        found.extend((f"partie-{i}{_extension(p.data)}", p.data) for i, p in enumerate(message.parts.values(), 1))
    elif _request_name(exchange) == "requete.eml":
        message = email.message_from_bytes(exchange.request, policy=email.policy.default)
        for index, part in enumerate(message.walk(), 1):
            filename = part.get_filename()
            if filename and not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                found.append((f"piece-{index}-{_safe(filename)}", payload))
    return [PackFile(f"{folder}/{name}", data, f"{label} : {name}") for name, data in found]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[:80] or "piece"


def documents(files: Iterable[PackFile]) -> list[PackFile]:
    """The CDA documents the exchanges carried (MTOM parts, XDM members), under documents/."""
    out = []
    for file in files:
        candidates = [(file.name, file.data)]
        if file.data.startswith(b"PK\x03\x04"):
            candidates = _zip_members(file.name, file.data)
        for name, data in candidates:
            if _CDA_ROOT.match(data[:4096]):
                out.append(PackFile(f"documents/{_safe(name.replace('/', '_'))}", data,
                                    f"document CDA transmis ({name})"))
    return out


def _zip_members(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """Members of an archive a DUI sent, read with the XDM reader's limits (no traversal, no
    bomb: sizes are counted while decompressing); an archive it refuses yields nothing."""
    try:
        return [(f"{name}/{member}", content) for member, content in read_xdm(data).files.items()]
    except XdmError:
        return []


class SvrlReports:
    """The SVRL reports of each document of the pack: the CDA engine run again on it, as the
    mocks ran it (the warm validation service, else this process), keeping every rule set's
    raw report. Without an ANS package, `missing` says why and the pack has none."""

    def __init__(self) -> None:
        self.missing = ""
        self._validate: Callable[[bytes, str], Verdict] | None = None
        self._seen: dict[str, Verdict] = {}  # by content hash: a document fed and mailed is judged once

    def _validator(self) -> Callable[[bytes, str], Verdict] | None:
        if self._validate is not None or self.missing:
            return self._validate
        from banc.cda.engine import Engine
        from banc.cda.package import PackageError, find_package
        from banc.cda.service import Client, ServiceError

        try:
            package = find_package()
        except PackageError as exc:
            self.missing = f"rapports SVRL absents : {exc}"
            return None
        client, local = Client(package), Engine(package)

        def validate(data: bytes, subject: str) -> Verdict:
            try:
                return client.validate(data, subject=subject, svrl=True)
            except ServiceError:
                return local.validate(data, subject=subject, svrl=True)

        self._validate = validate
        return validate

    def files(self, document: PackFile) -> list[PackFile]:
        validate = self._validator()
        if validate is None:
            return []
        digest = hashlib.sha256(document.data).hexdigest()
        verdict = self._seen.get(digest) or self._seen.setdefault(digest, validate(document.data, document.name))
        folder = "svrl/" + document.name.removeprefix("documents/").removesuffix(".xml")
        return [PackFile(f"{folder}/{_safe(name)}.svrl.xml", text.encode("utf-8"),
                         f"rapport SVRL du jeu de règles {name} sur {document.name}")
                for name, text in sorted(verdict.details.get("svrl", {}).items())]


def run_exchanges(journal: Journal, report: RunReport) -> list[Exchange]:
    """Every exchange of the run (attributed to it) and every one the report shows."""
    found = {e.id: e for e in journal.exchanges(run=report.run.id)}
    found.update({e.id: e for e in report.exchanges()})
    return [found[k] for k in sorted(found)]


# -- redaction -------------------------------------------------------------------------------

def personal_values(inputs: dict) -> list[str]:
    """The run's personal data to mask: input values whose key names a name, an INS, a birth date."""
    values = [str(v) for k, v in inputs.items() if k.endswith(PERSONAL_SUFFIXES) and v and len(str(v)) >= 3]
    return sorted(set(values), key=len, reverse=True)


def _variants(value: str) -> set[bytes]:
    forms = {value, value.upper(), value.lower(), value.title(), html_escape(value)}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        year, month, day = value.split("-")
        forms |= {f"{year}{month}{day}", f"{day}/{month}/{year}"}
    if re.fullmatch(r"[0-9AB]{15}", value):
        forms.add(value[:13])  # the NIR without its key
    out = set()
    for form in forms:
        encoded = form.encode()
        out |= {encoded, quopri.encodestring(encoded).strip(), form.encode("latin-1", "ignore")}
    return {v for v in out if len(v) >= 3}


class Redactor:
    def __init__(self, values: Iterable[str]) -> None:
        forms = sorted({v for value in values for v in _variants(value)}, key=len, reverse=True)
        self.pattern = re.compile(b"|".join(re.escape(f) for f in forms), re.I) if forms else None

    def text(self, data: bytes) -> bytes:
        return self.pattern.sub(MASK.encode(), data) if self.pattern else data

    def file(self, name: str, data: bytes) -> bytes | None:
        """The masked bytes, or None when the file cannot be masked (a PDF: left out)."""
        if self.pattern is None:
            return data
        if data.startswith(b"%PDF"):
            return None
        if data.startswith(b"PK\x03\x04"):
            return self._zip(data)
        if name.endswith(".eml"):
            return self._mail(data)
        return self.text(data)

    def _zip(self, data: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for name, content in _zip_members("", data):
                masked = self.file(name, content)
                if masked is not None:
                    target.writestr(name.lstrip("/"), masked)
        return out.getvalue()

    def _mail(self, data: bytes) -> bytes:
        message = email.message_from_bytes(data, policy=email.policy.default)
        for header in list(message.keys()):
            values = message.get_all(header) or []
            del message[header]
            for value in values:
                message[header] = self.text(str(value).encode()).decode("utf-8", "replace")
        for part in message.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            masked = self.file(part.get_filename() or "", payload)
            part.set_payload(masked if masked is not None else b"[piece retiree : non masquable]")
            del part["Content-Transfer-Encoding"]
            email.encoders.encode_base64(part)
        return self.text(message.as_bytes())


# -- the pack --------------------------------------------------------------------------------

def build_pack(report: RunReport, journal: Journal, reports: dict[str, bytes], proofs: list[PackFile],
               *, redact: bool = False, svrl: SvrlReports | None = None) -> bytes:
    """The zip's bytes. `reports` are the rendered reports by file name; `svrl` (None: no
    SVRL) validates each document again for its SVRL reports."""
    files = [PackFile(name, data, f"rapport ({name})") for name, data in reports.items()]
    raw: list[PackFile] = []
    for exchange in run_exchanges(journal, report):
        raw.extend(exchange_files(exchange))
    carried = documents(raw)
    files += raw + carried + [f for document in carried for f in (svrl.files(document) if svrl else [])] + proofs
    redactor = Redactor(personal_values(report.run.inputs) if redact else ())
    kept, left_out = [], []
    for file in files:
        data = redactor.file(file.name, file.data) if redact else file.data
        if data is None:
            left_out.append(file.name)
        else:
            kept.append(PackFile(file.name, data, file.description))
    manifest = {
        "execution": report.run.id, "scenario": report.run.scenario, "dui": report.run.dui,
        "banc": report.bench_version, "paquet_ans": report.ans_version,
        **({"svrl": svrl.missing} if svrl is not None and svrl.missing else {}),
        "masquage": ({"actif": True, "remplace_par": MASK, "fichiers_retires": left_out,
                      "raison": "données personnelles de l'usager masquées ; un PDF ne peut être masqué sûrement"}
                     if redact else {"actif": False}),
        "fichiers": [{"fichier": f.name, "sha256": hashlib.sha256(f.data).hexdigest(), "taille": len(f.data),
                      "description": f.description} for f in kept],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in kept:
            archive.writestr(file.name, file.data)
        archive.writestr("manifeste.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        archive.writestr("SHA256SUMS", "".join(f"{entry['sha256']}  {entry['fichier']}\n"
                                               for entry in manifest["fichiers"]))
    return out.getvalue()
