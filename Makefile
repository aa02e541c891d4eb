# One command to run the app, one to run the tests; both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-all test-fast bench lint install system-deps

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## set up and serve the app on http://127.0.0.1:7860
	$(PY) app.py

# What the tests read from Debian: Chromium for the browser tests, Fashion-MNIST for the fashion data set,
# Noto CJK so the page's Chinese renders in the browser and the server draws Chinese figures (docs/hosting.md).
system-deps:  ## Debian packages the tests need, installed when missing (needs root or sudo)
	@missing=""; \
	  test -x /usr/bin/chromium || missing="$$missing chromium"; \
	  test -d /usr/share/datasets/fashion-mnist || missing="$$missing dataset-fashion-mnist"; \
	  test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || missing="$$missing fonts-noto-cjk"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	    else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi; \
	  fi

# The default suite (what CI runs) stays under 10 minutes on 2 cores; `extended` tests (pytest.ini) add about
# two more: run them before a release or after changing what they cover.
test: $(STAMP) system-deps  ## set up and run the default test suite (two processes, a file each)
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not extended"

test-all: $(STAMP) system-deps  ## the default suite and the extended tests (pytest.ini says which)
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: $(STAMP)  ## library and API tests that neither train for long, start jobs nor open a browser
	$(PY) -m pytest -q -m "not browser and not slow and not extended" -n 2 --dist loadfile

# Every bench in bench/ with the options of BENCHMARKS.md's figures; only the helper modules other benches import
# are left out (bench/run_all.py's HELPERS says which and why). `make bench BENCH_OPTIONS=--quick` is a smoke run.
bench: $(STAMP) system-deps  ## run every benchmark and print the figures recorded in BENCHMARKS.md
	$(PY) bench/run_all.py $(BENCH_OPTIONS)

lint: $(STAMP)  ## pyflakes and pycodestyle checks (settings in pyproject.toml)
	$(VENV)/bin/ruff check .
