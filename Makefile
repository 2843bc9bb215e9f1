# `make run` sets up .venv with Papertrail alone, ingests the seeds and starts the web UI; `make run PORT=8080
# HOST=0.0.0.0 READ_ONLY=1` passes the options of `papertrail serve`. `make test` adds the test tools and runs the
# whole suite; `make install` sets up a developer's .venv (test tools included).
PYTHON ?= python3
HOST = 127.0.0.1
PORT = 7860
READ_ONLY =
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/pip install --disable-pip-version-check --quiet --quiet --progress-bar off
TICK = 15

# $(call step,what,command): say what starts, run the command (pip prints nothing but errors) and say every TICK
# seconds that it still runs, so minutes of installing never look hung; the command's failure is the step's.
define step
@echo "$(1)"; \
( i=0; while sleep $(TICK) </dev/null >/dev/null 2>&1; do i=$$((i + $(TICK))); echo "  still installing: $$i s"; done ) & \
ticker=$$!; $(2); status=$$?; kill $$ticker; exit $$status
endef

.PHONY: install run test eval bench clean

$(RUN_STAMP): pyproject.toml
	@echo "Installing Papertrail (first run: a few minutes)…"
	$(call step,  1/2 torch 2.13.0 (the CPU build)…,{ test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); } && $(PIP) torch==2.13.0)
	$(call step,  2/2 Papertrail and its libraries…,$(PIP) -e .)
	@touch $(RUN_STAMP)

$(TEST_STAMP): $(RUN_STAMP)
	$(call step,Installing the test tools (pytest and playwright)…,$(PIP) -e '.[test]')
	@touch $(TEST_STAMP)

install: $(TEST_STAMP)

run: $(RUN_STAMP)
	@$(BIN)/papertrail ingest
	@$(BIN)/papertrail serve --host $(HOST) --port $(PORT) $(if $(READ_ONLY),--read-only)

test: install
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } || true
	$(BIN)/python -m pytest -q

eval: $(RUN_STAMP)
	$(BIN)/papertrail eval eval/dev.jsonl --out eval/dev-results.jsonl

bench: $(RUN_STAMP)
	$(BIN)/papertrail bench

clean:
	rm -rf $(VENV) .papertrail
