"""Hostile or broken input never makes the parser or the checks raise."""

from __future__ import annotations

import pytest

from banc.mail.health import check_health_message
from banc.mail.message import parse_mail

GARBAGE = [
    b"",
    b"\x00\xff" * 500,
    b"Subject: sans corps",
    b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: application/zip; name=IHE_XDM.ZIP\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
    b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--x--\r\n",
    b"From: a@b\r\nTo: =?utf-8?q?=FF=FE?= <x@y>\r\nContent-Type: text/plain; charset=inexistant\r\n\r\n\xe9\r\n",
    b"X" * 5000 + b"\r\n\r\ncorps",
]


@pytest.mark.parametrize("raw", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_reported_not_raised(raw: bytes) -> None:
    parsed = parse_mail(raw)
    findings = check_health_message(parsed, ["x@medecin.mssante.fr"])
    assert all(f.rule_id and f.message for f in findings)
    assert any(f.is_error for f in findings)


def test_bare_lf_and_long_lines_are_named() -> None:
    raw = b"From: a@b.fr\nTo: c@d.fr\n\n" + b"y" * 1200 + b"\n"
    rules = {f.rule_id for f in check_health_message(parse_mail(raw), ["c@d.fr"])}
    assert {"MSS.MIME.BARE_LF", "MSS.MIME.LINE_LENGTH"} <= rules


def test_rule_sets_the_cda_engine_could_not_run_are_reported() -> None:
    """A stand-in engine that could not evaluate a rule set: the verdict must say so."""
    from banc.mail.compose import HealthMessage
    from banc.verdict import NotEvaluated, Verdict
    from banc.xdm import build_xdm_for_cda

    cda = (b'<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="1.3.6.1.4.1.19376.1.2.20"/>'
           b'<code code="11490-0" codeSystem="2.16.840.1.113883.6.1"/><title>t</title>'
           b'<recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279036322000194"/>'
           b"</patientRole></recordTarget></ClinicalDocument>")
    raw = HealthMessage(sender="a@b.mssante.fr", recipients=["c@d.mssante.fr"], cda=cda,
                        xdm=build_xdm_for_cda(cda)).build()

    def engine(root, *, subject=""):
        return Verdict(subject, not_evaluated=[NotEvaluated("volet", "jeu de valeurs absent")])

    findings = check_health_message(parse_mail(raw), ["c@d.mssante.fr"], validate_cda=engine)
    assert any(f.rule_id == "MSS.CDA.NOT_EVALUATED" and "volet" in f.message for f in findings)
