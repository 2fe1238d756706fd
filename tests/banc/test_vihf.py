"""VIHF builder and checker: signatures (SHA-256/SHA-1), tampering, validity, attributes,
patient match, and the documented trust option for the official ANS example tokens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from banc.pki import TestPki
from banc.vihf import (
    VihfClaims,
    VihfPolicy,
    build_vihf,
    build_vihf_for,
    check_vihf,
    parse_vihf,
)

INS = "275126322074974"
OID = "1.2.250.1.213.1.4.10"


def claims(**changes: object) -> VihfClaims:
    base = VihfClaims("899700000001", "Marie INFIRMIERE", "340000000000001", patient_ins=INS)
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def reparse(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


def rules(check) -> set[str]:
    return {f.rule_id for f in check.findings}


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "rsa-sha1"])
def test_signed_token_is_accepted(pki: TestPki, algorithm: str) -> None:
    token = reparse(build_vihf_for(pki.directory, claims(), algorithm=algorithm))
    check = check_vihf(token, policy=VihfPolicy(trusted_ca=pki.ca_cert), expected_patient=(INS, OID))
    assert check.accepted, check.findings
    assert check.signed
    assert "SIGNATURE-VIHF-DUI" in check.signer_subject
    assert check.claims.patient_ins == INS
    assert check.claims.structure_id == "340000000000001"


def test_signature_sits_after_issuer(pki: TestPki) -> None:
    token = build_vihf_for(pki.directory, claims())
    names = [etree.QName(child).localname for child in token]
    assert names[:3] == ["Issuer", "Signature", "Subject"]


def test_tampered_token_is_refused(pki: TestPki) -> None:
    data = etree.tostring(build_vihf_for(pki.directory, claims())).replace(b"Marie", b"Mario")
    check = check_vihf(etree.fromstring(data), policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert "VIHF.SIGNATURE" in rules(check)
    assert not check.accepted


def test_unsigned_indirect_token_is_refused(pki: TestPki) -> None:
    check = check_vihf(reparse(build_vihf(claims())), policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert "VIHF.UNSIGNED" in rules(check)


def test_unsigned_direct_token_is_allowed(pki: TestPki) -> None:
    check = check_vihf(
        reparse(build_vihf(claims(mode="DIRECTE"))), policy=VihfPolicy(trusted_ca=pki.ca_cert)
    )
    assert check.accepted, check.findings


def test_foreign_certificate_is_refused(pki: TestPki, tmp_path: Path) -> None:
    other = TestPki.ensure(tmp_path / "other")
    token = reparse(build_vihf_for(other.directory, claims()))
    check = check_vihf(token, policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert "VIHF.CERTIFICATE" in rules(check)


def test_issuer_must_be_the_signing_certificate(pki: TestPki) -> None:
    token = reparse(build_vihf_for(pki.directory, claims(), issuer="CN=QUELQU-UN,O=Autre,C=FR"))
    check = check_vihf(token, policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert "VIHF.ISSUER" in rules(check)


def test_expired_and_future_tokens(pki: TestPki) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    expired = reparse(build_vihf_for(pki.directory, claims(), now=old))
    check = check_vihf(expired, policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert "VIHF.VALIDITY" in rules(check)
    assert any("expiré" in f.message for f in check.findings)
    future = reparse(build_vihf_for(pki.directory, claims(), now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)))
    assert "VIHF.VALIDITY" in rules(check_vihf(future, policy=VihfPolicy(trusted_ca=pki.ca_cert)))


def test_patient_mismatch(pki: TestPki) -> None:
    token = reparse(build_vihf_for(pki.directory, claims()))
    check = check_vihf(
        token, policy=VihfPolicy(trusted_ca=pki.ca_cert), expected_patient=("297022A02077878", OID)
    )
    assert "VIHF.PATIENT_MISMATCH" in rules(check)


def test_code_systems_and_mandatory_attributes(pki: TestPki) -> None:
    token = build_vihf(claims(mode="DIRECTE", secteur_activite="XX1", resource_urn="urn:autre"))
    statement = token.find("{urn:oasis:names:tc:SAML:2.0:assertion}AttributeStatement")
    lps = statement.find("*[@Name='LPS_ID']")
    statement.remove(lps)
    check = check_vihf(reparse(token), policy=VihfPolicy(trusted_ca=pki.ca_cert))
    found = rules(check)
    assert {"VIHF.ATTRIBUTE", "VIHF.CODE", "VIHF.RESOURCE_URN"} <= found
    assert any("LPS_ID" in f.message for f in check.findings)
    assert all(f.requirements for f in check.findings)


def test_missing_token() -> None:
    assert rules(check_vihf(None, policy=VihfPolicy())) == {"VIHF.MISSING"}


def _official(path: Path) -> etree._Element:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:  # two official tokens are Latin-1 without a declaration
        data = data.decode("cp1252").encode("utf-8")
    return etree.fromstring(data)


def test_official_tokens_need_the_trust_option(reference: Path, pki: TestPki) -> None:
    folder = reference / "dmp" / "messages" / "Exemples_Jeton_VIHF"
    tokens = sorted(folder.glob("*.xml"))
    assert len(tokens) == 4
    for path in tokens:
        token = _official(path)
        strict = check_vihf(token, policy=VihfPolicy(trusted_ca=pki.ca_cert))
        assert not strict.accepted, path.name  # expired (and foreign) in strict mode
        relaxed = check_vihf(
            token, policy=VihfPolicy(trusted_ca=pki.ca_cert, trust_official_examples=True)
        )
        assert relaxed.accepted, (path.name, relaxed.findings)
        relaxations = [f for f in relaxed.findings if f.rule_id.startswith("VIHF.RELAXED.")]
        assert relaxations, path.name  # the verdict says what was relaxed
        assert parse_vihf(token).patient_ins == "207058575627097"


def test_cli_produces_and_checks_a_token(pki: TestPki, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from banc.cli import main

    token = tmp_path / "vihf.xml"
    assert main(["dmp", "vihf", "--ins", INS, "--pki", str(pki.directory), "--sortie", str(token)]) == 0
    assert main(["dmp", "verifier", str(token), "--ins", INS, "--pki", str(pki.directory)]) == 0
    assert "accepté" in capsys.readouterr().out
    assert main(["dmp", "verifier", str(token), "--ins", "297022A02077878", "--pki", str(pki.directory)]) == 1
    assert "VIHF.PATIENT_MISMATCH" in capsys.readouterr().out
    assert main(["dmp", "vihf", "--ins", "123", "--pki", str(pki.directory)]) == 2


def test_signature_wrapping_is_refused(pki: TestPki) -> None:
    """A valid signed assertion hidden inside a forged one must not vouch for the forged claims."""
    genuine = build_vihf_for(pki.directory, claims())
    forged = build_vihf(claims(subject_nameid="899999999999"))
    forged.insert(1, etree.fromstring(etree.tostring(genuine)).find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    hidden = etree.fromstring(etree.tostring(genuine))  # the signed element, referenced by its ID
    hidden.remove(hidden.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    forged.find("{urn:oasis:names:tc:SAML:2.0:assertion}Subject").append(hidden)
    check = check_vihf(reparse(forged), policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert not check.accepted
    assert any("ne couvre pas l'assertion" in f.message for f in check.findings), check.findings


def _wrapped(token: etree._Element, how: str) -> etree._Element:
    """Signature-wrapping variants: a forged outer assertion carrying the signed original."""
    ds, saml = "http://www.w3.org/2000/09/xmldsig#", "urn:oasis:names:tc:SAML:2.0:assertion"
    outer = reparse(token)
    outer.find(f"{{{saml}}}Subject/{{{saml}}}NameID").text = "899700099999"
    if how == "advice":  # same ID, original hidden in saml2:Advice
        etree.SubElement(outer, f"{{{saml}}}Advice").append(reparse(token))
    elif how == "autre-id":  # outer renamed, original next to the signature
        outer.set("ID", "_forge")
        outer.find(f"{{{ds}}}Signature").addnext(reparse(token))
    else:  # original inside ds:Object of the signature
        etree.SubElement(outer.find(f"{{{ds}}}Signature"), f"{{{ds}}}Object").append(reparse(token))
    return outer


@pytest.mark.parametrize("how", ["advice", "autre-id", "ds-object"])
def test_signature_wrapping_variants_are_refused(pki: TestPki, how: str) -> None:
    token = build_vihf_for(pki.directory, claims(mode="INDIRECTE_RENFORCEE"))
    check = check_vihf(_wrapped(token, how), policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert not check.accepted and "VIHF.SIGNATURE" in rules(check)


def test_signer_certificate_is_exposed(pki: TestPki) -> None:
    from banc.dui import fingerprint

    check = check_vihf(build_vihf_for(pki.directory, claims()), policy=VihfPolicy(trusted_ca=pki.ca_cert))
    assert fingerprint(check.signer_der) == fingerprint(pki.cert("vihf-signing").read_text())
    assert check_vihf(build_vihf(claims(mode="DIRECTE")), policy=VihfPolicy()).signer_der == b""
