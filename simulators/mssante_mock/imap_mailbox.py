"""The IMAP mailbox backend of the MSSanté mock: Twisted's `IAccount`/`IMailbox`/`IMessage`
interfaces over the mock's SQLite store (`models.MailStore`).

Input-driven costs are bounded here: a stored message is split into MIME parts lazily, once
per part, at most `MAX_PART_DEPTH` levels deep and `MAX_SUBPARTS` parts per multipart (a
hostile message delivered to a mailbox must not make BODYSTRUCTURE recurse for ever)."""

from __future__ import annotations

import io
import re
import time
from email.parser import BytesHeaderParser
from email.utils import formatdate
from typing import Any

from twisted.internet import defer
from twisted.mail import imap4
from zope.interface import implementer

from simulators.mssante_mock.models import INBOX, MailStore, StoredMessage

MAX_PART_DEPTH = 50
"""Nesting levels of multiparts served as such (`banc.mail.message.MAX_MULTIPARTS` too)."""
MAX_SUBPARTS = 1000
"""Parts of one multipart served (`banc.mail.message.MAX_MIME_PARTS` too)."""
SEEN = "\\Seen"
RECENT = "\\Recent"

FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$MDNSent")

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
    depth = 0

    def __init__(self, raw: bytes, depth: int = 0) -> None:
        self.raw = raw
        self.depth = depth
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
        """Beyond `MAX_PART_DEPTH` a multipart is served as one opaque part."""
        return self.depth < MAX_PART_DEPTH and self.headers.get_content_maintype() == "multipart"

    def subparts(self) -> list[bytes]:
        """The parts of this multipart, split once (BODYSTRUCTURE asks for each in turn)."""
        cached = self.__dict__.get("_subparts")
        if cached is None:
            boundary = self.headers.get_boundary() if self.isMultipart() else None
            cached = _subparts(self.body, boundary.encode())[:MAX_SUBPARTS] if boundary else []
            self.__dict__["_subparts"] = cached
        return cached

    def getSubPart(self, part: int) -> _Part:
        """Part `part` (from 0) of a multipart (IndexError past the last, as BODYSTRUCTURE
        expects), or the message a `message/rfc822` part encloses (DSN, forwarded mail)."""
        if self.headers.get_content_type() == "message/rfc822":
            if part != 0:
                raise IndexError(part)
            return _Part(self.body if self.depth < MAX_PART_DEPTH else b"", self.depth + 1)
        if self.headers.get_content_maintype() != "multipart":
            raise TypeError("partie non multipart")
        return _Part(self.subparts()[part], self.depth + 1)  # none beyond MAX_PART_DEPTH

    def has_section(self, path: tuple[int, ...]) -> bool:
        """Whether BODY[<path>] names an existing part (path indexes from 0, as Twisted's)."""
        node: _Part = self
        for index in path:
            if node.isMultipart():
                if not 0 <= index < len(node.subparts()):
                    return False
                node = node.getSubPart(index)
            elif index > 0:  # a single-part message has an implicit part 1 only
                return False
        return True


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

@implementer(imap4.IMailbox, imap4.ICloseableMailbox, imap4.IMessageCopier)
class SqliteMailbox:
    """One folder of one mailbox; the message list is loaded at SELECT and kept in sync.
    EXAMINE opens it read-only (`writeable=False`): no flag changes, \\Recent kept."""

    def __init__(self, store: MailStore, address: str, folder: str, writeable: bool = True) -> None:
        self.db, self.address, self.folder = store, address, folder
        self.writeable = writeable
        self.listeners: list[Any] = []
        self._load()
        self.recent = sum(1 for m in self.messages if "\\Recent" in m.flags)
        if self.recent and writeable:
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

    def getFirstUnseen(self) -> int | None:
        """Sequence number of the first message without \\Seen (SELECT's `[UNSEEN n]`)."""
        return next((i + 1 for i, m in enumerate(self.messages) if SEEN not in m.flags), None)

    def isWriteable(self) -> bool:
        return self.writeable

    def copy(self, message: Any) -> defer.Deferred:
        """COPY into this folder: the stored bytes and flags, a new UID (IMessageCopier)."""
        uid = self.db.deliver(self.address, message.raw, folder=self.folder,
                              flags=[f for f in message.stored.flags if f != RECENT] + [RECENT],
                              internal_date=message.stored.internal_date)
        self._load()
        return defer.succeed(uid)

    def mark_seen(self, fetched: list[tuple[int, _Message]]) -> tuple[list[tuple[int, _Message]], bool]:
        """FETCH of a body (not BODY.PEEK) sets \\Seen (RFC 3501 §6.4.5): the fetched
        messages with their new flags, and whether any flag changed."""
        unseen = {msg.stored.uid: msg.stored.flags for _seq, msg in fetched
                  if SEEN not in msg.stored.flags}
        if not self.writeable or not unseen:
            return fetched, False
        self.db.set_flags(self.address, self.folder,
                          {uid: tuple(sorted({*flags, SEEN})) for uid, flags in unseen.items()})
        self._load()
        by_uid = {m.uid: m for m in self.messages}
        return [(seq, _Message(self.db, self.address, self.folder, by_uid.get(msg.stored.uid, msg.stored)))
                for seq, msg in fetched], True

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
        names = [f.decode() if isinstance(f, bytes) else f for f in flags or ()] + [RECENT]
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
        return SqliteMailbox(self.store, self.address, folder, writeable=bool(rw))

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
