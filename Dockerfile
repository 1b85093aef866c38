# syntax=docker/dockerfile:1
# ProofGrid's release binaries in a slim image: proofgrid-node (the entry point),
# proofgrid-worker and the proofgrid CLI. docker-compose.yml runs a four-validator network of
# it. Build: `docker build -t proofgrid .` (most of an hour on two cores, the first time).
#
# Targets: `runtime` (CPU workers) and `runtime-gpu` (adds NVRTC, which the CUDA backend
# compiles its kernels with, and cuBLASLt, its int8 GEMM; the driver comes from the NVIDIA
# container toolkit at run time).

# --- build: the pinned toolchain (rust-toolchain.toml) and scripts/setup.sh, as on any machine.
FROM rust:1.95.0-bookworm AS build
RUN apt-get update \
	&& apt-get install -y --no-install-recommends python3-pip \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# (The web console's tools are installed by its own stage below, not into the node's build.)
ENV CARGO_TARGET_DIR=/target PROOFGRID_CACHE=/opt/proofgrid PROOFGRID_SKIP_CONSOLE=1
RUN --mount=type=cache,target=/usr/local/cargo/registry \
	--mount=type=cache,target=/target \
	bash scripts/setup.sh \
	&& cargo build --locked --release --features proofgrid-node/metadata-hash \
		-p proofgrid-node -p proofgrid-worker -p proofgrid-client \
	&& mkdir -p /out \
	&& cp /target/release/proofgrid-node /target/release/proofgrid-worker \
		/target/release/proofgrid /out/

# --- runtime: the binaries, curl for health checks, a non-root user owning /data.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates curl \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --create-home --home-dir /home/proofgrid proofgrid \
	&& mkdir /data \
	&& chown proofgrid:proofgrid /data
COPY --from=build /out/ /usr/local/bin/
USER proofgrid
WORKDIR /data
VOLUME ["/data"]
# RPC, p2p, Prometheus (node), data service (worker).
EXPOSE 9944 30333 9615 9700
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
	CMD curl -sf -H 'Content-Type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		http://127.0.0.1:9944 || exit 1
ENTRYPOINT ["proofgrid-node"]

# --- runtime-gpu: the same, with NVRTC and cuBLASLt (540 MB) for the CUDA backend.
FROM runtime AS runtime-gpu
COPY --from=build /opt/proofgrid/nvrtc-13.0.88/lib /opt/nvrtc/lib
COPY --from=build /opt/proofgrid/cublaslt-13.0.2.14/lib /opt/cublaslt/lib
ENV LD_LIBRARY_PATH=/opt/nvrtc/lib:/opt/cublaslt/lib

# --- console-build: the web console's static files (scripts/console.sh build: the primitives
# compiled to wasm, then the Vite bundle). Node.js, npm and wasm-bindgen-cli, no browser.
FROM build AS console-build
RUN --mount=type=cache,target=/usr/local/cargo/registry \
	--mount=type=cache,target=/target \
	PROOFGRID_SKIP_CONSOLE=0 PROOFGRID_SKIP_BROWSER=1 bash scripts/setup.sh \
	&& bash scripts/console.sh build \
	&& cp -r console/dist /console

# --- console: the static files, served by busybox's httpd on 8080. It has no RPC of its own:
# the browser connects to a node's WebSocket (the field at the top of the page).
FROM debian:bookworm-slim AS console
RUN apt-get update \
	&& apt-get install -y --no-install-recommends busybox \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 proofgrid \
	&& echo '.wasm:application/wasm' >/etc/httpd.conf
COPY --from=console-build /console /srv/console
USER proofgrid
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD busybox wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1
CMD ["busybox", "httpd", "-f", "-p", "8080", "-c", "/etc/httpd.conf", "-h", "/srv/console"]
