# Entry points. `make reanalysis` runs the main job, `make test` the fast tests.
# Both create .venv with Python >= 3.12 (PyMC 6 needs it) when it is missing.
SHELL := /bin/bash
PYTHON312 := $(shell for c in python3.12 python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	$$c -c 'import sys; sys.exit(sys.version_info[:2] < (3, 12))' >/dev/null 2>&1 && { echo $$c; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup reanalysis reproduce test test-slow bench lint clean-results

setup: $(STAMP)

# requirements.lock pins every package, the batch extra (Dask, pyarrow) and the dev tools included: the tests need them.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON312)" || { echo "error: Python >= 3.12 not found (PyMC 6 needs it)"; exit 1; }
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e ".[batch,dev]"
	@touch $(STAMP)

reanalysis: $(STAMP)
	$(PY) scripts/reanalyse.py

reproduce: $(STAMP)
	$(PY) scripts/reproduce.py

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
