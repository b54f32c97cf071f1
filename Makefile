# Two entry points for a fresh machine: `make demo` (set up, ingest the sample corpus, research)
# and `make test` (set up, lint, run the suite). Both create and reuse .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
# The demo keeps its database apart from a user's own corpus.
DEMO_DATA ?= $(CURDIR)/.quarry-demo

# The suite runs on one pytest-xdist worker per core, at most four (each worker loads torch and the
# embedding model and starts its own embedded PostgreSQL cluster), a test file's tests on one worker
# so its module fixtures are built once. PYTEST_WORKERS=0 runs it in this one process.
PYTEST_WORKERS ?= auto
PYTEST = $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --maxprocesses=4 --dist loadfile

.PHONY: setup demo lint test test-fast bench lock clean

setup: $(STAMP)

# torch is installed first, pinned to the CPU build, so no dependency can pull a multi-GB CUDA build.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	QUARRY_DATA_DIR=$(DEMO_DATA) $(BIN)/quarry ingest examples/corpus
	QUARRY_DATA_DIR=$(DEMO_DATA) $(BIN)/quarry ask "Who leads the team that owns the service that failed in the March 2024 settlement outage?"

# Formatting, lint, types (mypy --strict) and the import-layer contract (agent -> graph -> tools -> corpus).
lint: $(STAMP)
	BIN=$(BIN) .ci/lint

test: lint
	$(PYTEST)

# Everything but the soak and crash loops (@pytest.mark.slow), for a quicker local check; CI runs `make test`.
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench.bench_ingest
	$(BIN)/python -m bench.bench_budget
	$(BIN)/python -m bench.bench_cache
	$(BIN)/python -m bench.bench_assets
	$(BIN)/python -m bench.bench_load
	$(BIN)/python -m bench.bench_faults
	$(BIN)/python -m bench.bench_rls
	$(BIN)/python -m bench.bench_cold_start

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^torch==' > requirements.lock.tmp
	{ echo "# Exact versions of every package Quarry installs (direct and transitive), for reproducible set-up."; \
	  echo "# Regenerate: make lock"; cat requirements.lock.tmp; echo "torch==2.13.0"; } > requirements.lock
	rm requirements.lock.tmp

clean:
	rm -rf $(VENV) $(DEMO_DATA) .pytest_cache
