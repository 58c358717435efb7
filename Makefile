# Two commands for a fresh machine: `make screen` (install + main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install screen test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# torch is pinned to the local CPU build first; an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[all]"
	touch $(STAMP)

install: $(STAMP)

screen: install
	$(PY) -m nasicon_workflows.screen $(ARGS)

# The HTML report test renders report.html in headless Chromium (Debian package, installed as root).
test: install
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
