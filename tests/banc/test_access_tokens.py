"""PSC-style access token verification: signature, key, algorithm, expiry, issuer, audience."""

from __future__ import annotations

import time

import jwt
import pytest

from banc.access_tokens import TokenSigner, token_kid, verify_access_token


@pytest.fixture(scope="module")
def signer() -> TokenSigner:
    return TokenSigner.generate("https://psc.test/auth")


def rules(check) -> list[str]:
    return [f.rule_id for f in check.findings]


def test_valid_token_gives_claims(signer: TokenSigner) -> None:
    check = verify_access_token(signer.issue("899900000011"), signer.jwks(),
                                issuer=signer.issuer, audience="mssante")
    assert check.ok
    assert check.claims["sub"] == "899900000011"


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda s: s.issue("8x", lifetime=-600), "TOKEN.EXPIRED"),
        (lambda s: s.issue("8x", nbf=int(time.time()) + 3600), "TOKEN.NOT_YET_VALID"),
        (lambda s: TokenSigner.generate(s.issuer).issue("8x"), "TOKEN.UNKNOWN_KEY"),
        (lambda s: TokenSigner(s.issuer, TokenSigner.generate().private_key, s.kid).issue("8x"),
         "TOKEN.SIGNATURE"),
        (lambda s: TokenSigner("https://autre.test", s.private_key, s.kid).issue("8x"), "TOKEN.ISSUER"),
        (lambda s: s.issue("8x", audience="autre-client"), "TOKEN.AUDIENCE"),
        (lambda s: jwt.encode({"sub": "8x", "iss": s.issuer, "exp": time.time() + 60}, "secret-secret-secret-secret-32by",
                              algorithm="HS256"), "TOKEN.ALGORITHM"),
        (lambda s: "pas-un-jwt", "TOKEN.MALFORMED"),
        (lambda s: s.issue("8x", typ="ID"), "TOKEN.TYPE"),
    ],
)
def test_defective_tokens_are_named(signer: TokenSigner, make, rule: str) -> None:
    check = verify_access_token(make(signer), signer.jwks(), issuer=signer.issuer, audience="mssante")
    assert not check.ok
    assert rule in rules(check)
    assert all(f.message for f in check.findings)


def test_signer_persists_its_key(tmp_path) -> None:
    first = TokenSigner.load_or_create(tmp_path / "k.json", "https://x")
    second = TokenSigner.load_or_create(tmp_path / "k.json", "https://x")
    token = first.issue("8a")
    assert token_kid(token) == second.kid
    assert verify_access_token(token, second.jwks(), issuer="https://x").ok
