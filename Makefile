.DEFAULT_GOAL := help
PY := .venv/bin/python

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

run: ## Run ebhxh (embedded mode, demo data) at http://127.0.0.1:8000
	scripts/run

test: ## Run the test suite on SQLite (DATABASE_URL=postgres://... for PostgreSQL)
	scripts/test

ci: ## Run what CI runs (SQLite, PostgreSQL, lint, migrations check)
	bash .ci/run

lint: ## ruff check + format check
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: ## Format and fix imports
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

typecheck: ## mypy (strict for services and lib)
	.venv/bin/mypy ebhxh

migrations: ## Make migrations after a model change
	$(PY) manage.py makemigrations

messages: ## Extract user-facing strings into the English catalogue and compile it
	$(PY) manage.py makemessages -l en --no-obsolete --no-location --ignore '.venv/*' --ignore 'var/*' && $(PY) manage.py compilemessages -l en

openapi: ## Refresh docs/api/openapi.json after an API change (a test compares it with the served one)
	$(PY) manage.py export_openapi_schema --api ebhxh.api.urls.api --indent 2 --sorted --output docs/api/openapi.json

bench: ## Run the benchmarks under bench/
	$(PY) bench/run.py

.PHONY: help run test ci lint format typecheck migrations messages openapi bench
