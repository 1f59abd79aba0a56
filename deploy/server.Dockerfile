# The Rust gRPC server (the built-in kernels), as the articles deploy it: built in one stage,
# run as a non-root user from a slim image, health-checked with the standard gRPC protocol.
#   docker build -f deploy/server.Dockerfile -t hybridbench-server .
#   docker run --rm -p 50051:50051 hybridbench-server

FROM rust:1.95-bookworm AS build
# cmake + nasm: libjpeg-turbo (vendored by the turbojpeg crate) and its SIMD code
RUN apt-get update && apt-get install -y --no-install-recommends cmake nasm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY proto proto
COPY native native
RUN cd native && cargo build --release --locked --bin hybridbench-server

FROM golang:1.26-bookworm AS probe
# The standard gRPC health client, for HEALTHCHECK (Kubernetes uses its built-in grpc probe).
RUN go install github.com/grpc-ecosystem/grpc-health-probe@v0.4.62

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home hybridbench
COPY --from=build /src/native/target/release/hybridbench-server /usr/local/bin/hybridbench-server
COPY --from=probe /go/bin/grpc-health-probe /usr/local/bin/grpc-health-probe
USER 10001
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s \
    CMD ["grpc-health-probe", "-addr=127.0.0.1:50051"]
# --allow-remote: a container's loopback is not the network clients come from.
# --no-parent-watch: the container runtime, not a client process, owns this server.
ENTRYPOINT ["hybridbench-server"]
CMD ["--listen", "0.0.0.0:50051", "--allow-remote", "--no-parent-watch"]
