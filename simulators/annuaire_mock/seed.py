"""FHIR R4 resources of the Annuaire Santé, built from the shared directory (`banc.directory`).

The shapes follow the "données publiques" profiles of the ANS directory IG (as-dp-practitioner,
as-dp-practitionerrole, as-dp-organization, as-dp-healthcareservice…) and FR Core: identifiers
IDNPS/RPPS and IDNST/FINESS, MSSanté mailboxes as `telecom` with the FR Core email-type extension
(`MSSANTE`) and the `as-ext-mailbox-mss-metadata` extension (type PER/ORG/APP/CAB, description,
service, responsible, listeRouge). Mailboxes on the liste rouge are not public: they are left out.

Builders return plain dicts (fast enough for 100 000 practitioners); `validate` runs them through
the `fhir.resources` R4B models (FHIR 4.3, whose Practitioner/PractitionerRole/Organization/
HealthcareService/Bundle are structurally those of R4 4.0.1, the version of the real API).
"""

from __future__ import annotations

from collections.abc import Iterator

from banc.directory import Directory, Mailbox, Organisation, Professional

IG = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition"
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"
NOS = "https://mos.esante.gouv.fr/NOS"
EXT_EMAIL_TYPE = f"{FR_CORE}/fr-core-contact-point-email-type"
EXT_MAILBOX_METADATA = f"{IG}/as-ext-mailbox-mss-metadata"
EXT_ORGANIZATION_TYPES = f"{IG}/as-ext-organization-types"
CS_EMAIL_TYPE = f"{NOS}/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie"
CS_BAL_TYPE = f"{NOS}/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL"
CS_PROFESSION = f"{NOS}/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
CS_CATEGORY = f"{NOS}/TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle"
CS_SPECIALTY = f"{NOS}/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
CS_MODE = f"{NOS}/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
CS_GENRE = f"{NOS}/TRE_R22-GenreActivite/FHIR/TRE-R22-GenreActivite"
CS_SECTOR = f"{NOS}/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
CS_FINESS_CATEGORY = f"{NOS}/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"
CS_CIVILITY = f"{NOS}/TRE_R81-Civilite/FHIR/TRE-R81-Civilite"
CS_PRACTICE_CIVILITY = f"{NOS}/TRE_R11-CiviliteExercice/FHIR/TRE-R11-CiviliteExercice"
CS_ID_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
CS_ORG_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-3307"
SYSTEM_IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SYSTEM_RPPS = "https://rpps.esante.gouv.fr"
SYSTEM_IDNST = "urn:oid:1.2.250.1.71.4.2.2"
SYSTEM_FINESS = "https://finess.esante.gouv.fr"
SYSTEM_SIRET = "https://sirene.fr"
SOURCE = "https://annuaire.esante.gouv.fr"


def _meta(profile: str, stamp: str) -> dict:
    return {
        "versionId": "1",
        "lastUpdated": f"{stamp}T00:00:00.000+00:00",
        "source": SOURCE,
        "profile": [f"{IG}/{profile}"],
    }


def _identifier(kind: str, system: str, value: str) -> dict:
    return {
        "use": "official",
        "type": {"coding": [{"system": CS_ID_TYPE, "code": kind}]},
        "system": system,
        "value": value,
    }


def _coding(system: str, code: str, display: str = "") -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def mailbox_telecom(box: Mailbox) -> dict:
    """A ContactPoint conforming to the `as-mailbox-mss` datatype profile."""
    metadata = [{"url": "type", "valueCodeableConcept": _coding(CS_BAL_TYPE, box.kind)}]
    for name, value in (("description", box.description), ("service", box.service),
                        ("responsible", box.responsible)):
        if value:
            metadata.append({"url": name, "valueString": value})
    metadata.append({"url": "listeRouge", "valueBoolean": box.liste_rouge})
    return {
        "extension": [
            {"url": EXT_EMAIL_TYPE, "valueCoding": {"system": CS_EMAIL_TYPE, "code": "MSSANTE"}},
            {"url": EXT_MAILBOX_METADATA, "extension": metadata},
        ],
        "system": "email",
        "value": box.address,
    }


def public(box: Mailbox | None) -> bool:
    return box is not None and not box.liste_rouge


def practitioner(prof: Professional) -> dict:
    name: dict = {"use": "usual", "family": prof.family, "given": [prof.given],
                  "prefix": [prof.civility]}
    if prof.practice_civility:
        name["suffix"] = [prof.practice_civility]
    qualifications = [{"code": {"coding": [
        {"system": CS_PROFESSION, "code": prof.profession, "display": prof.profession_label},
        {"system": CS_CATEGORY, "code": prof.category},
    ]}}]
    if prof.specialty:
        qualifications.append({"code": _coding(CS_SPECIALTY, prof.specialty, prof.specialty_label)})
    resource = {
        "resourceType": "Practitioner",
        "id": prof.rpps,
        "meta": _meta("as-dp-practitioner", prof.last_updated.isoformat()),
        "language": "fr",
        "identifier": [
            _identifier("IDNPS", SYSTEM_IDNPS, prof.national_id),
            _identifier("RPPS", SYSTEM_RPPS, prof.rpps),
        ],
        "active": prof.active,
        "name": [name],
        "qualification": qualifications,
    }
    if public(prof.mailbox):
        resource["telecom"] = [mailbox_telecom(prof.mailbox)]
    return resource


def role_id(prof: Professional, index: int) -> str:
    return f"{prof.rpps}-{index + 1}"


def practitioner_roles(prof: Professional) -> Iterator[dict]:
    for index, activity in enumerate(prof.activities):
        resource = {
            "resourceType": "PractitionerRole",
            "id": role_id(prof, index),
            "meta": _meta("as-dp-practitionerrole", prof.last_updated.isoformat()),
            "language": "fr",
            "identifier": [{"system": SYSTEM_RPPS, "value": f"{prof.rpps}-{activity.organisation}"}],
            "active": prof.active,
            "practitioner": {"reference": f"Practitioner/{prof.rpps}"},
            "organization": {"reference": f"Organization/{activity.organisation}"},
            "code": [
                _coding(CS_GENRE, "GENR01"),
                _coding(CS_MODE, activity.mode),
                _coding(CS_PROFESSION, prof.profession, prof.profession_label),
            ],
        }
        if public(prof.mailbox):
            resource["telecom"] = [mailbox_telecom(prof.mailbox)]
        yield resource


def organization(org: Organisation) -> dict:
    identifiers = []
    if org.national_id:
        identifiers.append(_identifier("IDNST", SYSTEM_IDNST, org.national_id))
    if org.finess:
        identifiers.append(_identifier("FINEG", SYSTEM_FINESS, org.finess))
    if org.siret:
        identifiers.append(_identifier("SIRET", SYSTEM_SIRET, org.siret))
    types = [
        {"extension": [{"url": EXT_ORGANIZATION_TYPES, "valueCode": "organizationType"}],
         "coding": [{"system": CS_ORG_TYPE, "code": "GEOGRAPHICAL-ENTITY"}]},
        {"extension": [{"url": EXT_ORGANIZATION_TYPES, "valueCode": "secteurActiviteRASS"}],
         "coding": [{"system": CS_SECTOR, "code": org.sector, "display": org.sector_label}]},
    ]
    if org.finess_category:
        types.append({
            "extension": [{"url": EXT_ORGANIZATION_TYPES, "valueCode": "categorieEtablissement"}],
            "coding": [{"system": CS_FINESS_CATEGORY, "code": org.finess_category}],
        })
    address = org.address
    resource = {
        "resourceType": "Organization",
        "id": org.id,
        "meta": _meta("as-dp-organization", org.last_updated.isoformat()),
        "language": "fr",
        "identifier": identifiers,
        "active": True,
        "type": types,
        "name": org.name,
        "address": [{
            "use": "work",
            "line": [address.line],
            "city": address.city,
            "postalCode": address.postal_code,
            "country": "FRA",
        }],
    }
    telecom = [mailbox_telecom(b) for b in org.mailboxes if public(b)]
    if org.phone:
        telecom.insert(0, {"system": "phone", "value": org.phone})
    if telecom:
        resource["telecom"] = telecom
    if org.part_of:
        resource["partOf"] = {"reference": f"Organization/{org.part_of}"}
    return resource


def healthcare_service(org: Organisation) -> dict | None:
    """ESSMS and hospital services carry an activity (équipement social / activité de soins)."""
    if org.kind not in ("SSIAD", "SAAD", "SPASAD", "SERVICE"):
        return None
    return {
        "resourceType": "HealthcareService",
        "id": f"hs-{org.id}",
        "meta": _meta("as-dp-healthcareservice-social-equipment"
                      if org.kind != "SERVICE" else "as-dp-healthcareservice-healthcare-activity",
                      org.last_updated.isoformat()),
        "language": "fr",
        "identifier": [{"system": SYSTEM_FINESS, "value": f"{org.finess}-{org.kind}"}],
        "active": True,
        "providedBy": {"reference": f"Organization/{org.id}"},
        "name": f"{org.kind_label} - {org.name}",
    }


def resources(directory: Directory) -> Iterator[dict]:
    """Every resource of the directory, organisations first (references resolve in order)."""
    for org in directory.organisations:
        yield organization(org)
        service = healthcare_service(org)
        if service is not None:
            yield service
    for prof in directory.professionals:
        yield practitioner(prof)
        yield from practitioner_roles(prof)


def validate(resource: dict) -> None:
    """Raise if `resource` does not parse as its FHIR model (fhir.resources, R4B)."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
