"""MSSanté mock: SMTP submission (STARTTLS and implicit TLS) and IMAPS with SASL XOAUTH2 / EXTERNAL,
health-message checks on what the DUI sends, DSN and MDN, Mon espace santé patient mailboxes,
simulated correspondents. See docs/mssante-mock.md."""

from __future__ import annotations

from banc.mocks import MockContext
from simulators.mssante_mock.app import MssanteMock, from_context

__all__ = ["MssanteMock", "launch"]


def launch(context: MockContext) -> MssanteMock:
    """Entry point of `banc up` (group `banc.simulators`); CDA validation by `banc.cda` is on."""
    from banc.cda import validate_root

    return from_context(context, validate_cda=validate_root)
