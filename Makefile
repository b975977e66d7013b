# LRS Portal: the two commands are `make run` and `make test` (see README.md and docs/development.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --quiet --disable-pip-version-check
PYTEST_ARGS ?=

# The demo: SQLite in var/, no broker, DEBUG on (never use these in production).
# `make run PORT=8001` serves on another port; links in emails follow it.
PORT ?= 8000
RUN_ENV := DEBUG=true SERVICE_URL=http://127.0.0.1:$(PORT)
# Tests run with DEBUG off and a throwaway key; DATABASE_URL and CELERY_BROKER_URL
# come from the environment when set (CI sets PostgreSQL and Redis).
TEST_ENV := DEBUG=false SECRET_KEY=test-only-$$(date +%s)-not-a-production-key-0123456789abcdefghij \
	SECURE_SSL_REDIRECT=false LOG_FORMAT=json DJANGO_ALLOW_ASYNC_UNSAFE=true \
	CELERY_TASK_ALWAYS_EAGER=false

# make serve: production-like (DEBUG off) against the PostgreSQL and Redis named in
# the environment. Plain HTTP on 127.0.0.1 has no TLS proxy in front, so the
# HTTPS redirect and Secure cookies are off unless the environment says otherwise.
SERVE_ENV := DEBUG=false SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	SECURE_COOKIES=$${SECURE_COOKIES:-false} PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: help setup run serve test lint check-migrations clean chromium messages

help:
	@echo "make run    set up, migrate SQLite, load demo data, serve on http://127.0.0.1:8000 (PORT=8001 for another)"
	@echo "make serve  gunicorn, a Celery worker and beat on http://127.0.0.1:8000 (PostgreSQL, Redis)"
	@echo "make test   set up and run the whole test suite (PostgreSQL when DATABASE_URL says so)"
	@echo "make lint   ruff check, ruff format --check, mypy"
	@echo "make messages  add newly marked strings to the Welsh catalogue (needs gettext)"
	@echo "Guides: README.md, then docs/ (configuration, operations, commands, architecture)"

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip 2>/dev/null
	@# pip's warnings about this machine's missing local indexes are noise; its exit code is not.
	set -o pipefail; $(PY) -m pip install $(PIP_FLAGS) -e '.[dev]' 2>&1 | { grep -v "is ignored: it is neither" || true; }
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

frontend/build/app.css: node_modules/.package-lock.json $(wildcard frontend/scss/*.scss) frontend/copy-assets.mjs
	npm run --silent build

setup: $(VENV)/.installed frontend/build/app.css
	@mkdir -p var
	@$(PY) -m lrs_portal.catalogues

run: setup
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Refuses to start, naming each missing setting, unless check --deploy passes
# (lrs_portal/checks.py); gunicorn, worker and beat also refuse a superuser's or the
# owner's database role as they start. Ctrl+C stops all three (honcho).
serve: setup
	@$(SERVE_ENV) $(PY) manage.py check --deploy --fail-level ERROR
	@$(SERVE_ENV) $(PY) manage.py collectstatic --noinput -v0
	@$(SERVE_ENV) exec honcho start --procfile Procfile --env /dev/null --no-colour

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); } || echo "chromium not installed: browser tests will be skipped"

test: setup chromium
	@set +e; $(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy .

check-migrations: setup
	$(RUN_ENV) $(PY) manage.py makemigrations --check --dry-run

# After marking or changing a string: the Welsh catalogue gains its msgid (needs
# gettext's xgettext); write its Welsh in locale/cy/LC_MESSAGES/django.po.
# tests/lrs_portal/test_welsh.py fails while one is missing (decision 34).
MESSAGES_ARGS := --locale cy --no-location --no-obsolete --ignore '.venv/*' \
	--ignore 'node_modules/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'var/*' \
	--ignore 'frontend/*' --ignore 'templates/admin/*' --ignore '*/admin/*' --ignore '*/admin.py'
messages: setup
	$(RUN_ENV) $(PY) manage.py makemessages $(MESSAGES_ARGS)

clean:
	rm -rf $(VENV) node_modules frontend/build var
