# qunbot — two commands: `make run` (chat with the bot in the terminal) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

GATEWAY       := tests/gateway
GATEWAY_STAMP := $(GATEWAY)/node_modules/.installed

.PHONY: run test lint bench demo-wechat gateway clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,wechat]'
	@touch $(STAMP)

# The Node.js test gateway (a real Wechaty puppet service on the mock puppet), pinned by its lockfile.
$(GATEWAY_STAMP): $(GATEWAY)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(GATEWAY) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm not found: the Wechaty end-to-end tests will skip (and fail under CI=true); install Node.js 20"; \
	fi

gateway: $(GATEWAY_STAMP)

## run: set up .venv if needed and start the bot in a console chat (SQLite under data/)
run: $(STAMP)
	$(BIN)/qunbot run

## test: set up .venv if needed, then ruff and the whole pytest suite
test: $(STAMP) gateway
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
