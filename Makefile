# Every target sets itself up on a fresh machine: a virtual environment installed from the
# pinned constraints, then the command. The embedded Neo4j is fetched by `sybilgraph` itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Every Python process here imports ~900 modules (Dagster, pandas, pyarrow). Where the environment
# sets PYTHONDONTWRITEBYTECODE (this project's CI machines do), each process compiled them all from
# source again: 3-4 s per process, every CLI call, test subprocess and Dagster code server. The
# compiled files go to a cache inside the virtual environment instead (`make clean` drops it; the
# checkout stays free of __pycache__ folders).
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/$(VENV)/pycache

.PHONY: demo test bench dagster neo4j-stop lock browser-deps clean

# Fetching the Neo4j server (Maven, network-bound, standard-library Python) runs in the
# background while pip installs; `sybilgraph` fetches (or waits for this fetch) itself anyway,
# and reports any error, so a failed prefetch only costs its time.
PREFETCH_NEO4J = mkdir -p .sybilgraph && { $(PYTHON) -m pipelines.neo4j_server fetch >.sybilgraph/prefetch.log 2>&1 & }

# uv (pinned in constraints.txt) installs the pinned set: on 2 busy cores it takes ~30 s where
# pip took 2-7 minutes (pip's resolver and unpacking are CPU-bound), which is most of the
# demo's "under 5 minutes from a fresh machine" budget.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'
	@touch $@

## The main job on the embedded default: Neo4j up, demo world, whole pipeline, top campaigns.
# No `wait` for the prefetch here: the demo generates its world while the fetch finishes
# (its own fetch waits on the prefetch's lock before starting Neo4j).
demo:
	@$(PREFETCH_NEO4J); $(MAKE) --no-print-directory $(STAMP) && $(BIN)/sybilgraph demo

## The whole test suite against a real Neo4j (started and stopped by the test session).
## Its temporary files (worlds, Dagster run storage, the test Neo4j's store) go to the RAM disk
## /dev/shm when the machine has one: every pipeline run commits hundreds of small SQLite and
## Neo4j transactions, each an fsync, and on a busy disk those waits were a large share of the
## suite's wall time. PYTEST_ARGS adds pytest arguments (e.g. -m soak).
## Only with 4 GB free there: containers often have a 64 MB /dev/shm, which the suite would fill.
TEST_TMPDIR := $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && \
  [ "$$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $$4}')" -gt 4194304 ] 2>/dev/null && echo /dev/shm)
test:
	@$(PREFETCH_NEO4J); $(MAKE) --no-print-directory $(STAMP) browser-deps && wait && \
	  $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) $(BIN)/python -m pytest $(PYTEST_ARGS)

## Dagster UI on 127.0.0.1:3000 against the embedded Neo4j.
dagster: $(STAMP)
	$(BIN)/sybilgraph dagster-dev

bench: $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/run_all.py

neo4j-stop: $(STAMP)
	$(BIN)/sybilgraph neo4j stop

## Debian's Chromium for the browser tests (nothing downloads its own browser).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## Re-pin every dependency after changing pyproject.toml.
lock:
	$(BIN)/uv pip install --quiet --python $(BIN)/python --upgrade uv -e '.[dev,bench]'
	$(BIN)/uv pip freeze --python $(BIN)/python --exclude-editable | grep -vi '^sybilgraph' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
