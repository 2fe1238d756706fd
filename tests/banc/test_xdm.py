"""XDM archives: build, safe reading (traversal, symlinks, bombs), layout and metadata checks."""

from __future__ import annotations

import dataclasses
import io
import stat
import zipfile
from pathlib import Path

import pytest

from banc import xds
from banc.xdm import (
    XdmDocument,
    XdmError,
    XdmLimits,
    build_xdm,
    build_xdm_for_cda,
    check_xdm,
    check_xdm_bytes,
    read_xdm,
)
from banc.xml import parse_untrusted


@pytest.fixture(scope="module")
def cda(reference: Path) -> bytes:
    return (reference / "ans-testcontenucda-3.0" / "ExemplesCDA" / "LDL-SES_2022.01.xml").read_bytes()


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return buffer.getvalue()


def test_built_archive_reads_back_clean(cda: bytes) -> None:
    data = build_xdm_for_cda(cda, visibility=(xds.INVISIBLE_PATIENT,),
                             intended_recipients=("|^^^^^^^^^^^^^jean.martin@test.mssante.fr",))
    package = read_xdm(data)
    assert {"INDEX.HTM", "README.TXT", "IHE_XDM/SUBSET01/METADATA.XML",
            "IHE_XDM/SUBSET01/DOC0001.XML"} <= set(package.files)
    assert package.document("DOC0001.XML") == cda
    submission = package.subsets[0].submission
    assert submission.submission_set.intended_recipients == ("|^^^^^^^^^^^^^jean.martin@test.mssante.fr",)
    assert submission.documents[0].uri == "DOC0001.XML"
    assert check_xdm(package) == []


def test_metadata_disagreeing_with_the_document_is_flagged(cda: bytes) -> None:
    root = parse_untrusted(cda)
    submission = xds.derive_submission(root)
    wrong_patient = "277076322082910^^^&1.2.250.1.213.1.4.10&ISO^NH"
    submission.documents = [dataclasses.replace(submission.documents[0], patient_id=wrong_patient)]
    submission.submission_set = dataclasses.replace(submission.submission_set, patient_id=wrong_patient)
    findings = check_xdm_bytes(build_xdm(submission, [XdmDocument("DOC0001.XML", cda)]))
    assert [f.rule_id for f in findings] == ["XDS-CDA-PATIENT"]


def test_hash_size_and_missing_file_are_flagged(cda: bytes) -> None:
    submission = xds.derive_submission(parse_untrusted(cda), uri="DOC0001.XML")
    entry = dataclasses.replace(submission.documents[0], hash="0" * 40, size=3)
    submission.documents = [entry]
    rules = {f.rule_id for f in check_xdm_bytes(
        build_xdm(submission, [XdmDocument("DOC0001.XML", cda)], fix_metadata=False))}
    assert {"XDM-HASH", "XDM-SIZE"} <= rules
    missing = check_xdm_bytes(build_xdm(submission, [XdmDocument("OTHER.XML", cda)], fix_metadata=False))
    assert [f.rule_id for f in missing] == ["XDM-URI"]


def test_layout_defects_are_flagged() -> None:
    findings = check_xdm_bytes(_zip([("README.TXT", b"x"), ("IHE_XDM/SUBSET01/DOC.XML", b"<a/>")]))
    messages = " ".join(f.message for f in findings)
    assert "INDEX.HTM" in messages and "METADATA.XML absent" in messages
    bad_xml = check_xdm_bytes(_zip([("INDEX.HTM", b""), ("README.TXT", b""),
                                    ("IHE_XDM/SUBSET01/METADATA.XML", b"<!DOCTYPE x><x/>")]))
    assert [f.rule_id for f in bad_xml] == ["XDM-METADATA-XML"]


@pytest.mark.parametrize(
    ("name", "code"),
    [("../evil.txt", "path-traversal"), ("IHE_XDM/../../evil", "path-traversal"),
     ("/etc/passwd", "absolute-path"), ("C:/windows/evil", "absolute-path"),
     ("..\\evil.txt", "path-traversal")],
)
def test_dangerous_names_are_refused(name: str, code: str) -> None:
    with pytest.raises(XdmError) as caught:
        read_xdm(_zip([(zipfile.ZipInfo(name), b"x")]))
    assert caught.value.code == code
    assert check_xdm_bytes(_zip([(zipfile.ZipInfo(name), b"x")]))[0].rule_id == f"XDM-{code.upper()}"


def test_symlinks_are_refused() -> None:
    info = zipfile.ZipInfo("IHE_XDM/SUBSET01/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(XdmError, match="lien symbolique"):
        read_xdm(_zip([(info, b"/etc/passwd")]))


def test_zip_bomb_and_size_limits() -> None:
    bomb = _zip([("IHE_XDM/SUBSET01/BIG.XML", b"\0" * (20 * 1024 * 1024))])
    with pytest.raises(XdmError) as caught:
        read_xdm(bomb)
    assert caught.value.code == "zip-bomb"
    with pytest.raises(XdmError) as caught:
        read_xdm(_zip([("a", b"x" * 5000)]), XdmLimits(max_entry_bytes=1000, max_ratio=1e9))
    assert caught.value.code == "too-large"
    many = _zip([(f"f{i}", b"") for i in range(12)])
    with pytest.raises(XdmError) as caught:
        read_xdm(many, XdmLimits(max_entries=10))
    assert caught.value.code == "too-many-entries"


def test_not_a_zip() -> None:
    findings = check_xdm_bytes(b"hello")
    assert findings[0].rule_id == "XDM-NOT-ZIP" and "ZIP" in findings[0].message
