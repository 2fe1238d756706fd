"""Document factory: every type for 50 identities passes the full engine; versions, XDS, XDM, defects."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

import pikepdf
import pytest

import banc.cda
from banc import xds
from banc.cda.n1 import embedded_pdf
from banc.documents import factory
from banc.documents.datamatrix import decode_datamatrices, parse_payload
from banc.documents.parties import HOSPITAL_FACILITY, HOSPITAL_PRACTICE, Organization, Practitioner
from banc.population import generated_identities
from banc.xdm import check_xdm_bytes
from banc.xml import parse_untrusted

HOSPITAL = Organization("1920000001", "Centre hospitalier de Boulogne", facility_type=HOSPITAL_FACILITY,
                        practice_setting=HOSPITAL_PRACTICE)


def _author(kind: str, nurse: Practitioner, gp: Practitioner) -> Practitioner:
    if kind == "LDL-SES":
        return dataclasses.replace(gp, national_id="810005555555", family="LEROY", given="Anne", organization=HOSPITAL)
    return gp if kind in ("VSM", "eP-MED-DM") else nurse


@pytest.fixture
def nurse():
    from banc.documents import parties

    return parties.Practitioner("810001234567", "DURAND", "Claire",
                                Organization("1750012345", "SSIAD du Val de Seine"), specialty=parties.NURSE)


def test_generation_is_deterministic(identity, context) -> None:
    for kind in factory.KINDS:
        assert factory.generate(kind, context(identity)).xml == factory.generate(kind, context(identity)).xml, kind


def test_unknown_kind_is_a_clear_error(identity, context) -> None:
    with pytest.raises(ValueError, match="type de document inconnu"):
        factory.generate("CR-BIO", context(identity))


def test_replacement_keeps_set_id_and_points_at_the_previous_version(identity, context) -> None:
    first = factory.generate("DLU", context(identity))
    second = factory.replacement(first, when=first.context.when + timedelta(days=2))
    assert second.set_id == first.set_id and second.version == 2
    assert second.document_id != first.document_id
    parent = second.root.find("{urn:hl7-org:v3}relatedDocument[@typeCode='RPLC']/{urn:hl7-org:v3}parentDocument/{urn:hl7-org:v3}id")
    assert f"{parent.get('root')}^{parent.get('extension')}" == first.document_id
    assert xds.header_facts(second.root).replaced_ids == (first.document_id,)


def test_metadata_and_xdm_agree_with_the_document_by_construction(identity, context) -> None:
    for kind in factory.KINDS:
        doc = factory.generate(kind, context(identity))
        sub = factory.submission(doc, visibility=(xds.INVISIBLE_PATIENT,))
        assert xds.check_submission_against_cda(sub, {sub.documents[0].entry_uuid: doc.root}) == [], kind
        assert sub.documents[0].format_code.code, kind
        assert check_xdm_bytes(factory.xdm(doc)) == [], kind


def test_metadata_made_to_disagree_is_flagged(identity, context) -> None:
    doc = factory.generate("VSM", context(identity))
    entry = factory.submission(doc).documents[0]
    wrong = dataclasses.replace(entry, type_code=xds.Code("11490-0", "2.16.840.1.113883.6.1"))
    assert [f.rule_id for f in xds.check_against_cda(wrong, doc.root)] == ["XDS-CDA-TYPECODE"]


@pytest.mark.slow
def test_fifty_identities_every_type_zero_errors(context, nurse, gp) -> None:
    """The issue's acceptance test: XSD + official rules + ours report no error, N1 datamatrix = INS."""
    identities = generated_identities(50, seed=2024)
    failures = []
    for number, identity in enumerate(identities):
        for kind in factory.KINDS:
            doc = factory.generate(kind, context(identity, author=_author(kind, nurse, gp), seed=number))
            verdict = banc.cda.validate(doc.xml, subject=f"{kind} {identity.birth_name}")
            if verdict.errors or any(n.ruleset != "volet" for n in verdict.not_evaluated):
                failures.append((kind, identity.birth_name, [(f.ruleset, f.rule_id, f.message[:160]) for f in verdict.errors][:3],
                                 verdict.not_evaluated))
            if kind == "N1":
                pdf, _ = embedded_pdf(parse_untrusted(doc.xml))
                assert pdf is not None
                with pikepdf.open(io.BytesIO(pdf)) as opened:
                    image = next(iter(opened.pages[0].get_images().values()))
                    texts = decode_datamatrices(pikepdf.PdfImage(image).as_pil_image())
                content, problems = parse_payload(texts[0])
                assert problems == [] and content.ins == identity.ins and content.oid == identity.oid
    assert failures == []


@pytest.mark.slow
def test_defective_documents_are_flagged_by_the_expected_rule(identity, context) -> None:
    no_recipient = factory.generate("DLU", dataclasses.replace(context(identity), recipients=()))
    verdict = banc.cda.validate(no_recipient.xml)
    assert "dsr-recipients" in {f.rule_id for f in verdict.errors}
    not_pdfa = factory.generate("N1", context(identity), pdfa=False)
    assert {"N1-PDFA", "N1-PDFA-OUTPUTINTENT"} <= {f.rule_id for f in banc.cda.validate(not_pdfa.xml).errors}
    no_stay_entries = factory.generate("TDDUI", context(identity), sections=("evenements", "evaluation", "documents"))
    assert banc.cda.validate(no_stay_entries.xml).conform  # every TDDUI section is optional [0..1]
    broken = factory.generate("TDDUI", context(identity))
    stay = broken.root.xpath("//cda:section[cda:templateId/@root='1.2.250.1.213.1.1.2.249']/cda:entry",
                             namespaces={"cda": "urn:hl7-org:v3"})[0]
    stay.getparent().remove(stay)
    rules = {f.rule_id for f in banc.cda.validate(broken.xml).errors if f.ruleset == "tddui"}
    assert rules == {"tddui-2.249-entries"}
