# Experience Warehouse. Every target installs what it needs (idempotent; a no-op when current).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml Makefile | cksum | cut -d' ' -f1)

export RUNTIME__DLTHUB_TELEMETRY := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: install demo test test-fast bench lint format dev ui lock clean

install: $(STAMP)

# --compile-bytecode: uv leaves .pyc files to the first import, which never writes them when
# PYTHONDONTWRITEBYTECODE is set; without them every dbt and Dagster process compiles its
# imports again (dbt's start-up 6 s -> 3 s, benchmarks/results/notes.md)
$(STAMP): requirements.lock pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	@echo "installing pinned dependencies (requirements.lock) ..."
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements.lock
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

## make demo: simulate the four vendors, load them, print a summary
demo: install
	$(BIN)/xm demo

## make test: the whole test suite (what CI runs)
test: install
	$(BIN)/pytest

## make test-fast: the inner loop, under ~3 minutes: everything but whole-pipeline runs,
## PostgreSQL, Spark and single slow tests (markers in pyproject.toml)
test-fast: install
	$(BIN)/pytest -m "not e2e and not postgres and not spark and not slow"

## make bench: scale 1 (minutes; measured in benchmarks/results/summary.md): full refresh per stage, reference points, one-day incremental
## refreshes -> benchmarks/results/ (more scales: $(BIN)/python -m benchmarks --scales 0.1 1 5 10)
bench: install
	$(BIN)/python -m benchmarks --scales 1

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	XM_DATA_DIR=$(CURDIR)/data $(BIN)/sqlfluff lint dbt/models

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make dev: install, plus a git pre-commit hook running `make lint`
dev: install
	@printf '#!/bin/sh\nexec make lint\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit
	@echo "dev environment ready: source $(VENV)/bin/activate; pre-commit hook runs 'make lint'"

## make ui: the Dagster UI on http://127.0.0.1:3000 on the data dir's instance (the demo's
## runs, materializations, checks), with a simulator behind it so jobs launched there work;
## schedules off (production: docs/operations.md)
ui: install
	$(BIN)/xm dev

## make lock: re-resolve exact versions (no index URLs recorded)
lock:
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 \
		--no-emit-index-url --no-emit-find-links -o requirements.lock

clean:
	rm -rf data .pytest_cache .ruff_cache
