"""Findings → the DMP's own error formats.

- transport, addressing and security problems: SOAP 1.2 Fault (WS-Addressing and WS-Security
  standard subcodes, so a generic SOAP stack recognises them), the rule id in the Detail;
- XDS problems: `RegistryResponse status=Failure` with one `RegistryError` per finding
  (`errorCode` = the XDS code when the rule is one, else `XDSRegistryMetadataError`; the rule id
  and French message in `codeContext`);
- HL7v3 business errors: acknowledgement `AE` with the message (in `wire.hl7_message`).
"""

from __future__ import annotations

from lxml import etree

from banc.soap import WSA_NS, Fault, build_fault, version_mismatch_fault
from banc.verdict import Finding

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DMP_NS = "urn:si-dmp:erreurs"
"""Namespace of our fault Detail (the real one is not published in our sources (?))."""

XDS_CODES = {
    "XDSPatientIdDoesNotMatch", "XDSDocumentUniqueIdError", "XDSDuplicateUniqueIdInRegistry",
    "XDSMissingDocument", "XDSMissingDocumentMetadata", "XDSUnknownRepositoryId",
    "XDSUnknownStoredQuery", "XDSStoredQueryParamNumber", "XDSRegistryMetadataError",
    "XDSRepositoryMetadataError", "XDSReplaceFailed", "XDSUnknownPatientId",
    "XDSNonIdenticalHash", "XDSRegistryError", "XDSRepositoryError",
}


def _detail(rule: str, message: str) -> etree._Element:
    detail = etree.Element(f"{{{DMP_NS}}}erreur", nsmap={"dmp": DMP_NS}, code=rule)
    detail.text = message
    return detail


def soap_fault(rule: str, message: str, *, kind: str = "sender") -> bytes:
    """A SOAP 1.2 Fault. `kind`: 'addressing', 'action', 'security', 'version', 'sender'."""
    if kind == "version":
        return version_mismatch_fault(message)
    subcodes = {
        "addressing": ((WSA_NS, "MessageAddressingHeaderRequired"),),
        "action": ((WSA_NS, "ActionNotSupported"),),
        "security": ((WSSE_NS, "InvalidSecurityToken"),),
        "denied": ((WSSE_NS, "FailedAuthentication"),),
    }.get(kind, ())
    return build_fault(Fault("Sender", message, subcodes=subcodes, detail=[_detail(rule, message)]))


def refusal_fault(finding: Finding, *, kind: str = "sender") -> bytes:
    """The Fault of one refusal: its rule id in the Detail, its message as the reason."""
    return soap_fault(finding.rule_id, finding.message, kind=kind)


def fault_from_findings(findings: list[Finding], *, kind: str) -> bytes:
    errors = [f for f in findings if f.is_error] or findings
    message = " ; ".join(f"[{f.rule_id}] {f.message}" for f in errors)
    return soap_fault(errors[0].rule_id, message, kind=kind)


def registry_errors(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    """(errorCode, codeContext, location, severity) for `wire.registry_response`."""
    out = []
    for finding in findings:
        code = finding.rule_id if finding.rule_id in XDS_CODES else "XDSRegistryMetadataError"
        out.append((code, f"[{finding.rule_id}] {finding.message}", finding.location,
                    "error" if finding.is_error else "warning"))
    return out
