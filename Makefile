# The two commands of the README: `make run` and `make test`. Everything else is a helper.

# The Python that builds the virtualenv: the first of these names that is Python 3.11 or newer,
# unless PYTHON=... names one. Looked up only when the virtualenv is built.
PYTHON_CANDIDATES ?= python3.13 python3.12 python3.11 python3
IS_NEW_ENOUGH := -c 'import sys; sys.exit(sys.version_info < (3, 11))'
PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do \
	$$p $(IS_NEW_ENOUGH) >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate demo check contract clean bench-quick

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "UCJ Desa needs Python 3.11 or newer, and none of $(PYTHON_CANDIDATES) is one." >&2; \
		echo "Install one, or name it: make PYTHON=/path/to/python3.x $(MAKECMDGOALS)" >&2; \
		exit 1; \
	fi
	@$(PYTHON) $(IS_NEW_ENOUGH) 2>/dev/null || { \
		echo "PYTHON=$(PYTHON) is not Python 3.11 or newer (or cannot be run); UCJ Desa needs 3.11+." >&2; \
		exit 1; }
	@echo "Building $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input




demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	@echo ""
	@echo "UCJ Desa is starting on http://$(HOST):$(PORT)/"
	@echo "  Portal:    http://$(HOST):$(PORT)/  (the demo users printed above)"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/"
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/  (log in with the credentials printed above)"
	@echo "  Jobs:      a worker runs beside the server (manage.py run_worker); Ctrl-C stops both"
	@echo ""
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py run_worker & worker=$$!; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: $(VENV)/.installed-dev
	DJANGO_SETTINGS_MODULE=ucj_project.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=ucj_project.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

test: lint check
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) contract

# The API's contract against a live server on a throwaway copy of the demo (README "Tests and CI").
contract: $(VENV)/.installed-dev
	$(BIN)/python -m contract.live $(CONTRACT_ARGS)

# The national benchmark's quick mode (docs/performance.md, "Benchmark modes"): 500,000 synthetic
# workers in a database of their own (created and generated once, when it has no workers), then
# every mode (cached, cold, mixed) with fewer requests. Results in bench/results/.
BENCH_DATABASE_URL ?= postgres://ucj:ucj@127.0.0.1:5432/ucj_bench_500k
BENCH_WORKERS ?= 500000
BENCH_ARGS ?= --mode all --requests 50 --warmup 5

bench-quick: $(VENV)/.installed
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/national_bench.py --generate $(BENCH_WORKERS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache .mypy_cache contract/results

messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages -l id --no-obsolete --ignore '.venv/*' --ignore 'tests/*'
	$(BIN)/python manage.py compilemessages -l id --ignore '.venv/*'
