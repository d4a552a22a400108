# kerasdl: `make run` and `make test` build .venv when needed, then do their job.
PYTHON ?= python3
BACKEND ?= jax
PROFILE ?= full
OUT ?= runs

.PHONY: env run test lint lab doctor clean exercises grade

env:
	@PYTHON=$(PYTHON) bash tools/setup_env.sh

run: env  ## every chapter on $(BACKEND) with papermill, then a report in $(OUT)/
	.venv/bin/kerasdl run chapters --backend $(BACKEND) --profile $(PROFILE) --out $(OUT)

test: env  ## the whole suite once per backend (quick profile), with timings
	@bash tools/system_packages.sh
	@bash tools/test_matrix.sh

lint: env  ## ruff: lint and format check of the Python files and the notebooks (make test runs it first)
	.venv/bin/ruff check kerasdl tests tools
	.venv/bin/ruff format --check kerasdl tests tools
	.venv/bin/ruff check --config tools/ruff_notebooks.toml chapters solutions exercises
	.venv/bin/ruff format --check --config tools/ruff_notebooks.toml chapters solutions exercises

lab: env  ## JupyterLab on the chapters; pick a kerasdl kernel to choose the backend
	.venv/bin/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root)

doctor: env
	.venv/bin/kerasdl doctor

clean:
	rm -rf $(OUT)

exercises: env  ## regenerate exercises/ from solutions/ (never overwrites an edited exercise)
	.venv/bin/kerasdl exercises build

grade: env  ## grade the exercises you edited: make grade BACKEND=torch
	.venv/bin/kerasdl grade exercises --backend $(BACKEND)
