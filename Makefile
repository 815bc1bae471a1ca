# Developer entry points. The logic lives in scripts/; see README.md.
#   make run    provision everything and run the portal (Ctrl-C stops it all)
#   make test   provision, then run the whole test suite (PYTEST_ARGS="-k healthz" to narrow)

SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
MANAGE := $(PY) manage.py
PYTEST_ARGS ?=
export PYTEST_ARGS

.PHONY: help run test venv services services-stop lint fmt migrate check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: venv ## start PostgreSQL, Redis, gunicorn, Celery worker + beat (http://127.0.0.1:8000, PORT=...)
	$(PY) scripts/run.py

test: ## run the test suite against real PostgreSQL and Redis (PYTEST_ARGS=...)
	scripts/test.sh

venv: ## create .venv and install pinned requirements when they changed
	@scripts/venv.sh

services: ## start the project-local PostgreSQL and Redis in the background
	@scripts/services.sh start

services-stop: ## stop the project-local PostgreSQL and Redis
	@scripts/services.sh stop

lint: venv ## ruff check + ruff format --check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

fmt: venv ## fix what ruff can fix and format the code
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

migrate: venv services ## apply database migrations
	$(MANAGE) migrate

check: venv ## Django system checks and missing-migration check
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

.PHONY: bench bench-data
bench: venv ## benchmark on its own PostgreSQL/Redis (.local/bench); BENCH_COMPANIES=100000 BENCH_ROUNDS=3
	$(PY) -m bench.run all

bench-data: venv ## seed (or reuse) the benchmark template database only (BENCH_COMPANIES=...)
	$(PY) -m bench.run data

.PHONY: fuzz reliability

fuzz: venv ## schemathesis against a real gunicorn on its own database (test-artifacts/fuzz-report.xml)
	$(PY) scripts/fuzz.py

reliability: venv ## fault drills on their own PostgreSQL/Redis + matrix + fuzz + backup; prints the summary
	$(PY) scripts/reliability.py $(RELIABILITY_ARGS)
