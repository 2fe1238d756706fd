"""Parties and contexts shared by the document factory tests."""

from __future__ import annotations

from datetime import datetime

import pytest

from banc.documents import parties as P
from banc.documents.header import DocumentContext, paris_zone
from banc.identity import Identity
from banc.population import cnam_test_identities

SSIAD = P.Organization(
    national_id="1750012345", name="SSIAD du Val de Seine",
    address=P.PostalAddress("12 rue des Lilas", "92100", "BOULOGNE-BILLANCOURT"),
    phone="0145000000", mailbox="ssiad.valdeseine@test.mssante.fr", practice_setting=P.HOME_CARE_PRACTICE,
)
CABINET = P.Organization(
    national_id="3123456789", name="Cabinet du Dr Martin", facility_type=P.CABINET_FACILITY,
    practice_setting=P.AMBULATORY_PRACTICE, address=P.PostalAddress("3 place de la Mairie", "92100", "BOULOGNE-BILLANCOURT"),
)
NURSE = P.Practitioner("810001234567", "DURAND", "Claire", SSIAD, specialty=P.NURSE, civility="MME",
                       mailbox="claire.durand@test.mssante.fr")
GP = P.Practitioner("810009876543", "MARTIN", "Paul", CABINET, civility="M", title="DR",
                    mailbox="paul.martin@test.mssante.fr")
WHEN = datetime(2024, 5, 6, 10, 30, tzinfo=paris_zone())


def make_context(identity: Identity, author: P.Practitioner = NURSE, seed: int = 7, **extra) -> DocumentContext:
    return DocumentContext(identity=identity, author=author, when=WHEN, seed=seed,
                           recipients=(P.Recipient(practitioner=GP),), **extra)


@pytest.fixture
def identity() -> Identity:
    return cnam_test_identities()[1]  # ADRTROIS DOMINIQUE, born in 2A020


@pytest.fixture
def context():
    """`context(identity, author=NURSE, seed=7, **extra)` → DocumentContext."""
    return make_context


@pytest.fixture
def gp() -> P.Practitioner:
    return GP
