# ALLY developer entry points. The README's first screen shows `make run` and `make test`.
#   make run    venv + deps + migrations + demo content + gunicorn on http://127.0.0.1:8000
#   make test   venv + dev deps + the whole pytest suite (SQLite; TEST_DATABASE_URL for PostgreSQL)
SHELL        := /bin/bash
PYTHON       ?= python3
VENV         ?= .venv
PY           := $(VENV)/bin/python
FLASK        := $(VENV)/bin/flask --app wsgi
HOST         ?= 127.0.0.1
PORT         ?= 8000
PYTEST_ARGS  ?=
REQS         := requirements.txt requirements-dev.txt

export HOST PORT

.PHONY: venv install migrate seed run test lint clean vendor

# Debian's system python needs python3-venv for ensurepip; install it only when missing.
$(PY):
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "venv failed: installing python3-venv"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); }

# Reinstall only when a requirements file changed (stamp file).
$(VENV)/.installed: $(PY) $(REQS)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(PY)
install: $(VENV)/.installed

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

run: seed
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py wsgi:app

# pytest exit 5 = "no tests collected": not a failure for a filtered run.
test: install
	@set +e; $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected (exit 5) - treated as success"; rc=0; fi; \
	exit $$rc

lint: install
	$(VENV)/bin/ruff check ally tests
	$(VENV)/bin/ruff format --check ally tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
