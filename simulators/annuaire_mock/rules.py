"""Checks of Annuaire API requests (pure: request parts in, findings out).

The real API (HAPI FHIR behind an API gateway) refuses unknown search parameters, unsupported
modifiers, malformed values and write methods with an OperationOutcome; these rules name each
defect so the DUI's developer knows what to fix, and the journal keeps the verdict.
"""

from __future__ import annotations

import re

from banc.verdict import Finding, RuleSet
from simulators.annuaire_mock.models import (
    DATE,
    REFERENCE_TARGETS,
    SEARCH_PARAMETERS,
    STRING,
    TOKEN,
)

RULES = RuleSet("annuaire-api", "ANNUAIRE", ("SC.ANN.01.MS1",))
"""Rule ids `ANNUAIRE.…`. SC.ANN.01.MS1 (integrating the Annuaire Santé data) is the DSR
requirement a DUI's directory requests serve: a refused request is a failed integration."""
RESULT_PARAMETERS = {"_count", "_total", "_include", "_revinclude", "_format", "_pretty"}
MAX_COUNT = 1000
MAX_PARAMETERS = 100
"""Parameters of one search (each an AND): a DUI sends a handful; 1 500 would build an SQL
expression deeper than SQLite accepts."""
MAX_VALUES = 100
"""Comma-separated values of one parameter (each an OR), for the same reason."""
MAX_FINDINGS = 20
"""Defects detailed per request: 100 × 100 bad dates are one refusal, not 10 000 journaled
findings."""
"""Comma-separated values of one parameter (each an OR), for the same reason."""
_DATE = re.compile(
    r"(eq|ne|gt|lt|ge|le|ap)?[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
"""Matched whole (fullmatch) with ASCII digits: `\\d` would let '²' or Arabic-Indic digits in."""
_MODIFIERS = {STRING: {"", "exact", "contains"}, TOKEN: {""}, DATE: {""}, "reference": {""}}


def check_api_key(key: str | None, accepted: frozenset[str]) -> list[Finding]:
    if not key:
        return [RULES.finding("AUTH.MISSING_KEY",
                         "en-tête ESANTE-API-KEY absent : toute requête doit porter la clé d'API",
                         location="en-tête ESANTE-API-KEY")]
    if key not in accepted:
        return [RULES.finding("AUTH.UNKNOWN_KEY", "clé d'API ESANTE-API-KEY inconnue ou révoquée",
                         location="en-tête ESANTE-API-KEY")]
    return []


def check_resource_type(rtype: str) -> list[Finding]:
    if rtype in SEARCH_PARAMETERS:
        return []
    known = ", ".join(SEARCH_PARAMETERS)
    return [RULES.finding("RESOURCE.UNKNOWN_TYPE",
                     f"type de ressource inconnu {rtype!r} ; le serveur connaît : {known}", location=rtype)]


def check_write(method: str, path: str) -> list[Finding]:
    return [RULES.finding("METHOD.WRITE",
                     f"méthode {method} interdite : l'API Annuaire Santé est en lecture seule "
                     "(GET, et POST sur …/_search uniquement)", location=f"{method} {path}")]


def check_search(rtype: str, pairs: list[tuple[str, str]]) -> list[Finding]:
    """Every defect of a search query string (already split into name/value pairs)."""
    if len(pairs) > MAX_PARAMETERS:
        return [RULES.finding("PARAM.TOO_MANY",
                         f"{len(pairs)} paramètres dans une seule recherche : au plus "
                         f"{MAX_PARAMETERS} acceptés", location="query")]
    found: list[Finding] = []
    params = SEARCH_PARAMETERS[rtype]
    for name, value in pairs:
        if value.count(",") >= MAX_VALUES:
            found.append(RULES.finding(
                "PARAM.TOO_MANY", f"{value.count(',') + 1} valeurs pour {name} : au plus "
                f"{MAX_VALUES} valeurs séparées par des virgules", location=name))
            continue
        if name in RESULT_PARAMETERS:
            found += _check_result_parameter(rtype, name, value)
            continue
        param, _, modifier = name.partition(":")
        if param not in params:
            found.append(RULES.finding(
                "PARAM.UNKNOWN",
                f"paramètre de recherche inconnu {param!r} pour {rtype} ; paramètres valides : "
                + ", ".join(sorted(params)), location=name))
            continue
        kind = params[param]
        if modifier not in _MODIFIERS.get(kind, {""}):
            found.append(RULES.finding(
                "PARAM.MODIFIER",
                f"modificateur :{modifier} non pris en charge pour {param} (type {kind})", location=name))
            continue
        if value == "":
            found.append(RULES.finding("PARAM.EMPTY", f"valeur vide pour le paramètre {param}", location=name))
            continue
        for item in value.split(","):
            if kind == DATE and not _DATE.fullmatch(item):
                found.append(RULES.finding(
                    "PARAM.DATE", f"date {item!r} invalide pour {param} (attendu : [eq|ne|gt|lt|ge"
                    "|le]AAAA-MM-JJ)", location=name))
            if param == "active" and item not in ("true", "false"):
                found.append(RULES.finding("PARAM.BOOLEAN",
                                      f"valeur {item!r} invalide pour active (true ou false)", location=name))
    if len(found) > MAX_FINDINGS:
        more = len(found) - MAX_FINDINGS
        found = [*found[:MAX_FINDINGS], RULES.finding(
            "PARAM.MORE", f"{more} autres défauts de la même requête non détaillés", location="query")]
    return found


def _check_result_parameter(rtype: str, name: str, value: str) -> list[Finding]:
    if name == "_count":
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_COUNT:
            return [RULES.finding("PARAM.COUNT",
                             f"_count={value!r} invalide : entier de 0 à {MAX_COUNT} attendu", location=name)]
    elif name == "_total":
        if value not in ("none", "estimate", "accurate"):
            return [RULES.finding("PARAM.TOTAL",
                             f"_total={value!r} invalide : none, estimate ou accurate", location=name)]
    elif name == "_format":
        if value not in ("json", "application/json", "application/fhir+json"):
            return [RULES.finding("PARAM.FORMAT",
                             f"_format={value!r} non pris en charge (seul JSON est servi)", location=name)]
    elif name in ("_include", "_revinclude"):
        return [f for item in value.split(",") for f in _check_include(rtype, name, item)]
    return []


def _check_include(rtype: str, name: str, value: str) -> list[Finding]:
    parts = value.split(":")
    valid = sorted(f"{s}:{p}" for (s, p) in REFERENCE_TARGETS
                   if (s == rtype if name == "_include" else REFERENCE_TARGETS[(s, p)] == rtype))
    ok = len(parts) in (2, 3) and (parts[0], parts[1]) in REFERENCE_TARGETS
    if ok and name == "_include":
        ok = parts[0] == rtype and (len(parts) == 2 or parts[2] == REFERENCE_TARGETS[tuple(parts[:2])])
    elif ok:
        ok = REFERENCE_TARGETS[(parts[0], parts[1])] == rtype
    if ok:
        return []
    hint = ", ".join(valid) if valid else "aucune pour ce type"
    return [RULES.finding("PARAM.INCLUDE",
                     f"{name}={value!r} impossible sur {rtype} ; valeurs possibles : {hint}", location=name)]
