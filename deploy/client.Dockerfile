# The harness as a load client: `hybridbench run` against a server given by --grpc-target.
# Pure Python (HYBRIDBENCH_SKIP_NATIVE=1): a client of a remote server needs no Rust build. It
# also carries grpc-py's server (`python -m hybridbench.backends.grpc.pyserver`), which
# `hybridbench run -b grpc-py --container hybridbench-client` runs in it.
#   docker build -f deploy/client.Dockerfile -t hybridbench-client .
#   docker run --rm hybridbench-client run -w echo -b grpc --grpc-target HOST:50051 -o /results/r.json
#
# Build argument: PYTHON_IMAGE (default the public python:3.11-slim; `make images` passes a
# local stand-in where the public registry cannot be reached, scripts/images.py).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --create-home hybridbench
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY hybridbench hybridbench
COPY backends backends
COPY workloads workloads
COPY proto proto
# what a non-editable install copies into the package for `hybridbench new` (setup.py, the
# wheel's Rust sources: the SDK crate and its header, the workspace manifest, the lock file)
COPY native/Cargo.toml native/Cargo.lock native/
COPY native/sdk native/sdk
RUN HYBRIDBENCH_SKIP_NATIVE=1 HYBRIDBENCH_SKIP_GO=1 pip install --no-cache-dir . \
    && mkdir /results && chown 10001 /results
USER 10001
WORKDIR /results
ENTRYPOINT ["hybridbench"]
CMD ["list"]
