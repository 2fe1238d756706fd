"""Deterministic seed data: the patients scenarios and official examples expect to find.

- every public CNAM INSi test identity (`banc.population`) has an open DMP;
- the patient of the official ANS example messages (INS 207058575627097, LAURENCE patb-quatre)
  exists, so the example requests meet a real record;
- each seeded patient gets `documents_per_patient` realistic documents from the document
  factory (`banc.documents`: hospital discharge letter LDL-SES, GP synthesis VSM, in turn), stored
  through the same atomic path as ITI-41, so consultation scenarios have something to find.

`document_for` writes a small CDA R2 N1 instead (tests and the benchmark's bulk loads).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from lxml import etree

from banc.documents import factory, parties
from banc.documents.base import GeneratedDocument
from banc.documents.header import DocumentContext, paris_zone
from banc.identity import OID_INS_NIR_TEST, Identity, IdentityStatus
from banc.population import cnam_test_identities, with_status
from banc.xds.derive import derive_submission
from banc.xds.ebrim import entry_element, submission_set_element
from simulators.dmp_mock import wire
from simulators.dmp_mock.client import Author, minimal_cda
from simulators.dmp_mock.models import (
    APPROVED,
    DmpStore,
    NewSubmission,
    Patient,
    StoredDocument,
    StoredSubmission,
)

OFFICIAL_EXAMPLE_PATIENT = Patient("207058575627097", OID_INS_NIR_TEST, "patb-quatre", "LAURENCE", "F", "19790328")
HOSPITAL = Author(rpps="810000000099", family="HOSPITALIER", given="JEAN", profession="10",
                  structure_id="330000000000002", structure_name="CENTRE HOSPITALIER DU BANC",
                  facility="SA01", practice="ETABLISSEMENT")


def document_for(patient: Patient, number: int, *, author: Author = HOSPITAL,
                 when: dt.datetime | None = None, padding: int = 0) -> StoredDocument:
    """A stored document (metadata as the registry keeps it + content) for `patient`."""
    when = when or dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC) + dt.timedelta(days=number)
    unique_id = f"1.2.250.1.213.1.1.9.998.{int(hashlib.sha1(f'{patient.ins}-{number}'.encode()).hexdigest()[:12], 16)}"
    cda = minimal_cda(patient.ins, author=author, oid=patient.oid, family=patient.family or "PATIENT",
                      given=patient.given or "X", sex=patient.sex or "F", birth=patient.birth_date or "19700101",
                      text=f"Document de test n°{number}.", unique_id=unique_id, when=when, padding=padding)
    submission = derive_submission(etree.fromstring(cda), document_bytes=cda)
    entry = submission.documents[0]
    element = entry_element(entry)
    return StoredDocument(
        entry_uuid=entry.entry_uuid, unique_id=entry.unique_id, patient_ins=patient.ins, status=APPROVED,
        class_code=entry.class_code.code, type_code=entry.type_code.code, format_code=entry.format_code.code,
        facility_code=entry.healthcare_facility_type.code, practice_code=entry.practice_setting.code,
        creation_time=entry.creation_time, service_start=entry.service_start, service_stop=entry.service_stop,
        confidentiality=tuple(c.code for c in entry.confidentiality), author_id=author.rpps,
        author_institution=author.structure_id, submission_uuid=submission.submission_set.entry_uuid,
        mime_type="text/xml", hash=hashlib.sha1(cda).hexdigest(), size=len(cda),
        metadata=wire.registry_entry(element, cda), content=cda,
    )


HOSPITAL_ORG = parties.Organization(
    national_id=HOSPITAL.structure_id, name=HOSPITAL.structure_name,
    facility_type=parties.HOSPITAL_FACILITY, practice_setting=parties.HOSPITAL_PRACTICE,
    address=parties.PostalAddress("1 avenue de l'Hôpital", "63000", "CLERMONT-FERRAND"))
CABINET_ORG = parties.Organization(
    national_id="340000000000009", name="Cabinet du Dr Généraliste", facility_type=parties.CABINET_FACILITY,
    practice_setting=parties.AMBULATORY_PRACTICE,
    address=parties.PostalAddress("3 place de la Mairie", "63000", "CLERMONT-FERRAND"))
AUTHORS = (
    ("LDL-SES", parties.Practitioner(HOSPITAL.rpps, HOSPITAL.family, "Jean", HOSPITAL_ORG, civility="M", title="DR")),
    ("VSM", parties.Practitioner("810000000777", "MEDECIN", "Paul", CABINET_ORG, civility="M", title="DR",
                                 specialty=parties.GENERAL_PRACTITIONER)),
)


def _official_identity() -> Identity:
    p = OFFICIAL_EXAMPLE_PATIENT
    return Identity(p.family.upper(), (p.given,), p.sex, dt.date(1979, 3, 28), matricule=p.ins[:13],
                    key=p.ins[13:], oid=p.oid, status=IdentityStatus.QUALIFIEE)


def _submit_generated(store: DmpStore, doc: GeneratedDocument) -> None:
    submission = factory.submission(doc)
    entry = submission.documents[0]
    content = doc.xml
    author = entry.authors[0] if entry.authors else None
    institution = author.institutions[0].id if author and author.institutions else ""
    stored = StoredDocument(
        entry_uuid=entry.entry_uuid, unique_id=entry.unique_id, patient_ins=doc.context.identity.ins or "",
        status=APPROVED, class_code=entry.class_code.code, type_code=entry.type_code.code,
        format_code=entry.format_code.code, facility_code=entry.healthcare_facility_type.code,
        practice_code=entry.practice_setting.code, creation_time=entry.creation_time,
        service_start=entry.service_start, service_stop=entry.service_stop,
        confidentiality=tuple(c.code for c in entry.confidentiality),
        author_id=author.person.id if author and author.person else "", author_institution=institution,
        submission_uuid=submission.submission_set.entry_uuid, mime_type="text/xml",
        hash=hashlib.sha1(content).hexdigest(), size=len(content),
        metadata=wire.registry_entry(entry_element(entry), content), content=content,
    )
    ss = submission.submission_set
    package = submission_set_element(ss)
    package.set("id", ss.entry_uuid)
    store.submit(NewSubmission(
        StoredSubmission(ss.entry_uuid, ss.unique_id, stored.patient_ins, ss.source_id, ss.submission_time,
                         stored.author_id, etree.tostring(package)),
        [stored], [], []))


OFFICIAL_AUTHOR = Author(rpps="899900063480", family="LIBRE", given="MAX", profession="10",
                         structure_id="10B0127189", structure_name="CENTRE DE SANTE RPPS12718",
                         facility="SA07")
"""The professional of the official ANS example tokens (subject 899900063480, "MAX LIBRE")."""
REGISTERED_PROFESSIONALS = {OFFICIAL_AUTHOR.rpps: ("MAX LIBRE", "G15_10/SM26")}
"""What the DMP's professional register (RPPS) says of professionals the bench directory does
not hold: name ("Prénom NOM") and speciality, as the official TD1.6 response shows them."""
OFFICIAL_RETRIEVED = "1.2.250.1.999.1.1.7898.1.995657292"
"""DocumentUniqueId the official TD3.2 request retrieves."""
OFFICIAL_UPDATED = "urn:uuid:fe5287a2-ae6a-11eb-8f5d-0050569e422e"
"""entryUUID the official TD3.3d request archives (and TD3.3c then deletes)."""


def seed_official_examples(store: DmpStore) -> None:
    """The two documents the official TD3.2 and TD3.3c/d requests reference, authored by the
    examples' professional (deleting and archiving are reserved to the author), so that the
    ANS examples replay against any freshly seeded mock."""
    patient = OFFICIAL_EXAMPLE_PATIENT
    documents = []
    if store.document(unique_id=OFFICIAL_RETRIEVED) is None:
        retrieved = document_for(patient, 1, author=OFFICIAL_AUTHOR)
        retrieved.unique_id = OFFICIAL_RETRIEVED
        documents.append(retrieved)
    if store.document(entry_uuid=OFFICIAL_UPDATED) is None:
        updated = document_for(patient, 2, author=OFFICIAL_AUTHOR)
        updated.entry_uuid = OFFICIAL_UPDATED
        documents.append(updated)
    for document in documents:  # each in its own submission set, as a feed would file it
        package = etree.Element(f"{{{wire.RIM}}}RegistryPackage", id=document.submission_uuid)
        store.submit(NewSubmission(
            StoredSubmission(document.submission_uuid, f"{document.unique_id}.0", patient.ins,
                             "1.2.250.1.999.1.1.7898", "20210604092415", OFFICIAL_AUTHOR.rpps,
                             etree.tostring(package)),
            [document], [], []))


def seed_store(store: DmpStore, *, documents_per_patient: int = 2) -> int:
    """Fill an empty store; returns the number of patients created."""
    identities = {OFFICIAL_EXAMPLE_PATIENT.ins: _official_identity()}
    for identity in cnam_test_identities():
        if identity.ins is not None and identity.ins not in identities:
            identities[identity.ins] = identity
    for number, identity in enumerate(identities.values()):
        store.add_patient(Patient(identity.ins or "", identity.oid, identity.birth_name, identity.first_name,
                                  identity.sex, identity.birth_date.strftime("%Y%m%d")))
        seed_documents(store, identity, documents_per_patient, number=number)
    seed_official_examples(store)
    return len(identities)


def seed_documents(store: DmpStore, identity: Identity, count: int, *, number: int = 0,
                   first: dt.datetime | None = None) -> list[str]:
    """`count` documents of the patient (LDL-SES of the hospital, VSM of the GP, in turn), a
    week apart from `first`, as those authors would have fed them; their unique ids."""
    qualified = with_status(identity, IdentityStatus.QUALIFIEE)
    start = first or dt.datetime(2024, 1, 8, 10, tzinfo=paris_zone()) + dt.timedelta(days=number)
    unique_ids = []
    for index in range(count):
        kind, author = AUTHORS[index % len(AUTHORS)]
        made = factory.generate(kind, DocumentContext(identity=qualified, author=author,
                                                      when=start + dt.timedelta(days=7 * index),
                                                      seed=number * 10 + index))
        _submit_generated(store, made)
        unique_ids.append(made.document_id)
    return unique_ids

