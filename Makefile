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

.PHONY: venv install install-runtime migrate seed run test lint clean vendor

# Debian's system python needs python3-venv for ensurepip; install it only when missing.
$(PY):
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "venv failed: installing python3-venv"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); }

# Reinstall only when a requirements file changed (stamp files): `make run` needs the runtime
# packages only; `make test` adds the dev tools.
$(VENV)/.installed-runtime: $(PY) requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed: $(VENV)/.installed-runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(PY)
install: $(VENV)/.installed
install-runtime: $(VENV)/.installed-runtime

migrate: install-runtime
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

# Vendor Editor.js UMD bundles (a developer step that needs npm; the output is committed and
# CI never runs it). Bump a version here, run `make vendor`, commit ally/static/vendor/editorjs.
EDITORJS_PKGS ?= @editorjs/editorjs@2.31.7 @editorjs/header@2.8.9 @editorjs/list@2.0.9 \
                 @editorjs/quote@2.7.6
VENDOR_DIR    ?= ally/static/vendor/editorjs
vendor:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	npm pack --silent --pack-destination "$$tmp" $(EDITORJS_PKGS) >/dev/null && \
	rm -rf $(VENDOR_DIR) && mkdir -p $(VENDOR_DIR) && \
	for t in "$$tmp"/*.tgz; do \
	  n=$$(basename "$$t" .tgz); mkdir -p "$$tmp/$$n"; tar xzf "$$t" -C "$$tmp/$$n"; \
	  cp "$$tmp/$$n"/package/dist/*.umd.js $(VENDOR_DIR)/; \
	  cp "$$tmp/$$n"/package/dist/*LICENSE*.txt $(VENDOR_DIR)/ 2>/dev/null || true; \
	  cp "$$tmp/$$n"/package/LICENSE* $(VENDOR_DIR)/LICENSE.$$n 2>/dev/null || true; \
	  echo "$$n" >> "$$tmp/versions"; \
	done && sort "$$tmp/versions" > $(VENDOR_DIR)/VERSIONS && ls -l $(VENDOR_DIR)
