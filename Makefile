# regctl: the two commands are `make run` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CONSOLE_STAMP := console/node_modules/.installed
CONSOLE_BUILD := console/dist/index.html

.PHONY: setup run test lint types contracts unit integration bench clean

setup: $(STAMP) $(NODE_STAMP) $(CONSOLE_BUILD)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# the web console (console/): its own pinned packages, typechecked and built into console/dist (served at /console)
$(CONSOLE_STAMP): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CONSOLE_BUILD): $(CONSOLE_STAMP) $(shell find console/src -type f) console/index.html console/vite.config.ts console/tsconfig.json console/scripts/compress.mjs
	cd console && npm run --silent build

run: setup
	$(PY) -m sandbox up

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: setup
	$(BIN)/mypy .
	cd console && npm run --silent typecheck

contracts: setup
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest tests/unit -q

integration: setup
	$(BIN)/pytest tests -q -m integration

# two workers: the sandbox-backed files are independent (each starts its own sandbox on free ports)
test: lint types contracts
	$(BIN)/pytest -q -n 2

# Every benchmark, then docs/performance.md (minutes; never part of `make test`).
# `make bench BENCH_ARGS="--only api"` or `BENCH_ARGS=--quick` for a part or a smoke run.
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules console/node_modules console/dist .sandbox .mypy_cache .ruff_cache .pytest_cache
