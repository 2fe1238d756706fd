"""SC.DOC.08.MS1 in the MSSanté mock's rules: a DLU or FLUDT must travel with the ESMS's own
stylesheet (processing instruction + XSLT file in the same IHE_XDM folder). The reference DUI's
way passes; each way of getting it wrong is named."""

from __future__ import annotations

import pytest

from banc import xds
from banc.directory import default_directory
from banc.mail.compose import HealthMessage
from banc.mail.health import inspect_message
from banc.mail.message import parse_mail
from banc.mail.senders import named_senders
from banc.population import population
from banc.xdm import XdmDocument, build_xdm
from banc.xml import parse_untrusted
from scenarios.reference_dui.stylesheet import NAME, presented, stylesheet, with_stylesheet
from simulators.mssante_mock.presentation import check_self_presenting


@pytest.fixture(scope="module")
def sender():
    return named_senders(default_directory())["medecin"]


@pytest.fixture(scope="module")
def identity():
    return next(i for i in population(20) if i.ins and i.carries_ins)


def rules_of(cda: bytes, archive: bytes | None) -> list[str]:
    raw = HealthMessage(sender="a@x.mssante.fr", recipients=["b@y.mssante.fr"], cda=cda, xdm=archive).build()
    return [f.rule_id for f in check_self_presenting(inspect_message(parse_mail(raw)))]


def archive_with(cda: bytes, extra: list[XdmDocument]) -> bytes:
    submission = xds.derive_submission(parse_untrusted(cda), document_bytes=cda, uri="DOC0001.XML")
    return build_xdm(submission, [XdmDocument("DOC0001.XML", cda), *extra])


@pytest.mark.parametrize("kind", ["DLU", "FLUDT"])
def test_the_reference_dui_way_passes_and_a_bare_document_fails(sender, identity, kind: str) -> None:
    made = sender.document(kind, identity)
    assert rules_of(*presented(made)) == []
    found = check_self_presenting(inspect_message(parse_mail(HealthMessage(
        sender="a@x.mssante.fr", recipients=["b@y.mssante.fr"], cda=made.xml).build())))
    assert [f.rule_id for f in found] == ["MSS.AUTOPRESENTABLE.PI"]
    assert found[0].requirements == ("SC.DOC.08.MS1",) and "feuille de style" in found[0].message


def test_each_way_of_missing_the_stylesheet_is_named(sender, identity) -> None:
    cda = with_stylesheet(sender.document("DLU", identity).xml)
    assert rules_of(cda, archive_with(cda, [])) == ["MSS.AUTOPRESENTABLE.MISSING"]
    remote = cda.replace(f'href="{NAME}"'.encode(), b'href="https://ssiad.example/style.xsl"')
    assert rules_of(remote, archive_with(remote, [])) == ["MSS.AUTOPRESENTABLE.HREF"]
    not_xslt = archive_with(cda, [XdmDocument(NAME, b"<html/>", "text/xsl")])
    assert rules_of(cda, not_xslt) == ["MSS.AUTOPRESENTABLE.XSLT"]
    broken = stylesheet().replace(b'select="cda:title"', b'select="cda:title[("', 1)
    assert rules_of(cda, archive_with(cda, [XdmDocument(NAME, broken, "text/xsl")])) == ["MSS.AUTOPRESENTABLE.XSLT"]


def test_other_documents_are_not_concerned(sender, identity) -> None:
    assert rules_of(sender.document("VSM", identity).xml, None) == []
