"""Verification of Pro Santé Connect style JWT access tokens, and a signer for bench tokens.

MSSanté operators accept SASL XOAUTH2 with a PSC access token: an RS256 JWT whose signature is
checked against the issuer's JWKS, with `iss`, `aud` and `exp` checked too. The verifier is a
pure function over (token, key set, expectations) returning findings in the one verdict model,
so the SMTP/IMAP mocks, the CLI and offline checks of captures give the same answer.

`TokenSigner` issues tokens with a bench key while no PSC mock issuer is configured; it
publishes its JWKS in the same shape, so the verifier cannot tell which one it is talking to.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from banc.verdict import Finding, RuleSet

RULESET = "jeton-acces"
RULES = RuleSet(RULESET, "TOKEN")
"""Token rules cite no requirement here: the service that accepts the token says which one
the authentication serves (MSSanté: sending, reading)."""
BENCH_ISSUER = "https://banc-segur.localhost/psc"
"""Issuer of the bench's own tokens (`TokenSigner`), used while no PSC mock issuer is set."""
ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY = 30.0
"""Seconds of clock skew tolerated on exp/nbf/iat (loopback clocks agree, DUIs may not)."""


def _finding(rule: str, message: str) -> Finding:
    return RULES.error(rule, message, location="jeton")


@dataclass(frozen=True)
class TokenCheck:
    """Result of a verification: the claims when the token is acceptable, else findings."""

    claims: dict = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_access_token(
    token: str,
    jwks: dict,
    *,
    issuer: str,
    audience: str | None = None,
    now: float | None = None,
    leeway: float = DEFAULT_LEEWAY,
) -> TokenCheck:
    """Check an access token against a JWKS dict: structure, algorithm, key, signature, times,
    issuer and audience. `audience=None` skips the audience check (PSC tokens for MSSanté carry
    the client id of the mail client, which an operator may not know in advance)."""
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return TokenCheck(findings=(_finding("MALFORMED", "le jeton n'est pas un JWT compact (en-tête.charge.signature)"),))
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        return TokenCheck(findings=(_finding("ALGORITHM", f"algorithme de signature {alg!r} refusé (attendu : {', '.join(ALGORITHMS)})"),))
    key = _select_key(jwks, header.get("kid"))
    if key is None:
        return TokenCheck(findings=(_finding("UNKNOWN_KEY", f"clé {header.get('kid')!r} absente du JWKS de l'émetteur {issuer} (jeton d'un autre émetteur ?)"),))
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(ALGORITHMS),
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                     "verify_aud": False, "verify_iss": False, "require": ["exp", "iss"]},
        )
    except jwt.MissingRequiredClaimError as exc:
        return TokenCheck(findings=(_finding("CLAIM_MISSING", f"revendication obligatoire absente : {exc.claim}"),))
    except jwt.InvalidSignatureError:
        return TokenCheck(findings=(_finding("SIGNATURE", "signature du jeton invalide pour la clé publiée par l'émetteur"),))
    except jwt.PyJWTError as exc:
        return TokenCheck(findings=(_finding("MALFORMED", f"jeton illisible : {exc}"),))
    return TokenCheck(claims=claims, findings=tuple(_claim_findings(claims, issuer, audience, now, leeway)))


def _claim_findings(
    claims: dict, issuer: str, audience: str | None, now: float | None, leeway: float
) -> list[Finding]:
    current = time.time() if now is None else now
    found: list[Finding] = []
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        found.append(_finding("CLAIM_MISSING", "revendication exp non numérique"))
    elif exp + leeway < current:
        found.append(_finding("EXPIRED", f"jeton expiré depuis {int(current - exp)} s"))
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf - leeway > current:
        found.append(_finding("NOT_YET_VALID", f"jeton valable seulement dans {int(nbf - current)} s"))
    kind = claims.get("typ")
    if isinstance(kind, str) and kind.lower() not in ("bearer", "at+jwt"):
        found.append(_finding("TYPE", f"jeton de type {kind!r} présenté comme jeton d'accès (Bearer attendu)"))
    if claims.get("iss") != issuer:
        found.append(_finding("ISSUER", f"émetteur {claims.get('iss')!r} inattendu (attendu : {issuer})"))
    if audience is not None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            found.append(_finding("AUDIENCE", f"audience {aud!r} ne contient pas {audience!r}"))
    return found


def _select_key(jwks: dict, kid: str | None):
    keys = [k for k in jwks.get("keys", ()) if k.get("kty") == "RSA" and k.get("use", "sig") == "sig"]
    if kid is not None:
        keys = [k for k in keys if k.get("kid") == kid]
    elif len(keys) != 1:
        return None
    if not keys:
        return None
    return jwt.PyJWK.from_dict(keys[0], algorithm="RS256").key


class JwksFetcher:
    """A remote JWKS (the PSC mock's `jwks_uri`), fetched over TLS and cached for `ttl` seconds.

    Refetched once when a token names an unknown `kid` (key rotation), never more often."""

    def __init__(self, url: str, *, cafile: str | None = None, ttl: float = 300.0) -> None:
        self.url, self.ttl = url, ttl
        self.verify = ssl.create_default_context(cafile=cafile)
        self._jwks: dict = {"keys": []}
        self._fetched = 0.0

    def get(self, kid: str | None = None) -> dict:
        stale = time.monotonic() - self._fetched > self.ttl
        unknown = kid is not None and all(k.get("kid") != kid for k in self._jwks.get("keys", ()))
        if stale or unknown:
            response = httpx.get(self.url, verify=self.verify, timeout=10)
            response.raise_for_status()
            self._jwks = response.json()
            self._fetched = time.monotonic()
        return self._jwks


class Introspector:
    """Token introspection at the issuer (RFC 7662), by a resource server with its own client
    credentials (`client_secret_basic`).

    A signature proves who issued a token, not that it still holds: PSC revokes every token
    of a session when its authorisation code is replayed (RFC 6749 §4.1.2), at logout, or on
    demand. A service that honours revocation asks the issuer at each authentication; the
    answer is not cached, so a revocation takes effect at the next login."""

    def __init__(self, url: str, client_id: str, secret: str, *, cafile: str | None = None,
                 timeout: float = 10.0) -> None:
        self.url, self.client_id, self.secret, self.timeout = url, client_id, secret, timeout
        self.verify = ssl.create_default_context(cafile=cafile)

    def check(self, token: str) -> Finding | None:
        """None when the issuer says the token is active, else the finding that says why not."""
        try:
            response = httpx.post(self.url, data={"token": token.strip()}, verify=self.verify,
                                  auth=(self.client_id, self.secret), timeout=self.timeout)
            answer = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            return _finding("INTROSPECTION", f"introspection du jeton impossible auprès de {self.url} : {exc}")
        if not isinstance(answer, dict):
            return _finding("INTROSPECTION", f"introspection refusée par l'émetteur (HTTP {response.status_code})")
        if answer.get("active") is not True:
            return _finding("REVOKED", "jeton inactif selon l'émetteur (révoqué, session close ou "
                                       "code d'autorisation rejoué)")
        return None


def token_kid(token: str) -> str | None:
    """The `kid` of a token header, None when absent or unreadable (used to refresh a JWKS)."""
    try:
        return jwt.get_unverified_header(token.strip()).get("kid")
    except jwt.PyJWTError:
        return None


def token_issuer(token: str) -> str | None:
    """The `iss` a token claims, unverified (to pick the key set to verify it with)."""
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


@dataclass
class TokenSigner:
    """The bench's own token issuer (RS256), with its JWKS.

    Used by tests and by the MSSanté mock until the PSC mock's issuer is configured."""

    issuer: str
    private_key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls, issuer: str = BENCH_ISSUER) -> TokenSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(issuer=issuer, private_key=key, kid=uuid.uuid4().hex[:16])

    @classmethod
    def load_or_create(cls, path: Path, issuer: str) -> TokenSigner:
        """Persist the key beside the mock's state so tokens survive a restart."""
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            key = serialization.load_pem_private_key(data["key"].encode(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return cls(issuer=issuer, private_key=key, kid=data["kid"])
        signer = cls.generate(issuer)
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = signer.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path.write_text(json.dumps({"kid": signer.kid, "key": pem}), encoding="utf-8")
        return signer

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def issue(
        self,
        subject: str,
        *,
        audience: str = "mssante",
        lifetime: float = 600.0,
        now: float | None = None,
        **claims: object,
    ) -> str:
        """An access token for `subject` (PSC: the national id, e.g. '8' + RPPS)."""
        issued = time.time() if now is None else now
        payload = {
            "iss": self.issuer, "sub": subject, "aud": audience, "iat": int(issued),
            "exp": int(issued + lifetime), "jti": uuid.uuid4().hex, "scope": "openid scope_all",
            "SubjectNameID": subject, **claims,
        }
        return jwt.encode(payload, self.private_key, algorithm="RS256", headers={"kid": self.kid})
