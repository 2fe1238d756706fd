"""Findings → the real API's error format: an OperationOutcome with the HTTP status it uses."""

from __future__ import annotations

import json

from banc.verdict import Finding

_STATUS = {
    "ANNUAIRE.AUTH.MISSING_KEY": (401, "login"),
    "ANNUAIRE.AUTH.UNKNOWN_KEY": (401, "login"),
    "ANNUAIRE.METHOD.WRITE": (405, "not-supported"),
    "ANNUAIRE.RESOURCE.UNKNOWN_TYPE": (404, "not-supported"),
    "ANNUAIRE.RESOURCE.NOT_FOUND": (404, "not-found"),
    "ANNUAIRE.PAGE.INVALID": (410, "expired"),
    "ANNUAIRE.INTERNAL": (500, "exception"),
}


def operation_outcome(findings: list[Finding]) -> tuple[int, bytes]:
    """(HTTP status, OperationOutcome JSON) for the error findings of one request."""
    status = max((_STATUS.get(f.rule_id, (400, "invalid"))[0] for f in findings), default=400)
    issues = [{
        "severity": "error" if f.is_error else str(f.severity),
        "code": _STATUS.get(f.rule_id, (400, "invalid"))[1],
        "details": {"coding": [{"system": "urn:banc-segur:regles", "code": f.rule_id}],
                    "text": f.rule_id},
        "diagnostics": f.message,
    } for f in findings]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return status, json.dumps(body, ensure_ascii=False).encode()
