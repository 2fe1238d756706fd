"""N1 documents: generated PDF/A-1 with datamatrix and GDPR footer; the N1 checks catch defects."""

from __future__ import annotations

import io

import pikepdf
import pytest

from banc.cda.n1 import check_n1, check_pdf
from banc.documents.n1 import PRESCRIPTION_SOINS, generate_n1
from banc.identity import IdentityStatus
from banc.population import cnam_test_identities, with_status
from banc.xml import parse_untrusted


def _rules(findings) -> set[str]:
    return {f.rule_id for f in findings}


def test_generated_n1_passes_the_n1_checks(identity, context) -> None:
    doc = generate_n1(context(identity))
    assert doc.pdf is not None
    with pikepdf.open(io.BytesIO(doc.pdf)) as pdf:
        assert pdf.pdf_version == "1.4"
        assert pdf.open_metadata()["pdfaid:part"] == "1"
    root = parse_untrusted(doc.xml)
    assert check_n1(root) == []


def test_wrong_ins_in_the_datamatrix_is_flagged(identity, context) -> None:
    other = cnam_test_identities()[0]
    doc = generate_n1(context(identity), datamatrix_identity=other)
    findings = check_n1(parse_untrusted(doc.xml))
    assert "N1-DATAMATRIX-INS" in _rules(findings)
    assert all("SC.DOC.03.MS1" in f.requirements for f in findings)
    assert any("275126322074974" in f.message for f in findings)


def test_pdf_that_is_not_pdfa_is_flagged(identity, context) -> None:
    findings = check_n1(parse_untrusted(generate_n1(context(identity), pdfa=False).xml))
    assert {"N1-PDFA", "N1-PDFA-OUTPUTINTENT"} <= _rules(findings)


def test_missing_datamatrix_and_gdpr_footer_are_flagged(identity, context) -> None:
    doc = generate_n1(context(identity), datamatrix=False, gdpr_footer="Service de soins infirmiers à domicile.")
    findings = check_n1(parse_untrusted(doc.xml))
    assert {"N1-DATAMATRIX-ABSENT", "N1-RGPD"} == _rules(findings)
    assert next(f for f in findings if f.rule_id == "N1-RGPD").requirements == ("SC.DOC.06.MS1",)


def test_unqualified_identity_carries_neither_ins_nor_datamatrix(identity, context) -> None:
    doc = generate_n1(context(with_status(identity, IdentityStatus.VALIDEE)))
    assert b"1.2.250.1.213.1.4.8" not in doc.xml
    assert _rules(check_n1(parse_untrusted(doc.xml))) == {"N1-DATAMATRIX-ABSENT"}


def test_gp_prescription_as_n1(identity, context, gp) -> None:
    doc = generate_n1(context(identity, author=gp), type_code=PRESCRIPTION_SOINS)
    assert doc.root.find("{urn:hl7-org:v3}code").get("code") == "57832-8"
    assert check_n1(parse_untrusted(doc.xml)) == []


@pytest.mark.parametrize(
    ("body", "rule"),
    [('<text mediaType="text/plain" representation="B64">aGVsbG8=</text>', "N1-MEDIATYPE"),
     ('<text mediaType="application/pdf" representation="B64">@@@</text>', "N1-BASE64"),
     ('<text mediaType="application/pdf" representation="B64">aGVsbG8=</text>', "N1-PDF")],
)
def test_bad_bodies(body: str, rule: str) -> None:
    xml = f'<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody>{body}</nonXMLBody></component></ClinicalDocument>'
    assert _rules(check_n1(parse_untrusted(xml.encode()))) == {rule}


def test_garbage_pdf_is_reported_not_raised() -> None:
    assert _rules(check_pdf(b"%PDF-1.4\ngarbage")) == {"N1-PDF"}


def test_vector_datamatrix_is_found_by_rendering_and_base14_fonts_are_flagged(identity) -> None:
    """A PDF drawn by another tool: datamatrix as vector paths (reportlab's own encoder), Helvetica."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode import createBarcodeDrawing
    from reportlab.pdfgen import canvas

    from banc.documents.datamatrix import ins_payload

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "Compte rendu")
    renderPDF.draw(createBarcodeDrawing("ECC200DataMatrix", value=ins_payload(identity), barWidth=3), page, 100, 600)
    page.save()
    rules = _rules(check_pdf(buffer.getvalue()))
    assert "N1-DATAMATRIX-ABSENT" not in rules
    assert {"N1-PDFA", "N1-PDFA-FONTS", "N1-RGPD"} <= rules


def test_n1_bytes_depend_on_the_seed_only_not_on_the_run(identity, context) -> None:
    """Another process, another second: same seed, same bytes (the ICC profile's creation date
    that LittleCMS stamps is pinned)."""
    import hashlib
    import subprocess
    import sys
    import time

    script = (
        "import hashlib, sys; sys.path.insert(0, 'tests/banc/documents');"
        "from conftest import make_context; from banc.documents import factory;"
        "from banc.population import cnam_test_identities;"
        "doc = factory.generate('N1', make_context(cnam_test_identities()[1]));"
        "print(hashlib.sha256(doc.xml).hexdigest())"
    )
    time.sleep(1.1)  # make sure the other run stamps another second
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    from banc.documents import factory

    mine = hashlib.sha256(factory.generate("N1", context(identity)).xml).hexdigest()
    assert other.stdout.strip() == mine
