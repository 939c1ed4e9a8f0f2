VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The Element member (tests/element): matrix-js-sdk from the lock file, reinstalled when the lock file changes.
ELEMENT_STAMP := tests/element/node_modules/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# --loglevel=error: the SDK declares Node >= 22; on Node 20 npm warns (member.mjs polyfills what is missing).
$(ELEMENT_STAMP): tests/element/package-lock.json
	npm ci --loglevel=error --prefix tests/element --prefer-offline --no-audit --no-fund
	touch $(ELEMENT_STAMP)

install: $(STAMP) $(ELEMENT_STAMP)

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

test: lint $(ELEMENT_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) .dev .mypy_cache .ruff_cache tests/element/node_modules
