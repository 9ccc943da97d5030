# The README's two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ADDR ?= 127.0.0.1:8000
# Two processes share the suite (the machines have two cores); PYTEST_ARGS= runs it in one.
# The slowest tests are listed at the end, so a CI log says where the suite's time goes.
PYTEST_ARGS ?= -n 2 --durations=25

.PHONY: run test lint format setup clean messages

run: $(VENV)/.installed .env
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py runportal --demo $(ADDR)

test: $(VENV)/.installed-dev .env
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

setup: $(VENV)/.installed-dev .env

# The Arabic catalogue: extract the marked strings into locale/ar/LC_MESSAGES/django.po (needs
# system gettext's xgettext, for translators only), then compile the .mo in Python (polib).
# Both files are committed: running the portal needs neither gettext nor this step.
messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages --locale ar --no-obsolete --add-location file \
		--ignore '.venv/*' --ignore 'static/*' --ignore 'staticfiles/*' --ignore 'tests/*' \
		--ignore 'bench/*' --ignore 'scripts/*'
	$(BIN)/python scripts/compile_messages.py

# Local settings: a copy of the documented example, made once and never overwritten.
.env:
	cp .env.example .env

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) staticfiles
