# Mon Compte Formation (open clone) — the two commands: `make run`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EMBEDDED := $(BIN)/python -m cpf_portal.embedded
# Development defaults; any of them can be set in the environment instead.
export DEBUG ?= true
export PYTHONUNBUFFERED := 1

.PHONY: run test lint bench bench-web bench-deadlines bench-import install checkers migrate demo clean-var backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

# The browser tests' checkers: axe-core (injected into the page) and vnu-jar (run with Java).
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm est nécessaire aux contrôles d'accessibilité (axe-core, vnu-jar) : apt-get install nodejs npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

checkers: node_modules/.package-lock.json

## make run: venv, install, embedded PostgreSQL + Redis (unless DATABASE_URL / REDIS_URL are set),
## migrations, demo data, then web + Celery worker + beat on http://127.0.0.1:8000. Ctrl-C stops it all.
run: install
	$(EMBEDDED) --redis redis -- $(BIN)/python -m cpf_portal.devrun

## make lint: Ruff (lint, import order, format check) and djLint (templates); zero findings.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint

## make test: lint, then the whole suite (browser tests included) on the embedded services or the env's servers,
## in PYTEST_WORKERS parallel processes (pytest-xdist; each has its own test database and Redis database;
## PYTEST_WORKERS=0 runs everything in one process, e.g. for a debugger).
PYTEST_WORKERS ?= 2
test: install checkers lint
	$(EMBEDDED) --fresh-redis -- $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## make bench: speed figures (catalogue search at 100,000 / 300,000 and 200,000 / 600,000 formations / sessions, growth).
bench: install
	$(EMBEDDED) --fresh-redis -- $(BIN)/python bench/catalogue_search.py

## make bench-import: an organisme's catalogue file of 5,000 sessions checked and imported, then again (idempotent).
bench-import: install
	$(EMBEDDED) --fresh-redis -- $(BIN)/python bench/offer_import.py

## make bench-deadlines: the deadline job on 2,000,000 dossiers (50,000 overdue) vs the per-row loop.
bench-deadlines: install
	$(EMBEDDED) --fresh-redis -- $(BIN)/python bench/deadlines.py

migrate: install
	$(EMBEDDED) -- $(BIN)/python manage.py migrate

demo: install
	$(EMBEDDED) -- $(BIN)/python manage.py load_demo

## make backup: consistent dump of the database (pg_dump, custom format) and a copy and listing of
## the private files, under var/backups/<date>/ (README « Exploitation »).
backup: install
	$(EMBEDDED) -- $(BIN)/python -m cpf_portal.backup backup

## make restore FILE=var/backups/<date>: into a new database on the embedded server (never over
## the live one), files next to the backup; prints the DATABASE_URL to use.
restore: install
	@test -n "$(FILE)" || { echo "Usage : make restore FILE=var/backups/AAAAMMJJ-HHMMSS" >&2; exit 2; }
	$(EMBEDDED) -- $(BIN)/python -m cpf_portal.backup restore "$(FILE)"

clean-var:
	rm -rf var

## make bench-web: the production web process (gunicorn, DEBUG off) under wrk at concurrency 4/16/64:
## home, search (Zipf mix, with and without cache), a formation's page, a bare Django view; RSS per worker.
bench-web: install
	@command -v wrk >/dev/null || { echo "wrk est nécessaire : apt-get install wrk" >&2; exit 1; }
	$(EMBEDDED) --fresh-redis -- $(BIN)/python bench/web.py
