# trailkeeper — every target builds the environment it needs first, so a fresh clone needs only `make`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt provider/requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help venv demo test lint typecheck unit clean

help:
	@echo "make demo  - run the provider on events/ against a local AWS (moto) and a local CloudFormation endpoint"
	@echo "make test  - lint, type-check and run the whole suite"

$(STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . || \
		$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

venv: $(STAMP)

demo: venv
	$(BIN)/python -m devkit.demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist *.egg-info provider/*.egg-info
