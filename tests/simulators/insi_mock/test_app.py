"""The ASGI app in-process (no server), wrapped as `launch` wraps it: it answers even when its
journal or store fails, and its control plane stays closed without the admin token."""

from __future__ import annotations

import asyncio

from banc.cli.insi import build_traits_request
from banc.control import with_control
from banc.journal import Journal
from banc.recording import JournalMiddleware
from simulators.insi_mock.app import SERVICE, InsiApp
from simulators.insi_mock.control import InsiControl
from simulators.insi_mock.models import IdentityStore
from simulators.insi_mock.seed import seed_store

ADMIN_TOKEN = "jeton-de-test"


def call(app, method: str, path: str, body: bytes = b"",
         headers: tuple[tuple[bytes, bytes], ...] = ()) -> tuple[int, bytes]:
    messages: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http", "method": method, "path": path, "query_string": b"",
        "headers": [(b"content-type", b"application/soap+xml"), *headers],
        "client": ("127.0.0.1", 5), "scheme": "http",
    }
    asyncio.run(app(scope, receive, send))
    return messages[0]["status"], messages[1]["body"]


def make_app(tmp_path, token: str = ADMIN_TOKEN) -> tuple[JournalMiddleware, InsiApp, Journal]:
    store = IdentityStore(tmp_path / "ids.sqlite")
    seed_store(store, generated=0)
    journal = Journal(tmp_path / "j.sqlite")
    app = InsiApp(store, None, ca_file=None, insecure=True)
    control = InsiControl(store, generated=0)
    return JournalMiddleware(with_control(app, control, token), journal, SERVICE), app, journal


def test_answers_even_if_the_journal_fails(tmp_path, monkeypatch) -> None:
    served, _, journal = make_app(tmp_path)

    def broken(exchange) -> int:
        raise OSError("disque plein")

    monkeypatch.setattr(journal, "record", broken)
    status, body = call(served, "POST", "/lps", build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"))
    assert status == 200 and b"<CodeCR>00</CodeCR>" in body


def test_internal_error_is_a_receiver_fault(tmp_path, monkeypatch) -> None:
    served, app, journal = make_app(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("base illisible")

    monkeypatch.setattr(app.store, "search_traits", broken)
    status, body = call(served, "POST", "/lps", build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"))
    assert status == 500
    assert b"Receiver" in body and b"desir_900" in body and b"base illisible" in body
    (exchange,) = journal.exchanges()
    assert exchange.findings[0].rule_id == "INSI.INTERNE"
    assert exchange.findings[0].requirements == ()


def test_control_store_failure_is_json(tmp_path, monkeypatch) -> None:
    served, app, _ = make_app(tmp_path)

    def broken():
        raise ValueError("verrou")

    monkeypatch.setattr(app.store, "all", broken)
    status, body = call(served, "GET", "/_banc/etat",
                        headers=((b"authorization", f"Bearer {ADMIN_TOKEN}".encode()),))
    assert status == 422 and b"verrou" in body


def test_control_plane_is_closed_without_a_token(tmp_path) -> None:
    """A mock launched without an admin token refuses every control call, whatever is sent
    (an empty token must not match an empty `Bearer`)."""
    served, _, _ = make_app(tmp_path, token="")
    for header in (b"Bearer ", b"Bearer", b"Bearer None", b""):
        status, _ = call(served, "GET", "/_banc/etat", headers=((b"authorization", header),))
        assert status == 401
