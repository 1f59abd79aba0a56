# Everything a fresh machine needs, in one place. `make run` and `make test` are the README's
# quick start; both create .venv and build the Rust parts on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hybridbench-installed
NATIVE := $(shell find native -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name '*.h' 2>/dev/null | grep -v /target/)
PROTO  := $(wildcard proto/*.proto)
PYTEST_ARGS ?=

.PHONY: install run test test-fast lint clean

install: $(STAMP)

# pillow-simd goes in last, by force and without the wheel cache: matplotlib and others depend
# on "pillow", which would otherwise replace it (both install as PIL). The check at the end
# fails the install if the plain Pillow is what Python imports.
$(STAMP): pyproject.toml setup.py $(NATIVE) $(PROTO) $(wildcard backends/ffi/_build.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps --no-cache-dir pillow-simd
	$(BIN)/python -c "import PIL, importlib.metadata as m; m.version('pillow-simd'); print('PIL', PIL.__version__, 'from pillow-simd')"
	touch $(STAMP)

## the main job: every available backend on every workload; results/ and reports/index.html
run: install
	$(BIN)/hybridbench run

## the whole test suite (Python, with the real Rust library and servers; then cargo test)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	cd native && cargo test --release --quiet --lib --bins --tests

## the fast subset for the edit-test loop
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy hybridbench backends workloads
	cd native && cargo clippy --release --all-targets --quiet -- -D warnings

clean:
	rm -rf $(VENV) build *.egg-info native/target
