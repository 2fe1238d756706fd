"""Health-message senders of the bench: the hospital discharge service and the usager's GP of
the directory (`named_senders`), the documents they write (the factory, `banc.documents`), the
messages that carry them (IHE_XDM.ZIP, PDF/A copy, `X-MSS-*` headers) and deliberately broken
variants for negative tests of a DUI's receiving side (`BROKEN_VARIANTS`).

Shared by the MSSanté mock's simulated correspondents and `banc mss envoyer`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from banc.directory import Directory, Organisation, Professional
from banc.documents import factory
from banc.documents.base import GeneratedDocument
from banc.documents.header import DocumentContext
from banc.documents.n1 import PRESCRIPTION_SOINS
from banc.documents.parties import from_directory
from banc.documents.pdf import PageContent, render_pdf
from banc.identity import Identity, nir_key, xds_patient_id
from banc.mail.compose import HealthMessage
from banc.xdm import XdmDocument, build_xdm
from banc.xds import derive_submission
from banc.xds.codes import Code
from banc.xml import parse_untrusted


def _other_ins(ins: str) -> str:
    """Another valid INS of the same register (the last digits of the order number changed)."""
    matricule = ins[:10] + f"{(int(ins[10:13]) + 1) % 1000:03d}"
    return matricule + nir_key(matricule)


def _metadata_of_another_patient(message: HealthMessage) -> HealthMessage:
    assert message.cda is not None
    root = parse_untrusted(message.cda)
    submission = derive_submission(root, document_bytes=message.cda, uri="DOC0001.XML")
    ins, oid = submission.submission_set.patient_id.split("^^^&")[0], root.find(
        "{urn:hl7-org:v3}recordTarget/{urn:hl7-org:v3}patientRole/{urn:hl7-org:v3}id").get("root", "")
    wrong = xds_patient_id(_other_ins(ins), oid)
    submission = dataclasses.replace(
        submission,
        submission_set=dataclasses.replace(submission.submission_set, patient_id=wrong),
        documents=[dataclasses.replace(d, patient_id=wrong) for d in submission.documents],
    )
    archive = build_xdm(submission, [XdmDocument("DOC0001.XML", message.cda)])
    return dataclasses.replace(message, xdm=archive)


def _without_metadata(message: HealthMessage) -> HealthMessage:
    import io
    import zipfile

    assert message.cda is not None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", "<html><body>Documents</body></html>")
        archive.writestr("README.TXT", "Archive IHE XDM")
        archive.writestr("IHE_XDM/SUBSET01/DOC0001.XML", message.cda)
    return dataclasses.replace(message, xdm=buffer.getvalue())


def pdf_copy(document: GeneratedDocument) -> bytes:
    """The PDF/A-1 copy a sender joins to a structured CDA (MSSanté: CDA and PDF together)."""
    ctx = document.context
    title = document.root.findtext("{urn:hl7-org:v3}title") or document.kind
    identity = ctx.identity
    born = identity.birth_date.strftime("%d/%m/%Y")
    return render_pdf(PageContent(
        title=title, organisation=ctx.author.organization.name, author=ctx.author.display_name,
        identity_lines=(f"{identity.birth_name} {identity.first_name}, né(e) le {born}",
                        f"INS : {identity.ins or 'non qualifié'}"),
        paragraphs=(("Document", f"Copie lisible du document CDA « {title} »."),),
        created=ctx.when,
    ))


BROKEN_VARIANTS: dict[str, Callable[[HealthMessage], HealthMessage]] = {
    "sans-nil": lambda m: dataclasses.replace(m, nil=None),
    "sans-x-mss-codecda": lambda m: dataclasses.replace(
        m, omit_headers=(*m.omit_headers, "X-MSS-CODECDA")),
    "sans-x-mss-ins": lambda m: dataclasses.replace(m, omit_headers=(*m.omit_headers, "X-MSS-INS")),
    "objet-libre": lambda m: dataclasses.replace(m, subject="Document"),
    "sans-pdf": lambda m: dataclasses.replace(m, pdf=None),
    "metadonnees-autre-patient": _metadata_of_another_patient,
    "sans-metadata": _without_metadata,
}
"""Defects a DUI must notice when it receives the message (it should answer an error MDN or
put the document aside). Names are used by the CLI and scenarios."""


@dataclasses.dataclass(frozen=True)
class Sender:
    """A professional or service of the directory that writes and sends health messages."""

    address: str
    professional: Professional
    organisation: Organisation

    def context(self, identity: Identity, when: datetime | None = None) -> DocumentContext:
        return DocumentContext(identity=identity,
                               author=from_directory(self.professional, self.organisation),
                               when=when or datetime.now().astimezone())

    def document(self, kind: str, identity: Identity, *, when: datetime | None = None,
                 **options: object) -> GeneratedDocument:
        """A document of the factory (`LDL-SES`, `VSM`, `eP-MED-DM`, `N1`, `DLU`…) written by
        this sender for `identity`."""
        return factory.generate(kind, self.context(identity, when), **options)

    def n1(self, identity: Identity, *, type_code: Code = PRESCRIPTION_SOINS,
           when: datetime | None = None, **options: object) -> GeneratedDocument:
        """A CDA R2 N1 (PDF/A with the INS datamatrix) written by this sender."""
        return self.document("N1", identity, when=when, type_code=type_code, **options)

    def message(self, to: list[str], document: GeneratedDocument | bytes, *,
                pdf: bytes | None = None, notify: bool = False,
                broken: tuple[str, ...] = ()) -> HealthMessage:
        """The health message carrying `document`, with the listed broken variants applied."""
        cda = document.xml if isinstance(document, GeneratedDocument) else document
        if pdf is None and isinstance(document, GeneratedDocument):
            pdf = document.pdf or pdf_copy(document)
        message = HealthMessage(sender=self.address, recipients=to, cda=cda, pdf=pdf,
                                notify_to=self.address if notify else None)
        for name in broken:
            if name not in BROKEN_VARIANTS:
                raise KeyError(f"variante inconnue : {name} ({', '.join(BROKEN_VARIANTS)})")
            message = BROKEN_VARIANTS[name](message)
        return message


def named_senders(directory: Directory) -> dict[str, Sender]:
    """`hopital`: the discharge service (its physician writes); `medecin`: the usager's GP."""
    service = directory.hospital_service
    gp = directory.gp
    cabinet = directory.organisation(gp.activities[0].organisation)
    assert gp.mailbox is not None and cabinet is not None
    return {
        "hopital": Sender(service.mailboxes[0].address, directory.person("medecin_hospitalier"),
                          service),
        "medecin": Sender(gp.mailbox.address, gp, cabinet),
    }
