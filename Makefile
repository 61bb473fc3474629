# qunbot — two commands: `make run` (chat with the bot in the terminal) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## run: set up .venv if needed and start the bot in a console chat (SQLite under data/)
run: $(STAMP)
	$(BIN)/qunbot run

## test: set up .venv if needed, then ruff and the whole pytest suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## bench: the throughput benchmark (prints figures)
bench: $(STAMP)
	$(BIN)/python bench/replay_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
