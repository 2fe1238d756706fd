"""The SSIAD's own stylesheet, which makes its DLU and FLUDT auto-presentable (SC.DOC.08.MS1).

Read as the CI-SIS "Structuration minimale" volet describes a self-presenting CDA (§3.3.2,
§3.9, as summarised in our docs (?)): the document names its stylesheet with an
`<?xml-stylesheet type="text/xsl" href="…"?>` processing instruction, and the stylesheet file
travels beside it, in the same folder of the IHE_XDM.ZIP.
"""

from __future__ import annotations

from pathlib import Path

from banc import xds
from banc.documents.base import XML_DECLARATION, GeneratedDocument
from banc.xdm import XdmDocument, build_xdm
from banc.xml import parse_untrusted

NAME = "SSIAD.XSL"
SELF_PRESENTING = ("DLU", "FLUDT")
"""Document kinds the DSR asks to deliver with the ESMS's stylesheet."""
DOCUMENT_NAME = "DOC0001.XML"


def stylesheet() -> bytes:
    return (Path(__file__).parent / "data" / "ssiad.xsl").read_bytes()


def with_stylesheet(cda: bytes) -> bytes:
    """The CDA with the processing instruction naming the stylesheet, after its declaration."""
    body = cda.removeprefix(XML_DECLARATION).lstrip()
    return XML_DECLARATION + f'<?xml-stylesheet type="text/xsl" href="{NAME}"?>\n'.encode() + body


def presented(made: GeneratedDocument) -> tuple[bytes, bytes | None]:
    """The CDA bytes to send and, for a self-presenting kind, the IHE_XDM.ZIP that carries the
    stylesheet beside it (None: the message builds its usual archive)."""
    if made.kind not in SELF_PRESENTING:
        return made.xml, None
    cda = with_stylesheet(made.xml)
    submission = xds.derive_submission(parse_untrusted(cda), document_bytes=cda, uri=DOCUMENT_NAME)
    return cda, build_xdm(submission, [XdmDocument(DOCUMENT_NAME, cda), XdmDocument(NAME, stylesheet(), "text/xsl")])
