# Everything installs into the project: uv into .tools/, the locked stack into .venv/.
# A fresh machine needs only python3 and make.
SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= demo
SEED ?= 42

.PHONY: demo build serve test lint format bench install chromium

demo: build serve

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on the CI
# machine) nothing caches it, and every dbt, Dagster and test process compiled its imports
# from source again (about 3 s of a dbt build's wall time, D39).
$(VENV)/.installed: pyproject.toml uv.lock Makefile | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python python3 --compile-bytecode
	touch $@

install: $(VENV)/.installed

build: install
	$(BIN)/crm360 build --scale $(SCALE) --seed $(SEED)

serve: install
	$(BIN)/crm360 serve

test: install chromium
	$(BIN)/ruff check .
	$(BIN)/pytest

# The dashboards' browser test drives Debian's chromium through playwright (never `playwright install`).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Demo-scale figures in a few minutes; `BENCH_SCALE=large make bench` for the README's large rows.
BENCH_SCALE ?= demo
bench: install
	$(BIN)/python -m benchmarks.generator --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.ingest --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.identity_deterministic --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.dbt_build --scale $(BENCH_SCALE)
	$(BIN)/python -m benchmarks.api.run
