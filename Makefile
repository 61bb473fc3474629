# qunbot — two commands: `make run` (chat with the bot in the terminal) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

GATEWAY       := tests/gateway
GATEWAY_STAMP := $(GATEWAY)/node_modules/.installed

.PHONY: run test lint bench demo-wechat demo-web gateway postgres fonts browser clean

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

# A CJK font for the report charts (handlers/stats/charts.py draws Chinese with it and refuses to draw tofu):
# Debian's fonts-wqy-microhei, installed with apt when no known CJK font is there and we are root.
# The font file is the stamp: once one of these exists (or QUNBOT_CJK_FONT names a file), this does nothing.
# Keep the list in step with FONT_PATHS in handlers/stats/charts.py.
CJK_FONTS := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc \
	/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
CJK_FONT  := $(firstword $(wildcard $(QUNBOT_CJK_FONT) $(CJK_FONTS)))

fonts:
ifeq ($(CJK_FONT),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing a CJK font (Debian's fonts-wqy-microhei) for the report charts"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null 2>&1 \
		  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null; }; } \
		|| echo "fonts-wqy-microhei could not be installed: the chart tests will skip (and fail under CI=true)"; \
	else \
		echo "no CJK font: the report charts cannot be drawn and their tests skip (fail under CI=true); run 'sudo apt-get install fonts-wqy-microhei' or set QUNBOT_CJK_FONT"; \
	fi
else
	@:
endif

# A real browser for the web-console tests (tests/browser_harness.py drives it with Playwright): Debian's
# chromium, installed with apt when missing and we are root (`playwright install` cannot download here).
# The installed binary is the stamp: once one of these exists (or QUNBOT_CHROMIUM names one), this does nothing.
# Keep the list in step with CHROMIUM_PATHS in tests/browser_harness.py.
CHROMIUM := $(firstword $(wildcard $(QUNBOT_CHROMIUM) /usr/bin/chromium /usr/bin/chromium-browser))

browser:
ifeq ($(CHROMIUM),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing a browser (Debian's chromium) for the web-console tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
		  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; } \
		|| echo "chromium could not be installed: the browser tests will skip (and fail under CI=true)"; \
	else \
		echo "no chromium: the browser tests skip (fail under CI=true); run 'sudo apt-get install chromium'"; \
	fi
else
	@:
endif

## run: set up .venv if needed and start the bot in a console chat (SQLite under data/)
run: $(STAMP) fonts
	$(BIN)/qunbot run

## test: set up .venv, the test gateway, PostgreSQL, a CJK font and chromium if needed, then ruff and all of pytest
test: $(STAMP) gateway postgres fonts browser
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

## demo-web: a demo database (a few groups, a month of replayed events) and the web console on it (prints URL and token)
demo-web: $(STAMP) fonts
	$(BIN)/python scripts/demo_web.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
