"""Hardened XML input: the DOCTYPE refusal holds whatever the encoding; paths are read with care."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from banc.xml import XmlInputError, parse_untrusted, read_untrusted_file

DOCTYPE = '<?xml version="1.0" encoding="{enc}"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'


def _code(data: bytes) -> str:
    with pytest.raises(XmlInputError) as caught:
        parse_untrusted(data)
    return caught.value.code


@pytest.mark.parametrize(
    ("codec", "declared"),
    [("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-16", "UTF-16"), ("utf-32-le", "UTF-32"),
     ("utf-32", "UTF-32")],
)
def test_doctype_is_refused_in_wide_encodings_with_or_without_bom(codec: str, declared: str) -> None:
    """UTF-16 without BOM slipped past a byte search for `<!DOCTYPE` (INSi, DMP)."""
    assert _code(DOCTYPE.format(enc=declared).encode(codec)) == "doctype"


def test_doctype_is_refused_when_the_parser_decodes_it_from_utf7() -> None:
    data = b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE a+AD4-<a/>'
    assert _code(data) == "doctype"


def test_doctype_after_a_long_comment_is_refused() -> None:
    assert _code(b"<!--" + b"x" * 10_000 + b"--><!DOCTYPE a><a/>") == "doctype"


def test_wide_encodings_without_dtd_are_read() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><a>é</a>'
    assert parse_untrusted(text.encode("utf-16")).text == "é"
    assert parse_untrusted(text.encode("utf-16-le")).text == "é"
    assert parse_untrusted("\ufeff<a>é</a>".encode()).text == "é"


def test_messages_name_the_character_not_a_python_repr() -> None:
    with pytest.raises(XmlInputError) as caught:
        parse_untrusted(b"coucou", what="f.xml")
    assert str(caught.value) == "f.xml n'est pas du XML : il commence par le caractère « c » (U+0063), pas par « < »"
    with pytest.raises(XmlInputError) as caught:
        parse_untrusted(b"\x01\x02", what="f.xml")
    assert "U+0001" in str(caught.value) and "b'" not in str(caught.value)
    with pytest.raises(XmlInputError) as caught:
        parse_untrusted(b"<a><b></a>")
    assert caught.value.code == "malformed" and "(ligne 1, colonne" in str(caught.value)


def test_devices_and_pipes_are_refused_without_reading(tmp_path: Path) -> None:
    with pytest.raises(XmlInputError) as caught:
        read_untrusted_file(Path("/dev/zero"))
    assert caught.value.code == "not-regular"
    pipe = tmp_path / "tube"
    os.mkfifo(pipe)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(_read_code(pipe)), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the thread before failing
        with pipe.open("wb"):
            pass
    assert outcome == ["not-regular"], "a named pipe must be refused, not opened"


def _read_code(path: Path) -> str:
    try:
        read_untrusted_file(path)
    except XmlInputError as exc:
        return exc.code
    return "read"


def test_missing_directory_and_too_large_files(tmp_path: Path) -> None:
    assert _read_code(tmp_path / "absent.xml") == "missing"
    assert _read_code(tmp_path) == "directory"
    big = tmp_path / "gros.xml"
    with big.open("wb") as handle:
        handle.truncate(2048)
    with pytest.raises(XmlInputError) as caught:
        read_untrusted_file(big, max_bytes=1024)
    assert caught.value.code == "too-large" and "refusé sans lecture" in str(caught.value)
    small = tmp_path / "petit.xml"
    small.write_bytes(b"<a/>")
    assert read_untrusted_file(small) == b"<a/>"
