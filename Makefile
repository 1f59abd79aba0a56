# Everything a fresh machine needs, in one place. `make run` and `make test` are the README's
# quick start; both create .venv and build the Rust parts on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hybridbench-installed
NATIVE := $(shell find native -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name '*.h' 2>/dev/null | grep -v /target/)
PROTO  := $(wildcard proto/*.proto)
GO_SRC := $(shell find go -name '*.go' -o -name 'go.mod' -o -name 'go.sum' 2>/dev/null)
# the Go steps run where `go` is on PATH (the install then builds grpc-go's server too)
HAVE_GO := $(shell command -v go 2>/dev/null)
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` ("auto": one per core; 0 runs the suite in one process)
PYTEST_WORKERS ?= auto

.PHONY: install run test test-fast lint clean go-server go-proto

install: $(STAMP)

# Four steps, each announced (the first build is long and must not look like a hang):
# the venv; the Python dependencies without the native parts (quick); the Rust library and
# server, with pip -v so that cargo's "Compiling ..." lines show; pillow-simd.
# pillow-simd goes in last, by force and without the wheel cache: matplotlib and others depend
# on "pillow", which would otherwise replace it (both install as PIL). The check at the end
# fails the install if the plain Pillow is what Python imports.
$(STAMP): pyproject.toml setup.py $(NATIVE) $(PROTO) $(GO_SRC) $(wildcard backends/ffi/_build.py)
	@echo "==> [1/4] Python virtual environment in $(VENV)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> [2/4] hybridbench and its Python dependencies (pip, quiet; a minute or two the first time)"
	HYBRIDBENCH_SKIP_NATIVE=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	@echo "==> [3/4] the Rust kernels (C-ABI library and gRPC server, the idiomatic library of ffi-idiomatic; cargo --release, fat LTO) and the Go server (go build, if Go is here)"
	@echo "    about 10 minutes on 2 cores the first time (some 120 crates), seconds afterwards;"
	@echo "    pip is verbose here so that cargo's progress shows"
	$(BIN)/python -m pip install --verbose --no-deps -e .
	@echo "==> [4/4] pillow-simd in place of Pillow (compiled from source: a minute or two)"
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps --no-cache-dir pillow-simd
	$(BIN)/python -c "import PIL, importlib.metadata as m; m.version('pillow-simd'); print('PIL', PIL.__version__, 'from pillow-simd')"
	touch $(STAMP)
	@echo "==> installed; 'make run' measures (about 13 minutes on 2 cores), 'make test' tests"

## the main job: every available backend on every workload; results/run-*.json, its report
## reports/run-*.html, and the run index reports/index.html
run: install
	@echo "==> hybridbench run: every available backend on every workload (about 13 minutes on 2 cores)"
	$(BIN)/hybridbench run

## the whole test suite (Python, with the real Rust library and Rust/Go servers; then cargo test
## and go test)
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	cd native && cargo test --release --quiet --lib --bins --tests
ifdef HAVE_GO
	cd go && go test ./...
endif

## the fast subset for the edit-test loop
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy hybridbench backends workloads
	cd native && cargo clippy --release --all-targets --quiet -- -D warnings
ifdef HAVE_GO
	cd go && go vet ./... && test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
endif

## rebuild the Go engine's server into the package (pip install does it too)
go-server:
	$(BIN)/python backends/grpc/_gobuild.py

## regenerate go/internal/pb from proto/ with the pinned generators (the result is committed)
go-proto: install
	PYTHON=$(BIN)/python bash go/scripts/genproto.sh

clean:
	rm -rf $(VENV) build *.egg-info native/target
