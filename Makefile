# Two commands for a fresh machine:  make demo   and   make test
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out
BENCH_ARGS ?=

.PHONY: demo test check lint types unit install bench clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PY) not found); set PY=python3"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/avellino demo --out $(DEMO_OUT)
	@echo "Briefing written to $(DEMO_OUT)/briefing.html"
	@echo "Workbench: $(BIN)/avellino serve -w $(DEMO_OUT)/workspace --port 8443  then open http://127.0.0.1:8443/"
	@echo "  demo logins (demo-analyst, demo-supervisor, demo-dpo) and their password: $(DEMO_OUT)/workspace/workbench-login.txt"

lint: $(STAMP)
	$(BIN)/ruff format --check avellino tests benchmarks
	$(BIN)/ruff check avellino tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile   # two workers (2 cores); a test file stays in one worker

test: lint types unit

check: test

# Quick figures from every benchmark (one JSON object); make bench BENCH_ARGS=--full for the documented runs.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
