"""XDS metadata: derivation from CDA headers, ebRIM round trip, official DMP example, checks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from lxml import etree

from banc import xds
from banc.xds import codes
from banc.xds.derive import hl7_time_to_utc
from banc.xml import parse_untrusted

EXAMPLES = ("DLU-EHPAD-DLU_2022.01.xml", "LDL-SES_2022.01.xml", "VSM_1.4_2022.01.xml",
            "DOC_NON_STRUCTURE_CDA-R2-N1.xml", "eP-MED-DM_2024.01_PosoStruct.xml")


def _example(reference: Path, name: str) -> tuple[bytes, etree._Element]:
    data = (reference / "ans-testcontenucda-3.0" / "ExemplesCDA" / name).read_bytes()
    return data, parse_untrusted(data)


def test_hl7_time_is_converted_to_utc() -> None:
    assert hl7_time_to_utc("20190221133445+0100") == "20190221123445"
    assert hl7_time_to_utc("20190221") == "20190221"
    assert hl7_time_to_utc("202107011000-0200") == "202107011200"


@pytest.mark.parametrize("name", EXAMPLES)
def test_official_examples_round_trip_and_agree(reference: Path, name: str) -> None:
    data, root = _example(reference, name)
    submission = xds.derive_submission(root, document_bytes=data, visibility=(xds.MASQUE_PS,))
    element = xds.to_submit_objects_request(submission)
    back = xds.parse_submission(parse_untrusted(etree.tostring(element)))
    assert back is not None
    assert back.documents == submission.documents
    assert back.submission_set == submission.submission_set
    entry = back.documents[0]
    assert entry.patient_id.endswith("&1.2.250.1.213.1.4.10&ISO^NH")
    assert any(c.code == "MASQUE_PS" for c in entry.confidentiality)
    assert entry.size == len(data) and len(entry.hash) == 40
    findings = xds.check_submission_against_cda(back, {entry.entry_uuid: root})
    assert findings == []


def test_n1_example_gets_pdf_format_code(reference: Path) -> None:
    _, root = _example(reference, "DOC_NON_STRUCTURE_CDA-R2-N1.xml")
    entry = xds.derive_entry(root)
    assert entry.format_code.code == "urn:ihe:iti:xds-sd:pdf:2008"


def _dmp_example(reference: Path) -> etree._Element:
    raw = (reference / "dmp" / "messages" / "TD2.1_-_Alimentation_requete.xml").read_bytes()
    envelope = re.search(rb"<soap:Envelope.*</soap:Envelope>", raw, re.S)
    assert envelope is not None
    return parse_untrusted(envelope.group(0))


def test_reads_the_official_dmp_feed_example(reference: Path) -> None:
    submission = xds.parse_submission(_dmp_example(reference))
    assert submission is not None
    ss = submission.submission_set
    assert ss.source_id == "1.2.250.1.999.1.1.7898"
    assert ss.patient_id.startswith("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH")
    assert ss.content_type.code == "04"
    doc = submission.document("DocumentME2")
    assert doc is not None
    assert doc.type_code == codes.Code("27899-4", codes.CS_LOINC, "CR d'acte diagnostique (autre)")
    assert doc.authors[0].person.id == "899900063480"
    assert doc.authors[0].institutions[0].id == "499900063480001"
    assert doc.authors[0].specialties[0].code == "G15_10/SM26"
    assert doc.source_patient_info == ("PID-5|patb-quatre^LAURENCE^^^^^L", "PID-7|19070525", "PID-8|F")
    signature = submission.document("Signature01")
    assert {c.code for c in signature.confidentiality} == {"N", "MASQUE_PS", "INVISIBLE_PATIENT"}
    assert {a.type for a in submission.associations} == {codes.HAS_MEMBER, codes.SIGNS}
    # the example's INS key is valid and the two objects agree with the submission set
    assert [f.rule_id for f in xds.check_metadata(submission)] == []


def test_metadata_disagreeing_with_the_header_is_flagged(reference: Path) -> None:
    _, root = _example(reference, "LDL-SES_2022.01.xml")
    entry = xds.derive_entry(root)
    wrong = dataclasses.replace(
        entry,
        patient_id="248105959400039^^^&1.2.250.1.213.1.4.10&ISO^NH",
        type_code=codes.Code("34133-9", codes.CS_LOINC),
        creation_time="20200101000000",
    )
    rules = {f.rule_id for f in xds.check_against_cda(wrong, root)}
    assert {"XDS-CDA-PATIENT", "XDS-CDA-TYPECODE", "XDS-CDA-CREATIONTIME"} <= rules
    assert all("SC.DOC.02.MS1" in f.requirements for f in xds.check_against_cda(wrong, root))


def test_incomplete_metadata_is_flagged(reference: Path) -> None:
    _, root = _example(reference, "VSM_1.4_2022.01.xml")
    submission = xds.derive_submission(root)
    entry = submission.documents[0]
    broken = dataclasses.replace(
        entry,
        practice_setting=codes.Code("", ""),
        confidentiality=(codes.Code("SECRET", "1.2.3"),),
        patient_id="123^^^&1.2.250.1.213.1.4.10&ISO^NH",
    )
    submission.documents = [broken]
    findings = xds.check_metadata(submission)
    rules = [f.rule_id for f in findings]
    assert "XDS-REQUIRED" in rules
    assert "XDS-CONFIDENTIALITY" in rules
    assert "XDS-PATIENT-ID" in rules
    assert "XDS-PATIENT-MISMATCH" in rules
    assert all(f.message for f in findings)


def test_replacement_adds_an_rplc_association(reference: Path) -> None:
    _, root = _example(reference, "VSM_1.4_2022.01.xml")
    submission = xds.derive_submission(root, replaces="urn:uuid:previous")
    rplc = [a for a in submission.associations if a.type == xds.RPLC]
    assert len(rplc) == 1 and rplc[0].target == "urn:uuid:previous"
    back = xds.parse_submission(xds.to_submit_objects_request(submission))
    assert [a.type for a in back.associations] == [codes.HAS_MEMBER, codes.RPLC]


def test_provide_and_register_carries_the_document(reference: Path) -> None:
    data, root = _example(reference, "VSM_1.4_2022.01.xml")
    submission = xds.derive_submission(root, document_bytes=data)
    entry = submission.documents[0]
    pnr = xds.to_provide_and_register(submission, {entry.entry_uuid: data})
    back = parse_untrusted(etree.tostring(pnr))
    assert xds.documents_of(back) == {entry.entry_uuid: data}
    assert xds.parse_submission(back).documents == [entry]


def test_xcn_xon_round_trip() -> None:
    person = xds.XdsPerson(id="810002909371", family="DUPONT", given="Jeanne", prefix="Dr")
    assert xds.XdsPerson.from_xcn(person.to_xcn()) == person
    org = xds.XdsOrganization(name="SSIAD du Val", id="1750000001")
    assert xds.XdsOrganization.from_xon(org.to_xon()) == org


def test_submission_unique_ids_never_collide(reference: Path) -> None:
    """Submissions derived in the same millisecond (threads) get distinct OIDs of ≤ 64 chars."""
    from concurrent.futures import ThreadPoolExecutor

    _, root = _example(reference, "VSM_1.4_2022.01.xml")
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: xds.derive_submission(root).submission_set.unique_id, range(64)))
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"2\.25\.[1-9][0-9]*", i) and len(i) <= 64 for i in ids)
