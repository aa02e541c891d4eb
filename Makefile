# One command to run the app, one to run the tests; both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench lint install chromium

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## set up and serve the app on http://127.0.0.1:7860
	$(PY) app.py

chromium:  ## Debian's Chromium for the browser tests (needs root or sudo)
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get install -y -q chromium; fi; }

test: $(STAMP) chromium  ## set up and run the whole default test suite (two processes, a file each)
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: $(STAMP)  ## library and API tests that neither train for long, start jobs nor open a browser
	$(PY) -m pytest -q -m "not browser and not slow" -n 2 --dist loadfile

bench: $(STAMP) chromium  ## print the benchmark figures recorded in BENCHMARKS.md
	$(PY) bench/run_all.py

lint: $(STAMP)  ## pyflakes and pycodestyle checks (settings in pyproject.toml)
	$(VENV)/bin/ruff check .
