PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS := clients/js
JS_STAMP := $(JS)/node_modules/.installed

.PHONY: install js run test lint bench clean

$(STAMP): setup.cfg
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The TypeScript reference client and its packages (hpke-js, tus-js-client), from the lock
# file, compiled to clients/js/dist; the test suite runs it under Node against a live server.
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json $(JS)/tsconfig.json $(wildcard $(JS)/src/*.ts)
	@command -v npm >/dev/null 2>&1 || { echo "need node and npm"; exit 1; }
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error && npx tsc -p .
	touch $(JS_STAMP)

js: $(JS_STAMP)

install: $(STAMP) $(JS_STAMP)

run: $(STAMP)
	$(BIN)/kinpass serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/bandit -q -c bandit.yaml -r api auth clients schemas services storage
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance *.egg-info $(JS)/node_modules $(JS)/dist
