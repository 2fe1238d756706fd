"""Where Banc Ségur finds things: the repository, the user cache, the ANS reference artefacts.

Every location can be overridden by an environment variable so that a user on another
machine (or Windows) can point the bench at their own copies without editing anything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (the package is installed in editable mode; our schematrons live beside it)."""

OWN_SCHEMATRONS = REPO_ROOT / "schematrons"


def cache_dir() -> Path:
    """User cache (compiled schematrons, installed ANS package, generated PKI, journal).

    `BANC_HOME` wins; otherwise the platform's usual cache location.
    """
    override = os.environ.get("BANC_HOME")
    if override:
        base = Path(override)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "banc-segur"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "banc-segur"
    base.mkdir(parents=True, exist_ok=True)
    return base


def reference_dir() -> Path | None:
    """The folder of public reference artefacts (WSDL, samples, DSR list), if present.

    `BANC_REFERENCE` wins; otherwise `../shared/reference` beside the checkout (the layout of
    the project's CI). Returns None when neither exists: callers say so and skip.
    """
    override = os.environ.get("BANC_REFERENCE")
    candidates = [Path(override)] if override else []
    candidates.append(REPO_ROOT.parent / "shared" / "reference")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def reference_path(*parts: str) -> Path | None:
    """A path inside the reference folder, or None when the folder or the file is absent."""
    base = reference_dir()
    if base is None:
        return None
    path = base.joinpath(*parts)
    return path if path.exists() else None
