VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# With ./config.toml (or $$COMMUNITY_BOT_CONFIG) run against that homeserver; otherwise start a local one.
run: $(STAMP)
	@if [ -n "$$COMMUNITY_BOT_CONFIG" ] || [ -f config.toml ]; then \
		$(VENV)/bin/community-bot run; \
	else \
		$(PY) -m bot.devserver; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bot commands storage tests benchmarks timephrases

test: lint
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) .dev .mypy_cache .ruff_cache
