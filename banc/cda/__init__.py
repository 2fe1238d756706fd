"""CDA conformance engine: ANS package, Schematron compilation and cache, validation, rendering.

`validate(data, volet=None, subject="")` is what the rest of the bench calls (mocks in request
threads, the command line, notebooks); it uses one warm engine per process.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from banc.cda.engine import Engine
from banc.verdict import Verdict

_engine: Engine | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    """The process-wide engine (package found as `banc.cda.package.find_package` says)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine


def validate(data: bytes | Path, *, volet: str | None = None, subject: str = "") -> Verdict:
    return engine().validate(data, volet=volet, subject=subject)


def validate_root(root: etree._Element, *, volet: str | None = None, subject: str = "") -> Verdict:
    return engine().validate_root(root, volet=volet, subject=subject)


__all__ = ["Engine", "engine", "validate", "validate_root"]
