# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Tests get their own database and Redis db, so `make run` data is never touched.
TEST_DATABASE ?= gateway_test
TEST_REDIS_DB ?= 1

# The locks are made by uv, at the version requirements-dev.in pins.
UV := $(VENV)/bin/uv
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements-dev.in)
LOCK_ARGS ?=
COMPILE = $(UV) pip compile --quiet --generate-hashes --universal --python-version 3.12 --no-header $(LOCK_ARGS)

.PHONY: help venv checkov browser run test test-fast lint lock client bench package stack-up stack-down clean admin scheduler soak webhook-receiver logs reset

help:
	@echo "make run      serve the API on 127.0.0.1:\$${PORT:-8000} with the scheduler"
	@echo "make test     the whole test suite (starts what it needs)"
	@echo "make test-fast  unit, service and repository tests on the real Postgres and Redis (< 1 min)"
	@echo "make bench    benchmarks with same-run floors"
	@echo "make soak     chaos soak (MINUTES=10, SEED=...): faults, kills, then every invariant"
	@echo "make package  chalice package (SAM and Terraform) into build/"
	@echo "make lint     ruff, layer check, bandit; mypy --strict on chalicelib/ and app.py (0 type: ignore)"
	@echo "make lock     regenerate requirements.txt and requirements-dev.txt from the .in files"
	@echo "make client   regenerate clients/python, the typed client, from the OpenAPI document"
	@echo "make admin ARGS=\"create-merchant --name Acme\"   operator commands (make run's stack)"
	@echo "make scheduler ARGS=--once                      each scheduled handler once"
	@echo "make browser  Chromium, chromedriver and axe-core for the browser tests"
	@echo "make logs     follow make run's handler logs and metrics (.stack/logs/)"
	@echo "make reset    delete the local stack's data (asks; FORCE=1 does not)"
	@echo "make webhook-receiver SECRET=whsec_...        a receiver on 127.0.0.1:9000 that verifies signatures"

# The virtualenv, built from the locks (every file checked against its hash): rebuilt
# when a lock changes or its Python is too old.
define make-venv-python
	@set -e; \
	if ! [ -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  pybin=$$(infra/find-python.sh); \
	  echo "Creating $(VENV) with $$pybin"; \
	  rm -rf $(VENV); "$$pybin" -m venv $(VENV); \
	fi
endef

# uv installs the lock, bytecode included (about 25 s on a fresh machine against pip's
# 85): without the .pyc files every process compiles what it imports again where
# PYTHONDONTWRITEBYTECODE is set. uv itself comes from the lock's own hashes. pip
# installs instead when uv cannot (no route to PyPI, say): slower, the same files.
define install-uv
	@$(UV) --version 2>/dev/null | grep -q '^uv $(UV_VERSION)\( \|$$\)' || { \
	  awk '/^uv==/{p=1} p{print} p&&!/\\$$/{exit}' requirements-dev.txt >$(VENV)/uv-lock.txt; \
	  $(PY) -m pip install --disable-pip-version-check -q --require-hashes -r $(VENV)/uv-lock.txt \
	  || echo "uv could not be installed: pip installs the lock instead"; }
endef

$(STAMP): requirements.txt requirements-dev.txt
	$(make-venv-python)
	$(install-uv)
	$(UV) pip install -q --compile-bytecode --python $(PY) --require-hashes -r requirements-dev.txt || \
	  $(PY) -m pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

# checkov in a venv of its own (its pins clash with ours), built only for the targets
# that run it (the packaging tests), not for `make run`.
CHECKOV_STAMP := $(VENV)/checkov/.installed
$(CHECKOV_STAMP): requirements-checkov.txt $(STAMP)
	$(PY) -m venv $(VENV)/checkov
	$(UV) pip install -q --python $(VENV)/checkov/bin/python -r requirements-checkov.txt || \
	  $(VENV)/checkov/bin/python -m pip install --disable-pip-version-check -q -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)

run: venv
	$(PY) -m infra.stack run --database gateway --redis-db 0 -- $(PY) -m workers.run

# Headless Chromium, its driver and axe-core for the dashboard's browser tests.
browser: venv
	$(PY) -m infra.browser

test: venv checkov browser
	$(PY) -m infra.stack run --database $(TEST_DATABASE) --redis-db $(TEST_REDIS_DB) --no-durability --fresh -- \
	  $(PY) -m pytest $(PYTEST_ARGS)

# The fast tier (docs/testing.md): one process, no servers started, no browser.
test-fast: venv
	$(PY) -m infra.stack run --database $(TEST_DATABASE)_fast --redis-db 4 --no-durability --fresh -- \
	  $(PY) -m pytest tests/unit tests/integration -m "not slow and not soak" -q $(PYTEST_ARGS)

# Operator commands against the stack `make run` started (its settings: .stack/gateway.env).
admin: venv
	@$(PY) -m workers.admin $(ARGS)

scheduler: venv
	@$(PY) -m workers.scheduler $(ARGS)

# make run's scheduler writes its handler summaries and metrics here (the console keeps
# the banner, one line per request and the warnings).
logs:
	@mkdir -p .stack/logs && touch .stack/logs/scheduler.log && tail -n 50 -F .stack/logs/scheduler.log

# Drop every local database, Redis's data, the emulator's state and the acquirer's books.
reset: venv
	$(PY) -m infra.reset $(if $(FORCE),--force)

# A webhook receiver for the README's example: verifies signatures, prints each event.
webhook-receiver: venv
	@$(PY) -m workers.webhook_receiver --secret "$(SECRET)" $(ARGS)

lint: venv
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
	$(PY) -m infra.check_layers
	$(VENV)/bin/bandit -q -c pyproject.toml -r chalicelib
	$(VENV)/bin/bandit -q -c infra/bandit-tools.toml -r workers infra
	$(PY) -m mypy

# Edit requirements.in (the Lambda's) or requirements-dev.in (tools), then `make lock`.
# Pins already in a lock are kept; `make lock LOCK_ARGS=--upgrade` moves every
# unpinned transitive dependency to its newest version. Needs only the venv's
# Python and uv, so it works while the locks are out of date.
lock:
	$(make-venv-python)
	$(install-uv)
	$(COMPILE) requirements.in -o requirements.txt
	$(COMPILE) requirements-dev.in -o requirements-dev.txt

# The merchants' typed client, generated from the OpenAPI document (infra/client.py);
# commit the result: tests/unit/test_client_fresh.py fails while it is stale.
client: venv
	$(PY) -m infra.client

bench: venv
	$(PY) -m infra.stack run --database gateway_bench --redis-db 2 --no-durability -- $(PY) -m bench

# The chaos soak (infra/soak): its own database and Redis db; not part of `make test`
# (whose 90-second version is tests/e2e/test_soak.py). Exit 1 on any violation.
MINUTES ?= 10
SEED ?=
soak: venv
	$(PY) -m infra.stack run --database gateway_soak --redis-db 3 --fresh -- \
	  $(PY) -m infra.soak --minutes $(MINUTES) $(if $(SEED),--seed $(SEED))

package: venv
	$(PY) -m infra.package

stack-up: venv
	$(PY) -m infra.stack up

stack-down: venv
	$(PY) -m infra.stack down

clean:
	rm -rf build .vendor .pytest_cache .ruff_cache .mypy_cache
