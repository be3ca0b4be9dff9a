# Latchkey developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# What running needs (`make run`), and that plus the test tools (`make test` and the rest).
RUN_STAMP := $(VENV)/.installed-run
STAMP     := $(VENV)/.installed

.PHONY: run test lint typecheck check clean bench fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP) $(RUN_STAMP)

## Set up and start Latchkey on SQLite with the demo tenant, login server (:5001) and web app (:5002).
run: $(RUN_STAMP)
	$(BIN)/latchkey demo --port $(PORT)

# Tests run on both cores (pytest-xdist, one module per worker); those marked `serial` (they
# stop the shared PostgreSQL, or measure under load) run alone afterwards.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

## Set up and run the whole test suite (PostgreSQL tests run when LATCHKEY_TEST_POSTGRES_URL is set).
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not serial" -q --durations=15 \
		--cov=latchkey --cov-report=
	$(BIN)/pytest -m serial -q --durations=5 \
		--cov=latchkey --cov-append --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage latchkey.db*

## The sign-in benchmark against the Node peer (see bench/README.md; `make -C bench full` for all).
bench: $(STAMP)
	$(MAKE) -C bench quick

## Long fuzzing runs (CI runs a bounded number of examples): the HTTP API from its OpenAPI
## document, and the WebAuthn parsers.
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	LATCHKEY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider \
		tests/test_fuzz_api.py $(wildcard tests/test_fuzz_parsers.py)

## The hosted pages' and mails' catalogs (src/latchkey/i18n): extract the messages from the code
## and templates, merge them into every language's .po (new ones empty, never guessed), compile
## the .mo files the package ships. Translate the empty entries, then run it again.
.PHONY: messages
I18N := src/latchkey/i18n
messages: $(RUN_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project Latchkey --copyright-holder "Latchkey contributors" \
		-o $(I18N)/messages.pot src/latchkey
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N)/locales -D messages \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(I18N)/locales -D messages --statistics
