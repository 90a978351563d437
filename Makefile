# The two commands a newcomer needs: `make run` (the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= hex6_2p
CYCLES ?= 100
MINUTES ?= 9.5
ARGS ?=

.PHONY: run test lint venv

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,ray]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/zeroloop run $(CONFIG) --cycles $(CYCLES) --minutes $(MINUTES) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/lint-imports

test: $(STAMP) lint
	$(PY) -m pytest -q $(PYTEST_ARGS)
