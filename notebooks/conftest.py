"""Run the notebooks under nbval in lax mode (outputs are not compared, errors fail the test).

`make test` runs plain `pytest` with `notebooks` among the test paths; this switches nbval on
for this folder without a command-line flag.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "nbval_lax") and not config.option.nbval:
        config.option.nbval_lax = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The notebooks validate with the official ANS package: without it, skip them and say why
    (never a silent pass, never a confusing failure)."""
    from banc.cda.package import PackageError, find_package

    try:
        find_package()
    except PackageError as exc:
        reason = f"paquet ANS TestContenuCDA absent : {exc}"
        for item in items:
            if item.path.suffix == ".ipynb":
                item.add_marker(pytest.mark.skip(reason=reason))
