# One entry point for a fresh machine: `make demo` (the main job) and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# This machine keeps torch wheels on disk; pin them here (not in pyproject) so
# users elsewhere get whatever torch their platform needs.
TORCH  ?= torch==2.14.1 torchvision==0.29.1

.PHONY: setup data demo test bench clean

setup: $(STAMP) data

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

# System packages from Debian: the embedded default dataset (Fashion-MNIST) and
# Graphviz (`compile --to dot` renders .svg/.png with it). Skipped quietly
# where apt is unavailable (torchvision's downloader is the dataset fallback).
APT_PKGS := dataset-fashion-mnist graphviz
# Headless Chromium renders the run page in tests/test_run_page_browser.py
# (skipped without it). Installed on its own: a system without the package
# (Ubuntu ships chromium as a snap) must still get the data and Graphviz.
BROWSER_PKGS := chromium chromium-driver
data:
	@if { [ ! -d /usr/share/datasets/fashion-mnist ] || ! command -v dot >/dev/null; } \
	  && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS)) >/dev/null \
	  || echo "warning: could not install $(APT_PKGS)"; fi
	@if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	   apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS)) >/dev/null 2>&1 \
	  || echo "warning: could not install $(BROWSER_PKGS): the run page's browser test will be skipped"; fi

# The main job: a quick GEP search on Fashion-MNIST (resumes if interrupted).
demo: setup
	$(VENV)/bin/genelang check examples/genotypes/*.gene
	$(VENV)/bin/genelang evolve examples/specs/quick.yaml

test: setup
	$(PY) -m pytest -q -n 2

clean:
	rm -rf $(VENV)
