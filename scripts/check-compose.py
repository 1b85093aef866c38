#!/usr/bin/env python3
"""Checks docker-compose.yml the way Compose reads it (`docker-compose config`, which needs no
Docker engine): valid Compose, and the topology docs/OPERATIONS.md describes: four validators
on the `local` chain with their own volumes, network keys and one bootnode; two CPU workers
and a `gpu` profile that asks for NVIDIA devices; nothing published but Alice's RPC and the
workers' data services, and those on loopback only; a non-root image with health checks."""

import re
import subprocess
import sys

import yaml

VALIDATORS = ["alice", "bob", "charlie", "dave"]
ALICE_PEER_ID = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"


def config(*profiles):
    args = ["docker-compose"]
    for profile in profiles:
        args += ["--profile", profile]
    run = subprocess.run(args + ["config"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"[compose] FAIL: docker-compose.yml is not valid Compose:\n{run.stderr}")
    return yaml.safe_load(run.stdout)


def flag(command, name):
    values = [a.split("=", 1)[1] for a in command if a.startswith(f"--{name}=")]
    return values[0] if values else None


def published(service):
    """(host ip, host port, container port) of each published port, from either syntax."""
    out = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            out.append((p.get("host_ip"), int(p["published"]), int(p["target"])))
        else:  # "127.0.0.1:9944:9944/tcp"
            ip, host, target = p.split("/")[0].split(":")
            out.append((ip, int(host), int(target)))
    return out


def volume_sources(service):
    return [v["source"] if isinstance(v, dict) else v.split(":")[0] for v in service.get("volumes", [])]


def main():
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    # (docker-compose 1.29's `config` lists the services of every profile.)
    with_gpu = config("gpu")["services"]
    check(set(with_gpu) == set(VALIDATORS) | {"ferdie", "eve", "gpu-worker", "console"}, f"services: {sorted(with_gpu)}")
    services = {name: s for name, s in with_gpu.items() if not s.get("profiles")}
    check(with_gpu.get("gpu-worker", {}).get("profiles") == ["gpu"], "gpu-worker only with --profile gpu")

    keys = set()
    for i, name in enumerate(VALIDATORS):
        s = services[name]
        cmd = s["command"]
        check(f"--{name}" in cmd, f"{name} runs with --{name}")
        check(flag(cmd, "chain") == "local", f"{name} is on --chain=local")
        check(flag(cmd, "base-path") == "/data", f"{name} keeps its state in /data")
        check(volume_sources(s) == [name], f"{name} has its own volume")
        keys.add(flag(cmd, "node-key"))
        boot = flag(cmd, "bootnodes")
        if i == 0:
            check(boot is None, "alice is the bootnode")
        else:
            check(boot == f"/dns/alice/tcp/30333/p2p/{ALICE_PEER_ID}", f"{name} bootstraps from alice")
        check(s.get("restart") == "unless-stopped", f"{name} restarts")
    check(len(keys) == 4 and None not in keys, "each validator has its own network key")

    # Published ports: Alice's RPC, the workers' data services; loopback only.
    ports = {name: published(s) for name, s in with_gpu.items() if published(s)}
    check(
        ports
        == {
            "alice": [("127.0.0.1", 9944, 9944)],
            "ferdie": [("127.0.0.1", 9700, 9700)],
            "eve": [("127.0.0.1", 9701, 9700)],
            "gpu-worker": [("127.0.0.1", 9702, 9700)],
            "console": [("127.0.0.1", 5173, 8080)],
        },
        f"published ports: {ports}",
    )

    for name in ["ferdie", "eve", "gpu-worker"]:
        s = with_gpu[name]
        cmd = s["command"]
        check(s["entrypoint"] == ["proofgrid-worker"], f"{name} runs the worker")
        check(cmd[0] == "run", f"{name}: proofgrid-worker run")
        node = re.fullmatch(r"ws://(\w+):9944", flag(cmd, "url") or "")
        check(node is not None and node.group(1) in VALIDATORS, f"{name} talks to a validator's RPC")
        host_port = published(s)[0][1]
        check(flag(cmd, "public-url") == f"https://127.0.0.1:{host_port}", f"{name} announces its published URL")
        check("PROOFGRID_OWNER_SURI" in s.get("environment", {}), f"{name}'s owner key is in the environment")
        check(not any("suri" in a.lower() for a in cmd), f"{name}: no secret on the command line")
        check("healthcheck" in s, f"{name} has a health check")
    check(flag(with_gpu["ferdie"]["command"], "backend") == "cpu", "ferdie uses the CPU backend")
    check(flag(with_gpu["eve"]["command"], "backend") == "cpu", "eve uses the CPU backend")
    gpu = with_gpu["gpu-worker"]
    check(flag(gpu["command"], "backend") == "cuda", "gpu-worker uses the CUDA backend")
    check(gpu["build"]["target"] == "runtime-gpu", "gpu-worker is built with NVRTC")
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    check(devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}], f"gpu devices: {devices}")

    console = with_gpu["console"]
    check(console["build"]["target"] == "console", "the console is built from the Dockerfile's console stage")

    dockerfile = open("Dockerfile").read()
    check(re.search(r"^FROM debian:bookworm-slim AS console$", dockerfile, re.M) is not None, "Dockerfile has a console stage")
    check(re.search(r"^FROM .* AS build$", dockerfile, re.M) is not None, "Dockerfile has a build stage")
    check("USER proofgrid" in dockerfile, "the image runs as a non-root user")
    check("HEALTHCHECK" in dockerfile, "the image has a health check")
    toolchain = re.search(r'channel = "(.*)"', open("rust-toolchain.toml").read()).group(1)
    check(f"FROM rust:{toolchain}-" in dockerfile, f"the build stage uses the pinned toolchain {toolchain}")

    if failures:
        for f in failures:
            print(f"[compose] FAIL: {f}", file=sys.stderr)
        sys.exit(1)
    print(f"[compose] docker-compose.yml is valid: {len(services)} services (+1 with --profile gpu)")


if __name__ == "__main__":
    main()
