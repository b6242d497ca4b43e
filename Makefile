# Two commands on a fresh machine:
#   make serve   installs into .venv, migrates, loads demo data once, starts the server
#   make test    installs into .venv (and Chromium, ffmpeg, coturn when missing), runs the whole test suite
PY      := .venv/bin/python
STAMP   := .venv/.installed
DATA    ?= var
HOST    ?= 127.0.0.1
PORT    ?= 8080
SEED    ?= 1
SCALE   ?= small

.PHONY: serve test lint bench system-deps clean

$(STAMP): pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps

# The demo prints join links for the address the server will listen on: both read RC_HOST / RC_PORT.
serve: export RC_HOST = $(HOST)
serve: export RC_PORT = $(PORT)
serve: $(STAMP)
	.venv/bin/remote-check --data-dir $(DATA) db upgrade
	.venv/bin/remote-check --data-dir $(DATA) demo --seed $(SEED) --scale $(SCALE) --if-empty
	.venv/bin/remote-check --data-dir $(DATA) serve

test: $(STAMP) system-deps
	.venv/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: $(STAMP)
	for b in bench/*.py; do m=$$(basename $$b .py); echo "== bench.$$m"; $(PY) -m bench.$$m || exit 1; done

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache
