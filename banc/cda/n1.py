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
- the text of the PDF contains a GDPR notice (`GDPR_PATTERNS`, configurable);
- no JavaScript (PDF/A-1 forbids it: ISO 19005-1 §6.6.1).

The PDF comes from outside: a damaged or hostile one is a finding on the document, never an
exception. Objects that are not of the type the PDF specification says are findings; images
are measured before they are decoded (`MAX_IMAGE_PIXELS`) and the page is rendered at a
capped size (`MAX_RENDER_PIXELS`), so a decompression bomb costs nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Iterator

from lxml import etree

from banc.documents.datamatrix import decode_datamatrices, is_ins_payload, parse_payload
from banc.identity import normalise_name
from banc.verdict import Finding, Severity

RULESET = "n1"
REQ_INS = ("SC.DOC.03.MS1",)
REQ_GDPR = ("SC.DOC.06.MS1",)
NS = {"h": "urn:hl7-org:v3"}
RENDER_DPI = 200
MAX_IMAGE_PIXELS = 50_000_000
"""Above a 600 dpi A4 scan (35 Mpx): larger images are reported, never decoded."""
MAX_RENDER_PIXELS = 40_000_000
"""The first page is rendered at RENDER_DPI, or smaller when the page is huge."""
MAX_OBJECTS_WALKED = 200_000
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


def _is_dict(obj) -> bool:
    import pikepdf

    return isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream))


def _kind(obj) -> str:
    import pikepdf

    for kind, label in (
        (pikepdf.Dictionary, "dictionnaire"), (pikepdf.Array, "tableau"), (pikepdf.Name, "nom"),
        (pikepdf.String, "chaîne"),
    ):
        if isinstance(obj, kind):
            return label
    return "nombre" if isinstance(obj, (int, float)) or type(obj).__name__ == "Decimal" else type(obj).__name__


def _structure(message: str) -> Finding:
    return _f("N1-PDF-STRUCTURE", f"structure du PDF invalide : {message}")


def _fonts_not_embedded(pdf, problems: list[Finding]) -> list[str]:
    """Base names of the fonts used by the pages without embedded program; `problems` gets the
    resources that are not dictionaries (a PDF reader cannot use them either)."""
    import pikepdf

    missing: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def visit(resources, where: str) -> None:
        if resources is None:
            return
        if not _is_dict(resources):
            problems.append(_structure(f"{where} : /Resources est un(e) {_kind(resources)}, pas un dictionnaire"))
            return
        fonts = resources.get("/Font")
        if fonts is not None and not _is_dict(fonts):
            problems.append(_structure(f"{where} : /Font est un(e) {_kind(fonts)}, pas un dictionnaire"))
            fonts = None
        for key, font in (fonts.items() if fonts is not None else ()):
            if not _is_dict(font):
                problems.append(_structure(f"{where} : la police {key} est un(e) {_kind(font)}, pas un dictionnaire"))
                continue
            objgen = font.objgen
            if objgen in seen and objgen != (0, 0):
                continue
            seen.add(objgen)
            subtype = str(font.get("/Subtype", ""))
            if subtype == "/Type3":
                continue
            target = font
            if subtype == "/Type0":
                descendants = font.get("/DescendantFonts")
                target = descendants[0] if isinstance(descendants, pikepdf.Array) and len(descendants) else None
            descriptor = target.get("/FontDescriptor") if target is not None and _is_dict(target) else None
            if not _is_dict(descriptor) or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))
        xobjects = resources.get("/XObject")
        for _key, xobject in (xobjects.items() if _is_dict(xobjects) else ()):
            if _is_dict(xobject) and str(xobject.get("/Subtype", "")) == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                visit(xobject.get("/Resources"), where)

    for number, page in enumerate(pdf.pages, 1):
        visit(page.get("/Resources"), f"page {number}")
    return sorted(missing)


def _pdfa_findings(pdf) -> list[Finding]:
    import pikepdf

    findings: list[Finding] = []
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
    if intents is not None and not isinstance(intents, pikepdf.Array):
        findings.append(_structure(f"/OutputIntents est un(e) {_kind(intents)}, pas un tableau"))
        intents = None
    if not intents or not any(_is_dict(i) and str(i.get("/S", "")) == "/GTS_PDFA1" for i in intents):
        findings.append(
            _f(
                "N1-PDFA-OUTPUTINTENT",
                "profil colorimétrique de sortie PDF/A (OutputIntent GTS_PDFA1) absent",
            )
        )
    missing = _fonts_not_embedded(pdf, findings)
    if missing:
        findings.append(
            _f(
                "N1-PDFA-FONTS",
                f"polices non incorporées au PDF : {', '.join(missing)} (PDF/A-1 exige leur incorporation)",
            )
        )
    findings.extend(_javascript_findings(pdf))
    return findings


def _walk(obj, budget: list[int]) -> Iterator:
    """`obj` and its direct (not indirect) children: indirect ones are walked on their own."""
    import pikepdf

    stack = [obj]
    while stack and budget[0] > 0:
        current = stack.pop()
        budget[0] -= 1
        yield current
        if isinstance(current, pikepdf.Array):
            children = list(current)
        elif _is_dict(current):
            children = list(current.values())
        else:
            continue
        stack.extend(c for c in children if isinstance(c, (pikepdf.Array, pikepdf.Dictionary)) and not c.is_indirect)


def _javascript_findings(pdf) -> list[Finding]:
    """JavaScript anywhere (actions, name tree, annotations): forbidden by PDF/A-1."""
    import pikepdf

    where: set[str] = set()
    names = pdf.Root.get("/Names")
    if _is_dict(names) and "/JavaScript" in names:
        where.add("arbre de noms /JavaScript du catalogue")
    budget = [MAX_OBJECTS_WALKED]
    for top in [pdf.trailer, *pdf.objects]:
        for obj in _walk(top, budget):
            if not _is_dict(obj):
                continue
            if obj.get("/S") == pikepdf.Name.JavaScript or "/JS" in obj:
                where.add(f"action JavaScript (objet {obj.objgen[0]})" if obj.is_indirect else "action JavaScript")
    if not where:
        return []
    return [_f("N1-PDFA-JAVASCRIPT", f"le PDF contient du JavaScript ({', '.join(sorted(where))}) : interdit en PDF/A-1")]


def _image_pixels(raw) -> int:
    width, height = raw.get("/Width", 0), raw.get("/Height", 0)
    try:
        return max(int(width), 0) * max(int(height), 0)
    except (TypeError, ValueError):
        return 0


def _oversized_images(pdf) -> list[Finding]:
    findings = []
    for number, page in enumerate(pdf.pages, 1):
        for key, raw in page.get_images().items():
            pixels = _image_pixels(raw)
            if pixels > MAX_IMAGE_PIXELS:
                findings.append(_f(
                    "N1-PDF-IMAGE",
                    f"page {number}, image {key} de {pixels / 1e6:.0f} Mpx ({raw.get('/Width')} × "
                    f"{raw.get('/Height')}) : au-delà de {MAX_IMAGE_PIXELS // 1_000_000} Mpx, ni décodée ni "
                    "rendue (le datamatrix n'y est pas cherché)",
                ))
    return findings


def _payloads_from_images(pdf) -> list[str]:
    import pikepdf

    found = []
    for page in pdf.pages:
        for raw in page.get_images().values():
            if _image_pixels(raw) > MAX_IMAGE_PIXELS:
                continue
            try:
                image = pikepdf.PdfImage(raw).as_pil_image()
            except Exception:  # an image format Pillow cannot read: rendering covers it
                continue
            found.extend(decode_datamatrices(image))
    return found


def _render_first_page(document):
    """The first page in grey at RENDER_DPI, scaled down so that it stays under MAX_RENDER_PIXELS."""
    page = document[0]
    width, height = page.get_size()
    scale = RENDER_DPI / 72
    if width * height * scale * scale > MAX_RENDER_PIXELS:
        scale = (MAX_RENDER_PIXELS / max(width * height, 1.0)) ** 0.5
    return page.render(scale=scale).to_pil().convert("L")


def _pdf_text(document) -> str:
    return "\n".join(page.get_textpage().get_text_range() for page in document)


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
    """Findings about one PDF (and its agreement with a CDA header when `root` is given).

    Never raises on what the PDF contains: an object of an unexpected type that slips past
    the precise checks is still reported as a finding on the document.
    """
    try:
        return _check_pdf(data, root)
    except Exception as exc:  # a hostile PDF must not take the validation down
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return [_structure(f"analyse interrompue ({detail})")]


def _check_pdf(data: bytes, root: etree._Element | None) -> list[Finding]:
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
        findings = []
        if any("reconstruct" in w or "damaged" in w for w in pdf.get_warnings()):
            findings.append(_f("N1-PDF", "PDF endommagé (fichier tronqué ?) : sa table des références croisées "
                                         "est introuvable ou fausse et a dû être reconstruite"))
        findings.extend(_pdfa_findings(pdf))
        oversized = _oversized_images(pdf)
        findings.extend(oversized)
        payloads = [p for p in _payloads_from_images(pdf) if is_ins_payload(p)]
    payloads, text = _with_pdfium(data, payloads, render=not oversized, findings=findings)
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
    if text is not None and not any(re.search(p, text, re.IGNORECASE) for p in GDPR_PATTERNS):
        findings.append(
            _f(
                "N1-RGPD",
                "aucune mention d'information RGPD trouvée dans le texte du PDF (pied de page)",
                REQ_GDPR,
            )
        )
    return findings


def _with_pdfium(
    data: bytes, payloads: list[str], *, render: bool, findings: list[Finding]
) -> tuple[list[str], str | None]:
    """Datamatrix payloads (rendering the first page when the images gave none) and the text.

    A PDF that PDFium cannot open is a finding; (None text) means the GDPR notice is unknown.
    """
    try:
        import pypdfium2
    except ImportError:
        return payloads, None
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        findings.append(_f("N1-PDF", f"PDF illisible par un lecteur courant (PDFium : {exc}) : texte et rendu "
                                     "non vérifiés"))
        return payloads, None
    try:
        if not payloads and render and len(document):
            payloads = [p for p in decode_datamatrices(_render_first_page(document)) if is_ins_payload(p)]
        return payloads, _pdf_text(document)
    finally:
        document.close()


def check_n1(root: etree._Element) -> list[Finding]:
    """Findings about the PDF embedded in `nonXMLBody` (none when the body is structured)."""
    if root.find("h:component/h:nonXMLBody", NS) is None:
        return []
    data, findings = embedded_pdf(root)
    if data is None:
        return findings
    return check_pdf(data, root)
