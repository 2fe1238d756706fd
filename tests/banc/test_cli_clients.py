"""The reference clients agree with the mocks: the VIHF names the patient with the OID INSi
returned and the chosen profession; `banc mss envoyer` can play the DUI's side."""

from __future__ import annotations

import email
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from banc.cli import main
from banc.directory import build_directory
from banc.identity import OID_INS_NIR, OID_INS_NIR_TEST
from banc.mocks import MockContext
from banc.pki import TestPki
from banc.population import DEFAULT_SEED, population
from banc.vihf import OID_PROFESSION, parse_vihf

pytestmark = pytest.mark.slow

ADRTROIS = ("ADRTROIS", "DOMINIQUE", "F", "1997-02-26")


@pytest.fixture(scope="module")
def insi(mock_context: Callable[[str], MockContext]) -> Iterator[object]:
    from simulators.insi_mock import launch

    mock = launch(mock_context("insi-cli"), generated=3)
    yield mock
    mock.stop()


def _insi_oid(insi: object, pki: TestPki, capsys: pytest.CaptureFixture[str], *traits: str) -> tuple[str, str]:
    assert main(["insi", "chercher", *traits, "--url", insi.url, "--pki", str(pki.directory)]) == 0  # type: ignore[attr-defined]
    found = re.search(r"INS (\w{15}) \(OID ([\d.]+)\)", capsys.readouterr().out)
    assert found, "pas d'INS dans la réponse"
    return found[1], found[2]


def _token(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def test_vihf_names_the_patient_with_the_oid_insi_returned(
    insi: object, pki: TestPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generated = population(3, DEFAULT_SEED)[-1]
    traits = (generated.birth_name, " ".join(generated.first_names), generated.sex,
              generated.birth_date.isoformat())
    for person, expected in ((ADRTROIS, OID_INS_NIR), (traits, OID_INS_NIR_TEST)):
        ins, oid = _insi_oid(insi, pki, capsys, *person)
        assert oid == expected
        token = tmp_path / f"{ins}.xml"
        assert main(["dmp", "vihf", "--ins", ins, "--pki", str(pki.directory), "--sortie", str(token)]) == 0
        assert oid in capsys.readouterr().out
        claims = parse_vihf(_token(token))
        assert (claims.patient_ins, claims.patient_oid) == (ins, oid)
        assert main(["dmp", "verifier", str(token), "--ins", ins, "--pki", str(pki.directory)]) == 0
        capsys.readouterr()


def test_vihf_refusal_names_the_two_oids(pki: TestPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "vihf.xml"
    ins = "297022A02077878"
    assert main(["dmp", "vihf", "--ins", ins, "--pki", str(pki.directory), "--sortie", str(token)]) == 0
    assert main(["dmp", "verifier", str(token), "--ins", ins, "--oid", OID_INS_NIR_TEST,
                 "--pki", str(pki.directory)]) == 1
    out = capsys.readouterr().out
    assert f"({ins}, INS-NIR)" in out and f"({ins}, INS-NIR de test)" in out


def test_vihf_takes_a_profession(pki: TestPki, tmp_path: Path) -> None:
    token = tmp_path / "vihf.xml"
    assert main(["dmp", "vihf", "--ins", "297022A02077878", "--profession", "60",
                 "--pki", str(pki.directory), "--sortie", str(token)]) == 0
    roles = parse_vihf(_token(token)).roles
    assert [(r.code, r.code_system) for r in roles] == [("60", OID_PROFESSION)]
    with pytest.raises(SystemExit):
        main(["dmp", "vihf", "--ins", "297022A02077878", "--profession", "99"])


def test_mss_sends_from_the_dui_side(tmp_path: Path, pki: TestPki) -> None:
    from banc.journal import Journal
    from simulators.mssante_mock.app import MssanteMock

    directory = build_directory(DEFAULT_SEED)
    dui, gp = directory.ssiad_app_mailbox.address, directory.gp.mailbox.address  # type: ignore[union-attr]
    mock = MssanteMock(journal=Journal(tmp_path / "j.sqlite"), pki=pki, data_dir=tmp_path / "sim" / "mssante")
    try:
        assert main(["mss", "envoyer", "--de", "dui", "--document", "VSM", "--ins", "297022A02077878",
                     "--a", gp, "--url", f"smtp://127.0.0.1:{mock.smtp.starttls_port}",
                     "--donnees", str(tmp_path / "sim"), "--pki", str(pki.directory)]) == 0
        received = email.message_from_bytes(mock.messages(gp)[-1])
        assert dui in received["From"] and received["X-MSS-INS"] == "O"
    finally:
        mock.stop()
