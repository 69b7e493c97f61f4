# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## Install, migrate, seed the demo on first start, print the demo sign-ins, serve.
run: $(VENV)/.installed
	$(BIN)/python manage.py ensure-secrets
	$(BIN)/python manage.py migrate
	$(BIN)/python manage.py seed --if-empty
	$(BIN)/python manage.py demo-info
	@echo "Serving Rapport on http://localhost:$(PORT) (its HTTP API under /api/v1/)"
	@echo "Starting the worker beside it (webhooks, notifications, deadlines, mail sync; its log lines read 'rapport.worker')"
	$(BIN)/python manage.py worker --every 5 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; echo "Worker stopped."' EXIT; trap 'exit 0' INT TERM; \
	$(BIN)/streamlit run app.py --server.port $(PORT)

## Lint, type-check and run every test (unit, integration, pages, browser).
test: lint
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy db components manage.py app.py pages bench api

## The page-latency benchmark at scales 1 and 10 (not part of `make test`).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench --scales 1,10 --runs 7 --json bench/results.json

## 25 browser sessions against a real server for two minutes (not part of `make test`).
loadtest: $(VENV)/.dev-installed
	$(BIN)/python -m bench.loadtest --users 25 --seconds 120 --json bench/loadtest.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache test-artifacts
