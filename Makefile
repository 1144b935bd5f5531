# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# --no-compile: Python compiles the modules it imports on first use, not all of every package
# (plotly alone has thousands), which halves the install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Label Studio for the real-server pull test (tests/etl/test_pull_labelstudio_server.py), in
# its own virtual environment: it is no dependency of Crowdmeter's. sentry-sdk 3 (2026-12)
# refuses the options Label Studio 1.23 starts it with, so the server would not start.
LS_VENV ?= .venv-labelstudio

.PHONY: demo test bench fuzz clean chromedriver labelstudio

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -e '.[test]'
	touch $(VENV)/.installed $@

# Debian's chromium and chromium-driver for the browser tests (never a downloaded browser).
chromedriver:
	@command -v chromedriver >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and chromium-driver"; \
	  apt-get update -q && apt-get install -y -q chromium chromium-driver; }

$(LS_VENV)/bin/label-studio:
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install --quiet --no-compile 'label-studio>=1.20,<2' 'sentry-sdk<3'

labelstudio: $(LS_VENV)/bin/label-studio

demo: $(VENV)/.installed
	$(BIN)/crowdmeter demo

test: $(VENV)/.installed-test chromedriver labelstudio
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

# The long run of the hostile-file test: thousands of mutants a format of the real samples.
fuzz: $(VENV)/.installed-test
	$(BIN)/python -m bench.bench_hostile --mutants 5000

clean:
	rm -rf $(VENV) $(LS_VENV) data
