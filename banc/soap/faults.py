"""SOAP 1.2 Faults: build them (services) and read them (tests, clients, capture checks).

A service-specific error (INSi `siram:Erreur`, DMP codes) goes in `Fault.detail`; Code and
Subcode follow SOAP 1.2 part 1 §5.4. `version_mismatch_fault` adds the `Upgrade` header the
spec asks for, listing the envelope version we support.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from banc.soap.envelope import SOAP12_NS, Envelope, build_envelope

FAULT_CODES = ("VersionMismatch", "MustUnderstand", "DataEncodingUnknown", "Sender", "Receiver")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class Fault:
    """One SOAP 1.2 fault. `subcodes` are (namespace, local name) pairs, outermost first."""

    code: str
    reason: str
    subcodes: tuple[tuple[str, str], ...] = ()
    lang: str = "fr"
    detail: list[etree._Element] = field(default_factory=list)
    node: str | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        if self.code not in FAULT_CODES:
            raise ValueError(f"SOAP 1.2 fault code must be one of {FAULT_CODES}, not {self.code!r}")


def fault_element(fault: Fault, *, prefix: str = "soap") -> etree._Element:
    """The `env:Fault` element (to put in a Body yourself, e.g. with other headers)."""
    subcode_prefixes = {ns: f"sc{i}" for i, (ns, _) in enumerate(fault.subcodes) if ns}
    nsmap = {prefix: SOAP12_NS, **{p: ns for ns, p in subcode_prefixes.items()}}
    element = etree.Element(f"{{{SOAP12_NS}}}Fault", nsmap=nsmap)
    code = etree.SubElement(element, f"{{{SOAP12_NS}}}Code")
    etree.SubElement(code, f"{{{SOAP12_NS}}}Value").text = f"{prefix}:{fault.code}"
    parent = code
    for namespace, name in fault.subcodes:
        parent = etree.SubElement(parent, f"{{{SOAP12_NS}}}Subcode")
        value = subcode_prefixes.get(namespace)
        etree.SubElement(parent, f"{{{SOAP12_NS}}}Value").text = (
            f"{value}:{name}" if value else name
        )
    reason = etree.SubElement(element, f"{{{SOAP12_NS}}}Reason")
    text = etree.SubElement(reason, f"{{{SOAP12_NS}}}Text")
    text.set(XML_LANG, fault.lang)
    text.text = fault.reason
    if fault.node:
        etree.SubElement(element, f"{{{SOAP12_NS}}}Node").text = fault.node
    if fault.role:
        etree.SubElement(element, f"{{{SOAP12_NS}}}Role").text = fault.role
    if fault.detail:
        detail = etree.SubElement(element, f"{{{SOAP12_NS}}}Detail")
        detail.extend(fault.detail)
    return element


def build_fault(
    fault: Fault, headers: Iterable[etree._Element] = (), *, prefix: str = "soap"
) -> bytes:
    """A complete SOAP 1.2 envelope carrying `fault`."""
    return build_envelope(fault_element(fault, prefix=prefix), headers, prefix=prefix)


def version_mismatch_fault(reason: str, detail: Iterable[etree._Element] = ()) -> bytes:
    """The answer to a non-SOAP-1.2 envelope: VersionMismatch plus the Upgrade header."""
    upgrade = etree.Element(f"{{{SOAP12_NS}}}Upgrade", nsmap={"soap": SOAP12_NS})
    supported = etree.SubElement(upgrade, f"{{{SOAP12_NS}}}SupportedEnvelope")
    supported.set("qname", "soap:Envelope")
    return build_fault(Fault("VersionMismatch", reason, detail=list(detail)), [upgrade])


def _resolve(element: etree._Element, value: str) -> tuple[str, str]:
    """A QName in element content → (namespace, local name), using in-scope prefixes."""
    value = value.strip()
    if ":" in value:
        prefix, name = value.split(":", 1)
        return element.nsmap.get(prefix, ""), name
    return element.nsmap.get(None, ""), value


def parse_fault(envelope: Envelope) -> Fault | None:
    """The Fault in a parsed envelope's Body, or None when the Body is not a fault."""
    body = envelope.body
    element = body.find(f"{{{SOAP12_NS}}}Fault") if body is not None else None
    if element is None:
        return None
    value = element.find(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Value")
    namespace, code = _resolve(value, value.text or "") if value is not None else ("", "")
    if namespace != SOAP12_NS or code not in FAULT_CODES:
        code = "Receiver"
    subcodes: list[tuple[str, str]] = []
    parent = element.find(f"{{{SOAP12_NS}}}Code")
    while parent is not None:
        parent = parent.find(f"{{{SOAP12_NS}}}Subcode")
        if parent is not None:
            sub_value = parent.find(f"{{{SOAP12_NS}}}Value")
            if sub_value is not None:
                subcodes.append(_resolve(sub_value, sub_value.text or ""))
    text = element.find(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text")
    detail = element.find(f"{{{SOAP12_NS}}}Detail")
    node = element.find(f"{{{SOAP12_NS}}}Node")
    role = element.find(f"{{{SOAP12_NS}}}Role")
    return Fault(
        code=code,
        reason=(text.text or "") if text is not None else "",
        subcodes=tuple(subcodes),
        lang=text.get(XML_LANG, "") if text is not None else "",
        detail=[c for c in detail if isinstance(c.tag, str)] if detail is not None else [],
        node=node.text if node is not None else None,
        role=role.text if role is not None else None,
    )
