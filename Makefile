# Convenience wrapper: every target calls a plain Python command that the README also gives
# for Windows users. The only logic here is finding a Python >= 3.12 and making the venv.

PYTHON_CANDIDATES := python3.13 python3.12 python3 python
PY := $(shell for p in $(PYTHON_CANDIDATES); do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; \
	then echo $$p; break; fi; done)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "Python >= 3.12 introuvable : installez-le (https://www.python.org/downloads/)"; exit 2; }
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VPY) -m banc demo

test: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m pytest

lint: $(STAMP)
	$(VPY) -m ruff check .

bench: $(STAMP)
	for f in bench/*.py; do $(VPY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
