# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint audit

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/matchgate demo

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Known vulnerabilities in requirements.lock (pip-audit): fails on findings; only warns when the
# vulnerability service cannot be reached (MATCHGATE_AUDIT_STRICT=1 fails then too). Run by CI.
audit: setup
	$(BIN)/python .ci/audit_deps.py
