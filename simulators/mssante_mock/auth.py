"""Who is connecting: SASL XOAUTH2 with a Pro Santé Connect access token (personal and
organisational mailboxes), SASL EXTERNAL with a client certificate (application mailboxes).

Shared by the SMTP and IMAP servers so both protocols accept exactly the same credentials. The
token verification itself is `banc.access_tokens`; this module adds the mailbox side: the token's
subject must be one of the people the directory lets open the mailbox named in `user=`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from banc.access_tokens import (
    Introspector,
    TokenCheck,
    token_issuer,
    token_kid,
    verify_access_token,
)
from banc.pki import common_name
from banc.verdict import Finding, RuleSet
from simulators.mssante_mock.models import MailStore

RULES = RuleSet("mssante-auth", "MSS.AUTH")
CHANNEL_REQUIREMENTS = {
    "smtp": ("SC.MSS.17.MS1", "SC.MSS.18.MS1"),  # submitting: sending documents
    "imap": ("SC.MSS.26.MS1",),  # reading: the incoming documents' worklist
}
"""What an authentication serves, by protocol: the findings of a refused login cite it."""


def _finding(rule: str, message: str) -> Finding:
    return RULES.error(rule, message, location="authentification")


@dataclass(frozen=True)
class Principal:
    """An authenticated session: the mailbox it opened and how."""

    mailbox: str
    method: str  # "XOAUTH2" | "EXTERNAL"
    subject: str  # national id from the token, or certificate CN


@dataclass
class AuthOutcome:
    principal: Principal | None
    findings: list[Finding] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.principal is not None

    def citing(self, channel: str) -> AuthOutcome:
        """The same outcome, its findings citing what an authentication on `channel` serves."""
        reqs = CHANNEL_REQUIREMENTS.get(channel, ())
        self.findings = [f if f.requirements else replace(f, requirements=reqs) for f in self.findings]
        return self


def parse_xoauth2(initial: bytes) -> tuple[str, str] | None:
    """(user, bearer token) from the decoded SASL XOAUTH2 string, None when malformed."""
    try:
        text = initial.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
    user, auth = fields.get("user", "").strip(), fields.get("auth", "").strip()
    if not user or not auth.lower().startswith("bearer "):
        return None
    return user.lower(), auth[7:].strip()


class Authenticator:
    """Checks credentials against the token issuers' keys and the mailbox directory.

    `issuers` maps each trusted issuer to a function returning its key set for a `kid` (a
    cached fetch of the PSC mock's `jwks_uri`, or the bench signer's dict). The first one is
    the primary issuer: a token naming an unknown issuer is verified against it, so it fails
    with the precise reason (unknown key, issuer). `audience=None` accepts any audience.
    `introspectors` ask an issuer whether a well-signed token is still active (revocation)."""

    def __init__(
        self,
        store: MailStore,
        *,
        issuers: dict[str, Callable[[str | None], dict]],
        audience: str | None = None,
        introspectors: dict[str, Introspector] | None = None,
    ) -> None:
        self.store = store
        self.issuers = issuers
        self.introspectors = introspectors or {}
        self.issuer = next(iter(issuers))
        self.audience = audience
        self._lock = threading.Lock()  # a remote JWKS fetch must not run twice at once

    def xoauth2(self, decoded: bytes) -> AuthOutcome:
        parsed = parse_xoauth2(decoded)
        if parsed is None:
            return AuthOutcome(None, [_finding(
                "XOAUTH2_SYNTAX",
                "chaîne XOAUTH2 mal formée (attendu : user=<adresse>^Aauth=Bearer <jeton>^A^A)",
            )])
        user, token = parsed
        summary = {"mechanism": "XOAUTH2", "user": user}
        claimed = token_issuer(token)
        issuer = claimed if claimed in self.issuers else self.issuer
        try:
            with self._lock:
                keys = self.issuers[issuer](token_kid(token))
        except Exception as exc:  # network/JSON failure of the issuer: say so, do not crash
            return AuthOutcome(None, [_finding(
                "ISSUER_UNREACHABLE", f"clés de l'émetteur {issuer} indisponibles : {exc}",
            )], summary)
        check: TokenCheck = verify_access_token(token, keys, issuer=issuer, audience=self.audience)
        summary["token_subject"] = check.claims.get("sub", "")
        if not check.ok:
            return AuthOutcome(None, list(check.findings), summary)
        introspector = self.introspectors.get(issuer)
        revoked = introspector.check(token) if introspector is not None else None
        if revoked is not None:
            return AuthOutcome(None, [revoked], summary)
        subject = str(check.claims.get("SubjectNameID") or check.claims.get("sub") or "")
        record = self.store.mailbox(user)
        if record is None:
            return AuthOutcome(None, [_finding("UNKNOWN_MAILBOX", f"boîte aux lettres {user} inconnue de l'opérateur")], summary)
        if record.kind == "APP":
            return AuthOutcome(None, [_finding(
                "APP_NEEDS_CERTIFICATE",
                f"{user} est une boîte applicative : authentification par certificat (SASL EXTERNAL) attendue",
            )], summary)
        if subject not in record.authorized:
            return AuthOutcome(None, [_finding(
                "NOT_AUTHORIZED", f"le porteur du jeton ({subject}) n'est pas habilité sur la boîte {user}",
            )], summary)
        return AuthOutcome(Principal(user, "XOAUTH2", subject), [], summary)

    def external(self, certificate_der: bytes | None, authzid: str) -> AuthOutcome:
        summary = {"mechanism": "EXTERNAL", "authzid": authzid}
        cn = common_name(certificate_der)
        if not cn:
            return AuthOutcome(None, [_finding(
                "NO_CERTIFICATE", "SASL EXTERNAL sans certificat client présenté lors de la négociation TLS",
            )], summary)
        summary["certificate_cn"] = cn
        boxes = self.store.mailbox_for_certificate(cn)
        if authzid:
            boxes = [b for b in boxes if b.address == authzid.strip().lower()]
        if len(boxes) != 1:
            wanted = authzid or "(aucune adresse demandée)"
            return AuthOutcome(None, [_finding(
                "CERTIFICATE_NOT_AUTHORIZED",
                f"le certificat CN={cn} n'ouvre pas la boîte applicative {wanted}",
            )], summary)
        return AuthOutcome(Principal(boxes[0].address, "EXTERNAL", cn), [], summary)
