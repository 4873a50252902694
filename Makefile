# Two commands matter: `make reports` and `make test`. Both set up .venv on first use
# and are quick no-ops for the setup part afterwards.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Worker count for the test suite; CI machines have 2 cores.
TEST_WORKERS ?= 2

.PHONY: setup reports test lint lab bench clean-reports sample

setup: $(STAMP)

# Reinstall only when the dependency list changes. uv (installed into the venv by pip)
# does the heavy install in seconds; the kernel spec goes into the venv (--sys-prefix),
# never into the user's global Jupyter directory.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (toolkit)" > /dev/null
	touch $(STAMP)

reports: $(STAMP)
	$(BIN)/python -m toolkit run --all

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval-lax -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests benchmarks
	$(BIN)/ruff format --check toolkit tests benchmarks

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

# Reference libraries for the side-by-side benchmarks (never runtime dependencies).
bench: $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,bench]'
	@echo "Run a benchmark with: $(BIN)/python benchmarks/<name>.py"

# Regenerate the committed sample extract (deterministic for a given seed).
sample: $(STAMP)
	$(BIN)/python -m toolkit.synth --seed 7 --defects --out data_samples/medtech_demo

clean-reports:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
