"""The CDA R2 header every generated document shares (CI-SIS "structuration minimale").

One builder writes the header elements in the order the CDA schema requires; volet modules add
their templateIds, code, service event and body. The patient's INS goes into
`recordTarget/patientRole/id` only for a *qualified* identity (RNIV rule, `banc.identity`):
other identities carry only the service's local id (IPP).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from faker import Faker
from lxml import etree

from banc.documents.parties import Organization, Practitioner, Recipient
from banc.identity import Identity, cda_id
from banc.xds.codes import CONF_NORMAL, Code

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
H = f"{{{HL7}}}"
NSMAP = {None: HL7, "xsi": XSI}

BANC_OID = "1.2.250.1.999.7898"
"""Root of the identifiers the bench mints (test arc, as in the ANS examples)."""
DOCUMENT_ID_ROOT = f"{BANC_OID}.1"
SET_ID_ROOT = f"{BANC_OID}.2"
IPP_ROOT = f"{BANC_OID}.3"
SERVICE_EVENT_ROOT = f"{BANC_OID}.4"


def paris_zone() -> timezone:
    """Europe/Paris when the platform has time-zone data (Windows may not), else UTC+1."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Paris")  # type: ignore[return-value]
    except Exception:
        return timezone(timedelta(hours=1))


def ts(moment: datetime, precision: str = "second") -> str:
    """HL7 TS with its offset (`20240105143000+0100`), or a plain date for `precision="day"`."""
    if precision == "day":
        return moment.strftime("%Y%m%d")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=paris_zone())
    return moment.strftime("%Y%m%d%H%M%S%z")


@dataclass(frozen=True)
class DocumentContext:
    """Everything a generator needs besides its clinical content."""

    identity: Identity
    author: Practitioner
    when: datetime
    seed: int = 0
    recipients: tuple[Recipient, ...] = ()
    legal_authenticator: Practitioner | None = None
    confidentiality: Code = CONF_NORMAL
    set_id: str | None = None
    version: int = 1
    replaces: str | None = None
    """`root^extension` (or root) of the document this version replaces (relatedDocument RPLC)."""
    ipp: str | None = None
    patient_address: tuple[str, str, str] = ("", "", "")
    extra: dict = field(default_factory=dict)

    def rng(self, salt: str = "") -> random.Random:
        return random.Random(
            f"{self.seed}:{self.identity.matricule or self.identity.birth_name}:{salt}"
        )


def sub(
    parent: etree._Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None
) -> etree._Element:
    element = etree.SubElement(parent, H + tag, attrs or {})
    if text is not None:
        element.text = text
    return element


def code_el(parent: etree._Element, tag: str, code: Code, **extra: str) -> etree._Element:
    attrs = {"code": code.code, "codeSystem": code.scheme}
    if code.display:
        attrs["displayName"] = code.display
    attrs.update(extra)
    return sub(parent, tag, attrs)


def _split_id(value: str) -> dict[str, str]:
    root, _, ext = value.partition("^")
    return {"root": root, "extension": ext} if ext else {"root": root}


def _address(
    parent: etree._Element, street: str, postal_code: str, city: str, country: str = ""
) -> None:
    addr = sub(parent, "addr")
    if not (street or postal_code or city):
        addr.set("nullFlavor", "UNK")
        return
    number, _, rest = street.partition(" ")
    if number.isdigit() and rest:
        sub(addr, "houseNumber", text=number)
        street = rest
    if street:
        sub(addr, "streetName", text=street)
    if postal_code:
        sub(addr, "postalCode", text=postal_code)
    if city:
        sub(addr, "city", text=city)
    if country:
        sub(addr, "country", text=country)


def _telecom(parent: etree._Element, phone: str, mailbox: str = "") -> None:
    if phone:
        sub(parent, "telecom", {"value": f"tel:{phone}", "use": "WP"})
    if mailbox:
        sub(parent, "telecom", {"value": f"mailto:{mailbox}"})
    if not phone and not mailbox:
        sub(parent, "telecom", {"nullFlavor": "NASK"})


def organization_el(parent: etree._Element, tag: str, org: Organization) -> etree._Element:
    element = sub(parent, tag)
    sub(element, "id", {"root": org.id_root, "extension": org.national_id})
    sub(element, "name", text=org.name)
    _telecom(element, org.phone)
    _address(element, org.address.street, org.address.postal_code, org.address.city)
    return element


def person_name(parent: etree._Element, tag: str, person: Practitioner) -> None:
    holder = sub(parent, tag)
    _name(sub(holder, "name"), person)


def _name(name: etree._Element, person: Practitioner) -> None:
    if person.civility:
        sub(name, "prefix", text=person.civility)
    sub(name, "given", text=person.given)
    sub(name, "family", text=person.family)
    if person.title:
        sub(name, "suffix", text=person.title)


def assigned_entity(
    parent: etree._Element,
    tag: str,
    person: Practitioner,
    *,
    with_code: bool = True,
    organization: bool = True,
) -> etree._Element:
    entity = sub(parent, tag)
    sub(entity, "id", {"root": person.id_root, "extension": person.national_id})
    if with_code:
        code_el(entity, "code", person.specialty)
    _address(
        entity,
        person.organization.address.street,
        person.organization.address.postal_code,
        person.organization.address.city,
    )
    _telecom(entity, person.phone or person.organization.phone, person.mailbox)
    person_name(entity, "assignedPerson", person)
    if organization:
        organization_el(entity, "representedOrganization", person.organization)
    return entity


_FAKER: Faker | None = None


def patient_address(ctx: DocumentContext) -> tuple[str, str, str]:
    """The patient's postal address: the context's, else a Faker `fr_FR` one seeded by the context."""
    if any(ctx.patient_address):
        return ctx.patient_address
    global _FAKER
    if _FAKER is None:
        _FAKER = Faker("fr_FR")
    _FAKER.seed_instance(f"{ctx.seed}:{ctx.identity.matricule or ctx.identity.birth_name}")
    return (
        f"{_FAKER.building_number()} {_FAKER.street_name()}",
        _FAKER.postcode(),
        _FAKER.city().upper(),
    )


def _patient(parent: etree._Element, ctx: DocumentContext) -> None:
    identity = ctx.identity
    role = sub(sub(parent, "recordTarget"), "patientRole")
    if identity.carries_ins:
        sub(role, "id", cda_id(identity.ins or "", identity.oid))
    ipp = ctx.ipp or f"{ctx.rng('ipp').randrange(10**9, 10**10)}"
    sub(role, "id", {"root": IPP_ROOT, "extension": ipp})
    street, postal_code, city = patient_address(ctx)
    _address(role, street, postal_code, city, "FRANCE" if city else "")
    sub(role, "telecom", {"nullFlavor": "NASK"})
    patient = sub(role, "patient", {"classCode": "PSN"})
    name = sub(patient, "name")
    sub(name, "family", {"qualifier": "BR"}, identity.birth_name)
    sub(name, "given", text=" ".join(identity.first_names))
    sub(name, "given", {"qualifier": "BR"}, identity.first_name)
    sub(name, "family", {"qualifier": "CL"}, identity.used_name or identity.birth_name)
    sub(name, "given", {"qualifier": "CL"}, identity.first_name)
    code_el(
        patient,
        "administrativeGenderCode",
        Code(
            identity.sex, "2.16.840.1.113883.5.1", "Masculin" if identity.sex == "M" else "Féminin"
        ),
    )
    sub(patient, "birthTime", {"value": identity.birth_date.strftime("%Y%m%d")})
    if identity.birth_place:
        addr = sub(sub(sub(patient, "birthplace"), "place"), "addr")
        sub(addr, "county", text=identity.birth_place)


@dataclass(frozen=True)
class HeaderSpec:
    """What a volet decides about its header."""

    templates: tuple[tuple[str, str | None], ...]
    code: Code
    title: str
    service_event: Code | None = None
    service_start: datetime | None = None
    service_end: datetime | None = None
    encounter_code: Code | None = None
    encounter_start: datetime | None = None
    encounter_end: datetime | None = None
    performer: Practitioner | None = None
    attending: Practitioner | None = None
    """Médecin traitant, written as `participant[@typeCode='INF']` with functionCode PCP."""


def document_id(ctx: DocumentContext, salt: str = "doc") -> str:
    rng = ctx.rng(f"{salt}:{ctx.version}:{ctx.when.isoformat()}")
    return f"{DOCUMENT_ID_ROOT}^{rng.getrandbits(60)}"


def build_header(ctx: DocumentContext, spec: HeaderSpec) -> etree._Element:
    """A ClinicalDocument holding the full header; the caller appends `component`."""
    root = etree.Element(H + "ClinicalDocument", nsmap=NSMAP)
    sub(root, "realmCode", {"code": "FR"})
    sub(root, "typeId", {"root": "2.16.840.1.113883.1.3", "extension": "POCD_HD000040"})
    sub(root, "templateId", {"root": "2.16.840.1.113883.2.8.2.1"})
    sub(root, "templateId", {"root": "1.2.250.1.213.1.1.1.1"})
    for template, extension in spec.templates:
        sub(
            root,
            "templateId",
            {"root": template, **({"extension": extension} if extension else {})},
        )
    sub(root, "id", _split_id(document_id(ctx)))
    code_el(root, "code", spec.code)
    sub(root, "title", text=spec.title)
    sub(root, "effectiveTime", {"value": ts(ctx.when)})
    code_el(root, "confidentialityCode", ctx.confidentiality)
    sub(root, "languageCode", {"code": "fr-FR"})
    set_id = ctx.set_id or f"{SET_ID_ROOT}^{ctx.rng('set').getrandbits(60)}"
    sub(root, "setId", _split_id(set_id))
    sub(root, "versionNumber", {"value": str(ctx.version)})
    _patient(root, ctx)
    author = sub(root, "author")
    sub(author, "time", {"value": ts(ctx.when)})
    assigned_entity(author, "assignedAuthor", ctx.author)
    custodian = sub(sub(root, "custodian"), "assignedCustodian")
    organization_el(custodian, "representedCustodianOrganization", ctx.author.organization)
    for recipient in ctx.recipients:
        _recipient(root, recipient)
    legal = ctx.legal_authenticator or ctx.author
    auth = sub(root, "legalAuthenticator")
    sub(auth, "time", {"value": ts(ctx.when)})
    sub(auth, "signatureCode", {"code": "S"})
    entity = sub(auth, "assignedEntity")
    sub(entity, "id", {"root": legal.id_root, "extension": legal.national_id})
    person_name(entity, "assignedPerson", legal)
    if spec.attending is not None:
        _attending(root, ctx, spec.attending)
    _documentation_of(root, ctx, spec)
    if ctx.replaces:
        related = sub(root, "relatedDocument", {"typeCode": "RPLC"})
        parent = sub(related, "parentDocument")
        sub(parent, "id", _split_id(ctx.replaces))
        sub(parent, "setId", _split_id(set_id))
        sub(parent, "versionNumber", {"value": str(max(ctx.version - 1, 1))})
    _component_of(root, ctx, spec)
    return root


def _recipient(root: etree._Element, recipient: Recipient) -> None:
    info = sub(root, "informationRecipient", {"typeCode": "PRCP"})
    intended = sub(info, "intendedRecipient")
    person = recipient.practitioner
    if person is not None:
        sub(intended, "id", {"root": person.id_root, "extension": person.national_id})
        _telecom(intended, "", recipient.mailbox)
        _name(sub(sub(intended, "informationRecipient"), "name"), person)
        org = person.organization
    else:
        org = recipient.organization
        _telecom(intended, "", recipient.mailbox)
    if org is not None:
        received = sub(intended, "receivedOrganization")
        sub(received, "id", {"root": org.id_root, "extension": org.national_id})
        sub(received, "name", text=org.name)


def _attending(root: etree._Element, ctx: DocumentContext, person: Practitioner) -> None:
    participant = sub(root, "participant", {"typeCode": "INF"})
    code_el(participant, "functionCode", Code("PCP", "2.16.840.1.113883.5.88", "Médecin traitant"))
    time = sub(participant, "time")
    time.set(f"{{{XSI}}}type", "IVL_TS")
    sub(time, "low", {"value": ts(ctx.when, "day")})
    entity = sub(participant, "associatedEntity", {"classCode": "PROV"})
    sub(entity, "id", {"root": person.id_root, "extension": person.national_id})
    org = person.organization
    _address(entity, org.address.street, org.address.postal_code, org.address.city)
    _telecom(entity, person.phone or org.phone, person.mailbox)
    _name(sub(sub(entity, "associatedPerson"), "name"), person)
    scoping = sub(entity, "scopingOrganization")
    sub(scoping, "id", {"root": org.id_root, "extension": org.national_id})
    sub(scoping, "name", text=org.name)


def attending_of(ctx: DocumentContext) -> Practitioner:
    """The médecin traitant: `extra["medecin_traitant"]`, else the first recipient practitioner."""
    chosen = ctx.extra.get("medecin_traitant")
    if chosen is None:
        chosen = next(
            (r.practitioner for r in ctx.recipients if r.practitioner is not None), ctx.author
        )
    return chosen


def _documentation_of(root: etree._Element, ctx: DocumentContext, spec: HeaderSpec) -> None:
    event = sub(sub(root, "documentationOf"), "serviceEvent")
    sub(
        event,
        "id",
        {"root": SERVICE_EVENT_ROOT, "extension": str(ctx.rng("event").getrandbits(40))},
    )
    if spec.service_event is not None:
        code_el(event, "code", spec.service_event)
    times = sub(event, "effectiveTime")
    sub(times, "low", {"value": ts(spec.service_start or ctx.when)})
    sub(times, "high", {"value": ts(spec.service_end or ctx.when)})
    performer_person = spec.performer or ctx.author
    performer = sub(event, "performer", {"typeCode": "PRF"})
    entity = sub(performer, "assignedEntity")
    sub(entity, "id", {"root": performer_person.id_root, "extension": performer_person.national_id})
    code_el(entity, "code", performer_person.specialty)
    person_name(entity, "assignedPerson", performer_person)
    org = sub(entity, "representedOrganization")
    sub(
        org,
        "id",
        {
            "root": performer_person.organization.id_root,
            "extension": performer_person.organization.national_id,
        },
    )
    sub(org, "name", text=performer_person.organization.name)
    code_el(org, "standardIndustryClassCode", performer_person.organization.practice_setting)


def _component_of(root: etree._Element, ctx: DocumentContext, spec: HeaderSpec) -> None:
    encounter = sub(sub(root, "componentOf"), "encompassingEncounter")
    if spec.encounter_code is not None:
        code_el(encounter, "code", spec.encounter_code)
    times = sub(encounter, "effectiveTime")
    sub(times, "low", {"value": ts(spec.encounter_start or spec.service_start or ctx.when)})
    if spec.encounter_end is not None:
        sub(times, "high", {"value": ts(spec.encounter_end)})
    facility = sub(sub(encounter, "location"), "healthCareFacility")
    org = ctx.author.organization
    sub(facility, "id", {"root": org.id_root, "extension": org.national_id})
    code_el(facility, "code", org.facility_type)
