"""One entry point for every document type, new versions ("annule et remplace"), XDS/XDM.

```python
from banc.documents import factory
doc = factory.generate("DLU", ctx)                 # GeneratedDocument (xml, root, pdf)
v2 = factory.replacement(doc, when=later)          # same setId, versionNumber + 1, relatedDocument RPLC
sub = factory.submission(doc, visibility=(MASQUE_PS,))   # XDS metadata agreeing with the header
zip_bytes = factory.xdm(doc)                       # IHE XDM archive for MSSanté
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from banc import xds
from banc.documents.base import GeneratedDocument
from banc.documents.dlu import generate_dlu, generate_fludt
from banc.documents.header import DocumentContext
from banc.documents.ldl import generate_ldl_ses
from banc.documents.n1 import generate_n1
from banc.documents.prescription import generate_ep_med_dm
from banc.documents.tddui import generate_tddui
from banc.documents.vsm import generate_vsm
from banc.xdm import XdmDocument, build_xdm

GENERATORS: dict[str, Callable[..., GeneratedDocument]] = {
    "LDL-SES": generate_ldl_ses,
    "VSM": generate_vsm,
    "eP-MED-DM": generate_ep_med_dm,
    "DLU": generate_dlu,
    "FLUDT": generate_fludt,
    "N1": generate_n1,
    "TDDUI": generate_tddui,
}
KINDS = tuple(GENERATORS)
"""Document types the factory writes."""


def generate(kind: str, ctx: DocumentContext, **options: object) -> GeneratedDocument:
    """A document of `kind`; `options` go to the volet generator (e.g. N1 defects)."""
    try:
        generator = GENERATORS[kind]
    except KeyError:
        raise ValueError(
            f"type de document inconnu : {kind!r} (connus : {', '.join(KINDS)})"
        ) from None
    doc = generator(ctx, **options)
    doc.notes["options"] = options
    return doc


def replacement(
    previous: GeneratedDocument, *, when: datetime | None = None, seed: int | None = None
) -> GeneratedDocument:
    """The next version of a document: same setId, versionNumber + 1, relatedDocument RPLC.

    The DMP and MSSanté treat it as "annule et remplace" (SC.MSS.20.MS1, SC.DMP.02.MS1).
    """
    ctx = replace(
        previous.context,
        when=when or previous.context.when,
        seed=previous.context.seed if seed is None else seed,
        set_id=previous.set_id,
        version=previous.version + 1,
        replaces=previous.document_id,
    )
    return generate(previous.kind, ctx, **previous.notes.get("options", {}))


def submission(doc: GeneratedDocument, **options: object) -> xds.Submission:
    """XDS metadata derived from the document's header (see `banc.xds.derive_submission`)."""
    return xds.derive_submission(doc.root, document_bytes=doc.xml, **options)


def xdm(doc: GeneratedDocument, *, name: str = "DOC0001.XML", **options: object) -> bytes:
    """IHE XDM archive holding the document; intended recipients default to the header's mailboxes."""
    options.setdefault(
        "intended_recipients",
        tuple(f"||^^Internet^{r.mailbox}" for r in doc.context.recipients if r.mailbox),
    )
    sub = xds.derive_submission(doc.root, document_bytes=doc.xml, uri=name, **options)
    return build_xdm(sub, [XdmDocument(name, doc.xml)])
