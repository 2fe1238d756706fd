"""The DOCTYPE refusal of `banc.xml` as the services apply it: a UTF-16 SOAP body without BOM
carrying a DTD slipped past the byte check of the INSi mock (real TLS client, raw bytes)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from banc.cli.insi import ACTION_TRAITS, CONTENT_TYPE
from banc.mocks import MockContext
from banc.pki import TestPki
from banc.soap import SOAP12_NS, parse_envelope, parse_fault

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16"])
def test_insi_refuses_a_doctype_in_utf16(codec: str, mock_context: Callable[[str], MockContext], pki: TestPki) -> None:
    from simulators.insi_mock import launch

    text = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY x "y">]>'
            f"<soap:Envelope xmlns:soap='{SOAP12_NS}'><soap:Body>&x;</soap:Body></soap:Envelope>")
    mock = launch(mock_context(f"insi-{codec}"), generated=1)
    try:
        with httpx.Client(verify=pki.client_context("insi-auto"), timeout=30) as client:
            response = client.post(mock.url, content=text.encode(codec),
                                   headers={"Content-Type": CONTENT_TYPE.format(action=ACTION_TRAITS)})
    finally:
        mock.stop()
    assert response.status_code == 500, response.text
    fault = parse_fault(parse_envelope(response.content, require_payload=False))
    assert fault is not None and "DOCTYPE" in fault.reason
