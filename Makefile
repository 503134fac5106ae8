# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/truancy demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot follow setuptools' editable import hook, so it reads the layers through a link tree
# that mirrors the installed namespace (build/typecheck/truancy/<layer> -> <layer>/).
typecheck: $(TEST_STAMP)
	mkdir -p build/typecheck/truancy
	for layer in connector mappings plugins daemon sandbox; do \
		ln -sfn ../../../$$layer build/typecheck/truancy/$$layer; done
	$(BIN)/mypy build/typecheck/truancy tests bench

check: lint typecheck test

bench: $(TEST_STAMP)
	$(BIN)/python bench/sync_bench.py --students 20000

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
