# Outbound: `make run` builds and publishes the warehouse, `make test` runs the tests.
# Both create the virtual environment from the pinned set (requirements.lock) when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench venv lock clean

run: $(STAMP)
	$(BIN)/outbound run

test: $(STAMP)
	$(BIN)/pytest

# Outbound against plain DuckDB doing the same work (ROWS=10000000 for the full run); figures under benchmarks/results/.
ROWS ?= 1000000
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench --rows $(ROWS)

venv: $(STAMP)

# The environment is rebuilt when the pinned set or the package metadata changes.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Outbound needs Python >= 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --requirement requirements.lock
	$(BIN)/python -m pip install -qq --no-deps --editable .
	@touch $@

# Re-resolve the pinned set from pyproject.toml's ranges (needs the package index).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -qq --editable '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude-editable > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) warehouse dbt_project/target dbt_project/logs
