# Two entry points that work on a fresh machine: `make run` and `make test`.
# Each creates or updates .venv idempotently (reinstalls only when a requirements file changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench load lint clean-venv test-services

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-timm.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$${PORT:-8000} wsgi:app

# Services the tests start themselves: redis-server (the Redis crop store's contract tests) and
# headless Chromium with its driver (the page's browser tests). Installed from Debian if missing.
test-services:
	@command -v redis-server >/dev/null && command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			redis-server chromium chromium-driver >/dev/null; }

test: $(VENV)/.dev-deps test-services
	$(BIN)/python -m pytest

bench: $(VENV)/.dev-deps
	$(BIN)/python bench/run.py

# About 70 s of overload on loopback; kept out of `make test` for time.
load: $(VENV)/.dev-deps
	$(BIN)/python bench/load.py

lint: $(VENV)/.dev-deps
	$(BIN)/python -m flake8 ananacare tests bench wsgi.py gunicorn.conf.py

clean-venv:
	rm -rf $(VENV)
