"""MSSanté mock: SMTP submission (STARTTLS and implicit TLS) and IMAPS with SASL XOAUTH2 / EXTERNAL,
health-message checks on what the DUI sends, DSN and MDN, Mon espace santé patient mailboxes,
simulated correspondents. See docs/mssante-mock.md."""

from __future__ import annotations

import threading

from banc.mocks import MockContext
from simulators.mssante_mock.app import MssanteMock, from_context

__all__ = ["MssanteMock", "launch"]


def launch(context: MockContext) -> MssanteMock:
    """Entry point of `banc up` (group `banc.simulators`); CDA validation by `banc.cda` is on.

    The rule sets are compiled in the background from now on, so that the DUI's first message
    is not held for the compilation (~30 s) while its SMTP client waits."""
    from banc.cda import engine, validate_root

    threading.Thread(target=engine().warm, name="mssante-cda-warm", daemon=True).start()
    return from_context(context, validate_cda=validate_root)
