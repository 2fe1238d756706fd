"""Simulated correspondents: documents from the factory, sent to the DUI, and broken variants
that the health-message rules recognise (so a DUI can be tested on what it must refuse)."""

from __future__ import annotations

import pytest
from mss_samples import DUI

from banc.mail.health import check_health_message
from banc.mail.message import parse_mail
from banc.mail.reports import read_mdn
from banc.population import cnam_test_identities
from simulators.mssante_mock.correspondents import BROKEN_VARIANTS

pytestmark = pytest.mark.slow

EXPECTED = {
    "sans-nil": "MSS.X_MSS_NIL.MISSING",
    "sans-x-mss-codecda": "MSS.X_MSS_CODECDA.MISSING",
    "sans-x-mss-ins": "MSS.X_MSS_INS.MISSING",
    "objet-libre": "MSS.SUBJECT.CONVENTION",
    "sans-pdf": "MSS.PDF.MISSING",
    "metadonnees-autre-patient": "MSS.PATIENT.METADATA_CDA",
    "sans-metadata": "XDM-LAYOUT",
}


@pytest.fixture(scope="module")
def n1(mss):
    return mss.correspondents.gp.n1(cnam_test_identities()[0])


def test_gp_sends_an_n1_prescription_to_the_dui(mss, n1) -> None:
    gp = mss.correspondents.gp
    outcome = gp.send_document([DUI], n1, notify=True)
    assert outcome.delivered == [DUI]
    received = mss.messages(DUI)[-1]
    findings = check_health_message(parse_mail(received), [DUI])
    assert [f.rule_id for f in findings if f.is_error] == []
    assert not any(read_mdn(m) for m in mss.messages(gp.address))  # the DUI answers, not us


def test_every_broken_variant_is_named_by_the_rules(mss, n1) -> None:
    assert set(EXPECTED) == set(BROKEN_VARIANTS)
    hospital = mss.correspondents.hospital
    for variant, rule in EXPECTED.items():
        raw = hospital.message([DUI], n1, broken=(variant,)).build()
        flagged = {f.rule_id for f in check_health_message(parse_mail(raw), [DUI])}
        assert rule in flagged, (variant, sorted(flagged))


def test_unknown_variant_is_refused(mss, n1) -> None:
    with pytest.raises(KeyError, match="variante inconnue"):
        mss.correspondents.gp.message([DUI], n1, broken=("n-importe-quoi",))


@pytest.mark.parametrize(("sender", "kind"), [("hospital", "LDL-SES"), ("gp", "VSM"),
                                              ("gp", "eP-MED-DM")])
def test_factory_documents_travel_compliant(mss, sender, kind) -> None:
    """The scenario messages: discharge letter from the hospital, synthesis and prescription
    from the GP — each with its PDF/A copy, and nothing for the rules to say."""
    correspondent = getattr(mss.correspondents, sender)
    document = correspondent.document(kind, cnam_test_identities()[1])
    outcome = correspondent.send_document([DUI], document)
    assert outcome.delivered == [DUI]
    received = mss.messages(DUI)[-1]
    assert check_health_message(parse_mail(received), [DUI]) == []
