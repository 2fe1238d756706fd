"""SOAP 1.2 building blocks shared by the INSi and DMP mocks and by test clients.

- `envelope`: parse a request envelope safely (SOAP 1.1 is detected so that the caller can
  answer with the SOAP 1.2 VersionMismatch fault), build response envelopes;
- `addressing`: read and write WS-Addressing 1.0 headers (MessageID, To, Action, ReplyTo,
  RelatesTo);
- `faults`: build and read SOAP 1.2 Faults (Code/Subcode/Reason/Detail);
- `offline`: a zeep transport that serves well-known schema URLs from local files, so that
  clients built from official WSDLs work behind a firewall.

MTOM/XOP lives in `banc.soap.mtom` (owned by the DMP work).
"""

from banc.soap.addressing import (
    WSA_NS,
    Addressing,
    addressing_headers,
    new_message_id,
    read_addressing,
)
from banc.soap.envelope import (
    SOAP11_NS,
    SOAP12_CONTENT_TYPE,
    SOAP12_NS,
    Envelope,
    SoapError,
    build_envelope,
    content_type_action,
    parse_envelope,
)
from banc.soap.faults import Fault, build_fault, parse_fault, version_mismatch_fault

__all__ = [
    "SOAP11_NS",
    "SOAP12_CONTENT_TYPE",
    "SOAP12_NS",
    "WSA_NS",
    "Addressing",
    "Envelope",
    "Fault",
    "SoapError",
    "addressing_headers",
    "build_envelope",
    "build_fault",
    "content_type_action",
    "new_message_id",
    "parse_envelope",
    "parse_fault",
    "read_addressing",
    "version_mismatch_fault",
]
