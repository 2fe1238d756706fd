"""CDA conformance engine: ANS package, Schematron compilation and cache, validation, rendering.

`validate(data, volet=None, subject="")` is what the command line and notebooks call; it uses
one warm engine per process. `validate_root(root, ...)` is what the mocks call from their
request threads: once a mock has started the process's shared validation (`shared()`, see
`banc.cda.shared`), documents go to the warm validation service, else to this process's engine.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from banc.cda.engine import Engine
from banc.cda.shared import Validation, mode_from_env
from banc.verdict import Verdict

_engine: Engine | None = None
_engine_lock = threading.Lock()
_validation: Validation | None = None


def engine() -> Engine:
    """The process-wide engine (package found as `banc.cda.package.find_package` says)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine


def shared(mode: str | None = None) -> Validation:
    """The validation of this process's mocks; `mode` (or `BANC_VALIDATION`) replaces one of
    another mode. Not started: the mocks call `.start()`, which returns at once."""
    global _validation
    with _engine_lock:
        if _validation is None or (mode is not None and mode_from_env(mode) != _validation.mode):
            _validation = Validation(mode_from_env(mode))
        return _validation


def validate(data: bytes | Path, *, volet: str | None = None, subject: str = "") -> Verdict:
    return engine().validate(data, volet=volet, subject=subject)


def validate_root(root: etree._Element, *, volet: str | None = None, subject: str = "") -> Verdict:
    if _validation is not None and _validation.started:
        return _validation.validate_root(root, volet=volet, subject=subject)
    return engine().validate_root(root, volet=volet, subject=subject)


__all__ = ["Engine", "Validation", "engine", "shared", "validate", "validate_root"]
