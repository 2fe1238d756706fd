"""XDS.b metadata: model, derivation from a CDA header, ebRIM XML, consistency checks.

Public API (stable; the DMP and MSSanté mocks depend on it): see `docs/documents.md`.
"""

from banc.xds.checks import (
    check_against_cda,
    check_entry,
    check_metadata,
    check_submission_against_cda,
)
from banc.xds.codes import (
    CONF_NORMAL,
    INVISIBLE_PATIENT,
    INVISIBLE_REPRESENTANTS_LEGAUX,
    MASQUE_PS,
    RPLC,
    Code,
)
from banc.xds.derive import HeaderFacts, derive_entry, derive_submission, header_facts
from banc.xds.ebrim import (
    documents_of,
    entry_element,
    entry_from_element,
    parse_entries,
    parse_submission,
    registry_object_list,
    to_provide_and_register,
    to_submit_objects_request,
)
from banc.xds.model import (
    Association,
    Author,
    DocumentEntry,
    Submission,
    SubmissionSet,
    XdsOrganization,
    XdsPerson,
)

__all__ = [
    "CONF_NORMAL",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REPRESENTANTS_LEGAUX",
    "MASQUE_PS",
    "RPLC",
    "Association",
    "Author",
    "Code",
    "DocumentEntry",
    "HeaderFacts",
    "Submission",
    "SubmissionSet",
    "XdsOrganization",
    "XdsPerson",
    "check_against_cda",
    "check_entry",
    "check_metadata",
    "check_submission_against_cda",
    "derive_entry",
    "derive_submission",
    "documents_of",
    "entry_element",
    "entry_from_element",
    "header_facts",
    "parse_entries",
    "parse_submission",
    "registry_object_list",
    "to_provide_and_register",
    "to_submit_objects_request",
]
