# The two commands of the quick start:
#   make run    set up .venv, migrate, load the demo data, collect the static files and serve
#               the app as deployed (DEBUG off, compressed) on http://127.0.0.1:8000
#   make test   the whole test suite (lint + pytest), as CI runs it
# And: make dev (the same with DEBUG on, reloading on code changes), make test-quick (the inner
# loop: all but the browser and multi-process tests, marked e2e), make messages (compile the
# translations after editing locale/*.po). Only Python and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
VAR_DIR ?= var
STATIC_ROOT ?= staticfiles

.PHONY: run dev test test-quick lint graph setup messages clean

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

# Compiled catalogs (.mo) are built, not committed, in pure Python (miniapp.lib.catalogs):
# no GNU gettext. pytest compiles them too when it starts.
messages: $(VENV)/.run-deps
	$(BIN)/python -m miniapp.lib.catalogs

# Sign-in comes back to SITE_URL, so by default it is where `make run` and `make dev` serve.
run dev setup: export SITE_URL ?= http://127.0.0.1:$(PORT)

# `make run` is the product: DEBUG off (Django's plain error pages, no debug pages), static files
# hashed and compressed by collectstatic and served by WhiteNoise, pages and API answers
# compressed. Its SECRET_KEY is this clone's own, in var/ (miniapp.lib.secrets), as `make dev`'s.
run: export DEBUG = 0
run: export SECRET_KEY ?= $(shell $(PYTHON) -m miniapp.lib.secrets $(VAR_DIR)/secret_key)

setup: messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo

# Collected once, and again when a static file or a dependency changes (compressing takes a while).
$(STATIC_ROOT)/staticfiles.json: $(shell find static -type f) $(VENV)/.run-deps
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0

run: setup $(STATIC_ROOT)/staticfiles.json
	$(BIN)/daphne -b $(HOST) -p $(PORT) miniapp.asgi:application

# Daphne too (its runserver), with DEBUG on and reloading when the code changes.
dev: setup
	$(BIN)/python manage.py runserver --nostatic $(HOST):$(PORT)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check miniapp tests bench conftest.py
	$(BIN)/ruff format --check miniapp tests bench conftest.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-cache

# Which app imports which (domain and interface modules apart); `make lint` checks the rule.
graph: $(VENV)/.test-deps
	$(BIN)/python .ci/app_graph.py

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

test-quick: lint
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

# bench/RESULTS.md from the benchmarks' runs in bench/results/*.json (the standard library is enough).
.PHONY: bench-results
bench-results:
	$(PYTHON) -m bench.results

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
	find locale -name '*.mo' -delete
