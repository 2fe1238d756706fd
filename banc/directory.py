"""The deterministic directory of professionals and organisations, with their MSSanté mailboxes.

One source of truth shared by the Annuaire Santé mock (FHIR resources, open-data extraction),
the Pro Santé Connect mock (who may log in, with which `SubjectRefPro`), the MSSanté mock (which
mailboxes exist) and the document factory (authors, custodians, recipients). Because every
consumer builds the same `Directory` from the same seed, a GP found in the Annuaire is the one who
logs in through PSC and whose mailbox receives the DUI's messages.

Two parts:
- *named* parties that scenarios need by name (`NAMED`: the usager's GP, the hospital discharge
  service and its physician, the SSIAD under test with its application mailbox, …). Their
  identifiers and addresses are fixed constants, independent of the seed and of Faker's version;
- *generated* parties (Faker `fr_FR`, seeded): GPs, specialists, nurses, physiotherapists,
  pharmacists in cabinets, hospitals, SSIAD/SAAD/SPASAD. 100 000 practitioners build in about a
  second: Faker only fills small name pools, everything else is `random.Random(seed)`.

Identifier facts (public sources; see docs/annuaire-psc-mocks.md):
- RPPS: 11 digits, the last one a Luhn check digit (holds for published real and test numbers,
  e.g. 10001045367, 99700427885); national id of a professional = "8" + RPPS.
- FINESS: 9 characters, department (2) + 6 digits + a check digit; Luhn holds for published real
  numbers (580008803, 540002698) but we found no primary spec, so `luhn_is_valid` is used for
  generation only and the mocks never reject a FINESS for its key. (?)
- Bench numbers are recognisable: RPPS start with "999" (no real professional has one),
  generated FINESS use the fictitious sequence range 9xxxxx after the department.
Code systems: profession TRE_G15 (10 médecin, 60 infirmier, …), savoir-faire TRE_R38 (SM54
médecine générale, …), secteur d'activité TRE_R02 (SA07 cabinet individuel, …), mode d'exercice
TRE_R23 (L libéral, S salarié), FINESS catégorie (354 SSIAD, 460 SAAD, 209 SPASAD) (?).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import accumulate

DEFAULT_SEED = 20240101
DEFAULT_PRACTITIONERS = 600
"""Default size: enough to page through 500 practitioners, small enough to build in ~10 ms."""

MAILBOX_KINDS = {
    "PER": "boîte aux lettres personnelle",
    "ORG": "boîte aux lettres organisationnelle",
    "APP": "boîte aux lettres applicative",
    "CAB": "boîte aux lettres de cabinet",
}

PROFESSIONS: dict[str, tuple[str, str]] = {
    # TRE_G15 code: (label, catégorie professionnelle TRE_R09)
    "10": ("Médecin", "C"),
    "21": ("Pharmacien", "C"),
    "60": ("Infirmier", "C"),
    "70": ("Masseur-Kinésithérapeute", "C"),
}

SPECIALTIES: dict[str, str] = {
    # TRE_R38 (spécialités ordinales, type de savoir-faire "S")
    "SM54": "Médecine générale",
    "SM26": "Qualifié en Médecine Générale",
    "SM04": "Cardiologie et maladies vasculaires",
    "SM18": "Gériatrie",
    "SM27": "Médecine interne",
    "SM32": "Neurologie",
}

SECTORS: dict[str, str] = {
    # TRE_R02 secteur d'activité
    "SA01": "Etablissement public de santé",
    "SA07": "Cabinet individuel",
    "SA08": "Cabinet de groupe",
    "SA17": "Etablissement pour personnes âgées",
    "SA33": "Pharmacie d'officine",
    "SA41": "Autre établissement du domaine social ou médico-social",
}

FINESS_CATEGORIES: dict[str, str] = {
    "SSIAD": "354",
    "SAAD": "460",
    "SPASAD": "209",
    "CH": "355",
}

ORGANISATION_KINDS = {
    "CABINET": "cabinet libéral",
    "CH": "centre hospitalier",
    "SERVICE": "service hospitalier",
    "SSIAD": "service de soins infirmiers à domicile",
    "SAAD": "service d'aide et d'accompagnement à domicile",
    "SPASAD": "service polyvalent d'aide et de soins à domicile",
    "PHARMACIE": "pharmacie d'officine",
}

OPERATOR_DOMAINS = {
    "10": "medecin.mssante.fr",
    "21": "pharmacien.mssante.fr",
    "60": "infirmier.mssante.fr",
    "70": "kine.mssante.fr",
}
"""Personal mailboxes of liberal professionals live at the national operator's domains;
salaried professionals and organisations at their organisation's own domain."""


# -- check digits ---------------------------------------------------------------------------
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits`."""
    values = [ord(char) - 48 for char in reversed(digits)]
    total = sum(_DOUBLED[v] for v in values[0::2]) + sum(values[1::2])
    return str((10 - total % 10) % 10)


def luhn_is_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_digit(number[:-1]) == number[-1]


def rpps_is_valid(rpps: str) -> bool:
    return len(rpps) == 11 and luhn_is_valid(rpps)


def make_rpps(sequence: int) -> str:
    """Bench RPPS number `sequence` (0 ≤ sequence < 10⁷): '999' + 7 digits + Luhn digit."""
    body = f"999{sequence:07d}"
    return body + luhn_digit(body)


def make_finess(department: str, sequence: int) -> str:
    """Bench FINESS: department (2 digits) + '9' + 5-digit sequence + Luhn digit."""
    body = f"{department}9{sequence:05d}"
    return body + luhn_digit(body)


def make_siret(sequence: int) -> str:
    """Bench SIRET (14 digits, Luhn like real ones): '999' + 10-digit sequence + Luhn digit."""
    body = f"999{sequence:010d}"
    return body + luhn_digit(body)


@cache
def ascii_slug(text: str, sep: str = ".") -> str:
    """'Hélène Le Bihan-Roux' → 'helene.le.bihan-roux' (mailbox local parts, domains)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out, previous = [], ""
    for char in plain:
        keep = char if char.isalnum() or char == "-" else sep
        if keep == sep and previous == sep:
            continue
        out.append(keep)
        previous = keep
    return "".join(out).strip(sep)


# -- model --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mailbox:
    """An MSSanté mailbox as the Annuaire publishes it (telecom + mailbox metadata)."""

    address: str
    kind: str  # PER | ORG | APP | CAB
    owner: str  # national id of the professional (PER) or organisation id
    description: str = ""
    service: str = ""
    responsible: str = ""
    liste_rouge: bool = False
    certificate_cn: str = ""  # APP mailboxes: CN of the certificate that opens it (banc.pki)

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


@dataclass(frozen=True)
class Address:
    line: str
    postal_code: str
    city: str
    insee_code: str = ""
    street_number: str = ""
    street_type: str = ""  # TRE_R35 code (R rue, AV avenue, BD boulevard, …)
    street_name: str = ""

    @property
    def department(self) -> str:
        return self.postal_code[:2]


@dataclass(frozen=True)
class Organisation:
    id: str  # technical id, also the FHIR Organization id
    name: str
    kind: str  # key of ORGANISATION_KINDS
    sector: str  # TRE_R02 code
    address: Address
    finess: str = ""  # FINESS of the site (établissement géographique)
    finess_ej: str = ""  # FINESS of the legal entity
    siret: str = ""
    part_of: str = ""  # parent organisation id (hospital services)
    phone: str = ""
    mailboxes: tuple[Mailbox, ...] = ()
    last_updated: date = date(2024, 1, 1)

    @property
    def national_id(self) -> str:
        """Identifiant national de structure: '1'+FINESS, else '3'+SIRET (CI-SIS)."""
        if self.finess:
            return "1" + self.finess
        return "3" + self.siret if self.siret else ""

    @property
    def technical_id(self) -> str:
        """`identifiantTechniqueDeLaStructure` as the directory and PSC show it."""
        return "F" + self.finess if self.finess else "R" + (self.siret[3:13].lstrip("0") or "0")

    @property
    def finess_category(self) -> str:
        return FINESS_CATEGORIES.get(self.kind, "")

    @property
    def kind_label(self) -> str:
        return ORGANISATION_KINDS[self.kind]

    @property
    def sector_label(self) -> str:
        return SECTORS[self.sector]


@dataclass(frozen=True)
class Activity:
    """One situation d'exercice: where and how a professional works (a PractitionerRole)."""

    organisation: str  # Organisation.id
    mode: str  # TRE_R23: L libéral, S salarié, B bénévole
    role: str = ""  # free label for humans: "médecin traitant", "infirmière coordinatrice"…


@dataclass(frozen=True)
class Professional:
    rpps: str
    family: str  # nom d'exercice, upper case as in the directory
    given: str
    sex: str  # M | F
    profession: str  # TRE_G15 code
    activities: tuple[Activity, ...]
    specialty: str = ""  # TRE_R38 code (médecins)
    mailbox: Mailbox | None = None
    active: bool = True
    last_updated: date = date(2024, 1, 1)

    @property
    def national_id(self) -> str:
        """Identification nationale PP = '8' + RPPS (PSC SubjectNameID, CDA author id)."""
        return "8" + self.rpps

    @property
    def civility(self) -> str:
        """TRE_R81 civilité: M / MME."""
        return "M" if self.sex == "M" else "MME"

    @property
    def practice_civility(self) -> str:
        """TRE_R11 civilité d'exercice: DR for physicians and pharmacists, else none."""
        return "DR" if self.profession in ("10", "21") else ""

    @property
    def profession_label(self) -> str:
        return PROFESSIONS[self.profession][0]

    @property
    def category(self) -> str:
        return PROFESSIONS[self.profession][1]

    @property
    def specialty_label(self) -> str:
        return SPECIALTIES.get(self.specialty, "")

    @property
    def display_name(self) -> str:
        title = "Dr " if self.practice_civility == "DR" else ""
        return f"{title}{self.given} {self.family}"


@dataclass
class Directory:
    """All professionals and organisations, indexed; build with `build_directory`."""

    seed: int
    professionals: list[Professional]
    organisations: list[Organisation]
    named: dict[str, Professional | Organisation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_rpps = {p.rpps: p for p in self.professionals}
        self._orgs = {o.id: o for o in self.organisations}
        self._orgs_by_finess = {o.finess: o for o in self.organisations if o.finess}
        self._mailboxes: dict[str, Mailbox] = {}
        for org in self.organisations:
            for box in org.mailboxes:
                self._mailboxes[box.address] = box
        for prof in self.professionals:
            if prof.mailbox is not None:
                self._mailboxes[prof.mailbox.address] = prof.mailbox
        self._members: dict[str, list[Professional]] = {}
        for prof in self.professionals:
            for activity in prof.activities:
                self._members.setdefault(activity.organisation, []).append(prof)

    # -- look-ups ---------------------------------------------------------------------------
    def professional(self, identifier: str) -> Professional | None:
        """By RPPS (11 digits) or national id ('8' + RPPS)."""
        if len(identifier) == 12 and identifier.startswith("8"):
            identifier = identifier[1:]
        return self._by_rpps.get(identifier)

    def organisation(self, identifier: str) -> Organisation | None:
        """By technical id, FINESS or national structure id ('1' + FINESS)."""
        found = self._orgs.get(identifier) or self._orgs_by_finess.get(identifier)
        if found is None and identifier.startswith("1"):
            found = self._orgs_by_finess.get(identifier[1:])
        return found

    def mailbox(self, address: str) -> Mailbox | None:
        return self._mailboxes.get(address.strip().lower())

    def mailboxes(self, kind: str | None = None) -> list[Mailbox]:
        """Every mailbox the MSSanté mock must host (optionally one kind), sorted by address."""
        boxes = self._mailboxes.values()
        return sorted((b for b in boxes if kind is None or b.kind == kind), key=lambda b: b.address)

    def domains(self) -> list[str]:
        return sorted({b.domain for b in self._mailboxes.values()})

    def members(self, organisation_id: str) -> list[Professional]:
        return list(self._members.get(organisation_id, ()))

    def owner(self, mailbox: Mailbox) -> Professional | Organisation | None:
        if mailbox.kind == "PER":
            return self.professional(mailbox.owner)
        return self.organisation(mailbox.owner)

    # -- named parties ----------------------------------------------------------------------
    def person(self, name: str) -> Professional:
        found = self.named[name]
        if not isinstance(found, Professional):
            raise KeyError(f"{name!r} n'est pas un professionnel")
        return found

    def structure(self, name: str) -> Organisation:
        found = self.named[name]
        if not isinstance(found, Organisation):
            raise KeyError(f"{name!r} n'est pas une structure")
        return found

    @property
    def gp(self) -> Professional:
        """The usager's médecin traitant (scenario 2 sender)."""
        return self.person("medecin_traitant")

    @property
    def hospital_service(self) -> Organisation:
        """The hospital discharge service (scenario 1 sender)."""
        return self.structure("service_sortie")

    @property
    def ssiad(self) -> Organisation:
        """The SSIAD whose DUI is under test."""
        return self.structure("ssiad")

    @property
    def ssiad_app_mailbox(self) -> Mailbox:
        return next(b for b in self.ssiad.mailboxes if b.kind == "APP")


# -- named parties (fixed values) -----------------------------------------------------------
_DOMAIN_CH = "ch-riom-limagne.mssante.fr"
_DOMAIN_SSIAD = "ssiad-val-de-morge.mssante.fr"
_STAMP = date(2024, 1, 1)


def _named_rpps(n: int) -> str:
    body = f"9990000{n:03d}"
    return body + luhn_digit(body)


def _named() -> tuple[dict[str, Professional | Organisation], list[Organisation], list[Professional]]:
    riom = ("63200", "Riom", "63300")
    ch = Organisation(
        id="org-ch-riom", name="CENTRE HOSPITALIER DE RIOM-LIMAGNE", kind="CH", sector="SA01",
        address=Address("12 boulevard Étienne Clémentel", riom[0], riom[1], riom[2], "12", "BD",
                        "ETIENNE CLEMENTEL"),
        finess=make_finess("63", 1), finess_ej=make_finess("63", 2), phone="0473000001",
        mailboxes=(Mailbox(f"secretariat.direction@{_DOMAIN_CH}", "ORG", "org-ch-riom",
                           "Secrétariat de direction"),),
        last_updated=_STAMP,
    )
    service = Organisation(
        id="org-ch-riom-geriatrie", name="CH RIOM-LIMAGNE - MEDECINE GERIATRIQUE", kind="SERVICE",
        sector="SA01", address=ch.address, finess=make_finess("63", 3), finess_ej=ch.finess_ej,
        part_of=ch.id, phone="0473000120",
        mailboxes=(Mailbox(f"medecine.geriatrique@{_DOMAIN_CH}", "ORG", "org-ch-riom-geriatrie",
                           "Service de médecine gériatrique - sorties", "Médecine gériatrique",
                           "Cadre de santé du service"),),
        last_updated=_STAMP,
    )
    cabinet = Organisation(
        id="org-cabinet-domes", name="CABINET MEDICAL DES DOMES", kind="CABINET", sector="SA08",
        address=Address("3 rue des Volcans", "63460", "Combronde", "63116", "3", "R", "DES VOLCANS"),
        siret=make_siret(100), phone="0473000200",
        mailboxes=(Mailbox("cabinet.des.domes@medecin.mssante.fr", "CAB", "org-cabinet-domes",
                           "Secrétariat du cabinet médical des Dômes"),),
        last_updated=_STAMP,
    )
    ssiad = Organisation(
        id="org-ssiad-morge", name="SSIAD DU VAL DE MORGE", kind="SSIAD", sector="SA17",
        address=Address("8 place de la Mairie", "63460", "Combronde", "63116", "8", "PL",
                        "DE LA MAIRIE"),
        finess=make_finess("63", 10), finess_ej=make_finess("63", 11), phone="0473000300",
        mailboxes=(
            Mailbox(f"secretariat@{_DOMAIN_SSIAD}", "ORG", "org-ssiad-morge",
                    "Secrétariat du SSIAD", "Soins infirmiers à domicile",
                    "Infirmière coordinatrice"),
            Mailbox(f"dui@{_DOMAIN_SSIAD}", "APP", "org-ssiad-morge",
                    "Logiciel DUI du SSIAD (boîte applicative)", "Soins infirmiers à domicile",
                    "Infirmière coordinatrice", certificate_cn="BAL-APPLICATIVE-SSIAD"),
        ),
        last_updated=_STAMP,
    )
    saad = Organisation(
        id="org-saad-combrailles", name="SAAD AIDE A DOMICILE DES COMBRAILLES", kind="SAAD",
        sector="SA41",
        address=Address("21 avenue de la Gare", "63390", "Saint-Gervais-d'Auvergne", "63354",
                        "21", "AV", "DE LA GARE"),
        finess=make_finess("63", 20), finess_ej=make_finess("63", 21), phone="0473000400",
        mailboxes=(Mailbox("accueil@saad-combrailles.mssante.fr", "ORG", "org-saad-combrailles",
                           "Accueil du SAAD"),),
        last_updated=_STAMP,
    )
    spasad = Organisation(
        id="org-spasad-limagne", name="SPASAD DE LA LIMAGNE", kind="SPASAD", sector="SA41",
        address=Address("5 rue du Commerce", riom[0], riom[1], riom[2], "5", "R", "DU COMMERCE"),
        finess=make_finess("63", 30), finess_ej=make_finess("63", 31), phone="0473000500",
        mailboxes=(Mailbox("coordination@spasad-limagne.mssante.fr", "ORG", "org-spasad-limagne",
                           "Coordination du SPASAD"),),
        last_updated=_STAMP,
    )

    def person(n: int, family: str, given: str, sex: str, profession: str, specialty: str,
               activities: tuple[Activity, ...], address: str) -> Professional:
        rpps = _named_rpps(n)
        box = Mailbox(address, "PER", "8" + rpps)
        return Professional(rpps, family, given, sex, profession, activities, specialty, box,
                            last_updated=_STAMP)

    gp = person(1, "VIDAL", "Hélène", "F", "10", "SM54",
                (Activity(cabinet.id, "L", "médecin traitant"),), "helene.vidal@medecin.mssante.fr")
    geriatrician = person(2, "GARNIER", "Paul", "M", "10", "SM18",
                          (Activity(service.id, "S", "médecin responsable de la sortie"),),
                          f"paul.garnier@{_DOMAIN_CH}")
    idec = person(3, "FAURE", "Camille", "F", "60", "",
                  (Activity(ssiad.id, "S", "infirmière coordinatrice"),),
                  f"camille.faure@{_DOMAIN_SSIAD}")
    nurse = person(4, "BERNARD", "Sophie", "F", "60", "",
                   (Activity(cabinet.id, "L", "infirmière libérale"),
                    Activity(ssiad.id, "L", "infirmière libérale conventionnée")),
                   "sophie.bernard@infirmier.mssante.fr")
    hospital_nurse = person(5, "ROUX", "Julien", "M", "60", "",
                            (Activity(service.id, "S", "infirmier du service"),),
                            f"julien.roux@{_DOMAIN_CH}")
    named: dict[str, Professional | Organisation] = {
        "medecin_traitant": gp,
        "medecin_hospitalier": geriatrician,
        "infirmiere_coordinatrice": idec,
        "infirmiere_liberale": nurse,
        "infirmier_hospitalier": hospital_nurse,
        "centre_hospitalier": ch,
        "service_sortie": service,
        "cabinet_medecin_traitant": cabinet,
        "ssiad": ssiad,
        "saad": saad,
        "spasad": spasad,
    }
    orgs = [ch, service, cabinet, ssiad, saad, spasad]
    people = [gp, geriatrician, idec, nurse, hospital_nurse]
    return named, orgs, people


# -- generation -----------------------------------------------------------------------------
_DEPARTMENTS = {  # department: [(postal code, city, INSEE code)]
    "63": [("63000", "Clermont-Ferrand", "63113"), ("63100", "Clermont-Ferrand", "63113"),
           ("63500", "Issoire", "63178"), ("63300", "Thiers", "63430")],
    "03": [("03000", "Moulins", "03190"), ("03100", "Montluçon", "03185"),
           ("03200", "Vichy", "03310")],
    "69": [("69003", "Lyon", "69383"), ("69100", "Villeurbanne", "69266")],
    "75": [("75011", "Paris", "75111"), ("75015", "Paris", "75115")],
    "33": [("33000", "Bordeaux", "33063"), ("33700", "Mérignac", "33281")],
    "59": [("59000", "Lille", "59350"), ("59100", "Roubaix", "59512")],
}
_STREETS = [("R", "rue"), ("AV", "avenue"), ("BD", "boulevard"), ("PL", "place"), ("CHE", "chemin")]
_ORG_MIX = [("CABINET", 62), ("PHARMACIE", 8), ("CH", 6), ("SSIAD", 10), ("SAAD", 8), ("SPASAD", 6)]
_PRO_MIX = {  # organisation kind → [(profession, specialty, weight)]
    "CABINET": [("10", "SM54", 55), ("10", "SM26", 5), ("10", "SM04", 4), ("10", "SM32", 2),
                ("60", "", 24), ("70", "", 10)],
    "PHARMACIE": [("21", "", 100)],
    "SERVICE": [("10", "SM18", 20), ("10", "SM27", 20), ("10", "SM04", 15), ("60", "", 45)],
    "SSIAD": [("60", "", 100)],
    "SAAD": [("60", "", 100)],
    "SPASAD": [("60", "", 100)],
}
_HOSPITAL_SERVICES = ["MEDECINE INTERNE", "CARDIOLOGIE", "GERIATRIE", "NEUROLOGIE", "URGENCES"]


class _Names:
    """Name pools drawn once from Faker fr_FR (seeded), combined with `random` afterwards."""

    def __init__(self, seed: int) -> None:
        from faker import Faker  # imported lazily: building a directory is rarely needed at import

        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        self.families = sorted({fake.last_name().upper() for _ in range(1500)})
        self.male = sorted({fake.first_name_male() for _ in range(400)})
        self.female = sorted({fake.first_name_female() for _ in range(400)})
        self.streets = sorted({fake.last_name() for _ in range(300)})


def _weighted(rng: random.Random, items: list[tuple]) -> tuple:
    return rng.choices(items, cum_weights=_cumulative(tuple(items)))[0]


@cache
def _cumulative(items: tuple[tuple, ...]) -> list[int]:
    return list(accumulate(item[-1] for item in items))


def build_directory(seed: int = DEFAULT_SEED, practitioners: int = DEFAULT_PRACTITIONERS) -> Directory:
    """The named parties plus about `practitioners` generated professionals (deterministic)."""
    rng = random.Random(seed)
    names = _Names(seed)
    named, organisations, professionals = _named()
    used_addresses = {p.mailbox.address for p in professionals if p.mailbox}
    base_day = date(2023, 1, 1)
    finess_seq = 100

    def stamp() -> date:
        return base_day + timedelta(days=rng.randrange(730))

    def address() -> Address:
        department = rng.choice(sorted(_DEPARTMENTS))
        postal, city, insee = rng.choice(_DEPARTMENTS[department])
        number = str(rng.randrange(1, 120))
        street_type, street_label = rng.choice(_STREETS)
        street = f"{rng.choice(names.streets)}"
        return Address(f"{number} {street_label} {street}", postal, city, insee, number,
                       street_type, street.upper())

    # organisations: roughly one per 8 practitioners; hospitals get 3 services each
    generated: list[tuple[Organisation, str]] = []  # (org, kind used for staffing)
    target = max(6, practitioners // 8)
    index = 0
    while len(generated) < target:
        index += 1
        kind = _weighted(rng, _ORG_MIX)[0]
        place = address()
        org_id = f"org-{index:06d}"
        if kind == "CABINET":
            family = rng.choice(names.families)
            org = Organisation(
                org_id, f"CABINET {family}", kind, rng.choice(["SA07", "SA08"]), place,
                siret=make_siret(index),
                phone=f"04{rng.randrange(10**8):08d}", last_updated=stamp())
            generated.append((org, kind))
            continue
        finess_seq += 2
        finess = make_finess(place.department, finess_seq % 100000)
        finess_ej = make_finess(place.department, (finess_seq + 1) % 100000)
        city_slug = ascii_slug(place.city, "-")
        if kind == "CH":
            domain = f"ch-{city_slug}-{index}.mssante.fr"
            hospital = Organisation(
                org_id, f"CENTRE HOSPITALIER DE {place.city.upper()} {index}", kind, "SA01",
                place, finess, finess_ej, phone=f"04{rng.randrange(10**8):08d}",
                mailboxes=(Mailbox(f"direction@{domain}", "ORG", org_id, "Direction"),),
                last_updated=stamp())
            generated.append((hospital, kind))
            for number, label in enumerate(rng.sample(_HOSPITAL_SERVICES, 3), start=1):
                sid = f"{org_id}-s{number}"
                slug = ascii_slug(label, "-")
                finess_seq += 1
                generated.append((Organisation(
                    sid, f"{hospital.name} - {label}", "SERVICE", "SA01", place,
                    make_finess(place.department, finess_seq % 100000), finess_ej, part_of=org_id,
                    mailboxes=(Mailbox(f"{slug}@{domain}", "ORG", sid, f"Service {label.lower()}",
                                       label.capitalize()),),
                    last_updated=stamp()), "SERVICE"))
            continue
        label = {"PHARMACIE": "PHARMACIE", "SSIAD": "SSIAD", "SAAD": "SAAD",
                 "SPASAD": "SPASAD"}[kind]
        family = rng.choice(names.families)
        sector = {"PHARMACIE": "SA33", "SSIAD": "SA17"}.get(kind, "SA41")
        domain = f"{label.lower()}-{ascii_slug(family, '-')}-{index}.mssante.fr"
        boxes = (Mailbox(f"secretariat@{domain}", "ORG", org_id, f"Secrétariat {label}"),)
        if kind in ("SSIAD", "SPASAD") and rng.random() < 0.5:
            boxes += (Mailbox(f"dui@{domain}", "APP", org_id, "Logiciel DUI"),)
        generated.append((Organisation(
            org_id, f"{label} {family} {place.city.upper()}", kind, sector, place, finess,
            finess_ej, phone=f"04{rng.randrange(10**8):08d}", mailboxes=boxes,
            last_updated=stamp()), kind))
    staffed = [(org, kind) for org, kind in generated if kind != "CH"]
    organisations.extend(org for org, _ in generated)

    # professionals
    for sequence in range(1, practitioners + 1):
        org, kind = rng.choice(staffed)
        profession, specialty, _ = _weighted(rng, _PRO_MIX[kind])
        sex = rng.choice("MF")
        given = rng.choice(names.male if sex == "M" else names.female)
        family = rng.choice(names.families)
        mode = "L" if kind == "CABINET" else "S"
        activities = (Activity(org.id, mode),)
        if profession == "60" and kind == "CABINET" and rng.random() < 0.1:
            partner = rng.choice(staffed)[0]
            if partner.kind in ("SSIAD", "SPASAD"):
                activities += (Activity(partner.id, "L"),)
        rpps = make_rpps(1000 + sequence)
        box = None
        if rng.random() < 0.85:
            if mode == "L":
                domain = OPERATOR_DOMAINS[profession]
            else:
                domain = next(iter(org.mailboxes)).domain if org.mailboxes else OPERATOR_DOMAINS[profession]
            local = f"{ascii_slug(given)}.{ascii_slug(family)}"
            candidate = f"{local}@{domain}"
            if candidate in used_addresses:
                candidate = f"{local}.{sequence}@{domain}"
            used_addresses.add(candidate)
            box = Mailbox(candidate, "PER", "8" + rpps, liste_rouge=rng.random() < 0.03)
        professionals.append(Professional(
            rpps, family, given, sex, profession, activities, specialty, box,
            active=rng.random() > 0.02, last_updated=stamp()))
    return Directory(seed, professionals, organisations, named)


@cache
def default_directory(seed: int = DEFAULT_SEED, practitioners: int = DEFAULT_PRACTITIONERS) -> Directory:
    """The directory every mock and the document factory share (built once per process)."""
    return build_directory(seed, practitioners)
