"""WS-Addressing 1.0 (namespace 2005/08) headers: read them from a request, write a reply's.

INSi and the DMP route on `wsa:Action`; the DMP also requires MessageID/To/ReplyTo. The reply
carries a fresh MessageID, the response Action and `RelatesTo` = the request's MessageID.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from banc.soap.envelope import Envelope

WSA_NS = "http://www.w3.org/2005/08/addressing"
ANONYMOUS = f"{WSA_NS}/anonymous"


@dataclass(frozen=True)
class Addressing:
    """WS-Addressing values of one message; None when the header is absent."""

    message_id: str | None = None
    to: str | None = None
    action: str | None = None
    reply_to: str | None = None
    relates_to: str | None = None
    from_: str | None = None

    def missing(self, *names: str) -> list[str]:
        """Which of the named headers ('MessageID', 'To', 'Action', 'ReplyTo'…) are absent."""
        attributes = {
            "MessageID": self.message_id, "To": self.to, "Action": self.action,
            "ReplyTo": self.reply_to, "RelatesTo": self.relates_to, "From": self.from_,
        }
        return [name for name in names if not attributes[name]]


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    value = (element.text or "").strip()
    return value or None


def _address(envelope: Envelope, name: str) -> str | None:
    block = envelope.header(WSA_NS, name)
    if block is None:
        return None
    return _text(block.find(f"{{{WSA_NS}}}Address")) or ""


def read_addressing(envelope: Envelope) -> Addressing:
    return Addressing(
        message_id=_text(envelope.header(WSA_NS, "MessageID")),
        to=_text(envelope.header(WSA_NS, "To")),
        action=_text(envelope.header(WSA_NS, "Action")),
        reply_to=_address(envelope, "ReplyTo"),
        relates_to=_text(envelope.header(WSA_NS, "RelatesTo")),
        from_=_address(envelope, "From"),
    )


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def addressing_headers(
    action: str,
    *,
    message_id: str | None = None,
    relates_to: str | None = None,
    to: str | None = None,
    reply_to: str | None = None,
    prefix: str = "wsa",
) -> list[etree._Element]:
    """Header blocks for a message: Action, MessageID (fresh unless given), optional others."""
    nsmap = {prefix: WSA_NS}

    def element(name: str, text: str) -> etree._Element:
        node = etree.Element(f"{{{WSA_NS}}}{name}", nsmap=nsmap)
        node.text = text
        return node

    blocks = [element("Action", action), element("MessageID", message_id or new_message_id())]
    if relates_to:
        blocks.append(element("RelatesTo", relates_to))
    if to:
        blocks.append(element("To", to))
    if reply_to:
        reply = etree.Element(f"{{{WSA_NS}}}ReplyTo", nsmap=nsmap)
        etree.SubElement(reply, f"{{{WSA_NS}}}Address").text = reply_to
        blocks.append(reply)
    return blocks
