"""PDF/A-1b pages for N1 documents: identity block with the INS datamatrix, body, GDPR footer.

reportlab draws the page with an embedded TrueType font (Bitstream Vera, shipped with
reportlab: no system font needed) and the datamatrix as a greyscale image (no transparency);
pikepdf then makes the file PDF/A-1b: PDF 1.4 without object streams, XMP metadata declaring
`pdfaid:part=1` / `conformance=B` kept in sync with the Info dictionary, and an sRGB output
intent. `pdfa=False` skips that step (a plain PDF, to test the checker).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pikepdf
import reportlab
from PIL import ImageCms
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from banc.documents.datamatrix import datamatrix_image

_FONTS = Path(reportlab.__file__).parent / "fonts"
FONT = "BancVera"
FONT_BOLD = "BancVeraBd"

DEFAULT_GDPR_FOOTER = (
    "Vos données personnelles sont traitées par le service pour la gestion de votre prise en "
    "charge (RGPD, art. 6.1.e et 9.2.h). Vous disposez d'un droit d'accès, de rectification et "
    "de limitation auprès du délégué à la protection des données du service."
)
"""Default GDPR notice (SC.DOC.06.MS1); each site sets its own (`PageContent.gdpr_footer`)."""


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(_FONTS / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONTS / "VeraBd.ttf")))


@dataclass(frozen=True)
class PageContent:
    title: str
    organisation: str
    author: str
    identity_lines: tuple[str, ...]
    paragraphs: tuple[tuple[str, str], ...]
    """(heading, text) pairs of the body."""
    gdpr_footer: str = DEFAULT_GDPR_FOOTER
    datamatrix_payload: str | None = None
    created: datetime | None = None


def _draw_footer(pdf: canvas.Canvas, text: str, page: int) -> None:
    pdf.setFont(FONT, 7)
    y = 18 * mm
    for line in simpleSplit(text, FONT, 7, A4[0] - 40 * mm):
        pdf.drawString(20 * mm, y, line)
        y -= 3 * mm
    pdf.drawRightString(A4[0] - 20 * mm, 8 * mm, f"Page {page}")


def render_page(content: PageContent) -> bytes:
    """The PDF as reportlab writes it (not yet PDF/A)."""
    _register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=FONT)
    pdf.setTitle(content.title)
    pdf.setAuthor(content.author)
    pdf.setCreator("Banc Ségur")
    pdf.setProducer("Banc Ségur")
    width, height = A4
    pdf.setFont(FONT_BOLD, 11)
    pdf.drawString(20 * mm, height - 20 * mm, content.organisation)
    pdf.setFont(FONT_BOLD, 15)
    pdf.drawString(20 * mm, height - 32 * mm, content.title)
    pdf.setFont(FONT, 9)
    y = height - 42 * mm
    for line in content.identity_lines:
        pdf.drawString(20 * mm, y, line)
        y -= 4.5 * mm
    if content.datamatrix_payload:
        image = datamatrix_image(content.datamatrix_payload)
        size = 24 * mm
        pdf.drawImage(
            ImageReader(image), width - 20 * mm - size, height - 24 * mm - size, size, size
        )
        pdf.setFont(FONT, 7)
        pdf.drawCentredString(width - 20 * mm - size / 2, height - 27 * mm - size, "INS à scanner")
    y = min(y, height - 75 * mm) - 4 * mm
    page = 1

    def next_page() -> float:
        """Close the page with its footer; the top of the next page's text."""
        nonlocal page
        _draw_footer(pdf, content.gdpr_footer, page)
        pdf.showPage()
        page += 1
        return height - 25 * mm

    for heading, text in content.paragraphs:
        lines = simpleSplit(text, FONT, 10, width - 40 * mm)
        if y - 6 * mm - 5 * mm * len(lines[:3]) < 35 * mm:
            y = next_page()
        pdf.setFont(FONT_BOLD, 11)
        pdf.drawString(20 * mm, y, heading)
        y -= 6 * mm
        pdf.setFont(FONT, 10)
        for line in lines:
            if y < 35 * mm:
                y = next_page()
                pdf.setFont(FONT, 10)
            pdf.drawString(20 * mm, y, line)
            y -= 5 * mm
        y -= 3 * mm
    pdf.setFont(FONT, 8)
    pdf.drawString(20 * mm, max(y, 30 * mm), f"Document établi par {content.author}.")
    _draw_footer(pdf, content.gdpr_footer, page)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


_SRGB: bytes | None = None


ICC_CREATION_DATE = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
"""LittleCMS stamps each profile it builds with the current time (ICC header bytes 24–35); a
fixed date keeps documents byte-identical for a given seed. The profile ID stays zero ("not
computed", as LittleCMS leaves it), so changing the date invalidates nothing."""


def srgb_profile() -> bytes:
    """An sRGB ICC profile made by LittleCMS (through Pillow), for the PDF/A output intent."""
    global _SRGB
    if _SRGB is None:
        profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
        profile[24:36] = ICC_CREATION_DATE
        _SRGB = bytes(profile)
    return _SRGB


def to_pdfa1(data: bytes, *, title: str, author: str, created: datetime | None = None) -> bytes:
    """Make reportlab's PDF a PDF/A-1b file (metadata, output intent, PDF 1.4 structure)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        icc = pikepdf.Stream(pdf, srgb_profile())
        icc["/N"] = 3
        pdf.Root.OutputIntents = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.OutputIntent,
                    S=pikepdf.Name.GTS_PDFA1,
                    OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"),
                    Info=pikepdf.String("sRGB IEC61966-2.1"),
                    DestOutputProfile=icc,
                )
            ]
        )
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "1"
            meta["pdfaid:conformance"] = "B"
            meta["dc:title"] = title
            meta["dc:creator"] = [author]
            meta["pdf:Producer"] = "Banc Ségur"
            meta["xmp:CreatorTool"] = "Banc Ségur"
            if created is not None:
                stamp = created.isoformat(timespec="seconds")
                meta["xmp:CreateDate"] = stamp
                meta["xmp:ModifyDate"] = stamp
        out = io.BytesIO()
        pdf.save(
            out,
            force_version="1.4",
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            deterministic_id=True,
            fix_metadata_version=False,
        )
        return out.getvalue()


def render_pdf(content: PageContent, *, pdfa: bool = True) -> bytes:
    data = render_page(content)
    return (
        to_pdfa1(data, title=content.title, author=content.author, created=content.created)
        if pdfa
        else data
    )
