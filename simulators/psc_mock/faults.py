"""Findings → the error formats of an OpenID provider (RFC 6749 §4.1.2.1 and §5.2, RFC 6750)."""

from __future__ import annotations

import json
import unicodedata
from urllib.parse import urlencode

from banc.verdict import Finding

_OAUTH_ERRORS = {
    "PSC.AUTHZ.RESPONSE_TYPE": "unsupported_response_type",
    "PSC.AUTHZ.SCOPE": "invalid_scope",
    "PSC.AUTHZ.PKCE_CHALLENGE": "invalid_request",
    "PSC.TOKEN.CLIENT": "invalid_client",
    "PSC.TOKEN.GRANT_TYPE": "unsupported_grant_type",
    "PSC.TOKEN.REQUEST": "invalid_request",
    "PSC.INTROSPECT.REQUEST": "invalid_request",
}


def oauth_error(finding: Finding, default: str = "invalid_request") -> str:
    if finding.rule_id.startswith("PSC.TOKEN.") and finding.rule_id not in _OAUTH_ERRORS:
        return "invalid_grant"
    return _OAUTH_ERRORS.get(finding.rule_id, default)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_error]


def redirect_error(redirect_uri: str, findings: list[Finding], state: str) -> str:
    first = errors(findings)[0]
    query = {"error": oauth_error(first), "error_description": first.message}
    if state:
        query["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(query)


def token_error(findings: list[Finding]) -> tuple[int, bytes]:
    first = errors(findings)[0]
    code = oauth_error(first)
    status = 401 if code == "invalid_client" else 400
    body = {"error": code, "error_description": first.message, "rule": first.rule_id}
    return status, json.dumps(body, ensure_ascii=False).encode()


def bearer_error(findings: list[Finding]) -> tuple[int, bytes, dict[str, str]]:
    """401 with WWW-Authenticate, as RFC 6750 asks of a protected resource."""
    first = errors(findings)[0]
    code = "invalid_request" if first.rule_id == "PSC.BEARER.MISSING" else "invalid_token"
    plain = unicodedata.normalize("NFKD", first.message).encode("ascii", "ignore").decode()
    description = plain.replace('"', "'")
    header = f'Bearer realm="esante-wallet", error="{code}", error_description="{description}"'
    body = {"error": code, "error_description": first.message, "rule": first.rule_id}
    return 401, json.dumps(body, ensure_ascii=False).encode(), {"WWW-Authenticate": header}
