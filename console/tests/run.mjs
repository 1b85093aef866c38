// The console's browser tests, against a real node and real workers (see harness.mjs):
//   1. a node that does not answer is said so;
//   2. the market lists the worker's device;
//   3. a job submitted from the page with two .npy files is checked in the browser, its C.npy
//      equals A·B (computed here, outside the browser), and its page reaches "verified";
//   4. a refused transaction shows the pallet error's docs;
//   5. a faked job's page shows the failure and the device's slash.
// `node tests/run.mjs [--screenshots DIR]` (scripts/console.sh test builds first).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiPromise, WsProvider } from "@polkadot/api";
import { Keyring } from "@polkadot/keyring";
import { hexToU8a, u8aToHex, u8aWrapBytes } from "@polkadot/util";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import * as w from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const shotsAt = process.argv.includes("--screenshots") ? process.argv[process.argv.indexOf("--screenshots") + 1] : join(w.WORK, "screenshots");
mkdirSync(shotsAt, { recursive: true });
const results = [];
let current; // the page, for what it showed when a test failed

async function test(name, body) {
	const started = Date.now();
	try {
		await body();
		results.push([name, "ok"]);
		console.log(`[console] ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
	} catch (e) {
		results.push([name, "FAILED"]);
		console.log(`[console] FAIL ${name}: ${e.stack ?? e}`);
		const shown = await current?.locator("#page").innerText().catch(() => "");
		if (shown) console.log(`[console] the page showed:\n${shown.slice(0, 3000)}`);
	}
}

/** Product of row-major int8 A (m×k) and B (k×n), in int32. */
function product(a, b, m, k, n) {
	const c = new Int32Array(m * n);
	for (let i = 0; i < m; i++) for (let x = 0; x < k; x++) {
		const v = a[i * k + x];
		for (let j = 0; j < n; j++) c[i * n + j] += v * b[x * n + j];
	}
	return c;
}

let ok = false;
try {
	const url = await w.startNode();
	const site = await w.serve(join(here, "..", "dist"));
	const honest = await w.startWorker(url, "//Charlie", "charlie");
	const [device] = await w.call(url, "proofgrid_devices", [null, 100]);
	const browser = await w.browser();
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
	page.setDefaultTimeout(60_000);
	page.on("console", (m) => m.type() === "error" && console.log(`[console] browser: ${m.text()}`));
	current = page;
	// A fresh load each time (a goto that changes nothing but the hash would keep the page).
	const open = async (hash, rpc = url) => {
		await page.goto("about:blank");
		await page.goto(`${site}/?rpc=${encodeURIComponent(rpc)}${hash}`);
	};

	await test("a node that does not answer is said so", async () => {
		const dead = `ws://127.0.0.1:${await w.freePort()}`;
		await open("#/market", dead);
		const text = await page.getByTestId("unreachable").textContent();
		assert.match(text, /does not answer/);
		assert.ok(text.includes(dead), text);
	});

	await test("the market lists the worker's device", async () => {
		const started = Date.now();
		await open("#/market");
		const cell = page.getByTestId("device").first();
		await cell.waitFor();
		console.log(`[console] market page: ${Date.now() - started} ms from navigation to the device table`);
		assert.equal(await cell.getAttribute("title"), device.device);
		const row = await page.getByTestId("devices").locator("tbody tr").first().textContent();
		assert.ok(row.includes("0.1 GRID"), `price shown: ${row}`);
		await page.screenshot({ path: join(shotsAt, "market.png"), fullPage: true });
	});

	const [m, k, n] = [37, 64, 29]; // ragged: no dimension a multiple of the 4×4 tile
	const A = w.npyI8(m, k);
	const B = w.npyI8(k, n);
	writeFileSync(join(w.WORK, "A.npy"), A.bytes);
	writeFileSync(join(w.WORK, "B.npy"), B.bytes);
	let jobId;

	await test("a job submitted with two .npy files is checked in the browser, and C.npy is A·B", async () => {
		await open("#/submit");
		await page.getByTestId("file-a").setInputFiles(join(w.WORK, "A.npy"));
		await page.getByTestId("file-b").setInputFiles(join(w.WORK, "B.npy"));
		await page.getByTestId("detection").waitFor();
		assert.match(await page.getByTestId("price").textContent(), /budget 0\.1 GRID/);
		await page.screenshot({ path: join(shotsAt, "submit.png"), fullPage: true });
		await page.getByTestId("submit-job").click();
		await page.getByTestId("checked").waitFor({ timeout: 120_000 });
		jobId = (await page.getByTestId("job-link").textContent()).match(/Job (\d+)/)[1];
		const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-c").click()]);
		const c = w.readNpyI32(readFileSync(await download.path()));
		assert.deepEqual([c.rows, c.cols], [m, n]);
		const want = product(A.values, B.values, m, k, n);
		assert.ok(c.values.every((v, i) => v === want[i]), "C.npy differs from A·B");
		await page.screenshot({ path: join(shotsAt, "submitted.png"), fullPage: true });
	});

	await test("the job's page shows its timeline up to verified", async () => {
		assert.ok(jobId, "no job from the previous test");
		await open(`#/job/${jobId}`);
		await page.locator(".stage-verified").first().waitFor({ timeout: 60_000 });
		const timeline = await page.getByTestId("timeline").textContent();
		// ("inputs received" only when the receipt lands before the device commits.)
		for (const stage of ["submitted", "assigned", "committed", "verified"]) assert.ok(timeline.includes(stage), `${stage} missing: ${timeline}`);
		// 64 draws, duplicates counted once.
		const checked = Number((await page.getByTestId("verdict").textContent()).match(/proven\. The chain recomputed (\d+) samples/)?.[1]);
		assert.ok(checked > 48 && checked <= 64, `samples: ${checked}`);
		await page.screenshot({ path: join(shotsAt, "job.png"), fullPage: true });
	});

	await test("the client's account page lists its job, balances and holds", async () => {
		assert.ok(jobId, "no job from the earlier test");
		await open("#/account");
		await page.getByTestId("client-jobs").locator(`a[href="#/job/${jobId}"]`).waitFor({ timeout: 60_000 });
		assert.match(await page.getByTestId("balances").textContent(), /free\d[\d.]* GRID/);
		// Eve's job is verified, not settled: its budget and deposit are still held.
		assert.match(await page.getByTestId("holds").textContent(), /JobBudget/);
		await page.screenshot({ path: join(shotsAt, "account.png"), fullPage: true });
	});

	await test("a refused transaction shows the pallet's error", async () => {
		await open("#/submit");
		await page.getByTestId("file-a").setInputFiles(join(w.WORK, "A.npy"));
		await page.getByTestId("file-b").setInputFiles(join(w.WORK, "B.npy"));
		await page.getByTestId("price-cap").fill("0");
		await page.getByTestId("submit-job").click();
		const text = await page.getByTestId("refused").textContent();
		assert.match(text, /jobs\.PriceTooLow: The price cap is below `MinPricePerUnit`/);
	});

	await test("a browser wallet's account signs the job, the uploads and the download", async () => {
		// A wallet as extensions inject one (window.injectedWeb3), holding Ferdie's key in this
		// process: it signs transactions' payloads, and raw messages wrapped in <Bytes>…</Bytes>
		// as polkadot{.js} and Talisman do, which the device must accept.
		await cryptoWaitReady();
		const ferdie = new Keyring({ type: "sr25519" }).addFromUri("//Ferdie");
		const chain = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true, signedExtensions: { CheckDeviceCall: { extrinsic: {}, payload: {} } } });
		let wrapped = 0;
		await page.exposeFunction("testWalletSignRaw", (data) => (wrapped++, u8aToHex(ferdie.sign(u8aWrapBytes(hexToU8a(data))))));
		await page.exposeFunction("testWalletSignPayload", (payload) => chain.registry.createType("ExtrinsicPayload", payload, { version: payload.version }).sign(ferdie).signature);
		await page.addInitScript((address) => {
			const account = { address, name: "Ferdie (test wallet)", type: "sr25519" };
			window.injectedWeb3 = {
				"test-wallet": {
					version: "1.0.0",
					enable: async () => ({
						accounts: { get: async () => [account], subscribe: (cb) => (cb([account]), () => {}) },
						signer: {
							signRaw: async ({ data }) => ({ id: 1, signature: await window.testWalletSignRaw(data) }),
							signPayload: async (payload) => ({ id: 2, signature: await window.testWalletSignPayload(payload) }),
						},
					}),
				},
			};
		}, ferdie.address);
		await open("#/submit");
		await page.getByRole("button", { name: "Use a browser extension" }).click();
		await page.getByTestId("signer").locator("option", { hasText: "test wallet" }).waitFor({ state: "attached" });
		await page.getByTestId("file-a").setInputFiles(join(w.WORK, "A.npy"));
		await page.getByTestId("file-b").setInputFiles(join(w.WORK, "B.npy"));
		await page.getByTestId("submit-job").click();
		await page.getByTestId("checked").waitFor({ timeout: 120_000 });
		assert.match(await page.getByTestId("progress").textContent(), new RegExp(`signing as ${ferdie.address}`));
		// Two uploads and one download grant, each signed as a wallet wraps raw bytes.
		assert.equal(wrapped, 3);
		await chain.disconnect();
	});

	await test("a faked job's page shows the failure and the slash", async () => {
		const faulty = process.env.PROOFGRID_FAULTY_WORKER;
		assert.ok(faulty, "PROOFGRID_FAULTY_WORKER names the fault-injection worker (scripts/test.sh builds it)");
		await w.stop(honest);
		await w.startWorker(url, "//Dave", "dave", { binary: faulty, extra: ["--corrupt-fraction", "0.5"] });
		await open("#/submit");
		await page.getByTestId("file-a").setInputFiles(join(w.WORK, "A.npy"));
		await page.getByTestId("file-b").setInputFiles(join(w.WORK, "B.npy"));
		await page.getByTestId("submit-job").click();
		const caught = await page.getByTestId("check-failed").textContent({ timeout: 120_000 });
		assert.match(caught, /C is wrong at \[\d+\]\[\d+\]/);
		const faked = (await page.getByTestId("job-link").textContent()).match(/Job (\d+)/)[1];
		await open(`#/job/${faked}`);
		await page.locator(".stage-failed").first().waitFor({ timeout: 90_000 });
		assert.match(await page.getByTestId("verdict").textContent(), /refused/);
		const money = await page.getByTestId("money").textContent();
		assert.match(money, /slashed from the device/);
		assert.match(money, /Devices\.Slashed/);
		await page.screenshot({ path: join(shotsAt, "failed-job.png"), fullPage: true });
	});
	ok = results.every(([, r]) => r === "ok");
} catch (e) {
	console.log(`[console] the harness failed: ${e.stack ?? e}`);
} finally {
	console.log(`[console] ${results.filter(([, r]) => r === "ok").length} of ${results.length} passed; logs in ${w.WORK}`);
	w.cleanUp(!ok);
}
process.exit(ok && results.length === 8 ? 0 : 1);
