"""IMAP4rev1 server over implicit TLS: Twisted's `twisted.mail.imap4` protocol (maintained, pure
Python) on a mailbox backend stored in the mock's SQLite database.

Twisted runs one global reactor per process, so `ReactorThread` starts it once in a daemon
thread (`installSignalHandlers=False`) and every mock instance of the process listens through it;
stopping a mock closes its port, never the reactor. Authentication is the same as SMTP
(`auth.Authenticator`): AUTHENTICATE XOAUTH2 with a PSC token, AUTHENTICATE EXTERNAL with the
client certificate of an application mailbox; LOGIN is refused with an explanation.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import unicodedata
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto
from twisted.internet import defer, interfaces, reactor, threads
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.internet.protocol import Factory
from twisted.mail import imap4
from twisted.python import log
from zope.interface import implementer

from banc.pki import TestPki
from banc.recording import exchange_for_stream
from simulators.mssante_mock import faults
from simulators.mssante_mock.auth import Authenticator, AuthOutcome
from simulators.mssante_mock.delivery import SERVICE, Postmaster
from simulators.mssante_mock.imap_mailbox import SqliteAccount, SqliteMailbox
from simulators.mssante_mock.imap_rfc import Rfc3501Server
from simulators.mssante_mock.models import MailStore

MAX_JOURNALED_IDS = 500
"""Message-IDs listed per journaled FETCH (a FETCH 1:* of a large folder keeps the count)."""
_READS = frozenset({"body", "rfc822", "rfc822text", "rfc822header", "envelope", "bodystructure"})


def _ascii(text: str) -> bytes:
    """IMAP response text in plain ASCII (accents folded) for every client's sake."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore")


# -- reactor ---------------------------------------------------------------------------------

class ReactorThread:
    """The process-wide Twisted reactor, running in a daemon thread once started."""

    _lock = threading.Lock()
    _thread: threading.Thread | None = None

    @classmethod
    def ensure(cls) -> None:
        with cls._lock:
            if cls._thread is None:
                cls._thread = threading.Thread(
                    target=reactor.run, kwargs={"installSignalHandlers": False},
                    name="twisted-reactor", daemon=True,
                )
                cls._thread.start()

    @staticmethod
    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return threads.blockingCallFromThread(reactor, fn, *args, **kwargs)


# -- protocol --------------------------------------------------------------------------------

class MssImapServer(Rfc3501Server):
    """IMAP4Server with MSSanté authentication and journaling of each session."""

    factory: ImapFactory

    def connectionMade(self) -> None:
        super().connectionMade()
        self.factory.sessions.add(self)
        self.challengers = {b"XOAUTH2": None, b"EXTERNAL": None}
        self.transcript: list[str] = []
        self.fetched = 0
        self.started = time.time()
        self.principal: str = ""

    def _encrypted(self) -> bool:
        return interfaces.ISSLTransport(self.transport, None) is not None

    def capabilities(self) -> dict:
        """Our SASL mechanisms only, and none before TLS (RFC 3501 §6.2.1: LOGINDISABLED)."""
        cap = super().capabilities()
        cap[b"AUTH"] = [b"XOAUTH2", b"EXTERNAL"]
        if not self._encrypted():
            del cap[b"AUTH"]
        return cap

    def do_AUTHENTICATE(self, tag: bytes, args: bytes) -> None:
        """`AUTHENTICATE <mechanism> [initial response]` (SASL-IR, RFC 4959, as aioimaplib
        and Thunderbird send XOAUTH2), else the response after an empty challenge."""
        mechanism, _, initial = args.strip().partition(b" ")
        mechanism = mechanism.upper()
        if not self._encrypted():
            reason = "[PRIVACYREQUIRED] authentification refusée avant STARTTLS"
            self.factory.postmaster.refused("imap.authenticate", b"AUTHENTICATE " + mechanism,
                                            reason, channel="imap", peer=self._peer())
            self.sendNegativeResponse(tag, _ascii(reason))
            return
        if mechanism not in (b"XOAUTH2", b"EXTERNAL"):
            self.sendNegativeResponse(tag, _ascii("mécanisme non proposé : XOAUTH2 ou EXTERNAL"))
            return
        if initial.strip():
            work = self._on_sasl(b"" if initial.strip() == b"=" else initial, mechanism, tag)
            if work is not None:
                work.addErrback(self._internal_error, tag)
            return
        self._await_line(lambda line: self._on_sasl(line, mechanism, tag), tag)

    unauth_AUTHENTICATE = (do_AUTHENTICATE, imap4.IMAP4Server.arg_line)

    def _await_line(self, callback: Any, tag: bytes, challenge: bytes = b"") -> None:
        self.parseState = "pending"
        self._pendingLiteral = defer.Deferred()
        self._pendingLiteral.addCallback(callback)
        self._pendingLiteral.addErrback(self._internal_error, tag)
        self.sendContinuationRequest(challenge)

    def _internal_error(self, failure: Any, tag: bytes) -> None:
        """A bug must not leave the client waiting: answer BAD, keep the trace in the log."""
        log.err(failure, "MSSanté IMAP : erreur pendant l'authentification")
        self.sendBadResponse(tag, b"erreur interne du serveur simule pendant l'authentification")

    def _on_sasl(self, line: bytes, mechanism: bytes, tag: bytes) -> defer.Deferred | None:
        if line.strip() == b"*":
            self.sendBadResponse(tag, b"AUTHENTICATE abandonne par le client")
            return None
        try:
            decoded = base64.b64decode(line.strip(), validate=True)
        except binascii.Error:
            self.sendBadResponse(tag, b"reponse SASL qui n'est pas du base64")
            return None
        authenticator = self.factory.authenticator
        if mechanism == b"XOAUTH2":
            work = threads.deferToThread(authenticator.xoauth2, decoded)
        else:
            der = self._peer_certificate()
            work = threads.deferToThread(authenticator.external, der, decoded.decode("utf-8", "replace"))
        work.addCallback(self._on_outcome, mechanism, tag, decoded)
        return work

    def _peer_certificate(self) -> bytes | None:
        get = getattr(self.transport, "getPeerCertificate", None)
        cert = get() if get else None
        return crypto.dump_certificate(crypto.FILETYPE_ASN1, cert) if cert is not None else None

    def _on_outcome(self, outcome: AuthOutcome, mechanism: bytes, tag: bytes, decoded: bytes) -> None:
        outcome = outcome.citing("imap")
        self._journal_auth(outcome, mechanism, decoded)
        if outcome.ok:
            assert outcome.principal is not None
            self.principal = outcome.principal.mailbox
            self.account = SqliteAccount(self.factory.store, outcome.principal.mailbox)
            self.state = "auth"
            self.sendPositiveResponse(tag, _ascii(f"authentifie : {outcome.principal.mailbox}"))
            self.setTimeout(self.POSTAUTH_TIMEOUT)
            return
        reason = faults.imap_auth_refusal(outcome.findings)
        if mechanism == b"XOAUTH2":
            error = {"status": "401", "schemes": "bearer", "scope": "openid scope_all"}

            def conclude(_line: bytes) -> None:
                self.sendNegativeResponse(tag, _ascii(reason))

            self._await_line(conclude, tag, base64.b64encode(json.dumps(error).encode()))
        else:
            self.sendNegativeResponse(tag, _ascii(reason))

    def do_LOGIN(self, tag: bytes, user: bytes, passwd: bytes) -> None:
        self.factory.postmaster.refused(
            "imap.login", b"LOGIN " + user + b" ***", faults.IMAP_LOGIN_REFUSAL, channel="imap",
            peer=self._peer(), summary={"user": user.decode("utf-8", "replace"),
                                        "login": user.decode("utf-8", "replace").lower()},
        )
        self.sendNegativeResponse(tag, _ascii(faults.IMAP_LOGIN_REFUSAL))

    unauth_LOGIN = (do_LOGIN, imap4.IMAP4Server.arg_astring, imap4.IMAP4Server.arg_finalastring)

    def _peer(self) -> str:
        peer = self.transport.getPeer() if self.transport else None
        return f"{peer.host}:{peer.port}" if peer is not None else ""

    def _record(self, operation: str, *, request: bytes = b"", status: str = "OK",
                summary: dict | None = None, **options: Any) -> None:
        """Journal one IMAP exchange of this session (attributed by its login)."""
        login = {"login": self.principal, "mailbox": self.principal} if self.principal else {}
        self.factory.postmaster.journal.record(exchange_for_stream(
            SERVICE, operation, channel="imap", peer=self._peer(), request=request,
            response=status.encode(), status=status, summary={**login, **(summary or {})}, **options,
        ))

    def _journal_auth(self, outcome: AuthOutcome, mechanism: bytes, decoded: bytes) -> None:
        login = (outcome.principal.mailbox if outcome.principal is not None
                 else outcome.summary.get("user") or outcome.summary.get("authzid") or "")
        claimed_login = {"login": login.lower(), "mailbox": login.lower()} if login else {}
        self._record("imap.authenticate", request=b"AUTHENTICATE " + mechanism + b" " + decoded,
                     status="OK" if outcome.ok else "NO",
                     summary={**claimed_login, **outcome.summary},
                     findings=list(outcome.findings), certificate_der=self._peer_certificate())

    def on_select(self, mbox: Any, command: bytes) -> None:
        self._record("imap." + command.decode().lower(), request=command + b" " + mbox.folder.encode(),
                     summary={"folder": mbox.folder, "exists": mbox.getMessageCount(),
                              "uidnext": mbox.getUIDNext(), "uidvalidity": mbox.getUIDValidity(),
                              "unseen": mbox.getUnseenCount(), "read_only": not mbox.isWriteable()})

    def on_fetch(self, results: list, query: list, uid: int) -> None:
        """A FETCH that reads messages (not only flags or UIDs) is journaled with the
        Message-IDs it read, so a scenario can tell which messages the DUI took in."""
        if not any(item.type in _READS for item in query) or not results:
            return
        read = results[:MAX_JOURNALED_IDS]
        message_ids = [str(msg.headers.get("Message-ID", "")).strip() for _seq, msg in read]
        summary = {"folder": self.mbox.folder, "items": [str(i) for i in query],
                   "uids": [msg.getUID() for _seq, msg in read], "message_ids": message_ids,
                   "count": len(results)}
        if len(results) == 1 and message_ids[0]:
            summary["message_id"] = message_ids[0]
        self._record("imap.fetch", request=(self.transcript[-1] if self.transcript else "").encode(),
                     summary=summary)
        if len(results) > 1:  # one record per message read, so a scenario can expect a given one
            for (_seq, msg), message_id in zip(read, message_ids, strict=True):
                if message_id:
                    self._record("imap.fetch.message", summary={
                        "folder": self.mbox.folder, "uid": msg.getUID(), "message_id": message_id})

    def dispatchCommand(self, tag: bytes, cmd: bytes, rest: bytes, uid: Any = None) -> None:
        if len(self.transcript) < 200:
            line = b" ".join(p for p in (tag, b"UID" if uid else b"", cmd, (rest or b"")[:200]) if p)
            self.transcript.append(line.decode("utf-8", "replace"))
        if cmd.upper() == b"FETCH":
            self.fetched += 1
        super().dispatchCommand(tag, cmd, rest, uid)

    def refresh(self, address: str, folder: str) -> None:
        """A message arrived in a folder this session may have selected: announce it
        (untagged EXISTS/RECENT, sent at once in IDLE, else with the next response)."""
        mbox = self.mbox
        if not isinstance(mbox, SqliteMailbox) or (mbox.address, mbox.folder) != (address, folder):
            return
        before = len(mbox.messages)
        mbox._load()
        arrived = len(mbox.messages) - before
        if arrived > 0:
            mbox.recent += arrived
            self.newMessages(len(mbox.messages), mbox.recent)

    def connectionLost(self, reason: Any) -> None:
        self.factory.sessions.discard(self)
        super().connectionLost(reason)
        if self.principal:
            self._record("imap.session", request="\n".join(self.transcript).encode(), status="closed",
                         summary={"commands": len(self.transcript), "fetch_commands": self.fetched},
                         duration_ms=(time.time() - self.started) * 1000)


class ImapFactory(Factory):
    protocol = MssImapServer

    def __init__(self, store: MailStore, authenticator: Authenticator, postmaster: Postmaster) -> None:
        self.store, self.authenticator, self.postmaster = store, authenticator, postmaster
        self.sessions: set[MssImapServer] = set()
        self.unsubscribe = store.subscribe(
            lambda address, folder: reactor.callFromThread(self._announce, address, folder)
        )

    def _announce(self, address: str, folder: str) -> None:
        for session in list(self.sessions):
            session.refresh(address, folder)

    tls: Any = None
    """Set on the STARTTLS port's factory: the connection creator used by STARTTLS."""

    def buildProtocol(self, addr: Any) -> MssImapServer:
        proto = MssImapServer(contextFactory=self.tls)
        proto.factory = self
        return proto


@implementer(IOpenSSLServerConnectionCreator)
class _ServerTls:
    """TLS ≥ 1.2 with the bench's server certificate; a client certificate is requested and
    verified against the test CA when sent, but optional (personal mailboxes use a token)."""

    def __init__(self, pki: TestPki) -> None:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.use_certificate(x509.load_pem_x509_certificate(pki.server_cert.read_bytes()))
        context.use_privatekey(
            serialization.load_pem_private_key(pki.server_key.read_bytes(), password=None)
        )
        context.check_privatekey()
        context.load_verify_locations(str(pki.ca_cert))
        context.set_verify(SSL.VERIFY_PEER, lambda _conn, _cert, _errno, _depth, ok: bool(ok))
        context.set_session_id(b"banc-segur-mss-imap")
        self.context = context

    def serverConnectionForTLS(self, protocol: Any) -> SSL.Connection:
        return SSL.Connection(self.context, None)


class ImapServer:
    """The IMAP ports of the process reactor: implicit TLS (IMAPS) and STARTTLS."""

    def __init__(self, factory: ImapFactory, pki: TestPki, *, host: str = "127.0.0.1",
                 port: int = 0, starttls_port: int = 0) -> None:
        self.factory, self.pki, self.host = factory, pki, host
        self.wanted = (port, starttls_port)
        self._ports: list[Any] = []
        self.port = 0
        self.starttls_port = 0

    def start(self) -> None:
        ReactorThread.ensure()
        tls = _ServerTls(self.pki)
        plain = ImapFactory(self.factory.store, self.factory.authenticator, self.factory.postmaster)
        plain.tls = tls
        self._plain_factory = plain
        implicit = ReactorThread.call(reactor.listenSSL, self.wanted[0], self.factory, tls,
                                      interface=self.host)
        self._ports.append(implicit)
        starttls = ReactorThread.call(reactor.listenTCP, self.wanted[1], plain, interface=self.host)
        self._ports.append(starttls)
        self.port = implicit.getHost().port
        self.starttls_port = starttls.getHost().port

    def stop(self) -> None:
        self.factory.unsubscribe()
        if self._ports:
            self._plain_factory.unsubscribe()
        for port in self._ports:
            ReactorThread.call(port.stopListening)
        self._ports.clear()
