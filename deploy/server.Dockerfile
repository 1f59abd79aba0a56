# The gRPC servers as the articles deploy them: the Rust server (the built-in kernels) and the
# Go engine's server, run as a non-root user from a slim image, health-checked with the
# standard gRPC protocol. `make images` builds it (README "Containers").
#   docker build -f deploy/server.Dockerfile -t hybridbench-server .
#   docker run --rm -p 50051:50051 hybridbench-server
#
# Build arguments (the defaults are the public images; `make images` passes local stand-ins
# where the public registry cannot be reached, scripts/images.py):
#   RUST_IMAGE, GO_IMAGE, RUNTIME_IMAGE  the base images of the three stages
#   ARTEFACTS=source    the binaries are built here from the repository (minutes on 2 cores)
#   ARTEFACTS=prebuilt  they are copied from deploy/prebuilt/, where scripts/images.py
#                       stages this checkout's release build (seconds; the builder stages
#                       then run on RUNTIME_IMAGE and compile nothing)
ARG RUST_IMAGE=rust:1.95-bookworm
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
ARG ARTEFACTS=source
WORKDIR /src
COPY deploy/prebuilt deploy/prebuilt
COPY proto proto
COPY native native
# cmake + nasm: libjpeg-turbo (vendored by the turbojpeg crate) and its SIMD code
RUN mkdir /out && if [ "$ARTEFACTS" = prebuilt ]; then \
      cp deploy/prebuilt/hybridbench-server /out/; \
    else \
      apt-get update && apt-get install -y --no-install-recommends cmake nasm \
      && rm -rf /var/lib/apt/lists/* \
      && cd native && cargo build --release --locked --bin hybridbench-server \
      && cp target/release/hybridbench-server /out/; \
    fi

FROM ${GO_IMAGE} AS go
ARG ARTEFACTS=source
WORKDIR /src
COPY deploy/prebuilt deploy/prebuilt
COPY go go
# the C ABI's header: the rust-cgo engine includes it (its cgo CFLAGS point into native/)
COPY native/sdk/include native/sdk/include
# The Go engine (cgo: its best engine calls libjpeg-turbo) and the standard gRPC health
# client for HEALTHCHECK (Kubernetes uses its built-in grpc probe).
RUN mkdir /out && if [ "$ARTEFACTS" = prebuilt ]; then \
      cp deploy/prebuilt/hybridbench-go-server deploy/prebuilt/grpc-health-probe /out/; \
    else \
      apt-get update && apt-get install -y --no-install-recommends libjpeg62-turbo-dev \
      && rm -rf /var/lib/apt/lists/* \
      && cd go && CGO_ENABLED=1 go build -trimpath -buildvcs=false \
           -o /out/hybridbench-go-server ./cmd/hybridbench-go-server \
      && GOBIN=/out go install github.com/grpc-ecosystem/grpc-health-probe@v0.4.62; \
    fi

FROM ${RUNTIME_IMAGE}
# libjpeg62-turbo: the Go server's cgo JPEG engine links it (the Rust server needs only libc)
RUN apt-get update && apt-get install -y --no-install-recommends libjpeg62-turbo \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home hybridbench
COPY --from=build /out/hybridbench-server /usr/local/bin/hybridbench-server
COPY --from=go /out/hybridbench-go-server /out/grpc-health-probe /usr/local/bin/
USER 10001
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s \
    CMD ["grpc-health-probe", "-addr=127.0.0.1:50051"]
# --allow-remote: a container's loopback is not the network clients come from.
# --no-parent-watch: the container runtime, not a client process, owns this server.
ENTRYPOINT ["hybridbench-server"]
CMD ["--listen", "0.0.0.0:50051", "--allow-remote", "--no-parent-watch"]
