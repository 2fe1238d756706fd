"""Simulated correspondents: the senders of `banc.mail.senders` (hospital discharge service,
the usager's GP) bound to the mock, so what they send is delivered like any submission
(bounces, receipts) and journaled as `correspondant`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from banc.directory import Directory
from banc.documents.base import GeneratedDocument
from banc.mail.compose import HealthMessage
from banc.mail.senders import BROKEN_VARIANTS, Sender, named_senders
from simulators.mssante_mock.delivery import Outcome

__all__ = ["BROKEN_VARIANTS", "Correspondent", "Correspondents"]


@dataclass(frozen=True)
class Correspondent(Sender):
    """A sender whose messages go through the mock."""

    send: Callable[[HealthMessage], Outcome]

    def send_document(self, to: list[str], document: GeneratedDocument | bytes,
                      **options: object) -> Outcome:
        return self.send(self.message(to, document, **options))  # type: ignore[arg-type]


class Correspondents:
    """The named senders of the scenarios: `hospital` (discharge service) and `gp`."""

    def __init__(self, directory: Directory, send: Callable[[HealthMessage], Outcome]) -> None:
        senders = named_senders(directory)
        self.hospital = Correspondent(**vars(senders["hopital"]), send=send)
        self.gp = Correspondent(**vars(senders["medecin"]), send=send)
