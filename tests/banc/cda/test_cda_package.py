"""The ANS package as users have it: discovery, installation (safe zips), work-tree fix-ups."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from banc.cda import package as pkg
from banc.cli import main


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("BANC_HOME", str(home))
    monkeypatch.delenv(pkg.ENV_VAR, raising=False)
    return home


def _fake_package(root: Path) -> Path:
    """The smallest tree with the package's quirks: a mis-cased include, the missing voc file."""
    s = root / "schematrons"
    (s / "moteur").mkdir(parents=True)
    (s / "moteur" / "iso_svrl_for_xslt2.xsl").write_text("<x/>", encoding="utf-8")
    (s / "profils" / "structurationMinimale" / "include").mkdir(parents=True)
    (s / "include" / "sections").mkdir(parents=True)
    (s / "include" / "sections" / "S_Traitements.sch").write_text("<pattern/>", encoding="utf-8")
    (s / "CI-SIS_X_2024.01.sch").write_text(
        '<schema><include href="include/sections/S_traitements.sch"/>'
        '<include href="include/sections/S_absente.sch"/></schema>', encoding="utf-8")
    (s / "profils" / "structurationMinimale" / "include" / "h.sch").write_text(
        "<rule><assert test=\"doc('include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml')\"/></rule>", encoding="utf-8")
    (root / "jeuxDeValeurs").mkdir()
    (root / "jeuxDeValeurs" / "JDV_J07_XdsTypeCode_CISIS.xml").write_text(
        '<ValueSet xmlns="urn:ihe:iti:svs:2008"><ConceptList>'
        '<Concept code="11490-0" codeSystem="2.16.840.1.113883.6.1" displayName="LDL"/>'
        "</ConceptList></ValueSet>", encoding="utf-8")
    (root / "infrastructure" / "cda").mkdir(parents=True)
    (root / "infrastructure" / "cda" / "CDA_extended.xsd").write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>")
    return root


def test_work_tree_fixes_case_and_derives_the_missing_value_set(tmp_path: Path) -> None:
    package = pkg.AnsPackage(_fake_package(tmp_path / "TestContenuCDA")).check()
    work = package.work_tree()
    assert (work.schematrons / "include" / "sections" / "S_traitements.sch").read_text() == "<pattern/>"
    voc = work.schematrons / "profils" / "structurationMinimale" / "include" / pkg.MISSING_TYPECODE_VOC
    assert 'code="11490-0"' in voc.read_text(encoding="utf-8")
    assert any("JDV_J07" in w for w in work.warnings)
    assert work.missing["schematrons/CI-SIS_X_2024.01.sch"] == ["include/sections/S_absente.sch"]
    assert not (package.schematrons / "include" / "sections" / "S_traitements.sch").exists(), "package untouched"
    assert package.work_tree().root == work.root


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = _fake_package(tmp_path / "a")
    env = _fake_package(tmp_path / "b")
    monkeypatch.setenv(pkg.ENV_VAR, str(env))
    assert pkg.find_package(explicit).root == explicit
    assert pkg.find_package().root == env
    monkeypatch.setenv(pkg.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(pkg.PackageError, match="introuvable"):
        pkg.find_package()
    with pytest.raises(pkg.PackageError, match="complet"):
        pkg.find_package(tmp_path)


def _zip_of(folder: Path, top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def test_install_from_github_style_zip_and_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _fake_package(tmp_path / "src")
    archive = tmp_path / "TestContenuCDA-3-0-main.zip"
    archive.write_bytes(_zip_of(source, "TestContenuCDA-3-0-main"))
    assert main(["ans", "install", str(archive)]) == 0
    assert "installé" in capsys.readouterr().out
    assert pkg.find_package().root == pkg.installed_dir()
    assert main(["ans", "install", archive.as_uri()]) == 0
    assert main(["ans", "install", str(source)]) == 0
    assert (pkg.installed_dir() / "schematrons" / "CI-SIS_X_2024.01.sch").exists()


def test_install_refuses_traversal_bombs_and_junk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../outside.txt", "x")
    assert main(["ans", "install", str(evil)]) == 2
    assert "chemin dangereux" in capsys.readouterr().err
    assert not (tmp_path / "outside.txt").exists()
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/schematrons/zeros.sch", b"\0" * (20 * 1024 * 1024))
    assert main(["ans", "install", str(bomb)]) == 2
    assert "compression" in capsys.readouterr().err
    junk = tmp_path / "junk.txt"
    junk.write_text("rien", encoding="utf-8")
    assert main(["ans", "install", str(junk)]) == 2
    assert main(["ans", "install", str(tmp_path / "absent.zip")]) == 2
    not_ans = tmp_path / "other.zip"
    with zipfile.ZipFile(not_ans, "w") as archive:
        archive.writestr("x/readme.txt", "x")
    assert main(["ans", "install", str(not_ans)]) == 2
    assert "schematrons" in capsys.readouterr().err


def test_install_from_an_http_url(tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    source = _fake_package(tmp_path / "src")
    served = tmp_path / "www"
    served.mkdir()
    (served / "paquet.zip").write_bytes(_zip_of(source, "TestContenuCDA-3-0-main"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/paquet.zip"
        assert pkg.install(url).root == pkg.installed_dir()
        with pytest.raises(pkg.PackageError, match="téléchargement"):
            pkg.install(url.replace("paquet.zip", "absent.zip"))
    finally:
        server.shutdown()
