"""The ASGI app in-process (no server): it answers even when its journal or store fails."""

from __future__ import annotations

import asyncio

from banc.cli.insi import build_traits_request
from banc.journal import Journal
from simulators.insi_mock.app import InsiApp
from simulators.insi_mock.models import IdentityStore
from simulators.insi_mock.seed import seed_store

ADMIN_TOKEN = "jeton-de-test"


def call(app: InsiApp, method: str, path: str, body: bytes = b"",
         headers: tuple[tuple[bytes, bytes], ...] = ()) -> tuple[int, bytes]:
    messages: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http", "method": method, "path": path, "query_string": b"",
        "headers": [(b"content-type", b"application/soap+xml"), *headers],
        "client": ("127.0.0.1", 5),
        "scheme": "http",
    }
    asyncio.run(app(scope, receive, send))
    return messages[0]["status"], messages[1]["body"]


def make_app(tmp_path) -> InsiApp:
    store = IdentityStore(tmp_path / "ids.sqlite")
    seed_store(store, generated=0)
    return InsiApp(store, Journal(tmp_path / "j.sqlite"), None, ca_file=None, insecure=True,
                   admin_token=ADMIN_TOKEN)


def test_answers_even_if_the_journal_fails(tmp_path, monkeypatch) -> None:
    app = make_app(tmp_path)

    def broken(exchange) -> int:
        raise OSError("disque plein")

    monkeypatch.setattr(app.journal, "record", broken)
    status, body = call(app, "POST", "/lps", build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"))
    assert status == 200 and b"<CodeCR>00</CodeCR>" in body


def test_internal_error_is_a_receiver_fault(tmp_path, monkeypatch) -> None:
    app = make_app(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("base illisible")

    monkeypatch.setattr(app.store, "search_traits", broken)
    status, body = call(app, "POST", "/lps", build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"))
    assert status == 500
    assert b"Receiver" in body and b"desir_900" in body and b"base illisible" in body
    (exchange,) = app.journal.exchanges()
    assert exchange.findings[0].rule_id == "insi.interne"


def test_admin_store_failure_is_json(tmp_path, monkeypatch) -> None:
    app = make_app(tmp_path)

    def broken():
        raise RuntimeError("verrou")

    monkeypatch.setattr(app.store, "all", broken)
    status, body = call(app, "GET", "/admin/identities",
                        headers=((b"authorization", f"Bearer {ADMIN_TOKEN}".encode()),))
    assert status == 500 and b"verrou" in body


def test_admin_api_is_closed_without_a_token(tmp_path) -> None:
    """An app built without an admin token refuses every admin call, whatever is sent."""
    store = IdentityStore(tmp_path / "ids.sqlite")
    seed_store(store, generated=0)
    app = InsiApp(store, Journal(tmp_path / "j.sqlite"), None, ca_file=None, insecure=True)
    for header in (b"Bearer ", b"Bearer None", b"Bearer"):
        status, _ = call(app, "GET", "/admin/identities", headers=((b"authorization", header),))
        assert status == 401
