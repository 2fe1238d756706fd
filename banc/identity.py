"""INS identity toolkit: NIR/NIA keys, INS OIDs, RNIV statuses and the formats each channel uses.

The INS (Identifiant National de Santé) is a 13-character matricule (NIR, or NIA for people
without one) plus a 2-digit key. It travels with an OID saying which register it comes from.
Only a *qualified* identity (RNIV) may carry the INS in an exchange: `require_qualified` is the
one place that rule lives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

OID_INS_NIR = "1.2.250.1.213.1.4.8"
OID_INS_NIA = "1.2.250.1.213.1.4.9"
OID_INS_NIR_TEST = "1.2.250.1.213.1.4.10"
OID_INS_NIR_DEMO = "1.2.250.1.213.1.4.11"

INS_OIDS: dict[str, str] = {
    OID_INS_NIR: "INS-NIR",
    OID_INS_NIA: "INS-NIA",
    OID_INS_NIR_TEST: "INS-NIR de test",
    OID_INS_NIR_DEMO: "INS-NIR de démonstration",
}

PATIENT_MAIL_DOMAIN = "patient.mssante.fr"

_MATRICULE = re.compile(r"^[12378][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}$")


class IdentityError(ValueError):
    """An INS that cannot be used; the message is French and names the problem."""


def _numeric(matricule: str) -> int:
    """Corsica: 2A counts as 19 and 2B as 18 when computing the key."""
    return int(matricule.upper().replace("2A", "19").replace("2B", "18"))


def nir_key(matricule: str) -> str:
    """The 2-digit control key of a 13-character NIR or NIA."""
    matricule = matricule.strip().upper()
    if not _MATRICULE.match(matricule):
        raise IdentityError(f"matricule INS mal formé : {matricule!r} (13 caractères attendus)")
    return f"{97 - _numeric(matricule) % 97:02d}"


def split_ins(ins: str) -> tuple[str, str]:
    """'297022A02077878' → ('297022A020778', '78'); spaces are tolerated."""
    compact = re.sub(r"\s+", "", ins).upper()
    if len(compact) != 15:
        raise IdentityError(f"INS de {len(compact)} caractères : {ins!r} (15 attendus)")
    return compact[:13], compact[13:]


def key_problem(matricule: str, key: str | None) -> str | None:
    """Why `key` is not the control key of `matricule` (a French message), None when it is.

    A NIR read from a carte Vitale travels with its key: an absent, non-numeric or wrong key
    means a misread card or a typed number, and must not find anybody."""
    try:
        expected = nir_key(matricule)
    except IdentityError as exc:
        return str(exc)
    if not key:
        return f"clé absente pour le NIR {matricule.strip().upper()} (clé attendue {expected})"
    if key != expected:
        return (f"clé {key!r} incorrecte pour le NIR {matricule.strip().upper()} "
                f"(clé attendue {expected})")
    return None


def ins_key_is_valid(ins: str) -> bool:
    try:
        matricule, key = split_ins(ins)
        return nir_key(matricule) == key
    except IdentityError:
        return False


def check_ins(ins: str, oid: str | None = None) -> list[str]:
    """Every problem with an INS (and its OID), as French messages; empty when usable."""
    problems: list[str] = []
    try:
        matricule, key = split_ins(ins)
        expected = nir_key(matricule)
        if expected != key:
            problems.append(f"clé INS {key} incorrecte pour {matricule} (clé attendue {expected})")
    except IdentityError as exc:
        problems.append(str(exc))
    if oid is not None and oid not in INS_OIDS:
        problems.append(f"OID {oid!r} n'est pas un OID d'INS ({', '.join(INS_OIDS)})")
    return problems


class IdentityStatus(StrEnum):
    """RNIV identity statuses (référentiel national d'identitovigilance)."""

    PROVISOIRE = "provisoire"
    RECUPEREE = "récupérée"
    VALIDEE = "validée"
    QUALIFIEE = "qualifiée"


@dataclass(frozen=True)
class Identity:
    """A person as the bench knows them: traits plus, when obtained, the INS."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: str  # "M" or "F"
    birth_date: date
    birth_place: str | None = None  # INSEE code (5 characters), None when unknown
    matricule: str | None = None
    key: str | None = None
    oid: str = OID_INS_NIR_TEST
    status: IdentityStatus = IdentityStatus.PROVISOIRE
    used_name: str | None = None
    history: tuple[tuple[str, str, str], ...] = field(default=())  # (matricule, key, oid)

    @property
    def ins(self) -> str | None:
        return f"{self.matricule}{self.key}" if self.matricule and self.key else None

    @property
    def first_name(self) -> str:
        return self.first_names[0] if self.first_names else ""

    @property
    def carries_ins(self) -> bool:
        return self.status is IdentityStatus.QUALIFIEE and self.ins is not None


def require_qualified(identity: Identity) -> str:
    """The INS of a qualified identity; any other status may not carry the INS (RNIV)."""
    if identity.ins is None:
        raise IdentityError("identité sans INS : interrogez d'abord le téléservice INSi")
    if identity.status is not IdentityStatus.QUALIFIEE:
        raise IdentityError(
            f"identité au statut « {identity.status} » : seule une identité qualifiée peut "
            "porter l'INS dans un échange"
        )
    return identity.ins


def cda_id(ins: str, oid: str) -> dict[str, str]:
    """Attributes of `recordTarget/patientRole/id` carrying the INS in a CDA header."""
    return {"root": oid, "extension": "".join(split_ins(ins))}


def xds_patient_id(ins: str, oid: str) -> str:
    """XDS `patientId` (CX): `INS^^^&OID&ISO^NH`."""
    return f"{''.join(split_ins(ins))}^^^&{oid}&ISO^NH"


def parse_xds_patient_id(value: str) -> tuple[str, str]:
    """(INS, OID) from an XDS CX value; raises IdentityError naming what is malformed."""
    match = re.fullmatch(r"([0-9A-Z]+)\^\^\^&([0-9.]+)&ISO(?:\^NH)?", value.strip())
    if not match:
        raise IdentityError(f"identifiant patient XDS mal formé : {value!r} (INS^^^&OID&ISO^NH attendu)")
    return match.group(1), match.group(2)


def patient_mail_address(identity_or_ins: Identity | str) -> str:
    """The Mon espace santé address; from an Identity, only when it is qualified."""
    ins = (
        require_qualified(identity_or_ins)
        if isinstance(identity_or_ins, Identity)
        else "".join(split_ins(identity_or_ins))
    )
    return f"{ins}@{PATIENT_MAIL_DOMAIN}"


def normalise_name(value: str) -> str:
    """Upper case with only letters, '-', "'" and single spaces, as INSi expects; accents folded."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"[^A-Za-z\-' ]", " ", folded).upper()
    return re.sub(r"\s+", " ", folded).strip()
