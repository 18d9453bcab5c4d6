# SIP-portalen. `make help` lists the targets.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
CHROMIUM := /usr/bin/chromium
# Two processes, each with its own portal server, database, mailbox and Chromium; a test
# file stays in one process (journeys in a file share their server's state).
E2E_XDIST := -n 2 --dist loadfile

.DEFAULT_GOAL := help
COMMA := ,
.PHONY: help install run test unit e2e lint audit browser i18n-extract i18n-update i18n-compile i18n-check demo migrate bench bench-load bench-profile faults

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: ## install the Python packages from the lock file
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --quiet

run: install ## run the portal on http://127.0.0.1:8000 (port: PORTAL_PORT) with SQLite, demo data, development login
	$(PY) -m portal migrate
	$(PY) -m portal demo
	$(PY) -m portal serve

migrate: install ## upgrade the database to the newest schema
	$(PY) -m portal migrate

demo: install ## load the demo people into the database
	$(PY) -m portal migrate
	$(PY) -m portal demo

browser: ## install Debian's Chromium, axe-core (browser tests) and oidc-provider (login test)
	@test -x $(CHROMIUM) || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@test -d node_modules/axe-core -a -d node_modules/oidc-provider || npm ci --silent --no-audit --no-fund

test: install browser ## run every test: lint, audit, translations, unit and HTTP, browser journeys
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory audit
	$(MAKE) --no-print-directory i18n-check
	$(PY) -m pytest tests -n 3
	$(PY) -m pytest e2e $(E2E_XDIST)

unit: install ## unit and HTTP tests only
	$(PY) -m pytest tests -n 3

faults: install ## PostgreSQL restarted, Redis gone, SMTP down, a worker killed (needs PORTAL_TEST_DATABASE_URL)
	$(PY) -m pytest -p no:cacheprovider tests/faults \
	  tests/notices/test_outbox.py::test_an_smtp_outage_keeps_the_notice_and_it_is_sent_when_the_server_is_back \
	  tests/notices/test_channels.py::test_each_server_down_for_a_while_delays_notices_and_loses_none

e2e: install browser ## browser journeys with Playwright and axe-core (two processes, each its own server)
	$(PY) -m pytest e2e $(E2E_XDIST)

audit: install ## known vulnerabilities in the locked dependencies (pip-audit)
	$(UV) export --locked --quiet --no-emit-project --format requirements-txt > $(VENV)/requirements.lock
	@$(VENV)/bin/pip-audit --requirement $(VENV)/requirements.lock --disable-pip --require-hashes \
	  --progress-spinner off > $(VENV)/audit.txt 2>&1; status=$$?; \
	  grep -v "could not be audited" $(VENV)/audit.txt; \
	  skipped=$$(grep -c "could not be audited" $(VENV)/audit.txt); \
	  if [ "$$skipped" -gt 0 ]; then echo "pip-audit: the vulnerability database did not know $$skipped packages (no access from this machine?); version floors are still tested in tests/test_dependency_floors.py"; fi; \
	  exit $$status

lint: install ## ruff, with the rule set pinned in pyproject.toml
	$(VENV)/bin/ruff check portal tests e2e bench

i18n-extract: install ## collect the strings from code and templates into locales/messages.pot
	$(PY) -m portal.core.catalogs extract

i18n-update: i18n-extract ## merge new strings into the sv and sv_FI catalogs
	$(PY) -m portal.core.catalogs update

i18n-compile: install ## compile .po to .mo (the app reads .po directly; this is for other tools)
	$(PY) -m portal.core.catalogs compile

i18n-check: install ## fail on missing, fuzzy, untranslated or out-of-date entries
	$(PY) -m portal.core.catalogs check

bench: install ## server-time benchmarks
	$(PY) -m bench

bench-load: install ## requests/s, latency, page weight over HTTP at 1 000 and 100 000 persons (BENCH_ARGS="--tree DIR --sizes N,M")
	$(PY) -m bench.load $(or $(BENCH_ARGS),--sizes 1000$(COMMA)100000)

bench-profile: install ## CPU ms per request of the key pages in-process, ratio to reference (b) (BENCH_ARGS="--profile /plan")
	$(PY) -m bench.profile $(BENCH_ARGS)
