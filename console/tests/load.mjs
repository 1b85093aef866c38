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
	let sent = 0;
	let refused = 0;
	// Each signer's transactions in nonce order, a window of them in the pool at once.
	await Promise.all(
		signers.map(async (signer, s) => {
			let nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber();
			const mine = Array.from({ length: Math.ceil(N / signers.length) }, (_, i) => i * signers.length + s).filter((i) => i < N);
			for (let at = 0; at < mine.length; at += 200) {
				const wave = mine.slice(at, at + 200).map((i) => {
					const seed = new Uint8Array(32);
					new DataView(seed.buffer).setUint32(0, i, true);
					// Immortal (era 0): a wave may wait in the pool longer than a mortal era.
					// Deadlines spread over blocks: a block ends at most 256 jobs' waits.
					const tx = api.tx.jobs.submitJob({ shape: { m: 1024, n: 1024, k: 1024 }, inputs: { Seeded: { seed } }, requirements: { kernel: "GemmI8", minVramMib: 0, minGops: 0 } }, minPrice, best + 6000 + Math.floor(i / 128));
					return tx
						.signAsync(signer, { nonce: nonce++, era: 0 })
						.then((signed) => api.rpc.author.submitExtrinsic(signed))
						.catch((e) => (refused++ === 0 ? console.log(`[load] the pool refused a job: ${e.message}`) : undefined));
				});
				await Promise.all(wave);
				sent += wave.length;
				// Let the pool drain: at most ~2 000 of ours waiting.
				for (;;) {
					const pending = (await api.rpc.author.pendingExtrinsics()).length;
					if (pending < 2000) break;
					if (s === 0) console.log(`[load] ${sent} sent, ${pending} in the pool, ${await api.query.jobs.nextJobId()} on chain`);
					await w.sleep(300);
				}
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
	await time(`job page (job ${N - 1})`, `#/job/${N - 1}`, "[data-testid=job-state]");
	await time("account page (Eve, a client of ~1/6 of the jobs)", "#/account", "[data-testid=client-jobs]");
	const dist = join(here, "..", "dist", "assets");
	const sizes = readdirSync(dist).map((f) => [f, statSync(join(dist, f)).size]);
	for (const [f, size] of sizes) console.log(`[load] bundle: ${f} ${(size / 1024).toFixed(1)} KiB`);
	await api.disconnect();
} finally {
	w.cleanUp(false);
}
process.exit(0);
