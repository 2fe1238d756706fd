"""Twisted's `IMAP4Server` brought to RFC 3501 where mail clients (and DUIs) depend on it.

Twisted 26 leaves out parts of the protocol and breaks on some client errors; each override
below names what it fixes. A client error always gets a tagged `BAD`/`NO` with the reason,
never a dropped connection, a hang or a Python message:

- SELECT/EXAMINE announce `[UNSEEN n]`, `[PERMANENTFLAGS]`, `[UIDNEXT]` (§6.3.1), so a client
  that tracks new mail by UIDNEXT does not re-read; EXAMINE is really read-only;
- FETCH of BODY[…]/RFC822/RFC822.TEXT sets `\\Seen` (§6.4.5) and returns the new FLAGS;
  `BODY[]<o.n>` returns the requested octets; a section the message lacks is refused
  (`NO`) before anything is written (Twisted dropped the connection);
- a malformed fetch attribute, a search nested deeper than `MAX_SEARCH_DEPTH`, a negative
  or oversized literal (`{-5}` hung the connection) get `BAD`/`NO [TOOBIG]`;
- APPEND without a flag list, COPY to a missing folder (`NO [TRYCREATE]`), STORE and
  EXPUNGE on a read-only folder (`NO [READ-ONLY]`);
- header SEARCH keys compare text (Twisted compared str with bytes), a SEARCH that matches
  nothing still answers `* SEARCH` (§7.2.5), BODYSTRUCTURE without the quotes Twisted leaves
  in parameter values.
"""

from __future__ import annotations

import copy
import imaplib
import time
from typing import Any

from twisted.mail import imap4
from twisted.python import log

from simulators.mssante_mock.imap_mailbox import FLAGS, SqliteMailbox
from simulators.mssante_mock.rules import MAILBOX_LIMIT_BYTES

MAX_SEARCH_DEPTH = 32
"""Parenthesised SEARCH groups nested deeper are refused (Twisted parses them recursively)."""
SEARCH_CHUNK = 50
"""Messages a SEARCH filters per reactor turn."""
MAX_LITERAL = MAILBOX_LIMIT_BYTES
"""Largest literal accepted (APPEND of a message): the mailbox limit, beyond it NO [TOOBIG]."""
_SETS_SEEN = ("rfc822", "rfc822text")


class Refusal(Exception):
    """A client request refused with `NO [code] reason` (raised while parsing arguments)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def _unquote_parameters(structure: Any) -> Any:
    """Strip one level of double quotes from every string of a body structure."""
    if isinstance(structure, list | tuple):
        return [_unquote_parameters(item) for item in structure]
    if isinstance(structure, str) and len(structure) > 1 and structure[0] == structure[-1] == '"':
        return structure[1:-1]
    return structure


def _nesting(line: bytes) -> int:
    """Deepest parenthesis nesting of a command line, quoted strings skipped."""
    depth = deepest = 0
    quoted = escaped = False
    for byte in line:
        if quoted:
            escaped, quoted = (False, True) if escaped else (byte == 0x5C, byte != 0x22)
        elif byte == 0x22:
            quoted = True
        elif byte == 0x28:
            depth += 1
            deepest = max(deepest, depth)
        elif byte == 0x29:
            depth -= 1
    return deepest


def _internal_date(value: bytes | None) -> float | None:
    """APPEND's date-time (`03-Dec-2026 14:00:00 +0100`) as a timestamp, None if absent or
    unreadable (the message then gets the time of arrival)."""
    if not value:
        return None
    parsed = imaplib.Internaldate2tuple(b'INTERNALDATE "' + value + b'"')
    return time.mktime(parsed) if parsed else None


class Rfc3501Server(imap4.IMAP4Server):
    """The protocol fixes, independent of MSSanté (authentication lives in the subclass)."""

    def capabilities(self) -> dict:
        cap = super().capabilities()
        cap[b"SASL-IR"] = None  # AUTHENTICATE with an initial response (RFC 4959)
        return cap

    # -- SELECT / EXAMINE -----------------------------------------------------------------
    def _cbSelectWork(self, mbox: Any, cmdName: bytes, tag: bytes) -> None:
        if mbox is None:
            self.sendNegativeResponse(tag, b"[NONEXISTENT] dossier inexistant")
            return
        self.sendUntaggedResponse(b"%d EXISTS" % mbox.getMessageCount())
        self.sendUntaggedResponse(b"%d RECENT" % mbox.getRecentCount())
        self.sendUntaggedResponse(b"FLAGS (" + " ".join(FLAGS).encode() + b")")
        first_unseen = mbox.getFirstUnseen() if isinstance(mbox, SqliteMailbox) else None
        if first_unseen is not None:
            self.sendPositiveResponse(None, b"[UNSEEN %d] premier message non lu" % first_unseen)
        permanent = " ".join((*FLAGS, "\\*")).encode() if mbox.isWriteable() else b""
        self.sendPositiveResponse(None, b"[PERMANENTFLAGS (" + permanent + b")] drapeaux permanents")
        self.sendPositiveResponse(None, b"[UIDVALIDITY %d] UIDs valides" % mbox.getUIDValidity())
        self.sendPositiveResponse(None, b"[UIDNEXT %d] prochain UID" % mbox.getUIDNext())
        mode = b"READ-WRITE" if mbox.isWriteable() else b"READ-ONLY"
        mbox.addListener(self)
        self.sendPositiveResponse(tag, b"[" + mode + b"] " + cmdName + b" termine")
        self.state = "select"
        self.mbox = mbox
        self.on_select(mbox, cmdName)

    def on_select(self, mbox: Any, command: bytes) -> None:
        """Called after a successful SELECT/EXAMINE (the subclass journals it)."""

    def on_fetch(self, results: list, query: list, uid: int) -> None:
        """Called before a FETCH's answer is written, with the messages it reads."""

    # -- argument parsing -------------------------------------------------------------------
    def arg_fetchatt(self, line: bytes) -> tuple[Any, bytes]:
        try:
            return super().arg_fetchatt(line)
        except Exception as exc:  # Twisted's parser raises bare Exception on bad sections
            raise imap4.IllegalClientResponse(f"attribut FETCH invalide ({exc})") from None

    def arg_searchkeys(self, line: bytes) -> tuple[Any, bytes]:
        if _nesting(line) > MAX_SEARCH_DEPTH:
            raise imap4.IllegalClientResponse(
                f"SEARCH : parentheses imbriquees au-dela de {MAX_SEARCH_DEPTH} niveaux")
        return super().arg_searchkeys(line)

    select_SEARCH = (imap4.IMAP4Server.do_SEARCH, imap4.IMAP4Server.opt_charset, arg_searchkeys)

    def _check_literal(self, size: int, limit: int) -> None:
        if size < 0:
            raise imap4.IllegalClientResponse(f"taille de litteral negative : {{{size}}}")
        if size > limit:
            raise Refusal("TOOBIG", f"litteral de {size} octets : {limit} au plus")

    def _stringLiteral(self, size: int) -> Any:
        self._check_literal(size, self._literalStringLimit)
        return super()._stringLiteral(size)

    def _fileLiteral(self, size: int) -> Any:
        self._check_literal(size, MAX_LITERAL)
        return super()._fileLiteral(size)

    def _IMAP4Server__ebDispatch(self, failure: Any, tag: bytes) -> None:
        if failure.check(Refusal):
            self.sendNegativeResponse(tag, f"[{failure.value.code}] {failure.value}".encode())
            return
        imap4.IMAP4Server._IMAP4Server__ebDispatch(self, failure, tag)  # type: ignore[attr-defined]

    # -- FETCH ------------------------------------------------------------------------------
    def do_FETCH(self, tag: bytes, messages: Any, query: list, uid: int = 0) -> None:
        """Sections checked before any output; \\Seen set by the non-PEEK body items."""
        if not query:
            self.sendPositiveResponse(tag, b"FETCH termine")
            return
        results = list(self.mbox.fetch(messages, uid=uid))
        for seq, msg in results:
            for item in query:
                if item.type == "body" and item.part and not msg.has_section(tuple(item.part)):
                    section = ".".join(str(p + 1) for p in item.part)
                    self.sendNegativeResponse(
                        tag, f"FETCH : la partie {section} n'existe pas dans le message {seq}".encode())
                    return
        sets_seen = any(i.type in _SETS_SEEN or (i.type == "body" and not i.peek and
                        (i.empty or i.header or i.text or i.mime)) for i in query)
        if sets_seen and isinstance(self.mbox, SqliteMailbox):
            results, changed = self.mbox.mark_seen(results)
            if changed and not any(i.type == "flags" for i in query):
                query = [*query, imap4._FetchParser.Flags()]
        self.on_fetch(results, query, uid)
        self._oldTimeout = self.setTimeout(None)
        self._IMAP4Server__cbFetch(iter(results), tag, query, uid)  # type: ignore[attr-defined]

    select_FETCH = (do_FETCH, imap4.IMAP4Server.arg_seqset, arg_fetchatt)

    def spew_body(self, part: Any, id: int, msg: Any, _w: Any = None, _f: Any = None) -> Any:
        """`BODY[]<origin.length>` returns those octets (Twisted sent the whole message)."""
        if part.partialBegin is None or not part.empty or part.part:
            return super().spew_body(part, id, msg, _w, _f)
        data = msg.open().read()[part.partialBegin: part.partialBegin + part.partialLength]
        _w(b"BODY[]<%d> {%d}\r\n%b" % (part.partialBegin, len(data), data))
        return None

    def spew_bodystructure(self, id: int, msg: Any, _w: Any = None, _f: Any = None) -> None:
        structure = _unquote_parameters(imap4.getBodyStructure(msg, True))
        _w(b"BODYSTRUCTURE " + imap4.collapseNestedLists([structure]))

    def _IMAP4Server__ebSpewMessage(self, failure: Any) -> None:
        """Only a server bug gets here (sections are checked first): log it, close."""
        log.err(failure, "MSSanté IMAP : erreur pendant l'envoi d'un message")
        self.transport.loseConnection()

    # -- APPEND / COPY / STORE / EXPUNGE -----------------------------------------------------
    def _cbAppendGotMailbox(self, mbox: Any, tag: bytes, flags: Any, date: Any, message: Any) -> None:
        if not mbox:
            self.sendNegativeResponse(tag, b"[TRYCREATE] dossier inexistant")
            return
        names = [f.decode() if isinstance(f, bytes) else f for f in flags or ()]
        uid = mbox.addMessage(message, names, _internal_date(date))
        uid.addCallback(lambda _uid: self._appended(tag, mbox))
        uid.addErrback(lambda failure: self.sendBadResponse(tag, f"APPEND : {failure.value}".encode()))

    def _appended(self, tag: bytes, mbox: Any) -> None:
        if mbox is self.mbox or (isinstance(self.mbox, SqliteMailbox)
                                 and (self.mbox.address, self.mbox.folder) == (mbox.address, mbox.folder)):
            self.sendUntaggedResponse(b"%d EXISTS" % mbox.getMessageCount())
        self.sendPositiveResponse(tag, b"APPEND termine")

    def _cbCopySelectedMailbox(self, mbox: Any, tag: bytes, messages: Any, mailbox: Any, uid: int) -> None:
        if not mbox:
            self.sendNegativeResponse(tag, b"[TRYCREATE] dossier de destination inexistant")
            return
        super()._cbCopySelectedMailbox(mbox, tag, messages, mailbox, uid)

    def do_STORE(self, tag: bytes, messages: Any, mode: bytes, flags: Any, uid: int = 0) -> None:
        if not self.mbox.isWriteable():
            self.sendNegativeResponse(tag, b"[READ-ONLY] dossier ouvert par EXAMINE")
            return
        super().do_STORE(tag, messages, mode, flags, uid)

    select_STORE = (do_STORE, imap4.IMAP4Server.arg_seqset, imap4.IMAP4Server.arg_atom,
                    imap4.IMAP4Server.arg_flaglist)

    def do_EXPUNGE(self, tag: bytes) -> None:
        if not self.mbox.isWriteable():
            self.sendNegativeResponse(tag, b"[READ-ONLY] dossier ouvert par EXAMINE")
            return
        super().do_EXPUNGE(tag)

    select_EXPUNGE = (do_EXPUNGE,)

    # -- SEARCH -----------------------------------------------------------------------------
    # Twisted's header keys compare str header values with bytes criteria on Python 3:
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

    def _IMAP4Server__cbManualSearch(self, result: list, tag: bytes, mbox: Any, query: list, uid: int,
                                     searchResults: list[bytes] | None = None) -> None:
        """Twisted writes no untagged SEARCH when nothing matches, so imaplib's `search()`
        returned `[None]`: RFC 3501 §7.2.5 wants `* SEARCH` with no number (imaplib: `[b'']`).

        Messages are filtered `SEARCH_CHUNK` at a time, one reactor turn each, so that a
        large mailbox does not stall the other sessions (Twisted's own pace was 5)."""
        found = [] if searchResults is None else searchResults
        if result:
            last_sequence, last_uid = result[-1][0], result[-1][1].getUID()
            for sequence, msg in result[:SEARCH_CHUNK]:
                if self._searchFilter(copy.deepcopy(query), sequence, msg, last_sequence, last_uid):
                    found.append(b"%d" % (msg.getUID() if uid else sequence))
        if len(result) > SEARCH_CHUNK:
            from twisted.internet import reactor

            reactor.callLater(0, self._IMAP4Server__cbManualSearch, result[SEARCH_CHUNK:], tag, mbox,
                              query, uid, found)
            return
        self.sendUntaggedResponse(b" ".join([b"SEARCH", *found]))
        self.sendPositiveResponse(tag, b"SEARCH completed")

    def _IMAP4Server__ebSearch(self, failure: Any, tag: bytes) -> None:
        """A malformed SEARCH is the client's error: answer BAD with the reason, without the
        traceback Twisted would log for it (only unexpected errors keep their trace)."""
        if not failure.check(imap4.IllegalQueryError, imap4.IllegalClientResponse):
            failure.printTraceback()
        self.sendBadResponse(tag, f"SEARCH refusé : {failure.value}".encode())
