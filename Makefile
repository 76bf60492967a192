PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --no-emit-index-url \
	--no-emit-trusted-host --no-emit-find-links --strip-extras

.PHONY: install lock run test lint bench clean

# Every dependency comes from the hashed locks in requirements/ (pip refuses anything else);
# KinPass itself is then installed, without dependencies, into this virtual environment only.
$(STAMP): setup.cfg requirements/build.lock requirements/dev.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/build.lock
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Regenerate the locks from setup.cfg and requirements/build.in (after changing a dependency).
lock: $(STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements/build.lock requirements/build.in
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements/runtime.lock setup.cfg
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev -o requirements/dev.lock setup.cfg

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
	rm -rf $(VENV) instance *.egg-info
