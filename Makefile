# volcdet: every target creates .venv when missing and installs the pinned environment
# (with uv, pinned in constraints.txt: ~4x faster than pip; pip if uv fails).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.volcdet-installed
CORES  ?= all

.PHONY: install demo seeds test bench lint format clean test-cluster reference-model

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]' \
		|| $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install volcdet with pinned dependencies

demo: $(STAMP)  ## run the default workflow (embedded demo region) end to end
	$(BIN)/snakemake --cores $(CORES)

seeds: $(STAMP)  ## on request: train and evaluate every seed of `seeds`, then results/tables/seeds_summary.md
	$(BIN)/snakemake --cores $(CORES) seeds_summary

REFERENCE_RUN := build/reference

reference-model: $(STAMP)  ## train the shipped reference model (config/reference.yaml; ~30 min alone on 2 CPU cores)
	$(BIN)/snakemake --cores $(CORES) --directory $(REFERENCE_RUN) \
		--configfile $(CURDIR)/config/config.yaml $(CURDIR)/config/reference.yaml -- reference_model
	install -m 644 $(REFERENCE_RUN)/results/reference/model.pt src/volcdet/models/reference.pt
	@sha256sum src/volcdet/models/reference.pt

test: $(STAMP)  ## unit tests + an end-to-end Snakemake run on a tiny config
	$(BIN)/pytest

bench: $(STAMP)  ## benchmarks; figures go to BENCHMARKS.md by hand
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)  ## ruff, snakefmt, the Snakemake linter and mypy (levels in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt Snakefile workflow/rules

clean:  ## remove results (keeps .venv and data)
	rm -rf results .snakemake

test-cluster: $(STAMP)  ## as root: one-node SLURM on localhost, tiny workflow through profiles/slurm
	bash tests/cluster/run_slurm_e2e.sh
