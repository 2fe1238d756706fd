"""The configuration sheet ("fiche de configuration"): what a vendor types into their DUI.

`banc up` writes it when the mocks are listening — JSON for programs (the `banc` clients,
notebooks, a second process driving the bench) and a French text and HTML page for people:
every address and port, the CA and the certificate/key files with their password, the admin
token of the control planes, the journal, the test patients, the professionals (RPPS, e-CPS
login), the mailboxes, the INSi software identity, the PSC client and the Annuaire API key.

Clients never assume ports: they `BenchSheet.load()` (option `--fiche`, else `BANC_FICHE`,
else the sheet of the last `banc up` in the user cache).
"""

from __future__ import annotations

import html
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from banc import __version__
from banc.control import ControlClient
from banc.directory import Directory, default_directory
from banc.paths import cache_dir
from banc.pki import CLIENT_PROFILES, P12_PASSWORD, TestPki
from banc.population import cnam_test_identities

SHEET_NAME = "fiche-banc"
PSC_CLIENT = {"client_id": "banc-dui", "secret": "banc-dui-secret", "public_client_id": "banc-dui-public"}
ANNUAIRE_API_KEY = "banc-segur-annuaire"
INSI_IDAM = {"idam": "BANC-SEGUR-DUI", "logiciel": "DUI de démonstration du Banc Ségur"}


class SheetError(Exception):
    """No usable sheet: French message saying how to get one."""


def default_path() -> Path:
    env = os.environ.get("BANC_FICHE")
    return Path(env) if env else cache_dir() / "simulators" / f"{SHEET_NAME}.json"


@dataclass
class BenchSheet:
    endpoints: dict[str, str]
    pki_dir: str
    journal: str
    admin_token: str
    session: str = ""
    host: str = "127.0.0.1"
    public_host: str = "localhost"
    server_names: list[str] = field(default_factory=list)
    pid: int = field(default_factory=os.getpid)
    written_at: float = field(default_factory=time.time)
    version: str = __version__
    data: dict = field(default_factory=dict)
    """Test patients, professionals, mailboxes, IDAM, PSC client… (see `describe`)."""

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | str | None = None) -> BenchSheet:
        file = Path(path) if path else default_path()
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SheetError(
                f"fiche de configuration introuvable ({file}) : lancez « banc demarrer » "
                "ou indiquez la fiche avec --fiche") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise SheetError(f"fiche de configuration illisible ({file}) : {exc}") from None
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in known})

    @property
    def pki(self) -> TestPki:
        return TestPki(Path(self.pki_dir))

    def url(self, name: str) -> str:
        try:
            return self.endpoints[name]
        except KeyError:
            known = ", ".join(sorted(self.endpoints))
            raise SheetError(f"service « {name} » absent de la fiche (présents : {known})") from None

    def services(self) -> list[str]:
        """Names of the mocks that have a control plane on this bench."""
        return sorted(k.removesuffix(".controle") for k in self.endpoints if k.endswith(".controle"))

    def control(self, service: str) -> ControlClient:
        """The control plane of `service`, over HTTPS with the admin token."""
        return ControlClient(service, self.url(f"{service}.controle"), self.admin_token,
                             verify=self.pki.client_context())

    def alive(self) -> bool:
        """True when the process that wrote the sheet still runs (same machine)."""
        try:
            os.kill(self.pid, 0)
        except (OSError, ValueError):
            return False
        return True

    # -- writing ---------------------------------------------------------------------------
    def write(self, folder: Path) -> dict[str, Path]:
        """JSON, French text and HTML beside each other; returns the paths by format."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {ext: folder / f"{SHEET_NAME}.{ext}" for ext in ("json", "txt", "html")}
        paths["json"].write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")
        paths["txt"].write_text(to_text(self), encoding="utf-8")
        paths["html"].write_text(to_html(self), encoding="utf-8")
        return paths


def describe(pki: TestPki, directory: Directory | None = None) -> dict:
    """The data part of the sheet: what exists on the bench for a DUI to use."""
    directory = directory or default_directory()
    nurse = directory.person("infirmiere_coordinatrice")
    people = [directory.gp, nurse, *(p for p in directory.members(directory.ssiad.id) if p != nurse)]
    return {
        "certificats": {
            "ac": str(pki.ca_cert),
            "serveur": str(pki.server_cert),
            "mot_de_passe_p12": P12_PASSWORD.decode(),
            "clients": [
                {"nom": p.name, "cn": p.common_name, "usage": p.purpose, "pem": str(pki.cert(p.name)),
                 "cle": str(pki.key(p.name)), "p12": str(pki.p12(p.name))}
                for p in CLIENT_PROFILES
            ],
        },
        "insi": INSI_IDAM,
        "psc": PSC_CLIENT,
        "annuaire": {"cle_api": ANNUAIRE_API_KEY, "en_tete": "ESANTE-API-KEY"},
        "patients_test": [
            {"nom": i.birth_name, "prenoms": " ".join(i.first_names), "sexe": i.sex,
             "naissance": i.birth_date.isoformat(), "lieu": i.birth_place or "",
             "ins": i.ins or "", "oid": i.oid}
            for i in cnam_test_identities()
        ],
        "professionnels": [
            {"nom": p.family, "prenom": p.given, "rpps": p.rpps, "identifiant_national": p.national_id,
             "login_e_cps": p.national_id, "profession": p.profession_label,
             "bal": p.mailbox.address if p.mailbox else ""}
            for p in people
        ],
        "boites": [
            {"adresse": b.address, "type": b.kind, "description": b.description,
             "certificat": b.certificate_cn}
            for b in directory.ssiad.mailboxes
        ],
        "structure": {"nom": directory.ssiad.name, "identifiant": directory.ssiad.national_id,
                      "finess": directory.ssiad.finess},
    }


_LABELS = {
    "psc": "Pro Santé Connect (émetteur OIDC)",
    "annuaire": "Annuaire Santé (FHIR)",
    "insi": "INSi (SOAP)",
    "dmp": "DMP (racine des services SOAP)",
}


def to_text(sheet: BenchSheet) -> str:
    data = sheet.data
    lines = [
        f"Banc Ségur {sheet.version} — fiche de configuration du DUI",
        f"(écrite le {time.strftime('%d/%m/%Y à %H:%M', time.localtime(sheet.written_at))}, "
        f"processus {sheet.pid})",
        "",
        "ADRESSES DES SERVICES",
    ]
    lines += [f"  {label:<26} {url}" for label, url in sorted(sheet.endpoints.items())]
    certs = data.get("certificats", {})
    lines += ["", "CERTIFICATS", f"  AC à déclarer de confiance : {certs.get('ac', '')}",
              f"  Le certificat serveur couvre : {', '.join(sheet.server_names)}",
              f"  Mot de passe des fichiers .p12 : {certs.get('mot_de_passe_p12', '')}"]
    lines += [f"  {c['p12']}  (CN={c['cn']} — {c['usage']})" for c in certs.get("clients", ())]
    lines += ["", "IDENTIFIANTS",
              f"  INSi : IDAM {data.get('insi', {}).get('idam', '')}",
              f"  Pro Santé Connect : client_id {data.get('psc', {}).get('client_id', '')}, "
              f"secret {data.get('psc', {}).get('secret', '')}",
              f"  Annuaire Santé : en-tête ESANTE-API-KEY: {data.get('annuaire', {}).get('cle_api', '')}",
              f"  Plan de contrôle (administration) : Authorization: Bearer {sheet.admin_token}",
              f"  Journal des échanges : {sheet.journal}"]
    structure = data.get("structure", {})
    lines += ["", f"STRUCTURE : {structure.get('nom', '')} (identifiant {structure.get('identifiant', '')})"]
    lines += [f"  BAL {b['type']} {b['adresse']} — {b['description']}" for b in data.get("boites", ())]
    lines += ["", "PROFESSIONNELS (connexion e-CPS simulée : identifiant national)"]
    lines += [f"  {p['prenom']} {p['nom']} — {p['profession']} — RPPS {p['rpps']} — "
              f"e-CPS {p['login_e_cps']} — {p['bal']}" for p in data.get("professionnels", ())]
    lines += ["", "PATIENTS DE TEST (INSi)"]
    lines += [f"  {p['nom']} {p['prenoms']} {p['sexe']} {p['naissance']} {p['lieu']} → INS {p['ins'] or '—'}"
              for p in data.get("patients_test", ())]
    return "\n".join(lines) + "\n"


def to_html(sheet: BenchSheet) -> str:
    text = html.escape(to_text(sheet))
    return (
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<title>Banc Ségur — fiche de configuration</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}"
        "pre{white-space:pre-wrap;font-size:.95rem;background:#f5f5f5;padding:1rem}</style>"
        f"</head><body><h1>Banc Ségur — fiche de configuration du DUI</h1><pre>{text}</pre></body></html>\n"
    )
