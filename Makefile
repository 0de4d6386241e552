# Baromètre de la cohésion des territoires — developer commands.
#   make run    create .venv if missing, install, materialise every asset on the snapshot, print a summary
#   make test   run the test suite
#   make ui     the Dagster UI (dagster dev) on http://127.0.0.1:3000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DAGSTER_HOME := $(CURDIR)/.dagster
UI_PORT ?= 3000

.PHONY: install run test ui clean

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

ui: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

clean:
	rm -rf data/work data/barometre.duckdb $(DAGSTER_HOME)
