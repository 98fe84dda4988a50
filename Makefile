# SEAL — the two commands: `make run` (serve the app) and `make test` (the whole suite).
# Everything they need is installed here; only package installation touches the network.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
STAMP  := $(VENV)/.seal-installed
TESTSTAMP := $(VENV)/.seal-test-installed
STORE  ?= $(or $(SEAL_DB),data/seal.duckdb)

.PHONY: install store run test browser java bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(TESTSTAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(STAMP)

# The store is built from what works offline (the EcoLogits package, the project's fact tables and
# fitted artifacts) when missing; `seal data pull` adds the downloaded benchmark sources.
store: install
	@$(BIN)/seal data init --if-missing

run: store
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true

# Debian's chromium for the end-to-end browser test, when absent and apt-get is allowed (root).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser test..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the browser test will skip (fail under CI=true)"; \
	else echo "note: chromium absent and apt-get not allowed; the browser test will skip (fail under CI=true)"; fi

# Debian's Java 17 runtime for the Spark local-mode test, when absent and apt-get is allowed (root).
java:
	@if command -v java >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's openjdk-17-jre-headless for the Spark test..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	    || echo "warning: could not install openjdk-17-jre-headless; the Spark test will skip (fail under CI=true)"; \
	else echo "note: java absent and apt-get not allowed; the Spark test will skip (fail under CI=true)"; fi

test: $(TESTSTAMP) store browser java
	$(BIN)/python -m pytest -q

bench: $(TESTSTAMP) store
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
