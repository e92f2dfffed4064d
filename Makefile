# The README's commands. `make demo` and `make test` set everything up on a fresh machine
# with Python 3.11: a virtualenv, the pinned packages, and the Debian packages the PDF
# tools and browser tests need (when missing, and when this user can install them).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ADDRPORT ?= 127.0.0.1:8000
DEB_PACKAGES := poppler-utils fonts-dejavu-core chromium chromium-driver
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup system-deps demo test test-unit test-integration test-db bench clean

help:
	@echo "make demo              set up, then run the app + a Celery worker on SQLite and a file broker"
	@echo "make test              set up, then run the test suite (unit, integration, browser)"
	@echo "make test-integration  the integration suite alone (uses DATABASE_URL / CELERY_BROKER_URL)"
	@echo "make test-db           the database-backed unit tests on DATABASE_URL (CI: PostgreSQL)"
	@echo "make bench             the benchmarks in tests/benchmarks (slow; results go in BENCHMARKS.md)"

setup: system-deps $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=25"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

# Installs the Debian packages only when one is missing; needs root (or passwordless sudo).
system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ] || ! command -v apt-get >/dev/null; then \
	    echo "warning: missing Debian packages:$$missing (install them to sign/verify PDFs and run browser tests)"; \
	  else \
	    echo "installing Debian packages:$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi

demo: setup
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py demo --addrport $(ADDRPORT)

test: setup
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q --ignore=tests/integration --ignore=tests/e2e

test-integration: setup
	$(BIN)/python -m pytest -q tests/integration

# The database-backed unit tests again, on the database DATABASE_URL names (CI: PostgreSQL):
# every app's tests that touch the database (--database-tests-only leaves out the pure ones;
# training, the pipeline client and the browser suite aside).
test-db: setup
	$(BIN)/python -m pytest -q tests --ignore=tests/integration --ignore=tests/e2e --ignore=tests/training \
		--ignore=tests/deploy --ignore=tests/benchmarks --database-tests-only

bench: setup
	@for f in tests/benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var/test .pytest_cache
