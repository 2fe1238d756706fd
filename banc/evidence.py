"""The evidence pack of a run: one zip a vendor hands to a reviewer.

It holds the reports (HTML, JSON, JUnit, referencing sheet), every raw exchange of the run as
the mocks received and answered it (SOAP with its VIHF token, MTOM parts, mails as `.eml` with
their XDM archives, the IMAP transcript), the documents those exchanges carried, the manual
proofs attached by the operator, and a manifest: `manifeste.json` (what each file is) and
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
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape as html_escape
from pathlib import Path

from banc.journal import Exchange, Journal
from banc.scenario.report.model import RunReport
from banc.soap import mtom

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
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(f"{name}/{info.filename}", archive.read(info)) for info in archive.infolist()
                    if not info.is_dir() and info.file_size < 64 * 1024 * 1024]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


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
               *, redact: bool = False) -> bytes:
    """The zip's bytes. `reports` are the rendered reports by file name."""
    files = [PackFile(name, data, f"rapport ({name})") for name, data in reports.items()]
    raw: list[PackFile] = []
    for exchange in run_exchanges(journal, report):
        raw.extend(exchange_files(exchange))
    files += raw + documents(raw) + proofs
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
