# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate demo check contract clean

$(BIN)/python:
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

# Real district and village names when the official list is beside the project.
DEMO_REGIONS ?= $(wildcard ../shared/data/regions.csv)

demo: migrate
	$(BIN)/python manage.py load_demo $(if $(DEMO_REGIONS),--regions $(DEMO_REGIONS))

run: demo
	@echo ""
	@echo "UCJ Desa is starting on http://$(HOST):$(PORT)/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/"
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/  (log in with the credentials printed above)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

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

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache contract/results

messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages -l id --no-obsolete --ignore '.venv/*' --ignore 'tests/*'
	$(BIN)/python manage.py compilemessages -l id --ignore '.venv/*'
