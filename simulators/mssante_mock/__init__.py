"""MSSanté mock: SMTP submission (STARTTLS and implicit TLS) and IMAPS with SASL XOAUTH2 / EXTERNAL,
health-message checks on what the DUI sends, DSN and MDN, Mon espace santé patient mailboxes,
simulated correspondents. See docs/mssante-mock.md."""

from __future__ import annotations

from banc.mocks import MockContext
from simulators.mssante_mock.app import MssanteMock, from_context

__all__ = ["MssanteMock", "launch"]


def launch(context: MockContext) -> MssanteMock:
    """Entry point of `banc up` (group `banc.simulators`); CDA validation by `banc.cda` is on.

    The process's shared validation is started in the background (`banc.cda.shared`): the
    mock listens at once, and a message that arrives before validation is ready waits for its
    verdict rather than being passed unjudged."""
    import banc.cda

    banc.cda.shared().start()
    return from_context(context, validate_cda=banc.cda.validate_root)
