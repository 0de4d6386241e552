# Baromètre de la cohésion des territoires — developer commands.
#   make run    create .venv if missing, install, materialise every asset on the snapshot, print a summary
#   make test   run the test suite
#   make ui     the Dagster UI (dagster dev) on http://127.0.0.1:3000
#   make browser       install headless Chromium and its driver (Debian packages) when missing
#   make test-browser  install them, then run the browser tests of the report
#   make bench  where the time goes and how the cost grows (under 10 min); writes docs/benchmarks.md
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DAGSTER_HOME := $(CURDIR)/.dagster
UI_PORT ?= 3000

# Debian packages of the browser tests; apt-get needs root (sudo otherwise).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test ui bench clean browser test-browser

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(PY) -m barometre.definitions

test: install
	$(PY) -m pytest

browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium and chromedriver are installed"; \
	else \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

test-browser: install browser
	$(PY) -m pytest -m browser

bench: install
	$(PY) -m tests.bench

ui: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

clean:
	rm -rf data/work data/barometre.duckdb data/report $(DAGSTER_HOME)
