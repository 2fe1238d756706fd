"""The INS datamatrix (SC.DOC.03.MS1): payload, symbol image, decoding and parsing.

Content per the ANS "Datamatrix INS" v2.2 as reported by independent implementations
(`reference/ins-datamatrix.md`): a 26-character header `IS01` + 22 zeros, then blocks
S1 (INS, 15) S2 (OID, 19–20) S3 (birth given names, ≤ 100) S4 (birth name, ≤ 100) S5 (sex, 1)
S6 (birth date JJ-MM-AAAA) S7 (birthplace INSEE code, 5, optional), a GS (0x1D) ending a
variable-length value shorter than its maximum when another block follows.

What is uncertain in that source stays configurable in ONE place: `DatamatrixFormat`
(`FORMAT` is the instance used everywhere). zxing-cpp (3.x, zint backend) chooses the
encodation itself: forcing C40 for the header is not available there, which is the one
known gap with the ANS checker (documented in docs/documents.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import zxingcpp
from PIL import Image

from banc.identity import Identity, normalise_name, require_qualified, split_ins

GS = "\x1d"


@dataclass(frozen=True)
class DatamatrixFormat:
    """Every choice the public sources leave open, in one place."""

    header: str = "IS01" + "0" * 22
    separator: str = GS
    date_format: str = "%d-%m-%Y"
    given_names_joiner: str = " "
    include_birthplace: bool = True
    gs_after_full_length: bool = False
    """Whether a GS follows a variable field that reaches its maximum (implementations: no)."""
    square: bool = True
    module_scale: int = 4


FORMAT = DatamatrixFormat()

FIELDS: dict[str, tuple[int, int]] = {
    "S1": (15, 15),
    "S2": (19, 20),
    "S3": (1, 100),
    "S4": (1, 100),
    "S5": (1, 1),
    "S6": (10, 10),
    "S7": (5, 5),
}
"""Identifier → (min, max) length of its value."""


@dataclass(frozen=True)
class DatamatrixContent:
    ins: str
    oid: str
    given_names: str
    birth_name: str
    sex: str
    birth_date: str  # as printed, JJ-MM-AAAA
    birth_place: str | None
    raw: str


def ins_payload(identity: Identity, fmt: DatamatrixFormat = FORMAT) -> str:
    """The datamatrix text of a *qualified* identity (only those may carry the INS)."""
    ins = "".join(split_ins(require_qualified(identity)))
    values = [
        ("S1", ins),
        ("S2", identity.oid),
        ("S3", normalise_name(fmt.given_names_joiner.join(identity.first_names))[:100]),
        ("S4", normalise_name(identity.birth_name)[:100]),
        ("S5", identity.sex),
        ("S6", identity.birth_date.strftime(fmt.date_format)),
    ]
    if fmt.include_birthplace and identity.birth_place:
        values.append(("S7", identity.birth_place.upper()))
    return _join(values, fmt)


def _join(values: list[tuple[str, str]], fmt: DatamatrixFormat = FORMAT) -> str:
    out = [fmt.header]
    for index, (ident, value) in enumerate(values):
        out.append(ident + value)
        low, high = FIELDS[ident]
        last = index == len(values) - 1
        if low != high and not last and (len(value) < high or fmt.gs_after_full_length):
            out.append(fmt.separator)
    return "".join(out)


def payload_from_fields(values: list[tuple[str, str]], fmt: DatamatrixFormat = FORMAT) -> str:
    """Build a payload from raw blocks (to forge defective symbols in tests and scenarios)."""
    return _join(values, fmt)


def datamatrix_image(payload: str, fmt: DatamatrixFormat = FORMAT) -> Image.Image:
    """A square ECC200 symbol with its quiet zone, as a greyscale Pillow image."""
    barcode = zxingcpp.create_barcode(
        payload, zxingcpp.BarcodeFormat.DataMatrix, forceSquare=fmt.square
    )
    bitmap = memoryview(
        zxingcpp.write_barcode_to_image(barcode, scale=fmt.module_scale, add_quiet_zones=True)
    )
    height, width = bitmap.shape[0], bitmap.shape[1]
    return Image.frombytes("L", (width, height), bitmap.tobytes())


def decode_datamatrices(image: Image.Image) -> list[str]:
    """Texts of every Data Matrix symbol found in an image (GS kept as 0x1D)."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.DataMatrix)
    return [r.bytes.decode("utf-8", "replace") for r in found if r.valid]


def is_ins_payload(text: str, fmt: DatamatrixFormat = FORMAT) -> bool:
    return text.startswith(fmt.header[:4])


def parse_payload(
    text: str, fmt: DatamatrixFormat = FORMAT
) -> tuple[DatamatrixContent | None, list[str]]:
    """Blocks of a payload, located by identifier; French problems for anything malformed."""
    text = text.replace("<GS>", GS)
    problems: list[str] = []
    if not text.startswith(fmt.header):
        problems.append(
            f"en-tête « {text[:26]} » différent de « {fmt.header} » (IS01 suivi de 22 zéros)"
        )
        return None, problems
    rest = text[len(fmt.header) :]
    blocks: dict[str, str] = {}
    while rest:
        ident = rest[:2]
        if ident not in FIELDS:
            problems.append(f"identifiant de bloc inconnu « {ident} »")
            break
        low, high = FIELDS[ident]
        body = rest[2:]
        if low == high:
            value, rest = body[:high], body[high:]
        else:
            cut = body.find(GS)
            limit = high if cut < 0 or cut > high else cut
            value = body[:limit]
            rest = body[limit + 1 :] if limit == cut else body[limit:]
        if ident in blocks:
            problems.append(f"bloc {ident} présent deux fois")
        blocks[ident] = value
        if not low <= len(value) <= high:
            problems.append(f"bloc {ident} de longueur {len(value)} (attendu {low}–{high})")
    for ident in ("S1", "S2", "S3", "S4", "S5", "S6"):
        if ident not in blocks:
            problems.append(f"bloc obligatoire {ident} absent")
    if problems and not {"S1", "S2"} <= blocks.keys():
        return None, problems
    if blocks.get("S5", "M") not in ("M", "F"):
        problems.append(f"sexe S5 « {blocks['S5']} » (M ou F attendu)")
    if "S6" in blocks and not re.fullmatch(r"\d{2}-\d{2}-\d{4}", blocks["S6"]):
        problems.append(f"date de naissance S6 « {blocks['S6']} » (format JJ-MM-AAAA attendu)")
    content = DatamatrixContent(
        ins=blocks.get("S1", ""),
        oid=blocks.get("S2", ""),
        given_names=blocks.get("S3", ""),
        birth_name=blocks.get("S4", ""),
        sex=blocks.get("S5", ""),
        birth_date=blocks.get("S6", ""),
        birth_place=blocks.get("S7"),
        raw=text,
    )
    return content, problems


def birth_date_text(value: date, fmt: DatamatrixFormat = FORMAT) -> str:
    return value.strftime(fmt.date_format)
