"""SMTP envelope details the standard servers do not model: DSN parameters (RFC 3461) of
MAIL FROM (RET, ENVID) and RCPT TO (NOTIFY, ORCPT). Parsing only — no decisions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM = re.compile(r"\s+(RET|ENVID|NOTIFY|ORCPT)=(\S+)", re.IGNORECASE)
NOTIFY_VALUES = {"NEVER", "SUCCESS", "FAILURE", "DELAY"}


@dataclass
class Recipient:
    address: str
    notify: tuple[str, ...] = ("FAILURE",)  # RFC 3461 default: failures (and delays)
    original: str | None = None

    @property
    def notify_success(self) -> bool:
        return "SUCCESS" in self.notify

    @property
    def notify_failure(self) -> bool:
        return "FAILURE" in self.notify


@dataclass
class DsnEnvelope:
    """DSN parameters of one SMTP transaction."""

    ret_full: bool = False
    envelope_id: str | None = None
    recipients: dict[str, Recipient] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def strip_dsn_params(arg: str) -> tuple[str, dict[str, str]]:
    """Remove the DSN parameters from a MAIL/RCPT argument; returns (rest, {NAME: value})."""
    params = {m.group(1).upper(): m.group(2) for m in _PARAM.finditer(arg)}
    return _PARAM.sub("", arg), params


def xtext_decode(value: str) -> str:
    """RFC 3461 xtext: '+XX' hexadecimal escapes."""
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)


def parse_notify(value: str) -> tuple[str, ...] | None:
    """NOTIFY=NEVER or a comma list of SUCCESS/FAILURE/DELAY; None when invalid."""
    items = tuple(v.strip().upper() for v in value.split(","))
    if not items or any(v not in NOTIFY_VALUES for v in items):
        return None
    if "NEVER" in items and len(items) > 1:
        return None
    return items
