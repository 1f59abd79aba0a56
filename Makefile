# Everything a fresh machine needs, in one place. `make run` and `make test` are the README's
# quick start; both create .venv and build the Rust parts on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hybridbench-installed
UV_PIP := $(BIN)/uv pip install --python $(BIN)/python --quiet
# uv into the venv by the outer Python's pip (pip >= 22.3 installs into another environment
# with --python), else by the venv's own pip after ensurepip: the venv is made without pip,
# which uv then installs, in a second instead of ensurepip's five
UV_BOOTSTRAP := { test -x $(BIN)/uv || $(PYTHON) -m pip --python $(BIN)/python install --quiet uv 2>/dev/null || { $(BIN)/python -m ensurepip --default-pip >/dev/null && $(BIN)/python -m pip install --quiet uv; }; }
NATIVE := $(shell find native -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name '*.h' 2>/dev/null | grep -v /target/)
PROTO  := $(wildcard proto/*.proto)
GO_SRC := $(shell find go -name '*.go' -o -name 'go.mod' -o -name 'go.sum' 2>/dev/null)
# the Go steps run where `go` is on PATH (the install then builds grpc-go's server too)
HAVE_GO := $(shell command -v go 2>/dev/null)
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`: two per core (0 runs the suite in one process). Most
# tests wait on servers, worker processes and measurement windows, so a core's second worker
# runs while the first waits: on 2 cores `make test` took 276 s with four workers against 314 s
# with two, the same 504 s of CPU, load 1.1-1.2 (issue 22)
PYTEST_WORKERS ?= $(shell echo $$((2 * $$(nproc 2>/dev/null || echo 1))))
# Python writes its bytecode caches (__pycache__) in what this Makefile starts, even where the
# caller's environment sets PYTHONDONTWRITEBYTECODE (this machine's does): with it set, each of
# the ~340 Python processes of `make test` (workers, servers, CLI runs, pytest's own) compiled
# hybridbench's sources again, and scipy's and matplotlib's (uv installs no bytecode): a
# worker's imports took 0.38 s of CPU against 0.21 s cached, `import scipy.stats` 1.8 s
# against 1.0 s, and pytest rewrote every test module's asserts in each xdist worker (issue 22)
unexport PYTHONDONTWRITEBYTECODE

# Every step below is a stage of scripts/stages.py: it prints its time and the load average at
# its start, and .ci/run puts them all in one table (README "Tests", "CI").
STAGE  := $(PYTHON) scripts/stages.py run
# `make test`'s cargo test: the release profile, the install's own (no LTO), so that the test
# build reuses the dependencies `make install` compiled (native/Cargo.toml); one invocation for
# the whole workspace, timed per crate. For a Rust edit loop, CARGO_TEST_ARGS="--profile
# release-tests --workspace --tests" rebuilds incrementally (2 s after a touch). `--tests`, not
# `--lib --bins`: those name targets explicitly, which builds them in test mode even where
# Cargo.toml says `test = false` (the crates' unit tests compile in native/unit-tests instead).
CARGO_TEST_ARGS ?= --release --workspace --tests

.PHONY: install run test test-fast test-rust lint clean go-server go-proto images images-prebuilt

install: $(STAMP)

# Five steps, each announced and timed (the first build is long and must not look like a hang):
# the venv; the Python dependencies without the native parts; then three at once: the Rust
# artefacts (pip -v, so that cargo's "Compiling ..." lines show), the Go server and pillow-simd.
# The last two need only what step 2 installed, and the Rust build leaves a core idle for much
# of its time (build scripts, the last crates of one codegen unit each), so they run beside it
# and print their output after it (README "Where the time goes").
# Step 2 installs with uv (README "Dependencies"): the same requirements into the same venv,
# resolved and unpacked in parallel, 7 s here against pip's 24 s; it upgrades the venv's pip
# too. pip stays for the Rust step (its --verbose shows cargo's progress) and for pillow-simd
# (its wheel cache keeps the build).
# The build requirements of pyproject.toml's [build-system] go into the venv with the
# dependencies, and both pip installs of hybridbench build without isolation: pip would
# otherwise make and fill a fresh build environment (setuptools-rust, grpcio-tools...) for each.
# HYBRIDBENCH_SKIP_GO=separate keeps the Go build out of the two pip steps and leaves its
# output alone: the Go stage (beside the Rust one) writes the binary, or why there is none, as
# setup.py's build_py would.
# pillow-simd goes in by force: matplotlib and others depend on "pillow", which would otherwise
# replace it (both install as PIL); pip's wheel cache keeps the wheel it compiles, so a second
# clone on the same machine installs it in seconds. The check at the end fails the install if
# the plain Pillow is what Python imports.
$(STAMP): pyproject.toml setup.py $(NATIVE) $(PROTO) $(GO_SRC) $(wildcard backends/ffi/_build.py)
	@echo "==> [1/5] Python virtual environment in $(VENV)"
	$(STAGE) "install: venv" -- sh -c 'test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)'
	@echo "==> [2/5] hybridbench and its Python dependencies (uv, quiet; seconds)"
	$(STAGE) "install: Python dependencies" -- sh -c '$(UV_BOOTSTRAP) && $(UV_PIP) --upgrade pip $$($(BIN)/python scripts/build_requires.py) && HYBRIDBENCH_SKIP_NATIVE=1 HYBRIDBENCH_SKIP_GO=separate $(UV_PIP) --no-build-isolation -e ".[dev]"'
	@echo "==> [3-5/5] at once: the Rust artefacts (cargo's progress below), the Go server and pillow-simd"
	@echo "    (their output follows the Rust build's; one cargo build --release of native/, some 120 crates:"
	@echo "    minutes on 2 cores the first time, seconds afterwards; pip is verbose so that cargo's progress shows)"
	@logs=$(VENV)/install-logs; mkdir -p $$logs; \
	$(STAGE) "install: Go server" -- $(BIN)/python scripts/build_go.py >$$logs/go.log 2>&1 & go=$$!; \
	$(STAGE) "install: pillow-simd" -- $(BIN)/python -m pip install --quiet --force-reinstall --no-deps pillow-simd >$$logs/pillow-simd.log 2>&1 & pillow=$$!; \
	$(STAGE) "install: Rust artefacts" -- env HYBRIDBENCH_SKIP_GO=separate $(BIN)/python -m pip install --verbose --no-deps --no-build-isolation -e .; rust=$$?; \
	wait $$go; go=$$?; wait $$pillow; pillow=$$?; \
	echo "==> [4/5] the Go server (go build, if Go is here)"; cat $$logs/go.log; \
	echo "==> [5/5] pillow-simd in place of Pillow"; cat $$logs/pillow-simd.log; \
	test $$rust = 0 && test $$go = 0 && test $$pillow = 0
	$(BIN)/python -c "import PIL, importlib.metadata as m; m.version('pillow-simd'); print('PIL', PIL.__version__, 'from pillow-simd')"
	touch $(STAMP)
	@echo "==> installed; 'make run' measures (about 17 minutes on 2 cores), 'make test' tests"

## the main job: every available backend on every workload; results/run-*.json, its report
## reports/run-*.html, and the run index reports/index.html
run: install
	@echo "==> hybridbench run: every available backend on every workload (about 17 minutes on 2 cores)"
	$(BIN)/hybridbench run

## the whole test suite (Python, with the real Rust library and Rust/Go servers; then cargo test
## and go test). Checks kept out of it are listed in README "Tests" (the long fuzz runs, for one).
# The cargo test binaries build beside pytest at the lowest priority (nice 19): many tests
# wait (on servers, signals, timeouts) and leave a core idle, which the build takes; pytest's
# own processes keep the CPU whenever they want it. The build's output follows pytest's
# (.venv/test-logs); test-rust then finds the binaries built and only runs them. A test that
# builds a plug-in in the shared target directory waits for cargo's lock meanwhile.
test: install
	@logs=$(VENV)/test-logs; mkdir -p $$logs; \
	(cd native && nice -n 19 $(PYTHON) ../scripts/cargo_tests.py --build-only $(CARGO_TEST_ARGS)) \
	  >$$logs/cargo-build.log 2>&1 & build=$$!; \
	$(STAGE) pytest -- $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); pytest=$$?; \
	wait $$build; echo "==> cargo test's build, beside pytest:"; tail -n 20 $$logs/cargo-build.log; \
	test $$pytest = 0
	$(MAKE) --no-print-directory test-rust
ifdef HAVE_GO
	$(STAGE) "go test" -- sh -c 'cd go && go test ./...'
endif

## cargo test of the whole workspace: the build of the test binaries (sharing the install's), then each crate's tests
test-rust:
	cd native && $(PYTHON) ../scripts/cargo_tests.py $(CARGO_TEST_ARGS)

## the edit-test loop: the Python tests not marked slow, over the cores (under 90 s)
test-fast: install
	$(STAGE) "pytest (not slow)" -- $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

lint: install
	$(STAGE) "lint: ruff" -- $(BIN)/ruff check .
	$(STAGE) "lint: mypy" -- $(BIN)/mypy
	$(STAGE) "lint: clippy" -- sh -c 'cd native && cargo clippy --release --all-targets --quiet -- -D warnings'
ifdef HAVE_GO
	$(STAGE) "lint: go vet, gofmt" -- sh -c 'cd go && go vet ./... && test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }'
endif

## rebuild the Go engine's server into the package (pip install does it too)
go-server:
	$(BIN)/python backends/grpc/_gobuild.py

## regenerate go/internal/pb from proto/ with the pinned generators (the result is committed)
go-proto: install
	PYTHON=$(BIN)/python bash go/scripts/genproto.sh

## the deploy images hybridbench-server and hybridbench-client (README "Containers"): the
## servers compiled inside docker build from this repository (minutes on 2 cores), with local
## stand-ins for the public base images where the registry cannot be reached
images:
	$(STAGE) "images (from source)" -- $(PYTHON) scripts/images.py --artefacts source

## the same images around this checkout's release build (make install): seconds, no compiler
images-prebuilt: install
	$(STAGE) "images (prebuilt)" -- $(BIN)/python scripts/images.py --artefacts prebuilt

## the sdist and the wheel in dist/ (python -m build, the wheel built from the sdist), for a
## pip install elsewhere; without build isolation, and in the install's cargo target directory,
## where every crate is already fresh: seconds, not the minutes of a first Rust build
.PHONY: dist
dist: install
	CARGO_TARGET_DIR=$(CURDIR)/native/target $(BIN)/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info native/target
