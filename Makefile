# The two entry points: `make run` (set up, then start the app) and `make test` (set up,
# then lint and run the whole test suite). Both create .venv on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= localhost
PORT ?= 8501

.PHONY: run test setup system-packages lint format clean-cache

run: setup
	$(VENV)/bin/streamlit run app.py --server.address $(HOST) --server.port $(PORT)

test: setup system-packages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@# Debian's python3 needs python3-venv for virtual environments.
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || sh scripts/system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Optional system packages the tests use: Debian's Fashion-MNIST files and Chromium for
# the real-browser test. Installed when this is a Debian machine and we may use apt;
# the tests that need them skip with a reason otherwise.
system-packages:
	@sh scripts/system-packages.sh

lint:
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean-cache:
	find cache -mindepth 1 ! -name .gitkeep -delete
