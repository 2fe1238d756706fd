"""Deterministic seed data: the patients scenarios and official examples expect to find.

- every public CNAM INSi test identity (`banc.population`) has an open DMP;
- the patient of the official ANS example messages (INS 207058575627097, LAURENCE patb-quatre)
  exists, so the example requests meet a real record;
- each seeded patient gets `documents_per_patient` documents written by a nearby hospital
  (CDA R2 N1, fed through the same atomic path as ITI-41), so consultation has something to find.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from lxml import etree

from banc.identity import OID_INS_NIR_TEST
from banc.population import cnam_test_identities
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


def seed_store(store: DmpStore, *, documents_per_patient: int = 2) -> int:
    """Fill an empty store; returns the number of patients created."""
    patients = {OFFICIAL_EXAMPLE_PATIENT.ins: OFFICIAL_EXAMPLE_PATIENT}
    for identity in cnam_test_identities():
        if identity.ins is not None and identity.ins not in patients:
            patients[identity.ins] = Patient(identity.ins, identity.oid, identity.birth_name,
                                             identity.first_name, identity.sex,
                                             identity.birth_date.strftime("%Y%m%d"))
    for patient in patients.values():
        store.add_patient(Patient(**{**patient.__dict__}))
        for number in range(documents_per_patient):
            doc = document_for(patient, number)
            package = submission_set_element(derive_submission(etree.fromstring(doc.content or b"")).submission_set)
            package.set("id", doc.submission_uuid)
            store.submit(NewSubmission(
                StoredSubmission(doc.submission_uuid, f"{doc.unique_id}.0", patient.ins, "1.2.250.1.213.1.1.9.998",
                                 doc.creation_time, doc.author_id, etree.tostring(package)),
                [doc], [], []))
    return len(patients)


def new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"
