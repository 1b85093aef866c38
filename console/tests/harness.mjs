// The browser tests' world: a real proofgrid-node (--dev, 500 ms blocks) and real
// proofgrid-worker processes on loopback, the built console served from dist/, and Debian's
// Chromium driven headless by playwright-core. Everything listens on 127.0.0.1 only.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, openSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const TARGET = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache/proofgrid/target");
export const BIN = join(TARGET, "debug");
export const WORK = mkdtempSync(join(tmpdir(), "proofgrid-console-"));
const children = [];

export function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

async function waitForLog(path, pattern, child, what, seconds = 180) {
	for (let i = 0; i < seconds * 4; i++) {
		const text = existsSync(path) ? readFileSync(path, "utf8") : "";
		const found = text.match(pattern);
		if (found) return found;
		if (child.exitCode !== null) throw new Error(`${what} exited:\n${text.slice(-2000)}`);
		await sleep(250);
	}
	throw new Error(`${what} did not log ${pattern} within ${seconds} s`);
}

function start(binary, args, name, env = {}) {
	const log = join(WORK, `${name}.log`);
	const fd = openSync(log, "w");
	const child = spawn(binary, args, { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
	children.push(child);
	return { child, log };
}

/** A dev chain with 500 ms blocks; resolves to its WebSocket URL once it serves RPC. */
export async function startNode() {
	const { child, log } = start(
		join(BIN, "proofgrid-node"),
		["--dev", "--sealing", "500", "--base-path", join(WORK, "node"), "--rpc-port", "0", "--rpc-cors", "all",
			"--listen-addr", "/ip4/127.0.0.1/tcp/0", "--no-prometheus", "--no-telemetry", "--no-mdns"],
		"node",
	);
	const [, port] = await waitForLog(log, /Running JSON-RPC server: addr=127\.0\.0\.1:(\d+)/, child, "the node");
	return `ws://127.0.0.1:${port}`;
}

/** A CPU worker for `owner`, its data service on plain HTTP (loopback: a browser needs no
 * certificate there); resolves once its job loop runs. */
export async function startWorker(url, owner, name, { binary = join(BIN, "proofgrid-worker"), extra = [] } = {}) {
	const dataPort = await freePort();
	const worker = start(
		binary,
		["run", "--url", url, "--backend", "cpu", "--threads", "1", "--poll-ms", "100", "--metrics", "none",
			"--base-path", join(WORK, name), "--price", "0.1", "--data-addr", `127.0.0.1:${dataPort}`, "--plain-http", ...extra],
		name,
		{ PROOFGRID_OWNER_SURI: owner },
	);
	await waitForLog(worker.log, /job loop started/, worker.child, `worker ${name}`);
	return worker;
}

/** Stops a worker as an operator does: SIGTERM finishes what it holds, a second stops it. */
export async function stop({ child }) {
	child.kill("SIGTERM");
	for (let i = 0; i < 120 && child.exitCode === null; i++) await sleep(250);
	if (child.exitCode === null) child.kill("SIGKILL");
}

export function freePort() {
	return new Promise((resolve) => {
		const s = createServer();
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".png": "image/png" };

/** Serves `dir` (the built console) on 127.0.0.1; resolves to its base URL. */
export function serve(dir) {
	const server = createServer((req, res) => {
		const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
		const file = join(dir, path === "/" ? "index.html" : path);
		if (!file.startsWith(dir) || !existsSync(file)) {
			res.writeHead(404).end("not found");
			return;
		}
		res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
	});
	children.push({ kill: () => server.close(), exitCode: null });
	return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/** Debian's Chromium, headless, with nothing that reaches beyond this machine. */
export async function browser() {
	const b = await chromium.launch({
		executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
		args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync"],
		// (playwright gives each launch a fresh temporary profile: --user-data-dir is its own.)
	});
	children.push({ kill: () => b.close(), exitCode: null });
	return b;
}

export function cleanUp(keep) {
	for (const c of children.reverse()) {
		try {
			c.kill("SIGKILL");
		} catch {}
	}
	if (!keep) rmSync(WORK, { recursive: true, force: true });
}

/** JSON-RPC over HTTP to the node (the test's own view, outside the browser). */
export async function call(url, method, params = []) {
	const r = await fetch(url.replace(/^ws/, "http"), {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
	});
	const body = await r.json();
	if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
	return body.result;
}

/** A random int8 matrix as .npy bytes, and its values. */
export function npyI8(rows, cols) {
	const values = new Int8Array(rows * cols);
	for (let i = 0; i < values.length; i++) values[i] = Math.floor(Math.random() * 256) - 128;
	let header = `{'descr': '|i1', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
	header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
	const head = Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY"), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(header.length).buffer), Buffer.from(header)]);
	return { values, bytes: Buffer.concat([head, Buffer.from(values.buffer)]) };
}

/** An int32 .npy file's shape and values (what the console saves C as). */
export function readNpyI32(bytes) {
	if (bytes.subarray(1, 6).toString() !== "NUMPY") throw new Error("not a .npy file");
	const len = bytes.readUInt16LE(8);
	const header = bytes.subarray(10, 10 + len).toString();
	if (!header.includes("'<i4'")) throw new Error(`not int32: ${header}`);
	const [rows, cols] = /\((\d+), (\d+)\)/.exec(header).slice(1).map(Number);
	const body = bytes.subarray(10 + len);
	const values = new Int32Array(rows * cols);
	for (let i = 0; i < values.length; i++) values[i] = body.readInt32LE(i * 4);
	return { rows, cols, values };
}
