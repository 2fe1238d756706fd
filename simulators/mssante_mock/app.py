"""The MSSanté mock assembled: store, postmaster, authenticator, SMTP and IMAP servers, and the
Python API scenarios drive it with (patients' mailboxes, tokens, simulated correspondents)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import httpx

from banc.access_tokens import BENCH_ISSUER, Introspector, JwksFetcher, TokenSigner
from banc.control import CONTROL_PREFIX, serve_control
from banc.identity import Identity, patient_mail_address, require_qualified, split_ins
from banc.journal import Journal
from banc.mail.compose import HealthMessage
from banc.mail.health import CdaValidator
from banc.mail.message import parse_mail
from banc.mocks import MockContext
from banc.pki import TestPki
from banc.server import ServedApp
from simulators.mssante_mock import seed as seeding
from simulators.mssante_mock.auth import Authenticator
from simulators.mssante_mock.control import MssanteControl
from simulators.mssante_mock.correspondents import Correspondents
from simulators.mssante_mock.delivery import Outcome, Postmaster, Submission
from simulators.mssante_mock.imap import ImapFactory, ImapServer
from simulators.mssante_mock.models import INBOX, KnownPatient, MailboxRecord, MailStore
from simulators.mssante_mock.smtp import SmtpServers, SubmissionHandler
from simulators.mssante_mock.wire import Recipient

HOSTNAME = "mssante.localhost"
SIGNER_FILE = "mssante-signer.json"
INTROSPECTION_CLIENT = ("banc-mssante", "banc-mssante-secret")
"""The operator's own confidential client at the PSC mock (introspection of DUI tokens)."""


class PatientMailboxes:
    """Mon espace santé mailboxes (`<INS>@patient.mssante.fr`): open, close, add, and the
    simulated patient's replies (refused when the professional sent `X-MSS-MES: FIN`)."""

    def __init__(self, store: MailStore, postmaster: Postmaster) -> None:
        self._store = store
        self._postmaster = postmaster

    def address(self, ins: str) -> str:
        return patient_mail_address(ins)

    def add(self, patient: KnownPatient, *, is_open: bool = True) -> MailboxRecord:
        """A qualified identity's mailbox; the simulated recipients also know the patient."""
        self._store.add_patient(patient)
        return self._store.add_mailbox(self.address(patient.ins), "PAT", owner=patient.ins,
                                       simulated=True, is_open=is_open)

    def add_identity(self, identity: Identity, *, is_open: bool = True) -> MailboxRecord:
        """Same as `add`, from a `banc.identity.Identity`; only a qualified INS has a mailbox."""
        require_qualified(identity)
        known = seeding.known_patient(identity)
        assert known is not None
        return self.add(known, is_open=is_open)

    def close(self, ins: str) -> None:
        self._store.set_open(self.address(ins), False)

    def open(self, ins: str) -> None:
        self._store.set_open(self.address(ins), True)

    def is_open(self, ins: str) -> bool:
        record = self._store.mailbox(self.address(ins))
        return bool(record and record.is_open)

    def messages(self, ins: str) -> list[bytes]:
        return self._store.raw_messages(self.address(ins))

    def reply(self, ins: str, message_id: str, text: str = "Merci pour ce document.\n") -> Outcome | None:
        """The patient answers the message `message_id` from Mon espace santé; None (and a
        journaled refusal) when that message forbade replies with `X-MSS-MES: FIN`."""
        address = self.address(ins)
        for raw in self._store.raw_messages(address):
            parsed = parse_mail(raw)
            if parsed.header("Message-ID") != message_id:
                continue
            if (parsed.header("X-MSS-MES") or "").upper() == "FIN":
                self._postmaster.refused(
                    "patient.reponse", message_id.encode(), "réponse interdite par X-MSS-MES: FIN",
                    channel="api", summary={"patient": address, "in_reply_to": message_id},
                )
                return None
            to = parsed.addresses("Reply-To") or parsed.addresses("From")
            answer = HealthMessage(sender=address, recipients=to[:1], body=text, nil=None,
                                   subject=f"RE: {parsed.header('Subject') or ''}",
                                   extra_headers={"In-Reply-To": message_id,
                                                  "References": message_id})
            return self._postmaster.submit(
                Submission(sender=address, recipients=[Recipient(to[0])], raw=answer.build(),
                           principal=address, channel="api"),
                operation="patient.reponse", judge=False,
            )
        raise KeyError(f"message {message_id} absent de la boîte {address}")

    def forget(self, ins: str) -> None:
        """Make the patient unknown to the simulated recipients (MDN 902 next time)."""
        self._store.forget_patient("".join(split_ins(ins)))


class MssanteMock:
    """A running MSSanté operator: `endpoints`, `stop()`, and the scenario API below."""

    name = "mssante"

    def __init__(
        self,
        *,
        journal: Journal,
        pki: TestPki,
        data_dir: Path,
        ports: Callable[[str], int] = lambda _: 0,
        host: str = "127.0.0.1",
        public_host: str = "127.0.0.1",
        checks: bool = True,
        validate_cda: CdaValidator | None = None,
        issuer: str | None = None,
        jwks_uri: str | None = None,
        introspection: str | None = None,
        seed: int | None = 20240101,
        patients: int = 0,
    ) -> None:
        self.journal = journal
        self.store = MailStore(data_dir / "mssante.sqlite")
        self.directory = seeding.seed(self.store, seed=seed, patients=patients) if seed is not None else None
        self.postmaster = Postmaster(self.store, journal, hostname=HOSTNAME, checks=checks,
                                     validate_cda=validate_cda)
        self.patients = PatientMailboxes(self.store, self.postmaster)
        # The bench's own issuer is always trusted (simulated correspondents, `banc mss`);
        # the PSC mock, when configured, is the primary issuer (what a DUI presents).
        self.signer = TokenSigner.load_or_create(data_dir / SIGNER_FILE, BENCH_ISSUER)
        bench_keys = self.signer.jwks()
        issuers: dict[str, Callable[[str | None], dict]] = {}
        introspectors: dict[str, Introspector] = {}
        if issuer:
            config = {} if jwks_uri and introspection else _openid_configuration(issuer, pki)
            fetcher = JwksFetcher(jwks_uri or config["jwks_uri"], cafile=str(pki.ca_cert))
            issuers[issuer] = fetcher.get
            endpoint = introspection or config.get("introspection_endpoint")
            if endpoint:  # a revoked PSC token must not open a mailbox (RFC 7662)
                introspectors[issuer] = Introspector(endpoint, *INTROSPECTION_CLIENT,
                                                     cafile=str(pki.ca_cert))
        issuers[BENCH_ISSUER] = lambda _kid: bench_keys
        self.authenticator = Authenticator(self.store, issuers=issuers, introspectors=introspectors)
        self.smtp = SmtpServers(
            SubmissionHandler(self.postmaster, self.authenticator), pki.server_context("optional"),
            starttls_port=ports("mssante.smtp"), implicit_port=ports("mssante.smtps"),
            hostname=HOSTNAME, host=host,
        )
        self.imap = ImapServer(ImapFactory(self.store, self.authenticator, self.postmaster), pki,
                               host=host, port=ports("mssante.imaps"),
                               starttls_port=ports("mssante.imap"))
        self.smtp.start()
        try:
            self.imap.start()
        except Exception:
            self.smtp.stop()
            raise
        self.correspondents = (
            Correspondents(self.directory, lambda message: self.send_as(message))
            if self.directory is not None else None
        )
        self.endpoints = {
            "mssante.smtp": f"smtp://{public_host}:{self.smtp.starttls_port}",
            "mssante.smtps": f"smtps://{public_host}:{self.smtp.implicit_port}",
            "mssante.imaps": f"imaps://{public_host}:{self.imap.port}",
            "mssante.imap": f"imap://{public_host}:{self.imap.starttls_port}",
            "mssante.issuer": issuer or BENCH_ISSUER,
        }
        self.control = MssanteControl(self, seed=seed if seed is not None else 20240101,
                                      patients=patients)
        self.control_server: ServedApp | None = None
        """The control plane's HTTPS server, when `from_context` started one."""

    # -- lifecycle --------------------------------------------------------------------------
    def stop(self) -> None:
        if self.control_server is not None:
            self.control_server.stop()
        self.imap.stop()
        self.smtp.stop()

    def __enter__(self) -> MssanteMock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scenario API -----------------------------------------------------------------------
    def token_for(self, mailbox: str, *, lifetime: float = 600.0, **claims: object) -> str:
        """A bench-issued access token opening `mailbox` (a DUI gets its own from the PSC mock)."""
        record = self.store.mailbox(mailbox)
        people = [p for p in (record.authorized if record else ()) if p.startswith("8")]
        if not people:
            raise KeyError(f"aucun professionnel habilité sur {mailbox}")
        return self.signer.issue(people[0], lifetime=lifetime, **claims)

    def messages(self, mailbox: str, folder: str = INBOX) -> list[bytes]:
        return self.store.raw_messages(mailbox, folder)

    def add_mailbox(self, address: str, kind: str = "PER", **options: object) -> MailboxRecord:
        return self.store.add_mailbox(address, kind, **options)  # type: ignore[arg-type]

    def send_as(self, message: HealthMessage | bytes, *, sender: str | None = None,
                recipients: list[str] | None = None, summary: dict | None = None) -> Outcome:
        """A simulated correspondent (hospital, GP…) sends a message: delivered to the hosted
        mailboxes like any submission (bounces, receipts), journaled as `correspondant`; the
        bench's own messages are not judged (broken variants are broken on purpose)."""
        if isinstance(message, HealthMessage):
            raw, sender, recipients = message.build(), message.sender, message.recipients
        else:
            raw = message
        if not sender or not recipients:
            raise ValueError("expéditeur et destinataires requis pour un message brut")
        submission = Submission(sender=sender.lower(), recipients=[Recipient(r.lower()) for r in recipients],
                                raw=raw, principal=sender.lower(), channel="api", summary=summary or {})
        return self.postmaster.submit(submission, operation="correspondant", judge=False)


def _openid_configuration(issuer: str, pki: TestPki) -> dict:
    """The issuer's OpenID configuration (PSC mock): `jwks_uri`, `introspection_endpoint`."""
    base = issuer.rstrip("/")
    for path in ("/.well-known/openid-configuration", "/.well-known/wallet-openid-configuration"):
        try:
            response = httpx.get(base + path, timeout=10,
                                 verify=ssl.create_default_context(cafile=str(pki.ca_cert)))
        except httpx.HTTPError:
            continue
        if response.status_code == 200 and "jwks_uri" in response.json():
            return response.json()
    raise RuntimeError(f"configuration OpenID introuvable pour l'émetteur {issuer}")


def from_context(context: MockContext, **options: object) -> MssanteMock:
    """The mock as `banc up` runs it: bound to `context.host`, URLs naming `public_host`, the
    PSC mock as token issuer when it runs, the control plane on `mssante.controle`."""
    mock = MssanteMock(
        journal=context.journal, pki=context.pki, data_dir=context.data_dir / "mssante",
        ports=context.port, host=context.host, public_host=context.public_host,
        issuer=context.endpoints.get("psc.issuer"),
        jwks_uri=context.endpoints.get("psc.jwks_uri"), seed=context.seed, **options,  # type: ignore[arg-type]
    )
    try:
        mock.control_server = serve_control(context, mock.control, name="mssante-controle")
    except Exception:
        mock.stop()
        raise
    mock.endpoints["mssante.controle"] = mock.control_server.url + CONTROL_PREFIX
    return mock
