PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS := clients/js
JS_STAMP := $(JS)/node_modules/.installed

LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --no-emit-index-url \
	--no-emit-trusted-host --no-emit-find-links --strip-extras

.PHONY: install js lock run test lint bench clean translations

# Every dependency comes from the hashed locks in requirements/ (pip refuses anything else);
# KinPass itself is then installed, without dependencies, into this virtual environment only.
$(STAMP): setup.cfg requirements/build.lock requirements/dev.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/build.lock
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The TypeScript reference client and its packages (hpke-js, tus-js-client), from the lock
# file, compiled to clients/js/dist; the test suite runs it under Node against a live server.
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json $(JS)/tsconfig.json $(wildcard $(JS)/src/*.ts)
	@command -v npm >/dev/null 2>&1 || { echo "need node and npm"; exit 1; }
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error && npx tsc -p .
	touch $(JS_STAMP)

js: $(JS_STAMP)

install: $(STAMP) $(JS_STAMP)

# Regenerate the locks from setup.cfg and requirements/build.in (after changing a dependency).
lock: $(STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements/build.lock requirements/build.in
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements/runtime.lock setup.cfg
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev -o requirements/dev.lock setup.cfg

# The console's catalogues: texts extracted from api/web, new ones added to every language's
# .po for a translator, and the .po files compiled to the .mo files the server reads.
TRANSLATIONS := api/web/translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F api/web/babel.cfg -k _l -o $(TRANSLATIONS)/messages.pot \
		--no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-location \
		--no-fuzzy-matching
	$(BIN)/pybabel compile -d $(TRANSLATIONS)

run: $(STAMP)
	$(BIN)/kinpass serve

test: $(STAMP) $(JS_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/bandit -q -c bandit.yaml -r api auth clients schemas services storage
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance *.egg-info $(JS)/node_modules $(JS)/dist
