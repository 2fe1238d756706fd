"""Annuaire wire formats: query strings → `Query`, stored JSON → searchset Bundles, page tokens,
and the open-data extraction files. No decisions here (the rules judge the request first).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from urllib.parse import urlencode

from banc.directory import Directory, Professional
from simulators.annuaire_mock.models import REFERENCE_TARGETS, Criterion, Page, Query
from simulators.annuaire_mock.rules import RESULT_PARAMETERS

DEFAULT_COUNT = 50


def to_query(rtype: str, pairs: list[tuple[str, str]], after: int = 0) -> Query:
    """A checked list of (name, value) pairs as a store query."""
    criteria, includes, revincludes = [], [], []
    count, total = DEFAULT_COUNT, "accurate"
    for name, value in pairs:
        if name == "_count":
            count = int(value)
        elif name == "_total":
            total = value
        elif name == "_include":
            for item in value.split(","):
                source, param, *_ = item.split(":")
                includes.append((source, param, REFERENCE_TARGETS[(source, param)]))
        elif name == "_revinclude":
            for item in value.split(","):
                source, param = item.split(":")[:2]
                revincludes.append((source, param))
        elif name not in RESULT_PARAMETERS:
            param, _, modifier = name.partition(":")
            criteria.append(Criterion(param, modifier, tuple(value.split(","))))
    return Query(rtype, tuple(criteria), count, total, tuple(includes), tuple(revincludes), after)


def page_token(rtype: str, pairs: list[tuple[str, str]], after: int) -> str:
    """Opaque, stateless continuation token (the real server also keeps a 'lastId')."""
    raw = json.dumps({"t": rtype, "q": pairs, "a": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


MAX_ROWID = 2**63 - 1
"""Largest SQLite integer: a forged token's `a` beyond it would overflow the driver."""


def read_page_token(token: str) -> tuple[str, list[tuple[str, str]], int] | None:
    """(resource type, pairs, last rowid) of a token, or None when it is not one of ours
    (forged or damaged tokens included: wrong types, huge numbers, deep nesting)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        pairs = [(str(k), str(v)) for k, v in data["q"]]
        after = data["a"]
        if not isinstance(data["t"], str) or not isinstance(after, int) \
                or not 0 <= after <= MAX_ROWID:
            return None
        return data["t"], pairs, after
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


def bundle(base: str, rtype: str, pairs: list[tuple[str, str]], page: Page) -> bytes:
    """A searchset Bundle, assembled from the stored JSON texts without re-serialising them."""
    self_url = f"{base}/{rtype}" + (f"?{urlencode(pairs)}" if pairs else "")
    links = [{"relation": "self", "url": self_url}]
    if page.last is not None:
        links.append({"relation": "next",
                      "url": f"{base}/_page?id={page_token(rtype, pairs, page.last)}"})
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")},
        "type": "searchset",
    }
    if page.total is not None:
        head["total"] = page.total
    head["link"] = links
    entries = [
        f'{{"fullUrl":"{base}/{rtype}/{rid}","resource":{body},"search":{{"mode":"match"}}}}'
        for _, rid, body in page.matches
    ] + [
        f'{{"fullUrl":"{base}/{itype}/{rid}","resource":{body},"search":{{"mode":"include"}}}}'
        for itype, rid, body in page.included
    ]
    text = json.dumps(head, ensure_ascii=False)[:-1]
    if entries:
        text += ',"entry":[' + ",".join(entries) + "]"
    return (text + "}").encode()


# -- open-data extraction -----------------------------------------------------------------------
PERSONNE_ACTIVITE_COLUMNS = (
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité", "Libellé civilité",
    "Nom d'exercice", "Prénom d'exercice", "Code profession", "Libellé profession",
    "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire",
    "Libellé savoir-faire", "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site",
    "Numéro SIREN site", "Numéro FINESS site", "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)", "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)", "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)", "Code commune (coord. structure)",
    "Libellé commune (coord. structure)", "Code pays (coord. structure)",
    "Libellé pays (coord. structure)", "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code Département (structure)",
    "Libellé Département (structure)", "Ancien identifiant de la structure",
    "Autorité d'enregistrement", "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
)
"""The 52-column header of the 2021 files (see reference/annuaire/open-data-format.md)."""

_MODES = {"L": "Libéral, indépendant, artisan, commerçant", "S": "Salarié", "B": "Bénévole"}
_STREET_TYPES = {"R": "Rue", "AV": "Avenue", "BD": "Boulevard", "PL": "Place", "CHE": "Chemin"}
_AUTHORITY = {"10": "CNOM/CNOM/CNOM", "21": "CNOP/CNOP/CNOP", "60": "ONI/ONI/ONI",
              "70": "CNOMK/CNOMK/CNOMK"}


def personne_activite_lines(directory: Directory, extra: Iterable[Professional] = ()) -> list[str]:
    """One line per (professional, activity), pipe-separated, each ending with '|' (`extra`:
    professionals published since the directory was built, their organisations the directory's)."""
    lines = ["|".join(PERSONNE_ACTIVITE_COLUMNS) + "|"]
    for prof in [*directory.professionals, *extra]:
        if not prof.active:
            continue
        civility = "Monsieur" if prof.civility == "M" else "Madame"
        practice = ("DR", "Docteur") if prof.practice_civility == "DR" else ("", "")
        skill = ("S", "Spécialité ordinale", prof.specialty, prof.specialty_label) \
            if prof.specialty else ("", "", "", "")
        for activity in prof.activities:
            org = directory.organisation(activity.organisation)
            if org is None:
                continue
            a = org.address
            fields = [
                "8", prof.rpps, prof.national_id, *practice, prof.civility, civility,
                prof.family, prof.given.upper(), prof.profession, prof.profession_label,
                prof.category, "Civil", *skill, activity.mode, _MODES[activity.mode],
                org.siret, org.siret[:9], org.finess, org.finess_ej, org.technical_id,
                org.name, "", "", "", a.street_number, "", a.street_type,
                _STREET_TYPES.get(a.street_type, ""), a.street_name, "",
                f"{a.postal_code} {a.city.upper()}", a.postal_code, a.insee_code, a.city,
                "99000", "France", org.phone, "", "", "", a.department, "", "",
                _AUTHORITY.get(prof.profession, ""), org.sector, org.sector_label, "", "",
            ]
            lines.append("|".join(fields) + "|")
    return lines


def extraction_zip(directory: Directory, stamp: dt.datetime,
                   extra: Iterable[Professional] = ()) -> tuple[str, bytes]:
    """(file name, ZIP bytes) of `PS_LibreAcces_<AAAAMMJJhhmm>.zip` as the real service serves it."""
    ts = stamp.strftime("%Y%m%d%H%M")
    text = "\n".join(personne_activite_lines(directory, extra)) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"PS_LibreAcces_Personne_activite_{ts}.txt", text.encode("utf-8"))
    return f"PS_LibreAcces_{ts}.zip", buffer.getvalue()
