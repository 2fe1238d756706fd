"""The XDS.b metadata model: DocumentEntry, SubmissionSet, Association, authors.

Plain frozen dataclasses, independent of XML: `banc.xds.ebrim` writes and reads them,
`banc.xds.derive` builds them from a CDA header, `banc.xds.checks` compares them with one.
HL7 v2 data types (XCN for people, XON for organisations, CX for patient ids) are kept as
structured fields and formatted only at the edge, so that a comparison never depends on how a
sender spelled empty components.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from banc.xds.codes import CS_RPPS_ADELI, CS_STRUCTURE, HAS_MEMBER, RPLC, Code


def new_entry_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass(frozen=True)
class XdsPerson:
    """XCN: `id^family^given^^^prefix^^^&authority&ISO^D^^^IDNPS`.

    The French national id of a professional is "8" + RPPS (or "0"/"3" + ADELI) under
    authority 1.2.250.1.71.4.2.1, type IDNPS.
    """

    id: str
    family: str = ""
    given: str = ""
    prefix: str = ""
    authority: str = CS_RPPS_ADELI
    id_type: str = "IDNPS"

    def to_xcn(self) -> str:
        return (
            f"{self.id}^{self.family}^{self.given}^^^{self.prefix}^^^&{self.authority}&ISO"
            f"^D^^^{self.id_type}"
        )

    @classmethod
    def from_xcn(cls, value: str) -> XdsPerson:
        parts = value.split("^") + [""] * 14
        authority = parts[8].split("&")[1] if parts[8].count("&") >= 1 else ""
        return cls(
            id=parts[0],
            family=parts[1],
            given=parts[2],
            prefix=parts[5],
            authority=authority,
            id_type=parts[12],
        )


@dataclass(frozen=True)
class XdsOrganization:
    """XON: `name^^^^^&authority&ISO^IDNST^^^id` (FINESS, SIRET or national structure id)."""

    name: str
    id: str = ""
    authority: str = CS_STRUCTURE
    id_type: str = "IDNST"

    def to_xon(self) -> str:
        if not self.id:
            return self.name
        return f"{self.name}^^^^^&{self.authority}&ISO^{self.id_type}^^^{self.id}"

    @classmethod
    def from_xon(cls, value: str) -> XdsOrganization:
        parts = value.split("^") + [""] * 10
        authority = parts[5].split("&")[1] if parts[5].count("&") >= 1 else ""
        return cls(name=parts[0], id=parts[9], authority=authority, id_type=parts[6])


@dataclass(frozen=True)
class Author:
    person: XdsPerson | None = None
    institutions: tuple[XdsOrganization, ...] = ()
    roles: tuple[Code, ...] = ()
    specialties: tuple[Code, ...] = ()
    telecoms: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentEntry:
    """One XDSDocumentEntry. Times are HL7 DTM strings (`YYYYMMDDhhmmss`, UTC by XDS rule)."""

    entry_uuid: str
    unique_id: str
    patient_id: str
    class_code: Code
    type_code: Code
    format_code: Code
    confidentiality: tuple[Code, ...]
    healthcare_facility_type: Code
    practice_setting: Code
    creation_time: str
    title: str = ""
    comments: str = ""
    mime_type: str = "text/xml"
    language_code: str = "fr-FR"
    authors: tuple[Author, ...] = ()
    legal_authenticator: XdsPerson | None = None
    service_start: str = ""
    service_stop: str = ""
    event_codes: tuple[Code, ...] = ()
    source_patient_id: str = ""
    source_patient_info: tuple[str, ...] = ()
    reference_ids: tuple[str, ...] = ()
    hash: str = ""
    size: int | None = None
    uri: str = ""
    repository_unique_id: str = ""
    object_type: str = ""
    status: str = ""
    """availabilityStatus in query responses (`urn:oasis:names:tc:ebxml-regrep:StatusType:Approved`…)."""
    extra_slots: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def with_visibility(self, *codes: Code) -> DocumentEntry:
        """The same entry with extra confidentiality codes (masking / visibility)."""
        kept = tuple(c for c in self.confidentiality if not any(c.same_as(x) for x in codes))
        return replace(self, confidentiality=kept + tuple(codes))


@dataclass(frozen=True)
class SubmissionSet:
    entry_uuid: str
    unique_id: str
    source_id: str
    patient_id: str
    submission_time: str
    content_type: Code
    authors: tuple[Author, ...] = ()
    title: str = ""
    comments: str = ""
    intended_recipients: tuple[str, ...] = ()
    """XDM/XDR `intendedRecipient` (XON|XCN|XTN), e.g. `|^^^^^^^^^^^^^jean@x.mssante.fr`."""


@dataclass(frozen=True)
class Association:
    id: str
    type: str
    source: str
    target: str
    slots: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def slot(self, name: str) -> tuple[str, ...]:
        return next((values for key, values in self.slots if key == name), ())


@dataclass
class Submission:
    """A SubmitObjectsRequest: one submission set, its documents and the associations."""

    submission_set: SubmissionSet
    documents: list[DocumentEntry] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    @classmethod
    def of(cls, submission_set: SubmissionSet, *documents: DocumentEntry) -> Submission:
        """A submission with one HasMember (Original) association per document."""
        result = cls(submission_set=submission_set, documents=list(documents))
        for number, doc in enumerate(documents, start=1):
            result.associations.append(
                Association(
                    id=f"assoc{number}",
                    type=HAS_MEMBER,
                    source=submission_set.entry_uuid,
                    target=doc.entry_uuid,
                    slots=(("SubmissionSetStatus", ("Original",)),),
                )
            )
        return result

    def replaces(self, document: DocumentEntry, previous_entry_uuid: str) -> Submission:
        """Declare that `document` replaces the registry entry `previous_entry_uuid` (RPLC)."""
        self.associations.append(
            Association(
                id=f"assoc{len(self.associations) + 1}",
                type=RPLC,
                source=document.entry_uuid,
                target=previous_entry_uuid,
            )
        )
        return self

    def document(self, entry_uuid: str) -> DocumentEntry | None:
        return next((d for d in self.documents if d.entry_uuid == entry_uuid), None)
