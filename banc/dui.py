"""A DUI under test, declared once: what each simulated service must know of it.

A vendor describes their DUI in a profile (TOML file, or Python): the INSi software identity
(IDAM), the Pro Santé Connect client, the MSSanté mailboxes and how they authenticate, the DMP
structure and LPS identity with the certificate that signs its VIHF, the Annuaire API key, the
TLS client certificates it presents, and the automation endpoint the `http` driver calls.
`banc dui enregistrer` hands the profile to every mock's control plane (`banc.control`) and
stores it in the journal database, where the journal uses its identity keys to attribute each
exchange to a DUI (`Journal.record`).

Example profile (`mon-dui.toml`):

    nom = "mon-dui"
    type_structure = "SSIAD"          # SSIAD, SAAD ou SPASAD
    fonctions_facultatives = []       # fonctions « PEUT » du DSR que le DUI offre, ex. ["tableau-de-bord-agenda"]
    libelle = "DUI Exemple 4.2"
    editeur = "Éditeur Exemple"

    [insi]
    idam = "MON-DUI-IDAM"
    logiciel = "MON DUI"
    version = "4.2"

    [psc]
    client_id = "mon-dui"
    secret = "secret-de-test"
    redirections = ["https://dui.exemple.test/psc/retour"]

    [[mssante.boites]]
    adresse = "ssiad@ssiad-val-de-morge.mssante.fr"
    authentification = "certificat"     # ou "xoauth2"

    [dmp]
    structure = "1.2.250.1.71.4.2.2^10B0171245"   # Identifiant_Structure du VIHF
    lps_id = "MON-DUI"
    lps_nom = "MON DUI"
    lps_version = "4.2"
    homologation = "DMP-HOMOLOGATION-TEST"
    certificat_vihf = "certificats/vihf.pem"     # chemin, relatif au profil

    [annuaire]
    cle_api = "cle-mon-dui"

    [tls]
    certificats = ["certificats/client.pem"]     # certificats client présentés par le DUI

    [pilotage]
    url = "https://dui.exemple.test:8443/banc/v1"
"""

from __future__ import annotations

import hashlib
import re
import ssl
import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAILBOX_AUTH = ("xoauth2", "certificat")
STRUCTURE_TYPES = ("SSIAD", "SAAD", "SPASAD")
FEATURES = ("tableau-de-bord-agenda",)
"""Optional (PEUT) DSR functions a profile may declare: `tableau-de-bord-agenda` is the
dashboard of agenda and liaison-book sends (SC.TBB.02.MS1)."""


class ProfileError(ValueError):
    """A profile that cannot be used, with a French message naming the field."""


@dataclass(frozen=True)
class Mailbox:
    address: str
    auth: str = "xoauth2"
    """`xoauth2` (PSC token of a professional) or `certificat` (application mailbox)."""
    kind: str = ""
    """Annuaire mailbox type (PER, ORG, APP, CAB) when the mock must create it; empty if known."""


@dataclass(frozen=True)
class DuiProfile:
    """Everything the mocks need to recognise and serve one DUI (see the module docstring)."""

    name: str
    label: str = ""
    editor: str = ""
    idam: str = ""
    software: str = ""
    software_version: str = ""
    psc_client_id: str = ""
    psc_secret: str = ""
    psc_redirect_uris: tuple[str, ...] = ()
    mailboxes: tuple[Mailbox, ...] = ()
    structure_id: str = ""
    lps_id: str = ""
    lps_name: str = ""
    lps_version: str = ""
    lps_homologation: str = ""
    vihf_certificates: tuple[str, ...] = ()
    """PEM of the certificate(s) that sign this DUI's VIHF (leaf first; the chain may follow)."""
    client_certificates: tuple[str, ...] = ()
    """PEM of the TLS client certificates the DUI presents."""
    annuaire_api_key: str = ""
    automation_url: str = ""
    structure_type: str = "SSIAD"
    """SSIAD, SAAD or SPASAD: steps that apply to one type only are omitted for the others."""
    features: tuple[str, ...] = ()
    """Optional DSR functions (PEUT) the DUI offers: a step about one it does not declare is
    omitted, not failed (`FEATURES` lists them)."""

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ProfileError(
                f"nom de DUI « {self.name} » invalide : minuscules, chiffres, - et _ (63 au plus)")
        if self.structure_type not in STRUCTURE_TYPES:
            raise ProfileError(f"type de structure « {self.structure_type} » inconnu "
                               f"(attendu : {', '.join(STRUCTURE_TYPES)})")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ProfileError(f"fonction(s) facultative(s) inconnue(s) : {', '.join(unknown)} "
                               f"(connues : {', '.join(FEATURES)})")
        for mailbox in self.mailboxes:
            if mailbox.auth not in MAILBOX_AUTH:
                raise ProfileError(
                    f"boîte {mailbox.address} : authentification « {mailbox.auth} » inconnue "
                    f"(attendu : {' ou '.join(MAILBOX_AUTH)})")

    # -- identity keys used to attribute exchanges ------------------------------------------
    def identity_keys(self) -> dict[str, set[str]]:
        """Kind → values by which an exchange is recognised as this DUI's (see
        `banc.journal.ATTRIBUTION_KEYS`)."""
        keys: dict[str, set[str]] = {
            "client_certificate_sha256": {fingerprint(pem) for pem in self.client_certificates},
            "vihf_certificate_sha256": {fingerprint(pem) for pem in self.vihf_certificates[:1]},
            "idam": {self.idam} if self.idam else set(),
            "client_id": {self.psc_client_id} if self.psc_client_id else set(),
            "login": {m.address.lower() for m in self.mailboxes},
            "api_key": {self.annuaire_api_key} if self.annuaire_api_key else set(),
            "lps_id": {self.lps_id} if self.lps_id else set(),
        }
        return {kind: values for kind, values in keys.items() if values}

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = asdict(self)
        data["mailboxes"] = [asdict(m) for m in self.mailboxes]
        for key in ("psc_redirect_uris", "vihf_certificates", "client_certificates", "features"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> DuiProfile:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["mailboxes"] = tuple(Mailbox(**m) for m in data.get("mailboxes", ()))
        for key in ("psc_redirect_uris", "vihf_certificates", "client_certificates", "features"):
            values[key] = tuple(data.get(key, ()))
        return cls(**values)

    @classmethod
    def from_toml(cls, path: Path | str) -> DuiProfile:
        """Read a French TOML profile; certificate paths are relative to the profile's folder."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProfileError(f"profil de DUI introuvable : {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProfileError(f"profil {path} illisible (TOML) : {exc}") from None
        return cls.from_french(data, base=path.parent, source=str(path))

    @classmethod
    def from_french(cls, data: dict, *, base: Path = Path("."), source: str = "profil") -> DuiProfile:
        def section(name: str) -> dict:
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise ProfileError(f"{source} : [{name}] doit être une section")
            return value

        def pem(reference: str) -> str:
            if "-----BEGIN CERTIFICATE-----" in reference:
                return reference
            file = (base / reference).resolve()
            try:
                text = file.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError):
                raise ProfileError(f"{source} : certificat illisible : {file}") from None
            if "-----BEGIN CERTIFICATE-----" not in text:
                raise ProfileError(f"{source} : {file} n'est pas un certificat PEM")
            return text

        if "nom" not in data:
            raise ProfileError(f"{source} : le champ « nom » est obligatoire")
        insi, psc, mss, dmp = section("insi"), section("psc"), section("mssante"), section("dmp")
        annuaire, tls, automation = section("annuaire"), section("tls"), section("pilotage")
        vihf = dmp.get("certificat_vihf", [])
        return cls(
            name=str(data["nom"]),
            label=str(data.get("libelle", data["nom"])),
            editor=str(data.get("editeur", "")),
            idam=str(insi.get("idam", "")),
            software=str(insi.get("logiciel", "")),
            software_version=str(insi.get("version", "")),
            psc_client_id=str(psc.get("client_id", "")),
            psc_secret=str(psc.get("secret", "")),
            psc_redirect_uris=tuple(str(u) for u in psc.get("redirections", ())),
            mailboxes=tuple(
                Mailbox(str(b.get("adresse", "")), str(b.get("authentification", "xoauth2")),
                        str(b.get("type", "")))
                for b in mss.get("boites", ())
            ),
            structure_id=str(dmp.get("structure", "")),
            lps_id=str(dmp.get("lps_id", "")),
            lps_name=str(dmp.get("lps_nom", "")),
            lps_version=str(dmp.get("lps_version", "")),
            lps_homologation=str(dmp.get("homologation", "")),
            vihf_certificates=tuple(pem(v) for v in ([vihf] if isinstance(vihf, str) else vihf)),
            client_certificates=tuple(pem(c) for c in tls.get("certificats", ())),
            annuaire_api_key=str(annuaire.get("cle_api", "")),
            automation_url=str(automation.get("url", "")),
            structure_type=str(data.get("type_structure", "SSIAD")).upper(),
            features=tuple(str(f) for f in data.get("fonctions_facultatives", ())),
        )


@lru_cache(maxsize=256)
def fingerprint(pem_or_der: str | bytes) -> str:
    """SHA-256 of a certificate's DER, lower-case hex: how the journal names a certificate.
    Cached: computed for every request and every registered profile's keys."""
    if isinstance(pem_or_der, str):
        der = ssl.PEM_cert_to_DER_cert(_first_pem(pem_or_der))
    else:
        der = pem_or_der
    return hashlib.sha256(der).hexdigest()


def _first_pem(text: str) -> str:
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
    return text[start:end] + "\n"


def certificate_subject_of(pem: str) -> str:
    """RFC 4514 subject of the first certificate of a PEM text (for sheets and messages)."""
    return x509.load_pem_x509_certificate(_first_pem(pem).encode()).subject.rfc4514_string()
