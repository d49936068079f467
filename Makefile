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
	@echo "Serving on http://localhost:$(PORT) (passkeys need localhost, not 127.0.0.1)"
	$(RUN) uvicorn saas.server:app --reload --reload-include '*.html' --reload-include '*.css' --host 127.0.0.1 --port $(PORT)

serve-prod: install ## The production server command on PORT, with the environment it is given
	$(RUN) python manage.py collectstatic --noinput -v0
	$(RUN) python manage.py migrate --noinput
	PORT=$(PORT) $(RUN) python -m saas.serve

worker: install ## The background task worker (with TASKS_BACKEND=django_tasks_db.DatabaseBackend), as in production
	$(RUN) python manage.py db_worker

lint: export DJANGO_DEBUG = true
lint: install ## ruff, formatting, mypy --strict, missing migrations, compose schema, deploy files
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .
	$(RUN) lint-imports --config saas/importlinter.toml  # core below the features, the features independent
	$(RUN) python manage.py makemigrations --check --dry-run
	$(RUN) check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	@# render.yaml and fly.toml: no published schema can be had offline, so their structure is tested.
	$(RUN) pytest -q -p no:randomly tests/test_deploy_files.py

fmt: install ## Fix what ruff can fix and format the code
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

browser: ## Make sure a Chromium for the browser tests exists
	@bash scripts/ensure-browser.sh

# The suite runs on every core (pytest-xdist, a test file per worker at a time); PYTEST_WORKERS=0 runs it serially.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadfile

test: install browser lint ## The whole suite: linters, unit, integration, browser and bench harness tests
	$(RUN) pytest -q $(PYTEST_PARALLEL)

test-fast: install ## The suite without the browser tests, the bench harness's tests and linters
	$(RUN) pytest -q $(PYTEST_PARALLEL) -m "not browser and not bench"

bench: install ## The benchmarks: ratios against a bare Django view, measured in the same run
	$(RUN) python -m bench

clean: ## Remove the virtualenv, the local database and collected static files
	rm -rf .venv db.sqlite3* staticfiles .pytest_cache .mypy_cache .ruff_cache
