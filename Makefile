# Developer commands. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: help install run example test test-unit test-integration test-database lint fmt typecheck check bench clean vendor-verify

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev]'
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.dev-installed  ## create .venv and install the server with test and dev tools

run: $(VENV)/.run-installed  ## start the server on http://localhost:8080 (embedded PostgreSQL; PORT=, HOST=)
	$(BIN)/conductor server $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

example: $(VENV)/.run-installed  ## run the hello-world workflow and its worker against a running server (PORT=)
	CONDUCTOR_SERVER_URL="$${CONDUCTOR_SERVER_URL:-http://localhost:$(or $(PORT),8080)/api}" $(BIN)/conductor-hello-world

test: $(VENV)/.dev-installed  ## run the whole test suite (embedded PostgreSQL unless CONDUCTOR_TEST_DATABASE_URL)
	$(BIN)/pytest

test-unit: $(VENV)/.dev-installed  ## pure tests, no database
	$(BIN)/pytest tests/unit

test-integration: $(VENV)/.dev-installed  ## tests that need PostgreSQL
	$(BIN)/pytest tests/integration tests/e2e tests/browser

test-database: $(VENV)/.dev-installed  ## the API and end-to-end tests that depend on the PostgreSQL version
	$(BIN)/pytest -m "not once" tests/integration tests/e2e

lint: $(VENV)/.dev-installed  ## ruff lint and format check
	$(BIN)/ruff check conductor workers tests bench
	$(BIN)/ruff format --check conductor workers tests bench

fmt: $(VENV)/.dev-installed  ## format and auto-fix
	$(BIN)/ruff format conductor workers tests bench
	$(BIN)/ruff check --fix conductor workers tests bench

typecheck: $(VENV)/.dev-installed  ## mypy, strict on conductor/ and workers/
	$(BIN)/mypy conductor workers

check: lint typecheck test  ## everything CI checks

vendor-verify: $(VENV)/.dev-installed  ## re-fetch the UI's vendored npm files and compare (needs npm)
	$(BIN)/python -m conductor.ui.vendor --verify

bench: $(VENV)/.dev-installed  ## throughput benchmark (see docs/benchmarks.md)
	$(BIN)/python -m bench.throughput

clean:  ## remove the virtualenv and caches (keeps the embedded database in .conductor-data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
