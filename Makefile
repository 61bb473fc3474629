# qunbot — two commands: `make run` (chat with the bot in the terminal) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

GATEWAY       := tests/gateway
GATEWAY_STAMP := $(GATEWAY)/node_modules/.installed

.PHONY: run test lint bench demo-wechat gateway postgres clean

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,wechat,postgres]'
	@touch $(STAMP)

# The Node.js test gateway (a real Wechaty puppet service on the mock puppet), pinned by its lockfile.
$(GATEWAY_STAMP): $(GATEWAY)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(GATEWAY) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the Wechaty end-to-end tests will skip (and fail under CI=true); install Node.js 20"; \
	fi

gateway: $(GATEWAY_STAMP)

# PostgreSQL server binaries for the tests against a real server (tests/pg_harness.py starts a
# throwaway cluster from them): Debian's postgresql, installed with apt when missing and we are root.
# The installed pg_ctl is the stamp: once it is there, this does nothing.
PG_CTL := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_ctl))

postgres:
ifeq ($(PG_CTL),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing PostgreSQL (Debian's postgresql) for the database tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } \
		|| echo "PostgreSQL could not be installed: its tests will skip (and fail under CI=true)"; \
	else \
		echo "PostgreSQL not installed: its tests will skip (fail under CI=true); run 'sudo apt-get install postgresql'"; \
	fi
else
	@:
endif

## run: set up .venv if needed and start the bot in a console chat (SQLite under data/)
run: $(STAMP)
	$(BIN)/qunbot run

## test: set up .venv, the test gateway and PostgreSQL if needed, then ruff and the whole pytest suite
test: $(STAMP) gateway postgres
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## bench: the throughput benchmark (prints figures)
bench: $(STAMP)
	$(BIN)/python bench/replay_throughput.py

## demo-wechat: the real protocol without an account: mock gateway + bot + a scripted conversation
demo-wechat: $(STAMP) gateway
	$(BIN)/python scripts/demo_wechat.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
