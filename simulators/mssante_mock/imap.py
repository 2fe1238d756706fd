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
import io
import json
import re
import threading
import time
import unicodedata
from email.parser import BytesHeaderParser
from email.utils import formatdate
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

from banc.journal import Exchange
from banc.pki import TestPki, certificate_subject
from simulators.mssante_mock import faults
from simulators.mssante_mock.auth import Authenticator, AuthOutcome
from simulators.mssante_mock.delivery import SERVICE, Postmaster
from simulators.mssante_mock.models import INBOX, MailStore, StoredMessage

FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$MDNSent")


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


# -- messages --------------------------------------------------------------------------------

def _split(raw: bytes) -> tuple[bytes, bytes]:
    match = re.search(rb"\r?\n\r?\n", raw)
    if not match:
        return raw, b""
    return raw[: match.start()], raw[match.end():]


def _subparts(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts of a multipart body, split on the boundary lines (RFC 2046 §5.1.1)."""
    parts: list[bytes] = []
    current: list[bytes] | None = None
    open_delim, close_delim = b"--" + boundary, b"--" + boundary + b"--"
    for line in body.splitlines(keepends=True):
        stripped = line.rstrip(b"\r\n").rstrip()
        if stripped in (open_delim, close_delim):
            if current is not None:
                parts.append(re.sub(rb"\r?\n$", b"", b"".join(current)))
            if stripped == close_delim:
                return parts
            current = []
        elif current is not None:
            current.append(line)
    if current:
        parts.append(b"".join(current))
    return parts


@implementer(imap4.IMessagePart)
class _Part:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        head, self.body = _split(raw)
        self.headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")

    def getHeaders(self, negate: bool, *names: Any) -> dict[str, str]:
        wanted = {(n.decode() if isinstance(n, bytes) else n).lower() for n in names}
        out: dict[str, str] = {}
        for key, value in self.headers.items():
            if not names or (key.lower() in wanted) != negate:
                out[key.lower()] = str(value)
        return out

    def getBodyFile(self) -> io.BytesIO:
        return io.BytesIO(self.body)

    def getSize(self) -> int:
        return len(self.raw)

    def isMultipart(self) -> bool:
        return self.headers.get_content_maintype() == "multipart"

    def getSubPart(self, part: int) -> _Part:
        if not self.isMultipart():
            raise TypeError("partie non multipart")
        boundary = self.headers.get_boundary()
        if not boundary:
            raise IndexError(part)
        return _Part(_subparts(self.body, boundary.encode())[part])


@implementer(imap4.IMessage, imap4.IMessageFile)
class _Message(_Part):
    """A stored message; its bytes are read from SQLite only when a command needs them
    (FLAGS/UID fetches and SEARCH on flags never load them)."""

    def __init__(self, store: MailStore, address: str, folder: str, stored: StoredMessage) -> None:
        self._where = (store, address, folder)
        self.stored = stored
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            store, address, folder = self._where
            self.raw = store.raw(address, folder, self.stored.uid)
            _head, self.body = _split(self.raw)
            self._loaded = True

    def __getattr__(self, name: str) -> Any:
        if name == "headers":  # headers alone: read the header block, not the attachments
            store, address, folder = self._where
            head = store.head(address, folder, self.stored.uid)
            self.headers = BytesHeaderParser().parsebytes(head)
            return self.headers
        if name in ("raw", "body"):
            self._load()
            return self.__dict__[name]
        raise AttributeError(name)

    def getUID(self) -> int:
        return self.stored.uid

    def getFlags(self) -> list[str]:
        return [f for f in self.stored.flags if f != "\\Recent"]

    def getInternalDate(self) -> str:
        return formatdate(self.stored.internal_date)

    def getSize(self) -> int:
        return self.stored.size

    def open(self) -> io.BytesIO:
        return io.BytesIO(self.raw)


# -- mailboxes -------------------------------------------------------------------------------

@implementer(imap4.IMailbox, imap4.ICloseableMailbox)
class SqliteMailbox:
    """One folder of one mailbox; the message list is loaded at SELECT and kept in sync."""

    def __init__(self, store: MailStore, address: str, folder: str) -> None:
        self.db, self.address, self.folder = store, address, folder
        self.listeners: list[Any] = []
        self._load()
        self.recent = sum(1 for m in self.messages if "\\Recent" in m.flags)
        if self.recent:
            self.db.set_flags(address, folder, {
                m.uid: tuple(f for f in m.flags if f != "\\Recent")
                for m in self.messages if "\\Recent" in m.flags
            })

    def _load(self) -> None:
        self.messages = self.db.messages(self.address, self.folder)
        state = self.db.folder_state(self.address, self.folder)
        self.uidvalidity, self.uidnext = state if state else (int(time.time()), 1)

    def getFlags(self) -> list[str]:
        return list(FLAGS)

    def getHierarchicalDelimiter(self) -> str:
        return "/"

    def getUIDValidity(self) -> int:
        return self.uidvalidity

    def getUIDNext(self) -> int:
        return self.uidnext

    def getUID(self, message: int) -> int:
        return self.messages[message - 1].uid

    def getMessageCount(self) -> int:
        return len(self.messages)

    def getRecentCount(self) -> int:
        return self.recent

    def getUnseenCount(self) -> int:
        return sum(1 for m in self.messages if "\\Seen" not in m.flags)

    def isWriteable(self) -> bool:
        return True

    def destroy(self) -> None:
        self.db.delete_folder(self.address, self.folder)

    def requestStatus(self, names: Any) -> dict:
        self._load()
        return imap4.statusRequestHelper(self, names)

    def addListener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def removeListener(self, listener: Any) -> None:
        self.listeners.remove(listener)

    def addMessage(self, message: Any, flags: Any = (), date: Any = None) -> defer.Deferred:
        raw = message.read()
        names = [f.decode() if isinstance(f, bytes) else f for f in flags or ()]
        uid = self.db.deliver(self.address, raw, folder=self.folder, flags=names)
        self._load()
        return defer.succeed(uid)

    def expunge(self) -> list[int]:
        removed = [i + 1 for i, m in enumerate(self.messages) if "\\Deleted" in m.flags]
        self.db.remove(self.address, self.folder,
                          [m.uid for m in self.messages if "\\Deleted" in m.flags])
        self._load()
        return list(reversed(removed))

    def _select(self, messages: imap4.MessageSet, uid: bool) -> list[tuple[int, StoredMessage]]:
        if not self.messages:
            return []
        if uid:
            messages.last = self.messages[-1].uid
            return [(i + 1, m) for i, m in enumerate(self.messages) if m.uid in messages]
        messages.last = len(self.messages)
        return [(seq, self.messages[seq - 1]) for seq in messages if 0 < seq <= len(self.messages)]

    def fetch(self, messages: imap4.MessageSet, uid: bool) -> list[tuple[int, _Message]]:
        return [(seq, _Message(self.db, self.address, self.folder, stored))
                for seq, stored in self._select(messages, uid)]

    def store(self, messages: imap4.MessageSet, flags: Any, mode: int, uid: bool) -> dict:
        names = {f.decode() if isinstance(f, bytes) else f for f in flags}
        updates: dict[int, tuple[str, ...]] = {}
        result: dict[int, list[str]] = {}
        for seq, stored in self._select(messages, uid):
            current = set(stored.flags)
            new = current | names if mode == 1 else current - names if mode == -1 else names
            updates[stored.uid] = tuple(sorted(new))
            result[seq] = sorted(f for f in new if f != "\\Recent")
        self.db.set_flags(self.address, self.folder, updates)
        self._load()
        return result

    def close(self) -> None:
        self.listeners.clear()


@implementer(imap4.IAccount, imap4.INamespacePresenter)
class SqliteAccount:
    """The folders of one MSSanté mailbox."""

    def __init__(self, store: MailStore, address: str) -> None:
        self.store, self.address = store, address
        self.subscriptions: set[str] = set(store.folders(address))

    @staticmethod
    def _name(name: Any) -> str:
        name = name.decode("imap4-utf-7") if isinstance(name, bytes) else name
        return INBOX if name.upper() == INBOX else name.strip("/")

    def addMailbox(self, name: Any, mbox: Any = None) -> bool:
        return self.create(name)

    def create(self, pathspec: Any) -> bool:
        return self.store.create_folder(self.address, self._name(pathspec))

    def select(self, name: Any, rw: bool = True) -> SqliteMailbox | None:
        folder = self._name(name)
        if folder not in self.store.folders(self.address):
            return None
        return SqliteMailbox(self.store, self.address, folder)

    def delete(self, name: Any) -> None:
        folder = self._name(name)
        if folder == INBOX:
            raise imap4.MailboxException("INBOX ne peut pas etre supprimee")
        self.store.delete_folder(self.address, folder)

    def rename(self, oldname: Any, newname: Any) -> None:
        raise imap4.MailboxException("RENAME non pris en charge par le serveur simule")

    def isSubscribed(self, name: Any) -> bool:
        return self._name(name) in self.subscriptions

    def subscribe(self, name: Any) -> None:
        self.subscriptions.add(self._name(name))

    def unsubscribe(self, name: Any) -> None:
        self.subscriptions.discard(self._name(name))

    def listMailboxes(self, ref: Any, wildcard: Any) -> list[tuple[str, SqliteMailbox]]:
        pattern = imap4.wildcardToRegexp(
            wildcard.decode() if isinstance(wildcard, bytes) else wildcard, "/"
        )
        return [(name, _FolderInfo(name)) for name in self.store.folders(self.address)
                if pattern.match(name)]

    def getPersonalNamespaces(self) -> list:
        return [[b"", b"/"]]

    def getSharedNamespaces(self) -> None:
        return None

    def getOtherNamespaces(self) -> None:
        return None

    def getUserNamespaces(self) -> None:
        return None


@implementer(imap4.IMailboxInfo)
class _FolderInfo:
    """What LIST needs to know about a folder, without loading its messages."""

    def __init__(self, name: str) -> None:
        self.name = name

    def getFlags(self) -> list[str]:
        return list(FLAGS)

    def getHierarchicalDelimiter(self) -> str:
        return "/"


# -- protocol --------------------------------------------------------------------------------

def _unquote_parameters(structure: Any) -> Any:
    """Strip one level of double quotes from every string of a body structure."""
    if isinstance(structure, list | tuple):
        return [_unquote_parameters(item) for item in structure]
    if isinstance(structure, str) and len(structure) > 1 and structure[0] == structure[-1] == '"':
        return structure[1:-1]
    return structure


class MssImapServer(imap4.IMAP4Server):
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
        mechanism = args.upper().strip()
        if not self._encrypted():
            reason = "[PRIVACYREQUIRED] authentification refusée avant STARTTLS"
            self.factory.postmaster.refused("imap.authenticate", b"AUTHENTICATE " + mechanism,
                                            reason, channel="imap", peer=self._peer())
            self.sendNegativeResponse(tag, _ascii(reason))
            return
        if mechanism not in (b"XOAUTH2", b"EXTERNAL"):
            self.sendNegativeResponse(tag, _ascii("mécanisme non proposé : XOAUTH2 ou EXTERNAL"))
            return
        self._await_line(lambda line: self._on_sasl(line, mechanism, tag), tag)

    unauth_AUTHENTICATE = (do_AUTHENTICATE, imap4.IMAP4Server.arg_atom)

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
            peer=self._peer(), summary={"user": user.decode("utf-8", "replace")},
        )
        self.sendNegativeResponse(tag, _ascii(faults.IMAP_LOGIN_REFUSAL))

    unauth_LOGIN = (do_LOGIN, imap4.IMAP4Server.arg_astring, imap4.IMAP4Server.arg_finalastring)

    def _peer(self) -> str:
        peer = self.transport.getPeer() if self.transport else None
        return f"{peer.host}:{peer.port}" if peer is not None else ""

    def _journal_auth(self, outcome: AuthOutcome, mechanism: bytes, decoded: bytes) -> None:
        status = "OK" if outcome.ok else "NO"
        request = b"AUTHENTICATE " + mechanism + b" " + decoded
        self.factory.postmaster.journal.record(Exchange(
            service=SERVICE, operation="imap.authenticate", channel="imap", request=request,
            response=status.encode(), status=status, peer=self._peer(),
            peer_certificate=certificate_subject(self._peer_certificate()),
            summary=outcome.summary, findings=list(outcome.findings),
        ))

    def spew_bodystructure(self, id: int, msg: Any, _w: Any = None, _f: Any = None) -> None:
        """Twisted leaves the quotes of Content-Disposition parameters in BODYSTRUCTURE
        (`("filename" "\\"IHE_XDM.ZIP\\"")`): clients would show them in attachment names."""
        structure = _unquote_parameters(imap4.getBodyStructure(msg, True))
        _w(b"BODYSTRUCTURE " + imap4.collapseNestedLists([structure]))

    # Twisted's header SEARCH keys compare str header values with bytes criteria on Python 3:
    # decode the criterion, compare case-insensitively (RFC 3501 §6.4.4).
    @staticmethod
    def _contains(msg: Any, header: Any, needle: Any) -> bool:
        name = header.decode("utf-8", "replace") if isinstance(header, bytes) else header
        wanted = needle.decode("utf-8", "replace") if isinstance(needle, bytes) else needle
        value = msg.getHeaders(False, name.lower()).get(name.lower(), "")
        return wanted.lower() in str(value).lower()

    def search_SUBJECT(self, query: list, id: int, msg: Any) -> bool:
        return self._contains(msg, "subject", query.pop(0))

    def search_FROM(self, query: list, id: int, msg: Any) -> bool:
        return self._contains(msg, "from", query.pop(0))

    def search_TO(self, query: list, id: int, msg: Any) -> bool:
        return self._contains(msg, "to", query.pop(0))

    def search_CC(self, query: list, id: int, msg: Any) -> bool:
        return self._contains(msg, "cc", query.pop(0))

    def search_BCC(self, query: list, id: int, msg: Any) -> bool:
        return self._contains(msg, "bcc", query.pop(0))

    def search_TEXT(self, query: list, id: int, msg: Any) -> bool:
        needle = query.pop(0)
        wanted = needle.decode("utf-8", "replace") if isinstance(needle, bytes) else needle
        return wanted.lower().encode() in msg.open().read().lower()

    def search_HEADER(self, query: list, id: int, msg: Any) -> bool:
        if len(query) < 2:
            raise imap4.IllegalQueryError("HEADER attend un nom d'en-tête et une valeur (RFC 3501 §6.4.4)")
        header = query.pop(0)
        return self._contains(msg, header, query.pop(0))

    def _IMAP4Server__ebSearch(self, failure: Any, tag: bytes) -> None:
        """A malformed SEARCH is the client's error: answer BAD with the reason, without the
        traceback Twisted would log for it (only unexpected errors keep their trace)."""
        if not failure.check(imap4.IllegalQueryError, imap4.IllegalClientResponse):
            failure.printTraceback()
        self.sendBadResponse(tag, f"SEARCH refusé : {failure.value}".encode())

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
            self.factory.postmaster.journal.record(Exchange(
                service=SERVICE, operation="imap.session", channel="imap",
                request="\n".join(self.transcript).encode(), status="closed", peer=self._peer(),
                summary={"mailbox": self.principal, "commands": len(self.transcript),
                         "fetch_commands": self.fetched},
                duration_ms=(time.time() - self.started) * 1000,
            ))


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
