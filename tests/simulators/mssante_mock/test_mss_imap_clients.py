"""The IMAP client matrix (ISSUE 11 item 7): imaplib (stdlib), IMAPClient and aioimaplib, each
through the same session over SELECT, FETCH (\\Seen set by BODY[], not by BODY.PEEK[]),
STORE, SEARCH, UID, EXAMINE (read-only), IDLE and EXPUNGE — what a DUI that tracks processed
mail by \\Seen or by UIDNEXT relies on (RFC 3501 §6.3.1, §6.4.5)."""

from __future__ import annotations

import asyncio
import imaplib
import re
import threading
import time
from dataclasses import dataclass, field

import aioimaplib
import pytest
from imapclient import IMAPClient
from mss_samples import GP

from banc.mail.compose import HealthMessage
from simulators.mssante_mock.app import MssanteMock

pytestmark = pytest.mark.slow


@dataclass
class Observed:
    """What a client saw, in one shape so every client is judged by the same assertions."""

    select: dict = field(default_factory=dict)  # EXISTS, UIDNEXT, UIDVALIDITY, UNSEEN, PERMANENTFLAGS
    flags_after_body: str = ""
    flags_after_peek: str = ""
    unseen: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    uids: list[int] = field(default_factory=list)
    examine_store: str = ""  # the answer to STORE on a folder opened by EXAMINE
    idle_exists: int | None = None
    expunged: list[int] = field(default_factory=list)
    remaining: int = 0


def fresh_mailbox(mss: MssanteMock, name: str) -> str:
    """A mailbox of the DUI's secretary's person holding three messages, none read."""
    owner = mss.store.mailbox("secretariat@ssiad-val-de-morge.mssante.fr").authorized[0]
    address = f"{name}@ssiad-val-de-morge.mssante.fr"
    mss.add_mailbox(address, "PER", owner=owner)
    for n in range(3):
        mss.send_as(HealthMessage(sender=GP, recipients=[address], body=f"corps {n}\n",
                                  subject=f"Courrier {n}"))
    return address


def deliver_later(mss: MssanteMock, address: str, delay: float = 0.5) -> None:
    """A new message arrives while the client is in IDLE."""
    def later() -> None:
        time.sleep(delay)
        mss.send_as(HealthMessage(sender=GP, recipients=[address], body="pendant IDLE\n"))
    threading.Thread(target=later, daemon=True).start()


def _select_codes(lines: list[str]) -> dict:
    found: dict = {}
    for line in lines:
        if m := re.search(r"(\d+) EXISTS", line):
            found["EXISTS"] = int(m.group(1))
        for code in ("UIDNEXT", "UIDVALIDITY", "UNSEEN"):
            if m := re.search(rf"\[{code} (\d+)\]", line):
                found[code] = int(m.group(1))
        if m := re.search(r"\[PERMANENTFLAGS \(([^)]*)\)\]", line):
            found["PERMANENTFLAGS"] = m.group(1)
    return found


# -- the three clients -----------------------------------------------------------------------

def with_imaplib(mss: MssanteMock, pki, address: str) -> Observed:
    seen = Observed()
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(), timeout=30) as imap:
        imap.authenticate("XOAUTH2", lambda _: (f"user={address}\x01auth=Bearer "
                                                f"{mss.token_for(address)}\x01\x01").encode())
        imap.select("INBOX")
        responses = imap.untagged_responses
        seen.select = {"EXISTS": int(responses["EXISTS"][-1]), "UIDNEXT": int(responses["UIDNEXT"][-1]),
                       "UIDVALIDITY": int(responses["UIDVALIDITY"][-1]),
                       "UNSEEN": int(responses["UNSEEN"][-1]),
                       "PERMANENTFLAGS": responses["PERMANENTFLAGS"][-1].decode().strip("()")}
        imap.fetch("1", "(BODY[])")
        seen.flags_after_body = imap.fetch("1", "(FLAGS)")[1][0].decode()
        uid2 = imap.fetch("2", "(UID)")[1][0].decode().split("UID ")[1].rstrip(")")
        imap.uid("FETCH", uid2, "(BODY.PEEK[])")
        seen.flags_after_peek = imap.fetch("2", "(FLAGS)")[1][0].decode()
        seen.unseen = [int(n) for n in imap.search(None, "UNSEEN")[1][0].split()]
        imap.store("3", "+FLAGS", "(\\Flagged)")
        seen.flagged = [int(n) for n in imap.search(None, "FLAGGED")[1][0].split()]
        seen.uids = [int(n) for n in imap.uid("SEARCH", None, "ALL")[1][0].split()]
        imap.select("INBOX", readonly=True)
        typ, data = imap._simple_command("STORE", "1", "+FLAGS", "(\\Deleted)")
        seen.examine_store = f"{typ} {data[0].decode() if data and data[0] else ''}"
        imap.select("INBOX")
        # imaplib has no IDLE before Python 3.14: the stdlib client polls with NOOP instead
        deliver_later(mss, address, 0)
        deadline = time.monotonic() + 10
        while seen.idle_exists is None and time.monotonic() < deadline:
            imap.noop()
            exists = [int(v) for v in imap.response("EXISTS")[1] if v]
            seen.idle_exists = max(exists) if exists and max(exists) > 3 else None
        imap.store("1", "+FLAGS", "(\\Deleted)")
        seen.expunged = [int(n) for n in imap.expunge()[1] if n]
        seen.remaining = int(imap.select("INBOX")[1][0])
    return seen


def with_imapclient(mss: MssanteMock, pki, address: str) -> Observed:
    seen = Observed()
    with IMAPClient("127.0.0.1", port=mss.imap.port, ssl=True, ssl_context=pki.client_context(),
                    timeout=30) as imap:
        imap.oauth2_login(address, mss.token_for(address))
        info = imap.select_folder("INBOX")
        seen.select = {"EXISTS": info[b"EXISTS"], "UIDNEXT": info[b"UIDNEXT"],
                       "UIDVALIDITY": info[b"UIDVALIDITY"], "UNSEEN": int(info[b"UNSEEN"][0]),
                       "PERMANENTFLAGS": " ".join(f.decode() for f in info[b"PERMANENTFLAGS"])}
        uids = imap.search("ALL")
        imap.fetch([uids[0]], ["BODY[]"])
        seen.flags_after_body = str(imap.get_flags([uids[0]])[uids[0]])
        imap.fetch([uids[1]], ["BODY.PEEK[]"])
        seen.flags_after_peek = str(imap.get_flags([uids[1]])[uids[1]])
        imap.use_uid = False
        seen.unseen = list(imap.search("UNSEEN"))
        imap.add_flags([3], [b"\\Flagged"])
        seen.flagged = list(imap.search("FLAGGED"))
        imap.use_uid = True
        seen.uids = list(imap.search("ALL"))
        imap.select_folder("INBOX", readonly=True)
        try:
            imap.add_flags([uids[0]], [b"\\Deleted"])
            seen.examine_store = "OK"
        except IMAPClient.Error as refused:
            seen.examine_store = f"NO {refused}"
        imap.select_folder("INBOX")
        imap.idle()
        deliver_later(mss, address)
        for _ in range(20):
            events = imap.idle_check(timeout=1)
            exists = [n for n, what in events if what == b"EXISTS"]
            if exists:
                seen.idle_exists = exists[-1]
                break
        imap.idle_done()
        imap.add_flags([uids[0]], [b"\\Deleted"])
        _text, expunged = imap.expunge()
        seen.expunged = [n for n, what in expunged if what == b"EXPUNGE"]
        seen.remaining = imap.select_folder("INBOX")[b"EXISTS"]
    return seen


async def _aioimaplib(mss: MssanteMock, pki, address: str) -> Observed:
    seen = Observed()

    def lines(response: aioimaplib.Response) -> list[str]:
        return [line.decode("utf-8", "replace") if isinstance(line, bytes | bytearray) else str(line)
                for line in response.lines]

    imap = aioimaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(), timeout=30)
    await imap.wait_hello_from_server()
    assert (await imap.xoauth2(address, mss.token_for(address))).result == "OK"  # SASL-IR
    seen.select = _select_codes(lines(await imap.select("INBOX")))
    await imap.fetch("1", "(BODY[])")
    seen.flags_after_body = " ".join(lines(await imap.fetch("1", "(FLAGS)")))
    uid_line = " ".join(lines(await imap.fetch("2", "(UID)")))
    uid2 = re.search(r"UID (\d+)", uid_line).group(1)
    await imap.uid("fetch", uid2, "(BODY.PEEK[])")
    seen.flags_after_peek = " ".join(lines(await imap.fetch("2", "(FLAGS)")))
    seen.unseen = [int(n) for n in lines(await imap.search("UNSEEN"))[0].split()]
    await imap.store("3", "+FLAGS", "(\\Flagged)")
    seen.flagged = [int(n) for n in lines(await imap.search("FLAGGED"))[0].split()]
    seen.uids = [int(n) for n in lines(await imap.uid_search("ALL"))[0].split()]
    await imap.examine("INBOX")
    refused = await imap.store("1", "+FLAGS", "(\\Deleted)")
    seen.examine_store = f"{refused.result} {' '.join(lines(refused))}"
    await imap.select("INBOX")
    idle = await imap.idle_start(timeout=15)
    deliver_later(mss, address)
    for _ in range(10):
        pushed = await imap.wait_server_push(timeout=10)
        text = " ".join(p.decode() if isinstance(p, bytes) else str(p) for p in pushed)
        if m := re.search(r"(\d+) EXISTS", text):
            seen.idle_exists = int(m.group(1))
            break
    imap.idle_done()
    await asyncio.wait_for(idle, 10)
    await imap.store("1", "+FLAGS", "(\\Deleted)")
    seen.expunged = [int(m.group(1)) for line in lines(await imap.expunge())
                     if (m := re.match(r"(\d+) EXPUNGE", line))]
    seen.remaining = _select_codes(lines(await imap.select("INBOX")))["EXISTS"]
    await imap.logout()
    return seen


def with_aioimaplib(mss: MssanteMock, pki, address: str) -> Observed:
    return asyncio.run(_aioimaplib(mss, pki, address))


CLIENTS = {"imaplib": with_imaplib, "imapclient": with_imapclient, "aioimaplib": with_aioimaplib}


@pytest.mark.parametrize("client", list(CLIENTS), ids=list(CLIENTS))
def test_imap_client_matrix(mss, pki, client: str) -> None:
    address = fresh_mailbox(mss, f"matrice-{client}")
    expected_uids = [m.uid for m in mss.store.messages(address)]
    seen = CLIENTS[client](mss, pki, address)
    # SELECT announces what a client needs to resume without re-reading (RFC 3501 §6.3.1)
    assert seen.select["EXISTS"] == 3
    assert seen.select["UIDNEXT"] == expected_uids[-1] + 1
    assert seen.select["UNSEEN"] == 1
    assert seen.select["UIDVALIDITY"] > 0
    assert "\\Seen" in seen.select["PERMANENTFLAGS"] and "\\*" in seen.select["PERMANENTFLAGS"]
    # BODY[] marks \Seen, BODY.PEEK[] does not (RFC 3501 §6.4.5)
    assert "\\Seen" in seen.flags_after_body
    assert "\\Seen" not in seen.flags_after_peek
    assert seen.unseen == [2, 3]
    assert seen.flagged == [3]
    assert seen.uids == expected_uids
    # EXAMINE is read-only
    assert seen.examine_store.startswith("NO") and "READ-ONLY" in seen.examine_store
    # IDLE (NOOP for imaplib) announces the message that arrived
    assert seen.idle_exists == 4
    assert seen.expunged == [1]
    assert seen.remaining == 3
    assert [m.uid for m in mss.store.messages(address)][:2] == expected_uids[1:]
