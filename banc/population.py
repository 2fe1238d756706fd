"""The people the bench knows: public CNAM test identities and deterministic generated ones.

Every mock and the document factory draw their patients from here, so that the INSi mock
finds the person the DMP mock has a record for and the documents speak of. Two sources:

- `cnam_test_identities()`: the identities of the CNAM INSi test environment that public
  fixtures and the ANS example messages use (DOMAIN.md §3), with the answers those sources
  show (INS, OID, history). `cnam_test_cases()` lists the searches and their expected answer
  (CR `00` with the INS, or `01`) — scenarios and tests use the same list.
- `generated_identities(count, seed)`: Faker `fr_FR` identities, identical for a given seed,
  with valid NIR keys, births in Corsica (2A/2B) and abroad, and deliberate homonyms (same
  name, first name, sex and birth date, other birthplace) so that a search without birthplace
  answers CR `02`.

These identities are the ground truth as the national register knows it, so they are
`qualifiée`; a DUI's own record of a person starts `provisoire` (see `banc.identity`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

from banc.identity import (
    OID_INS_NIA,
    OID_INS_NIR,
    OID_INS_NIR_TEST,
    Identity,
    IdentityStatus,
    nir_key,
    normalise_name,
)

DEFAULT_SEED = 20240101
_EPOCH = date(1924, 1, 1)
"""Birth dates are drawn from a fixed century, never relative to today, to stay reproducible."""


def _cnam(
    name: str, first_names: str, sex: str, born: str, place: str | None, ins: str,
    oid: str = OID_INS_NIR, history: tuple[str, ...] = (),
) -> Identity:
    return Identity(
        birth_name=name,
        first_names=tuple(first_names.split()),
        sex=sex,
        birth_date=date.fromisoformat(born),
        birth_place=place,
        matricule=ins[:13],
        key=ins[13:],
        oid=oid,
        status=IdentityStatus.QUALIFIEE,
        history=tuple((h[:13], h[13:], OID_INS_NIR) for h in history),
    )


def cnam_test_identities() -> list[Identity]:
    """Public CNAM test identities, as the INSi test service answers for them.

    The OID is the one the captured answers carry (INS-NIR `…4.8`, INS-NIA `…4.9` for
    PROVISOIRE): the CNAM test service does not use the test OID `…4.10`.
    """
    return [
        _cnam("ADRUN", "ZOE", "F", "1975-12-31", "63220", "275126322074974"),
        _cnam("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2A020", "297022A02077878"),
        _cnam("ADRTROIS", "TOUSSAINT", "M", "1960-01-01", "2B020", "160012B02077713"),
        _cnam(
            "ECETINSI", "PIERRE-ALAIN MURIEL FLORIANT", "M", "2009-07-14", "63220",
            "109076322083489", history=("209076322083439", "209066322012355"),
        ),
        _cnam("TCHITCHI", "CATARINA", "F", "1936-06-21", "63220", "236066322083656"),
        _cnam("NESSI", "MICHELANGELO", "M", "2010-08-07", "63220", "110086322083060"),
        _cnam("NESSI", "NATHALIE", "F", "1977-07-14", "63220", "277076322082910"),
        _cnam(
            "CORSE", "ANTHONY", "M", "1980-03-02", "2B020", "180032B02040123",
            history=("180032B02040123",),
        ),
        _cnam("PROVISOIRE", "MATRICULE", "M", "2009-07-01", "63220", "109076322088835", OID_INS_NIA),
        _cnam("PATB-QUATRE", "LAURENCE", "F", "1907-05-25", "85756", "207058575627097"),
    ]


@dataclass(frozen=True)
class InsiCase:
    """One search of the public test set and the answer the real test service gives."""

    label: str
    birth_name: str
    first_name: str  # as sent in <Prenom>: one first name, or the list joined by spaces
    sex: str
    birth_date: str
    birth_place: str | None
    expected_cr: str  # "00", "01" or "02"
    expected_ins: str | None = None
    expected_oid: str | None = None


def cnam_test_cases() -> list[InsiCase]:
    """Every documented answer of the public test set (DOMAIN.md §3 and the captures)."""
    cases = [
        InsiCase(
            f"{i.birth_name} {i.first_name}", i.birth_name, i.first_name, i.sex,
            i.birth_date.isoformat(), i.birth_place, "00", i.ins, i.oid,
        )
        for i in cnam_test_identities()
    ]
    ecetinsi = next(i for i in cnam_test_identities() if i.birth_name == "ECETINSI")
    adrtrois = next(i for i in cnam_test_identities() if i.first_name == "DOMINIQUE")
    return [
        *cases,
        InsiCase(
            "ECETINSI, liste des prénoms", "ECETINSI", " ".join(ecetinsi.first_names), "M",
            "2009-07-14", "63220", "00", ecetinsi.ins, OID_INS_NIR,
        ),
        InsiCase(
            "ADRTROIS DOMINIQUE sans lieu de naissance", "ADRTROIS", "DOMINIQUE", "F",
            "1997-02-26", None, "00", adrtrois.ins, OID_INS_NIR,
        ),
        InsiCase("TCHITCHI OLA (prénom inconnu)", "TCHITCHI", "OLA", "F", "1936-06-21", "63220", "01"),
        InsiCase("HOUILLES PIERRE", "HOUILLES", "PIERRE", "M", "1955-05-05", None, "01"),
        InsiCase("HOUILLES PAUL", "HOUILLES", "PAUL", "M", "1955-05-05", None, "01"),
        InsiCase(
            "HOUILLES, liste des prénoms", "HOUILLES", "PIERRE PAUL JACQUES", "M", "1955-05-05",
            None, "01",
        ),
    ]


# -- generated identities -------------------------------------------------------------------

_CORSICA = ("2A", "2B")
_ABROAD = ("99350", "99351", "99352", "99109", "99134", "99139", "99127")  # MA, DZ, TN, DE, ES, PT, IT
_DEPARTMENTS = tuple(f"{n:02d}" for n in range(1, 96) if n != 20)
_OVERSEAS = ("971", "972", "973", "974", "976")


def _birth_place(rng: random.Random, year: int, corsica: bool) -> str:
    """An INSEE birthplace code; the NIR repeats it (positions 6–10)."""
    if corsica:
        department = rng.choice(_CORSICA) if year >= 1976 else "20"
        return f"{department}{rng.randint(1, 366):03d}"
    roll = rng.random()
    if roll < 0.06:
        return rng.choice(_ABROAD)
    if roll < 0.1:
        return f"{rng.choice(_OVERSEAS)}{rng.randint(1, 34):02d}"
    return f"{rng.choice(_DEPARTMENTS)}{rng.randint(1, 600):03d}"


def generated_identities(
    count: int,
    seed: int = DEFAULT_SEED,
    *,
    oid: str = OID_INS_NIR_TEST,
    corsica_every: int = 7,
    homonym_every: int = 10,
) -> list[Identity]:
    """`count` Faker fr_FR identities, the same for the same arguments.

    Every `corsica_every`-th person is born in Corsica (2A/2B since 1976, else 20); every
    `homonym_every`-th person (from the second) is a homonym of the previous one (same birth
    name, first names, sex and birth date, other birthplace and NIR) — the CR `02` case.
    """
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    people: list[Identity] = []
    used: set[str] = set()
    for index in range(count):
        if homonym_every and index % homonym_every == homonym_every - 1 and people:
            twin = people[-1]
            template: tuple[str, tuple[str, ...], str, date] | None = (
                twin.birth_name, twin.first_names, twin.sex, twin.birth_date,
            )
        else:
            template = None
        if template is None:
            sex = rng.choice("MF")
            given = faker.first_name_male if sex == "M" else faker.first_name_female
            first_names = tuple(
                dict.fromkeys(normalise_name(given()) for _ in range(rng.choice((1, 1, 2, 3))))
            )
            template = (
                normalise_name(faker.last_name()), first_names, sex,
                _EPOCH + timedelta(days=rng.randint(0, 100 * 365)),
            )
        name, first_names, sex, born = template
        corsica = bool(corsica_every) and index % corsica_every == corsica_every - 1
        while True:
            place = _birth_place(rng, born.year, corsica)
            matricule = f"{1 if sex == 'M' else 2}{born.year % 100:02d}{born.month:02d}{place}{rng.randint(1, 999):03d}"
            if matricule not in used and (not people or place != people[-1].birth_place):
                used.add(matricule)
                break
        people.append(
            Identity(
                birth_name=name, first_names=first_names, sex=sex, birth_date=born,
                birth_place=place, matricule=matricule, key=nir_key(matricule), oid=oid,
                status=IdentityStatus.QUALIFIEE,
            )
        )
    return people


def population(count: int = 0, seed: int = DEFAULT_SEED) -> list[Identity]:
    """The CNAM test identities followed by `count` generated ones."""
    return cnam_test_identities() + generated_identities(count, seed)


# -- fixture files --------------------------------------------------------------------------

def identity_to_dict(identity: Identity) -> dict:
    return {
        "birth_name": identity.birth_name,
        "first_names": list(identity.first_names),
        "sex": identity.sex,
        "birth_date": identity.birth_date.isoformat(),
        "birth_place": identity.birth_place,
        "matricule": identity.matricule,
        "key": identity.key,
        "oid": identity.oid,
        "status": str(identity.status),
        "used_name": identity.used_name,
        "history": [list(h) for h in identity.history],
    }


def identity_from_dict(data: dict) -> Identity:
    """An Identity from a fixture entry; the key is computed when only the matricule is given."""
    first_names = data["first_names"]
    if isinstance(first_names, str):
        first_names = first_names.split()
    matricule = data.get("matricule")
    key = data.get("key") or (nir_key(matricule) if matricule else None)
    return Identity(
        birth_name=data["birth_name"],
        first_names=tuple(first_names),
        sex=data["sex"],
        birth_date=date.fromisoformat(data["birth_date"]),
        birth_place=data.get("birth_place"),
        matricule=matricule,
        key=key,
        oid=data.get("oid", OID_INS_NIR_TEST),
        status=IdentityStatus(data.get("status", IdentityStatus.QUALIFIEE)),
        used_name=data.get("used_name"),
        history=tuple(tuple(h) for h in data.get("history", ())),  # type: ignore[misc]
    )


def dump_identities(identities: list[Identity], path: Path) -> None:
    path.write_text(
        json.dumps([identity_to_dict(i) for i in identities], ensure_ascii=False, indent=1),
        encoding="utf-8",
    )


def load_identities(path: Path) -> list[Identity]:
    """Identities from a JSON fixture file (a list of `identity_to_dict` entries)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path} : une liste d'identités JSON est attendue")
    return [identity_from_dict(entry) for entry in data]


def with_status(identity: Identity, status: IdentityStatus) -> Identity:
    """The same person as a DUI may hold them (e.g. `provisoire` before INSi)."""
    return replace(identity, status=status)
