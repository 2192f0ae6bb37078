# ECS Autopilot. Two commands matter: `make demo` and `make test`; both set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
BENCH_VENV := .venv-bench
ECS_DEPLOY_VERSION := 1.17.0
# sam build (without Docker) needs an interpreter of the functions' runtime on PATH.
LAMBDA_PYTHON := python3.13
# A pyenv shim is not enough (it fails unless that version is selected): find a real one.
LAMBDA_PYTHON_DIR := $(shell for d in \
	"$$(pyenv prefix $$(pyenv versions --bare 2>/dev/null | grep '^3\.13' | tail -1) 2>/dev/null)/bin" \
	"$$(dirname "$$(command -v $(LAMBDA_PYTHON) 2>/dev/null)")"; do \
	"$$d/$(LAMBDA_PYTHON)" -c '' 2>/dev/null && echo "$$d" && break; done)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup demo test lint unit integration e2e chaos build build-if-possible validate bench clean

help:
	@echo "make demo   set up and play the local story against an embedded moto server"
	@echo "make test   set up and run lint, type checks, template checks and every test tier"
	@echo "make build  sam build (the layer and the functions), then import each handler"
	@echo "make bench  cold start vs boto3, push latency, calls per push and per deploy vs ecs-deploy"
	@echo "make chaos  crash every gateway call of every workflow and check the retries"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# SAM CLI pins an older boto3: it lives in its own environment, away from the runtime.
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@touch $@

# checkov pins its own boto3 (1.35): like SAM CLI, it gets an environment of its own.
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	@touch $@

# ecs-deploy, the peer `make bench` counts ECS calls against, with the boto3 it brings.
$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet 'ecs-deploy==$(ECS_DEPLOY_VERSION)'
	@touch $@

setup: $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

demo: $(BIN)/.installed
	$(BIN)/autopilot local demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# checkov offline: --skip-download keeps it from fetching Prisma Cloud's guidelines. Findings
# suppressed in template.yaml say why, next to the resource.
validate: setup
	$(SAM) validate --lint
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV) --file template.yaml --framework cloudformation --quiet --compact --skip-download

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit -q

integration: $(BIN)/.installed
	$(BIN)/pytest tests/integration -q

e2e: $(BIN)/.installed
	$(BIN)/pytest tests/e2e -q

# Every gateway call of every workflow, failed before or after it took effect, then retried.
chaos: $(BIN)/.installed
	$(BIN)/pytest tests/chaos -q

test: setup lint validate build-if-possible
	$(BIN)/pytest -q

# The built artefact is checked when a Python of the Lambda runtime is here; a machine with only
# Python 3.11 still runs everything else.
build-if-possible: $(SAM_VENV)/.installed
	@if [ -n "$(LAMBDA_PYTHON_DIR)" ]; then $(MAKE) --no-print-directory build; \
	else echo "skipping sam build: no $(LAMBDA_PYTHON) here (the Lambda runtime's Python)"; fi

build: $(SAM_VENV)/.installed
	@test -n "$(LAMBDA_PYTHON_DIR)" || { echo "sam build needs $(LAMBDA_PYTHON) on PATH (pyenv install 3.13)"; exit 1; }
	PATH="$(LAMBDA_PYTHON_DIR):$$PATH" $(SAM) build
	PYTHONPATH=.aws-sam/build/AutopilotLayer/python $(LAMBDA_PYTHON_DIR)/$(LAMBDA_PYTHON) tests/build_smoke.py .aws-sam/build

# Goals of issue 10 side by side with boto3's import and ecs-deploy's calls (docs/benchmarks.md);
# exits 1 when one is missed. BENCH_FLEETS=100,1000 for a shorter run.
bench: $(BIN)/.installed $(BENCH_VENV)/.installed
	ECS_DEPLOY=$(BENCH_VENV)/bin/ecs $(BIN)/python tests/bench.py

clean:
	rm -rf .aws-sam .mypy_cache .ruff_cache .pytest_cache demo-output
