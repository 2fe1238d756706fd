"""Run the notebooks under nbval in lax mode (outputs are not compared, errors fail the test).

`make test` runs plain `pytest` with `notebooks` among the test paths; this switches nbval on
for this folder without a command-line flag.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "nbval_lax") and not config.option.nbval:
        config.option.nbval_lax = True
