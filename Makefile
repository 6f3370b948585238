# The two commands of the quick start:
#   make run    set up .venv, migrate, load the demo data, serve on http://127.0.0.1:8000
#   make test   the whole test suite (lint + pytest)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint graph setup messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "miniapp needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

# Compiled catalogs are built, not committed; compilemessages needs GNU gettext (msgfmt).
messages: $(VENV)/.run-deps
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (Debian: apt-get install gettext)"; exit 1; }
	$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0

# Sign-in comes back to SITE_URL, so by default it is where `make run` serves.
run setup: export SITE_URL ?= http://127.0.0.1:$(PORT)

setup: messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo

run: setup
	$(BIN)/daphne -b $(HOST) -p $(PORT) miniapp.asgi:application

lint: $(VENV)/.test-deps
	$(BIN)/ruff check miniapp tests bench conftest.py
	$(BIN)/ruff format --check miniapp tests bench conftest.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-cache

# Which app imports which (domain and interface modules apart); `make lint` checks the rule.
graph: $(VENV)/.test-deps
	$(BIN)/python .ci/app_graph.py

test: lint messages
	$(BIN)/pytest $(PYTEST_ARGS)

# bench/RESULTS.md from the benchmarks' runs in bench/results/*.json (the standard library is enough).
.PHONY: bench-results
bench-results:
	$(PYTHON) -m bench.results

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
