# `make run` sets up .venv, ingests the seeds and starts Papertrail; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/papertrail ingest
	$(BIN)/papertrail serve

test: install
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } || true
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/papertrail eval eval/dev.jsonl --out eval/dev-results.jsonl

clean:
	rm -rf $(VENV) .papertrail
