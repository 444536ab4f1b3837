# plan-executor: every target bootstraps .venv from the lock files on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_EVENT ?= events/mixed-sell-and-buy.json
RUN_EXPECT ?= SUCCESS,SUCCESS_WITH_SKIPS
RUN_VENUE ?= paper

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.3.1
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

.PHONY: venv
venv: $(STAMP) ## create .venv from the pinned lock files

.PHONY: test
test: $(STAMP) ## run the whole test suite (all but the soak runs)
	$(BIN)/pytest -q -m "not soak"

.PHONY: soak
soak: $(STAMP) ## the long reliability runs: lasting and slow faults of the fault matrix
	$(BIN)/pytest -q -m soak tests/reliability

.PHONY: lint
lint: $(STAMP) ## ruff, mypy --strict on src/, and the layering contract
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

.PHONY: run
run: $(STAMP) ## the local demo: replay RUN_EVENT on moto + alpaca_sim, then again (a duplicate)
	$(BIN)/plan-executor replay $(RUN_EVENT) --times 2 --expect $(RUN_EXPECT) --venue $(RUN_VENUE)

.PHONY: schemas
schemas: $(STAMP) ## regenerate the JSON Schema files in schemas/
	$(BIN)/plan-executor schemas --out schemas

# ---------------- history (Glue/Athena tables and named queries over the ledger)
HISTORY_EVENTS ?= events/mixed-sell-and-buy.json events/buys-only.json events/rejected-stale-plan.json

.PHONY: glue
glue: $(STAMP) ## rewrite template.yaml's Glue/Athena section from the ledger models and queries
	$(BIN)/python -m plan_executor.ops.history_template template.yaml

.PHONY: history
history: $(STAMP) ## replay HISTORY_EVENTS locally, then run the named Athena queries (DuckDB)
	$(BIN)/plan-executor history --replay $(HISTORY_EVENTS)
# ---------------- end history

FUZZ_SECONDS ?= 60

.PHONY: fuzz
fuzz: $(STAMP) ## coverage-guided fuzzing of event parsing with atheris (not part of make test)
	$(BIN)/python -m tests.fuzz.fuzz_events -max_total_time=$(FUZZ_SECONDS)

.PHONY: bench
bench: $(STAMP) ## the performance report (bench/out/report.json and report.png)
	$(BIN)/python bench/report.py

.PHONY: build
build: ## build the Lambda artifact build/plan-executor.zip (no Docker; needs Python 3.12)
	$(PYTHON) scripts/build_artifact.py

.PHONY: validate
validate: $(STAMP) ## cfn-lint, sam validate and the template tests (SAM lives in .venv-tools)
	bash scripts/validate.sh

# ---------------- deploy (issue 14): build, validate, then sam deploy (README, Deployment)
DEPLOY_ENV ?= dev
SAM_DEPLOY_FLAGS ?=

.PHONY: deploy
deploy: build validate ## build, validate, sam deploy --config-env DEPLOY_ENV (SAM_DEPLOY_FLAGS=--guided)
	.venv-tools/bin/sam deploy --config-env $(DEPLOY_ENV) $(SAM_DEPLOY_FLAGS)
# ---------------- end deploy

.PHONY: lock
lock: ## re-resolve the lock files (needs uv: pip install uv)
	uv pip compile pyproject.toml --python-version 3.11 --no-header --annotation-style line -o requirements.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header --annotation-style line -o requirements-dev.lock

.PHONY: clean
clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .venv-tools .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
