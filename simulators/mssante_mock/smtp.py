"""SMTP submission server (aiosmtpd): STARTTLS on one port, implicit TLS on another.

Authentication is mandatory before MAIL and only over TLS: SASL XOAUTH2 (PSC access token) or
SASL EXTERNAL (client certificate of an application mailbox); PLAIN/LOGIN are not offered.
DSN parameters (RFC 3461: RET, ENVID, NOTIFY, ORCPT) are accepted and honoured — aiosmtpd
refuses every MAIL/RCPT parameter it does not know, so `_SubmissionSMTP` takes them out first.

Each port gets its own asyncio server on one event loop in a background thread; the message
work (checks, storage, receipts) runs in the loop's default executor so that a slow CDA
validation never blocks other connections.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import ssl
import threading
import unicodedata
import warnings
from collections import defaultdict
from typing import Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, Session

from banc.verdict import Finding
from simulators.mssante_mock import faults, rules
from simulators.mssante_mock.auth import Authenticator, AuthOutcome
from simulators.mssante_mock.delivery import Postmaster, Submission
from simulators.mssante_mock.wire import (
    DsnEnvelope,
    Recipient,
    parse_notify,
    strip_dsn_params,
    xtext_decode,
)

warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
"""aiosmtpd warns on its own attribute when a custom mechanism succeeds: nothing to act on."""

MAX_RECIPIENTS = 100
"""Recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100 must be accepted); more get
`452`, which tells the client to send the rest in another transaction."""
TRANSPORT_LIMIT = 64 * 1024 * 1024
"""SIZE advertised: larger than the 25 MB mailbox limit, so oversize messages get a DSN."""


def _peer_certificate(server: SMTP) -> bytes | None:
    transport = server.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None


def _peer(session: Session | None) -> str:
    peer = session.peer if session is not None else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")


class _SubmissionSMTP(SMTP):
    """aiosmtpd's SMTP with the DSN extension's parameters, journaling every refusal."""

    postmaster: Postmaster
    refusal: tuple[list[Finding], dict] | None = None
    line_length_limit = 16384
    """XOAUTH2 puts a whole JWT on the AUTH line (RFC 4954 allows 12 288 octets)."""
    command_size_limit = line_length_limit
    """Before EHLO too: a client that forgets EHLO after STARTTLS gets "send EHLO first",
    not a misleading "line too long"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_size_limits = defaultdict(lambda: 512)
        self.command_size_limits["AUTH"] = self.line_length_limit

    def _set_rset_state(self) -> None:
        super()._set_rset_state()
        self.dsn = DsnEnvelope()

    def _set_post_data_state(self) -> None:
        super()._set_post_data_state()
        self.dsn = DsnEnvelope()

    async def push(self, status: AnyStr) -> None:
        """Every 4xx/5xx reply (aiosmtpd's own: TLS required, auth required, size…) is a
        refused exchange and goes to the journal with the findings the handler attached."""
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        if text[:1] in ("4", "5"):
            findings, summary = self.refusal or ([], {})
            self.refusal = None
            principal = self.session.auth_data if self.session is not None else None
            login = principal.mailbox if principal else summary.get("user", "")
            self.postmaster.refused(
                "smtp.refus", b"", text, peer=_peer(self.session), findings=findings,
                summary={"tls": self.transport is not None
                         and self.transport.get_extra_info("ssl_object") is not None,
                         **({"login": login, "mailbox": login} if login else {}), **summary},
                certificate_der=_peer_certificate(self),
            )
        # SMTP replies are ASCII (no SMTPUTF8 here): French accents are folded on the wire
        await super().push(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())

    async def smtp_DATA(self, arg: str) -> None:
        """DATA read in large chunks (aiosmtpd reads it line by line, ~0.3 s for 2 MB): the
        end marker is searched with `bytes.find`, dot-stuffing undone in one pass (RFC 5321
        §4.5.2). No PIPELINING is advertised, so nothing follows the marker."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 RCPT attendu avant DATA")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        buffer = bytearray(b"\r\n")  # so that an empty message ends on "\r\n.\r\n" too
        limit = self.data_size_limit or 0
        too_much = False
        while True:
            chunk = await self._reader.read(1024 * 1024)
            if not chunk:
                return  # connection closed during DATA
            start = max(0, len(buffer) - 4)
            buffer += chunk
            end = buffer.find(b"\r\n.\r\n", start)
            if end >= 0:
                break
            if limit and len(buffer) > limit + 2:
                too_much = True
                del buffer[: len(buffer) - 4]  # keep draining, keep only a possible marker start
        if too_much:
            self._set_post_data_state()
            await self.push("552 5.3.4 message trop volumineux pour le transport")
            return
        content = bytes(buffer[2 : end + 2]).replace(b"\r\n..", b"\r\n.")
        if content.startswith(b".."):
            content = content[1:]
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def smtp_MAIL(self, arg: str | None) -> None:
        params: dict[str, str] = {}
        if arg:
            arg, params = strip_dsn_params(arg)
        await super().smtp_MAIL(arg)
        if self.envelope is not None and self.envelope.mail_from is not None:
            self.dsn.ret_full = params.get("RET", "HDRS").upper() == "FULL"
            self.dsn.envelope_id = xtext_decode(params["ENVID"]) if "ENVID" in params else None

    async def smtp_RCPT(self, arg: str | None) -> None:
        params: dict[str, str] = {}
        if arg:
            arg, params = strip_dsn_params(arg)
        if "NOTIFY" in params and parse_notify(params["NOTIFY"]) is None:
            await self.push("501 5.5.4 NOTIFY invalide : NEVER ou liste de SUCCESS,FAILURE,DELAY")
            return
        self._pending_dsn = params
        await super().smtp_RCPT(arg)


class SubmissionHandler:
    """aiosmtpd hooks: authentication, sender authorisation, DSN recipients, DATA."""

    def __init__(self, postmaster: Postmaster, authenticator: Authenticator) -> None:
        self.postmaster = postmaster
        self.authenticator = authenticator

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", "250-ENHANCEDSTATUSCODES", responses[-1]]

    # -- SASL -------------------------------------------------------------------------------
    async def _initial(self, server: SMTP, args: list[str]) -> bytes | None:
        """The client's first SASL response (inline or after an empty challenge)."""
        if len(args) > 1:
            blob = args[1].encode()
        else:
            await server.push("334 ")
            line = await server._reader.readline()
            blob = line.strip()
        if blob == b"=":
            return b""
        try:
            return base64.b64decode(blob, validate=True)
        except binascii.Error:
            return None

    async def _conclude(self, server: SMTP, session: Session, outcome: AuthOutcome,
                        request: bytes) -> AuthResult:
        outcome = outcome.citing("smtp")
        if outcome.ok:
            assert outcome.principal is not None
            session.auth_data = outcome.principal
            return AuthResult(success=True, auth_data=outcome.principal,
                              message=f"235 2.7.0 authentifié : {outcome.principal.mailbox}")
        reply = faults.smtp_auth_refusal(outcome.findings)
        assert isinstance(server, _SubmissionSMTP)
        server.refusal = (outcome.findings, {**outcome.summary, "request": request.decode("utf-8", "replace")})
        return AuthResult(success=False, handled=False, message=reply)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        decoded = await self._initial(server, args)
        if decoded is None:
            return AuthResult(success=False, handled=False, message="501 5.5.2 base64 invalide")
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(None, self.authenticator.xoauth2, decoded)
        if not outcome.ok:
            # RFC 7628-style failure: a JSON challenge, the client answers with an empty line
            error = {"status": "401", "schemes": "bearer", "scope": "openid scope_all"}
            await server.push("334 " + base64.b64encode(json.dumps(error).encode()).decode())
            await server._reader.readline()
        return await self._conclude(server, server.session, outcome, b"AUTH XOAUTH2 " + decoded)

    async def auth_EXTERNAL(self, server: SMTP, args: list[str]) -> AuthResult:
        decoded = await self._initial(server, args)
        if decoded is None:
            return AuthResult(success=False, handled=False, message="501 5.5.2 base64 invalide")
        authzid = decoded.decode("utf-8", "replace")
        outcome = self.authenticator.external(_peer_certificate(server), authzid)
        return await self._conclude(server, server.session, outcome, b"AUTH EXTERNAL " + decoded)

    # -- envelope ---------------------------------------------------------------------------
    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        principal = session.auth_data
        refusal = rules.sender_refusal(address, principal.mailbox) if principal else None
        if refusal is not None:
            assert isinstance(server, _SubmissionSMTP)
            server.refusal = ([refusal], {"principal": principal.mailbox, "mail_from": address})
            return faults.smtp_sender_refusal(refusal)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 trop de destinataires : {MAX_RECIPIENTS} au plus par message"
        params = getattr(server, "_pending_dsn", {})
        notify = parse_notify(params["NOTIFY"]) if "NOTIFY" in params else None
        original = params.get("ORCPT")
        recipient = Recipient(address.lower(), notify or ("FAILURE",),
                              xtext_decode(original) if original else None)
        server.dsn.recipients[recipient.address] = recipient
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [server.dsn.recipients.get(a.lower()) or Recipient(a.lower())
                      for a in envelope.rcpt_tos]
        principal = session.auth_data
        submission = Submission(
            sender=(envelope.mail_from or "").lower(), recipients=recipients, raw=raw,
            dsn=server.dsn, principal=principal.mailbox if principal else "",
            peer=_peer(session), certificate_der=_peer_certificate(server),
            smtputf8=envelope.smtp_utf8,
        )
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(None, self.postmaster.submit, submission)
        except Exception as exc:  # never a stack trace to the client: say what failed
            return f"451 4.3.0 erreur interne du serveur simulé ({type(exc).__name__}) : réessayez"
        return f"{outcome.reply} [journal {outcome.journal_id}]"


class SmtpServers:
    """The submission servers (STARTTLS port and implicit-TLS port) on their own loop thread."""

    def __init__(
        self,
        handler: SubmissionHandler,
        tls: ssl.SSLContext,
        *,
        host: str = "127.0.0.1",
        starttls_port: int = 0,
        implicit_port: int = 0,
        hostname: str = "mssante.localhost",
    ) -> None:
        self.handler, self.tls, self.host, self.hostname = handler, tls, host, hostname
        self._wanted = (starttls_port, implicit_port)
        self.loop = asyncio.new_event_loop()
        self._servers: list[asyncio.base_events.Server] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="mssante-smtp", daemon=True)
        self.starttls_port = 0
        self.implicit_port = 0

    def _factory(self, implicit: bool) -> Any:
        def make() -> _SubmissionSMTP:
            with warnings.catch_warnings():
                # aiosmtpd cannot tell that an implicit-TLS connection is encrypted, so
                # `auth_require_tls` is off there and it warns: the warning does not apply
                warnings.simplefilter("ignore", UserWarning)
                return self._server(implicit)
        return make

    def _server(self, implicit: bool) -> _SubmissionSMTP:
        server = _SubmissionSMTP(
            self.handler,
            hostname=self.hostname,
            data_size_limit=TRANSPORT_LIMIT,
            tls_context=None if implicit else self.tls,
            require_starttls=not implicit,
            auth_required=True,
            auth_require_tls=not implicit,  # implicit TLS: the whole connection is TLS
            auth_exclude_mechanism=["LOGIN", "PLAIN"],
            authenticator=lambda *a: AuthResult(success=False),
            loop=self.loop,
        )
        server.postmaster = self.handler.postmaster
        return server

    def start(self) -> None:
        self._thread.start()

        async def serve() -> None:
            plain = await self.loop.create_server(self._factory(False), self.host, self._wanted[0])
            implicit = await self.loop.create_server(
                self._factory(True), self.host, self._wanted[1], ssl=self.tls
            )
            self._servers = [plain, implicit]
            self.starttls_port = plain.sockets[0].getsockname()[1]
            self.implicit_port = implicit.sockets[0].getsockname()[1]

        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(timeout=10)

    def stop(self) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()
                await server.wait_closed()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        self.loop.close()
