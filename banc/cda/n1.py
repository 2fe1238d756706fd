"""Checks of a CDA R2 N1 document's embedded PDF (PDF/A-1, fonts, INS datamatrix, GDPR footer).

Called by the validation pipeline for every document with a `nonXMLBody`. SC.DOC.03.MS1 asks
for the INS in the CDA *and* the INS datamatrix in a PDF/A-1; SC.DOC.06.MS1 for the GDPR notice
at the bottom of the page. What is checked, and how:

- the body is base64 PDF (`%PDF`), readable, not encrypted;
- PDF/A-1 is *declared*: XMP `pdfaid:part` = 1 (conformance A or B) and a `GTS_PDFA1` output
  intent; every font used by the pages is embedded (full veraPDF validation is out of scope);
- a Data Matrix whose text starts `IS01` is found in the page images (pikepdf) or, failing
  that, on the first page rendered by PDFium; its blocks are parsed and compared with the
  header: S1/S2 = INS and OID, S4 = birth name, S3 = birth given names, S5 = sex,
  S6 = birth date, S7 = birthplace (when both sides have it);
- the text of the PDF contains a GDPR notice (`GDPR_PATTERNS`, configurable).
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from lxml import etree

from banc.documents.datamatrix import decode_datamatrices, is_ins_payload, parse_payload
from banc.identity import normalise_name
from banc.verdict import Finding, Severity

RULESET = "n1"
REQ_INS = ("SC.DOC.03.MS1",)
REQ_GDPR = ("SC.DOC.06.MS1",)
NS = {"h": "urn:hl7-org:v3"}
RENDER_DPI = 200
GDPR_PATTERNS = (
    r"\bRGPD\b",
    r"protection des donn[ée]es",
    r"donn[ée]es (personnelles|[àa] caract[èe]re personnel)",
)
"""A GDPR footer mentions at least one of these (case-insensitive); sites word it their own way."""


def _f(
    rule: str,
    message: str,
    reqs: tuple[str, ...] = REQ_INS,
    location: str = "/ClinicalDocument/component/nonXMLBody/text",
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(
        rule_id=rule,
        message=message,
        severity=severity,
        location=location,
        ruleset=RULESET,
        requirements=reqs,
    )


def embedded_pdf(root: etree._Element) -> tuple[bytes | None, list[Finding]]:
    """The PDF bytes of an N1 body, or the findings saying why there is none."""
    text = root.find("h:component/h:nonXMLBody/h:text", NS)
    if text is None:
        return None, [_f("N1-BODY", "corps non structuré sans élément text")]
    media = text.get("mediaType", "")
    if media != "application/pdf":
        return None, [
            _f(
                "N1-MEDIATYPE",
                f"mediaType « {media} » : un document N1 du DUI doit embarquer un PDF/A-1 (application/pdf)",
            )
        ]
    if text.get("representation") != "B64":
        return None, [_f("N1-BASE64", 'le PDF doit être encodé en base64 (representation="B64")')]
    try:
        data = base64.b64decode("".join((text.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return None, [_f("N1-BASE64", "contenu base64 du PDF invalide")]
    if not data.startswith(b"%PDF"):
        return None, [
            _f("N1-PDF", "le contenu décodé ne commence pas par %PDF : ce n'est pas un PDF")
        ]
    return data, []


def _fonts_not_embedded(pdf) -> list[str]:
    missing: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def visit(resources) -> None:
        if resources is None:
            return
        for font in dict(resources.get("/Font", {})).values():
            key = font.objgen
            if key in seen and key != (0, 0):
                continue
            seen.add(key)
            subtype = str(font.get("/Subtype", ""))
            if subtype == "/Type3":
                continue
            target = font.DescendantFonts[0] if subtype == "/Type0" else font
            descriptor = target.get("/FontDescriptor")
            if descriptor is None or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))
        for xobject in dict(resources.get("/XObject", {})).values():
            if str(xobject.get("/Subtype", "")) == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                visit(xobject.get("/Resources"))

    for page in pdf.pages:
        visit(page.get("/Resources"))
    return sorted(missing)


def _pdfa_findings(pdf) -> list[Finding]:
    findings = []
    meta = pdf.open_metadata()
    part = meta.get("pdfaid:part")
    conformance = meta.get("pdfaid:conformance")
    if part != "1":
        declared = f"PDF/A-{part}" if part else "aucune déclaration PDF/A"
        findings.append(
            _f(
                "N1-PDFA",
                f"le PDF n'est pas déclaré PDF/A-1 dans ses métadonnées XMP (pdfaid:part) : {declared}",
            )
        )
    elif conformance not in ("A", "B"):
        findings.append(
            _f("N1-PDFA", f"niveau de conformité PDF/A-1 « {conformance} » (A ou B attendu)")
        )
    intents = pdf.Root.get("/OutputIntents")
    if not intents or not any(str(i.get("/S", "")) == "/GTS_PDFA1" for i in intents):
        findings.append(
            _f(
                "N1-PDFA-OUTPUTINTENT",
                "profil colorimétrique de sortie PDF/A (OutputIntent GTS_PDFA1) absent",
            )
        )
    missing = _fonts_not_embedded(pdf)
    if missing:
        findings.append(
            _f(
                "N1-PDFA-FONTS",
                f"polices non incorporées au PDF : {', '.join(missing)} (PDF/A-1 exige leur incorporation)",
            )
        )
    return findings


def _payloads_from_images(pdf) -> list[str]:
    import pikepdf

    found = []
    for page in pdf.pages:
        for raw in page.get_images().values():
            try:
                image = pikepdf.PdfImage(raw).as_pil_image()
            except Exception:  # an image format Pillow cannot read: rendering covers it
                continue
            found.extend(decode_datamatrices(image))
    return found


def _render_first_page(data: bytes):
    try:
        import pypdfium2
    except ImportError:
        return None
    document = pypdfium2.PdfDocument(data)
    try:
        return document[0].render(scale=RENDER_DPI / 72).to_pil().convert("L")
    finally:
        document.close()


def _pdf_text(data: bytes) -> str | None:
    try:
        import pypdfium2
    except ImportError:
        return None
    document = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def _header_traits(root: etree._Element) -> dict[str, str]:
    patient = root.find("h:recordTarget/h:patientRole/h:patient", NS)
    traits: dict[str, str] = {}
    for ident in root.iterfind("h:recordTarget/h:patientRole/h:id", NS):
        if ident.get("root", "").startswith("1.2.250.1.213.1.4."):
            traits["ins"] = ident.get("extension", "")
            traits["oid"] = ident.get("root", "")
    if patient is None:
        return traits
    family = patient.find("h:name/h:family[@qualifier='BR']", NS)
    givens = patient.findall("h:name/h:given", NS)
    # all birth given names: the unqualified `given`, else the BR one (first given name only)
    given = next(
        (g for g in givens if g.get("qualifier") is None),
        next((g for g in givens if g.get("qualifier") == "BR"), None),
    )
    traits["birth_name"] = (family.text or "") if family is not None else ""
    traits["given_names"] = (given.text or "") if given is not None else ""
    gender = patient.find("h:administrativeGenderCode", NS)
    traits["sex"] = gender.get("code", "") if gender is not None else ""
    birth = patient.find("h:birthTime", NS)
    value = birth.get("value", "") if birth is not None else ""
    traits["birth_date"] = f"{value[6:8]}-{value[4:6]}-{value[0:4]}" if len(value) >= 8 else ""
    county = patient.find("h:birthplace/h:place/h:addr/h:county", NS)
    traits["birth_place"] = (county.text or "").strip() if county is not None else ""
    return traits


def _compare(content, traits: dict[str, str]) -> list[Finding]:
    findings = []
    if not traits.get("ins"):
        return [
            _f(
                "N1-DATAMATRIX-INS",
                "l'en-tête CDA ne porte pas d'INS alors que le PDF contient un datamatrix INS",
            )
        ]
    pairs = [
        ("S1", "INS", content.ins, traits["ins"]),
        ("S2", "OID de l'INS", content.oid, traits["oid"]),
        (
            "S4",
            "nom de naissance",
            content.birth_name,
            normalise_name(traits.get("birth_name", "")),
        ),
        (
            "S3",
            "prénoms de naissance",
            content.given_names,
            normalise_name(traits.get("given_names", "")),
        ),
        ("S5", "sexe", content.sex, traits.get("sex", "")),
        ("S6", "date de naissance", content.birth_date, traits.get("birth_date", "")),
    ]
    if content.birth_place and traits.get("birth_place"):
        pairs.append(("S7", "lieu de naissance", content.birth_place, traits["birth_place"]))
    for block, label, printed, expected in pairs:
        if printed != expected:
            findings.append(
                _f(
                    "N1-DATAMATRIX-TRAITS" if block != "S1" else "N1-DATAMATRIX-INS",
                    f"datamatrix {block} ({label}) « {printed} » ≠ en-tête CDA « {expected} »",
                )
            )
    return findings


def check_pdf(data: bytes, root: etree._Element | None = None) -> list[Finding]:
    """Findings about one PDF (and its agreement with a CDA header when `root` is given)."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return [_f("N1-PDF", "PDF chiffré : interdit en PDF/A-1 et illisible par le destinataire")]
    except pikepdf.PdfError as exc:
        return [_f("N1-PDF", f"PDF illisible : {exc}")]
    with pdf:
        if pdf.is_encrypted:
            return [_f("N1-PDF", "PDF chiffré : interdit en PDF/A-1")]
        findings = _pdfa_findings(pdf)
        payloads = [p for p in _payloads_from_images(pdf) if is_ins_payload(p)]
    if not payloads:
        page = _render_first_page(data)
        payloads = (
            [p for p in decode_datamatrices(page) if is_ins_payload(p)] if page is not None else []
        )
    if not payloads:
        findings.append(
            _f(
                "N1-DATAMATRIX-ABSENT",
                "aucun datamatrix INS (texte commençant par IS01) trouvé dans le PDF",
            )
        )
    else:
        content, problems = parse_payload(payloads[0])
        findings.extend(
            _f("N1-DATAMATRIX-FORMAT", f"datamatrix INS mal formé : {p}") for p in problems
        )
        if content is not None and root is not None:
            findings.extend(_compare(content, _header_traits(root)))
    text = _pdf_text(data)
    if text is not None and not any(re.search(p, text, re.IGNORECASE) for p in GDPR_PATTERNS):
        findings.append(
            _f(
                "N1-RGPD",
                "aucune mention d'information RGPD trouvée dans le texte du PDF (pied de page)",
                REQ_GDPR,
            )
        )
    return findings


def check_n1(root: etree._Element) -> list[Finding]:
    """Findings about the PDF embedded in `nonXMLBody` (none when the body is structured)."""
    if root.find("h:component/h:nonXMLBody", NS) is None:
        return []
    data, findings = embedded_pdf(root)
    if data is None:
        return findings
    return check_pdf(data, root)
