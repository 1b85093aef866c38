// How fast the console loads against a busy chain: `N` open jobs (default 10 000, seeded, so
// no inputs to upload, priced below the one worker's price so they stay open) from the six
// dev accounts, then the market, a job's page and a client's account page timed in Chromium
// from navigation to their content. Prints figures; asserts nothing about time.
//   node tests/load.mjs [N]      (scripts/console.sh load [N] builds first)
import { ApiPromise, WsProvider } from "@polkadot/api";
import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { statSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as w from "./harness.mjs";

const N = Number(process.argv[2] ?? 10_000);
// polkadot-js logs every refused submission; a resubmitted batch's duplicates are expected.
const log = console.error;
console.error = (...args) => (String(args[1] ?? args[0]).includes("submitExtrinsic") ? undefined : log(...args));
const here = dirname(fileURLToPath(import.meta.url));
const NAMES = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

try {
	const url = await w.startNode();
	await w.startWorker(url, "//Charlie", "charlie");
	const site = await w.serve(join(here, "..", "dist"));
	await cryptoWaitReady();
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true, signedExtensions: { CheckDeviceCall: { extrinsic: {}, payload: {} } } });
	const keyring = new Keyring({ type: "sr25519" });
	const signers = NAMES.map((n) => keyring.addFromUri(`//${n}`));
	const best = (await api.rpc.chain.getHeader()).number.toNumber();
	const minPrice = api.consts.jobs.minPricePerUnit;

	const started = Date.now();
	// Each signer's share, in batches of 100 signed from its on-chain nonce: a batch the pool
	// dropped under load is signed again from where the chain stands.
	const share = Math.ceil(N / signers.length);
	await Promise.all(
		signers.map(async (signer, s) => {
			const first = (await api.query.system.account(signer.address)).nonce.toNumber();
			const mine = Math.min(share, N - s * share);
			for (;;) {
				const at = (await api.query.system.account(signer.address)).nonce.toNumber() - first;
				if (at >= mine) return;
				const batch = Array.from({ length: Math.min(100, mine - at) }, (_, j) => at + j);
				await Promise.all(
					batch.map((j) => {
						const i = s * share + j;
						const seed = new Uint8Array(32);
						new DataView(seed.buffer).setUint32(0, i, true);
						// Deadlines spread over blocks: a block ends at most 256 jobs' waits.
						const tx = api.tx.jobs.submitJob({ shape: { m: 1024, n: 1024, k: 1024 }, inputs: { Seeded: { seed } }, requirements: { kernel: "GemmI8", minVramMib: 0, minGops: 0 } }, minPrice, best + 6000 + Math.floor(i / 128));
						// Immortal (era 0): a batch may wait in the pool longer than a mortal era.
						return tx.signAsync(signer, { nonce: first + j, era: 0 }).then((x) => api.rpc.author.submitExtrinsic(x)).catch(() => {});
					}),
				);
				const target = first + at + batch.length;
				for (let t = 0; t < 60; t++) {
					if ((await api.query.system.account(signer.address)).nonce.toNumber() >= target) break;
					await w.sleep(500);
				}
				if (s === 0) console.log(`[load] ${await api.query.jobs.nextJobId()} jobs on chain after ${((Date.now() - started) / 1000).toFixed(0)} s`);
			}
		}),
	);
	for (;;) {
		const next = Number((await api.query.jobs.nextJobId()).toString());
		if (next >= N) break;
		await w.sleep(500);
	}
	const open = (await api.query.jobs.openJobs.keys()).length;
	console.log(`[load] ${N} jobs submitted in ${((Date.now() - started) / 1000).toFixed(1)} s; ${open} open in storage`);

	const browser = await w.browser();
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const time = async (what, hash, ready) => {
		const runs = [];
		for (let i = 0; i < 3; i++) {
			await page.goto("about:blank");
			const t = Date.now();
			await page.goto(`${site}/?rpc=${encodeURIComponent(url)}${hash}`);
			await page.locator(ready).first().waitFor({ timeout: 120_000 });
			runs.push(Date.now() - t);
		}
		runs.sort((a, b) => a - b);
		console.log(`[load] ${what}: ${runs[1]} ms median of 3 (${runs.join(", ")} ms)`);
	};
	await time("market page (devices, open jobs, eras, rules)", "#/market", "[data-testid=open-jobs]");
	await time(`job page (job ${N - 1}: its state and terms, from storage)`, `#/job/${N - 1}`, "[data-testid=job-state]");
	await time(`job page (job ${N - 1}: its timeline, from the events of the last 600 blocks)`, `#/job/${N - 1}`, "[data-testid=timeline]");
	await time("account page (Eve: balances, holds, devices, rewards)", "#/account", "[data-testid=client-jobs]");
	await time(`account page (Eve: the first of its ${Math.ceil(N / 6)} jobs listed from the events)`, "#/account", "[data-testid=client-jobs] tbody tr >> nth=0");
	const dist = join(here, "..", "dist", "assets");
	const sizes = readdirSync(dist).map((f) => [f, statSync(join(dist, f)).size]);
	for (const [f, size] of sizes) console.log(`[load] bundle: ${f} ${(size / 1024).toFixed(1)} KiB`);
	await api.disconnect();
} finally {
	w.cleanUp(false);
}
process.exit(0);
