"""What every report states about the tools that judged: the bench's version and the ANS
package's, so a reviewer can tell which rules a verdict came from months later."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from banc import __version__

_REPOSITORY = Path(__file__).resolve().parents[2]


def _commit(folder: Path) -> str:
    """Short commit of a git checkout, or "" (an installed copy, no git, a plain folder)."""
    if not (folder / ".git").exists():
        return ""
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


@cache
def bench_version() -> str:
    """`0.1.0`, with the commit when the bench runs from a checkout (`0.1.0 (commit c5ec937)`)."""
    commit = _commit(_REPOSITORY)
    return f"{__version__} (commit {commit})" if commit else __version__


@cache
def ans_package_version(explicit: str | None = None) -> str:
    """The ANS TestContenuCDA package the rules come from: its folder name, its commit when it
    is a checkout, and the content fingerprint the engine keys its compiled rules on (the
    package ships no version file)."""
    from banc.cda.package import PackageError, find_package

    try:
        package = find_package(explicit)
    except PackageError as exc:
        return f"paquet ANS absent ({exc})"
    commit = _commit(package.root)
    parts = [package.root.name] + ([f"commit {commit}"] if commit else [])
    parts.append(f"empreinte {package.content_key()}")
    return ", ".join(parts)


def versions_line() -> str:
    """French one-liner for a report's header or a console ending."""
    return f"banc {bench_version()} — règles ANS : {ans_package_version()}"
