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
RUN HYBRIDBENCH_SKIP_NATIVE=1 HYBRIDBENCH_SKIP_GO=1 pip install --no-cache-dir . \
    && mkdir /results && chown 10001 /results
USER 10001
WORKDIR /results
ENTRYPOINT ["hybridbench"]
CMD ["list"]
