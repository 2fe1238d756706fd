"""What every generator returns, and the helpers the volet modules share."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from banc.documents.header import DocumentContext

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass
class GeneratedDocument:
    """A generated CDA document with the context it was made from (to derive a new version)."""

    kind: str
    root: etree._Element
    context: DocumentContext
    pdf: bytes | None = None
    notes: dict = field(default_factory=dict)

    @property
    def xml(self) -> bytes:
        return XML_DECLARATION + etree.tostring(self.root, encoding="UTF-8")

    @property
    def document_id(self) -> str:
        ident = self.root.find("{urn:hl7-org:v3}id")
        root, ext = ident.get("root", ""), ident.get("extension")
        return f"{root}^{ext}" if ext else root

    @property
    def set_id(self) -> str:
        ident = self.root.find("{urn:hl7-org:v3}setId")
        root, ext = ident.get("root", ""), ident.get("extension")
        return f"{root}^{ext}" if ext else root

    @property
    def version(self) -> int:
        return int(self.root.find("{urn:hl7-org:v3}versionNumber").get("value", "1"))
