# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Tests get their own database and Redis db, so `make run` data is never touched.
TEST_DATABASE ?= gateway_test
TEST_REDIS_DB ?= 1

.PHONY: help venv browser run test lint bench package stack-up stack-down clean

help:
	@echo "make run      serve the API on 127.0.0.1:\$${PORT:-8000} with the scheduler"
	@echo "make test     the whole test suite (starts what it needs)"
	@echo "make bench    benchmarks with same-run floors"
	@echo "make package  chalice package (SAM and Terraform) into build/"
	@echo "make lint     ruff"
	@echo "make browser  Chromium, chromedriver and axe-core for the browser tests"

# The virtualenv: rebuilt when the requirements change or its Python is too old.
$(STAMP): requirements.txt requirements-dev.txt
	@set -e; \
	if ! [ -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  pybin=$$(infra/find-python.sh); \
	  echo "Creating $(VENV) with $$pybin"; \
	  rm -rf $(VENV); "$$pybin" -m venv $(VENV); \
	fi
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) -m infra.stack run --database gateway --redis-db 0 -- $(PY) -m workers.run

# Headless Chromium, its driver and axe-core for the dashboard's browser tests.
browser: venv
	$(PY) -m infra.browser

test: venv browser
	$(PY) -m infra.stack run --database $(TEST_DATABASE) --redis-db $(TEST_REDIS_DB) -- \
	  $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: venv
	$(PY) -m infra.stack run --database gateway_bench --redis-db 2 -- $(PY) -m bench

package: venv
	$(PY) -m infra.package

stack-up: venv
	$(PY) -m infra.stack up

stack-down: venv
	$(PY) -m infra.stack down

clean:
	rm -rf build .vendor .pytest_cache .ruff_cache
