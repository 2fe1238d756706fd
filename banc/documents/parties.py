"""The people and organisations a document names: author, custodian, recipients.

Small frozen dataclasses with exactly what a CDA header needs. `banc.directory` (professionals
and organisations of the simulated Annuaire) converts its records with `from_directory`, so
documents and the directory agree on RPPS, FINESS and MSSanté addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from banc.xds.codes import CS_FACILITY, CS_PRACTICE, CS_RPPS_ADELI, CS_SPECIALTY, CS_STRUCTURE, Code

# Specialty codes (JDV_J01_XdsAuthorSpecialty_CISIS) for the professions the bench uses.
GENERAL_PRACTITIONER = Code(
    "G15_10/SM26", CS_SPECIALTY, "Médecin - Qualifié en Médecine Générale (SM)"
)
GENERAL_PRACTICE_SPECIALTIES = {
    "SM26": GENERAL_PRACTITIONER,
    "SM53": Code("G15_10/SM53", CS_SPECIALTY, "Médecin - Spécialiste en Médecine Générale (SM)"),
    "SM54": Code("G15_10/SM54", CS_SPECIALTY, "Médecin - Médecine Générale (SM)"),
}
"""The physician's savoir-faire codes (TRE_R38 / JDV_J107) that mean general practice, each with
its own author specialty in JDV_J01 ("Qualifié en", "Spécialiste en", "Médecine générale")."""
PHYSICIAN = Code("G15_10", CS_SPECIALTY, "Médecin")
NURSE = Code("G15_60", CS_SPECIALTY, "Infirmier")
PHARMACIST = Code("G15_21", CS_SPECIALTY, "Pharmacien")

MEDICO_SOCIAL_FACILITY = Code(
    "SA41", CS_FACILITY, "Autre établissement du domaine social ou médico-social"
)
HOSPITAL_FACILITY = Code("SA01", CS_FACILITY, "Etablissement public de santé")
CABINET_FACILITY = Code("SA07", CS_FACILITY, "Cabinet individuel")
EHPAD_FACILITY = Code("SA17", CS_FACILITY, "Etablissement pour personnes âgées")
HOSPITAL_PRACTICE = Code("ETABLISSEMENT", CS_PRACTICE, "Etablissement de santé")
AMBULATORY_PRACTICE = Code("AMBULATOIRE", CS_PRACTICE, "Ambulatoire")
HOME_CARE_PRACTICE = Code("SAD", CS_PRACTICE, "Soins à domicile")
ESSMS_PRACTICE = Code("ESSMS", CS_PRACTICE, "Etablissement ou Service Social ou Médico-Social")


@dataclass(frozen=True)
class PostalAddress:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FRANCE"


@dataclass(frozen=True)
class Organization:
    """An organisation: structure id under 1.2.250.1.71.4.2.2 ('1' + FINESS, or '3' + SIRET)."""

    national_id: str
    name: str
    facility_type: Code = MEDICO_SOCIAL_FACILITY
    practice_setting: Code = ESSMS_PRACTICE
    address: PostalAddress = PostalAddress()
    phone: str = ""
    mailbox: str = ""

    @property
    def id_root(self) -> str:
        return CS_STRUCTURE


@dataclass(frozen=True)
class Practitioner:
    """A professional: national id '8' + RPPS under 1.2.250.1.71.4.2.1."""

    national_id: str
    family: str
    given: str
    organization: Organization
    specialty: Code = GENERAL_PRACTITIONER
    civility: str = ""
    """JDV_J245 civilité: M, MME (name prefix)."""
    title: str = ""
    """JDV_J246 titre: DR, PR… (name suffix)."""
    phone: str = ""
    mailbox: str = ""

    @property
    def id_root(self) -> str:
        return CS_RPPS_ADELI

    @property
    def display_name(self) -> str:
        title = {"DR": "Dr ", "PR": "Pr "}.get(self.title, "")
        return f"{title}{self.given} {self.family}"


@dataclass(frozen=True)
class Recipient:
    """An intended recipient (SC.DOC.04.MS1): a practitioner, or an organisation alone."""

    practitioner: Practitioner | None = None
    organization: Organization | None = None

    @property
    def mailbox(self) -> str:
        if self.practitioner is not None and self.practitioner.mailbox:
            return self.practitioner.mailbox
        org = self.organization or (self.practitioner.organization if self.practitioner else None)
        return org.mailbox if org else ""

    @property
    def label(self) -> str:
        if self.practitioner is not None:
            return self.practitioner.display_name
        return self.organization.name if self.organization else ""


_SPECIALTY_BY_PROFESSION = {"10": PHYSICIAN, "60": NURSE, "21": PHARMACIST}


def organization_from_directory(organisation: object) -> Organization:
    """An `Organization` from a `banc.directory.Organisation` record (duck-typed)."""
    return Organization(
        national_id=organisation.national_id,
        name=organisation.name,
        address=PostalAddress(
            street=organisation.address.line,
            postal_code=organisation.address.postal_code,
            city=organisation.address.city,
        ),
        phone=getattr(organisation, "phone", ""),
        mailbox=next((m.address for m in getattr(organisation, "mailboxes", ())), ""),
    )


def from_directory(professional: object, organisation: object) -> Practitioner:
    """A `Practitioner` from `banc.directory.Professional` / `Organisation` records (duck-typed).

    Only attributes are read, so `banc.documents` does not depend on the directory module.
    """
    org = organization_from_directory(organisation)
    specialty = _SPECIALTY_BY_PROFESSION.get(professional.profession, PHYSICIAN)
    if professional.profession == "10":
        specialty = GENERAL_PRACTICE_SPECIALTIES.get(professional.specialty, specialty)
    mailbox = professional.mailbox.address if professional.mailbox else ""
    return Practitioner(
        national_id=professional.national_id,
        family=professional.family,
        given=professional.given,
        organization=org,
        specialty=specialty,
        civility=getattr(professional, "civility", ""),
        title=getattr(professional, "practice_civility", ""),
        mailbox=mailbox,
    )
