# Twofold's task runner. `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
# uv from PATH when it works, else bootstrapped into the Python that .python-version selects.
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo python3 -m uv)
RUN := $(UV) run --frozen

.PHONY: help install run serve-prod migrate seed test test-fast lint fmt browser bench worker clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36mmake %-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || { echo "Installing uv…"; python3 -m pip install --quiet --disable-pip-version-check uv; }
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced ## Install the locked dependencies into .venv (bootstraps uv if missing)

migrate: install ## Apply database migrations
	$(RUN) python manage.py migrate --noinput

seed: migrate ## Load the demo users and data (idempotent)
	$(RUN) python manage.py seed_demo

run: export DJANGO_DEBUG ?= true
run: seed ## Install, migrate, seed and serve the app with auto-reload on http://127.0.0.1:8000 (PORT overrides)
	@echo "Serving on http://127.0.0.1:$(PORT)"
	$(RUN) uvicorn saas.server:app --reload --reload-include '*.html' --reload-include '*.css' --host 127.0.0.1 --port $(PORT)

serve-prod: install ## The production server command on PORT, with the environment it is given
	$(RUN) python manage.py collectstatic --noinput -v0
	$(RUN) python manage.py migrate --noinput
	PORT=$(PORT) $(RUN) python -m saas.serve

worker: install ## The background task worker (with TASKS_BACKEND=django_tasks_db.DatabaseBackend), as in production
	$(RUN) python manage.py db_worker

lint: export DJANGO_DEBUG = true
lint: install ## ruff, formatting, mypy --strict, missing migrations, compose file schema
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .
	$(RUN) python manage.py makemigrations --check --dry-run
	$(RUN) check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

fmt: install ## Fix what ruff can fix and format the code
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

browser: ## Make sure a Chromium for the browser tests exists
	@bash scripts/ensure-browser.sh

test: install browser lint ## The whole suite: linters, unit, integration and browser tests
	$(RUN) pytest -q

test-fast: install ## The suite without the browser tests and linters
	$(RUN) pytest -q -m "not browser"

bench: install ## The benchmarks: ratios against a bare Django view, measured in the same run
	$(RUN) python -m bench

clean: ## Remove the virtualenv, the local database and collected static files
	rm -rf .venv db.sqlite3* staticfiles .pytest_cache .mypy_cache .ruff_cache
