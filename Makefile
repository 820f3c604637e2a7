# trailkeeper — every target builds the environment it needs first, so a fresh clone needs only `make`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt provider/requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

# mutmut lives in .venv on top of the dev tools, under its own stamp: `make test` never installs or runs it.
MUTATE_STAMP := $(VENV)/.mutate-$(shell cat requirements-mutate.txt | cksum | cut -d' ' -f1)
MUTATE_JOBS  ?= 2
MUTANTS      ?=
MUTATE_FLAGS ?= --two-pass

SCAN_VENV  := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed-$(shell cat requirements-scan.txt | cksum | cut -d' ' -f1)

# The benchmark's peer (Cloud Custodian: c7n, c7n-org) in an environment of its own, as checkov is.
PEER_VENV  := .venv-peer
PEER_STAMP := $(PEER_VENV)/.installed-$(shell cat requirements-peer.txt | cksum | cut -d' ' -f1)

.PHONY: help venv demo test test-fast lint typecheck unit scan package render bench mutate clean

help:
	@echo "make demo  - run the provider on events/ against a local AWS (moto) and a local CloudFormation endpoint"
	@echo "make test  - lint, type-check, run the whole suite and the security scan"
	@echo "make test-fast - the loop for editing: lint, types, the suite without the whole-system tests (a minute or two)"
	@echo "make package - build the Lambda artifact (build/trailkeeper-provider.zip) and report its size"
	@echo "make render  - transform-free CloudFormation template + artifact, for service-managed StackSets"
	@echo "make bench   - what trailkeeper costs, beside its yardsticks and Cloud Custodian (bench/results.md)"
	@echo "make mutate  - mutation testing of the pure core and the CloudFormation edge (build/mutation-report.md)"

$(STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

venv: $(STAMP)

$(SCAN_STAMP):
	rm -rf $(SCAN_VENV)
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

$(PEER_STAMP):
	rm -rf $(PEER_VENV)
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/python -m pip install --quiet -r requirements-peer.txt
	touch $@

demo: venv
	$(BIN)/python -m devkit.demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# The suite on every core and one more worker (pytest-xdist; each worker its own in-process moto): a third of
# the suite waits on paced calls and timers, not the CPU (on 2 cores, 3 workers: 109 s, 2: 131 s, 4: 114 s).
# The slowest tests are named at the end.
JOBS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

unit: venv
	$(BIN)/python -m pytest -n $(JOBS) --durations=15

# The loop for editing: no wheel install, demo, benchmark, artifact or template scans (`slow` and `installs`).
test-fast: lint typecheck
	$(BIN)/python -m pytest -n $(JOBS) -m "not slow and not installs" --durations=5

# checkov on the provider template, the rendered (transform-free) template, the organization templates,
# every example and the templates for other accounts (examples/management-account/: the delegated
# administrator's event forwarding).
# Skips are declared, with a reason, in the templates themselves.
scan: $(SCAN_STAMP) render
	$(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f template.yaml -f build/trailkeeper-provider.template.json -f org-reconcile.yaml -f member-role.yaml \
		$(addprefix -f ,$(wildcard examples/*.yaml)) $(addprefix -f ,$(wildcard examples/management-account/*.yaml))

package: venv
	$(BIN)/python -m devkit.package

render: venv
	$(BIN)/python -m devkit.render

# About 25 minutes on 2 busy cores, most of it trailkeeper and Cloud Custodian side by side on one local AWS.
bench: venv $(PEER_STAMP)
	$(BIN)/python -m bench.run --peer $(PEER_VENV)

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-mutate.txt
	touch $@

# Two passes (MUTATE_FLAGS=--two-pass): every mutant against the tests without a local AWS (about two hours for
# 11,500 on 2 cores), then the survivors against every test (2-8 a minute). MUTANTS='trailkeeper.trail.tags.*'
# re-tests only those (mutant names or globs), keeping the other results of the last run.
mutate: $(MUTATE_STAMP)
	$(BIN)/python -m devkit.mutation --jobs $(MUTATE_JOBS) $(MUTATE_FLAGS) $(MUTANTS)

# The scan's own environment (checkov) installs while the suite runs: pip waits on the network, pytest on the CPU.
test: lint typecheck
	@$(MAKE) --no-print-directory -j2 unit $(SCAN_STAMP)
	@$(MAKE) --no-print-directory scan

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(PEER_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist *.egg-info provider/*.egg-info
