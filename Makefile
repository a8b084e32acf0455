# Every target the README names. The virtualenv is (re)built from requirements*.txt when they change.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
PROJECT ?= .
ARGS ?=

.PHONY: setup preview pictures test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt policies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## The main job: offline preview of one stack with its policy verdict (no cloud account needed).
preview: setup
	$(PY) -m preview --project $(PROJECT) $(STACK) $(ARGS)

## Network pictures of every shipped stack, into docs/.
pictures: setup
	$(PY) -m preview --all --picture-dir docs $(ARGS)

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
