// Submit a job on the client's own matrices: price and detection probability first, then
// sign, upload to the device that takes it, confirm its receipt, download C when it commits
// and check it here (the committed root, then Freivalds' check), and save it as C.npy.
import { hexToU8a, u8aToHex } from "@polkadot/util";
import { decodeAddress, signatureVerify } from "@polkadot/util-crypto";
import { api, endpoint, grid, planck, rpc, send, Refused, type Signatory } from "../chain";
import { DEV_ACCOUNTS, devAccount, extensionAccounts, signRaw } from "../accounts";
import { npyI32, parseNpyI8, randomI8, type Matrix } from "../npy";
import * as pg from "../proofgrid";
import { h, problem } from "../ui";
import { allDevices } from "./market";

/** How long a job waits for a device, in blocks (the CLI's default). */
const LIFETIME = 100;

let signatories: Signatory[] = [];

interface Inputs {
	a: Matrix<Int8Array>;
	b: Matrix<Int8Array>;
}

export async function submitPage(): Promise<HTMLElement> {
	await pg.loadPrimitives();
	if (signatories.length === 0) signatories = await Promise.all(DEV_ACCOUNTS.map(devAccount));
	const c = api().consts as any;
	const devices = (await allDevices()).filter((d) => d.status.state === "active" && d.kernels.includes("gemm-i8"));
	const cheapest = devices.map((d) => BigInt(d.pricePerUnit)).sort((x, y) => (x < y ? -1 : 1))[0];
	const defaultCap = cheapest ?? BigInt(c.jobs.minPricePerUnit.toString());

	const who = h("select", { name: "signer", "data-testid": "signer" }, signatories.map((s, i) => h("option", { value: i }, s.kind === "pair" ? `${DEV_ACCOUNTS[i] ?? ""} (dev) ${s.address}` : `${s.name} ${s.address}`)));
	who.value = "4"; // Eve: the dev client the docs use
	const fileA = h("input", { type: "file", name: "a", accept: ".npy", "data-testid": "file-a" });
	const fileB = h("input", { type: "file", name: "b", accept: ".npy", "data-testid": "file-b" });
	const dims = ["m", "k", "n"].map((n) => h("input", { name: n, type: "number", min: 1, value: 256, size: 5, "aria-label": n }));
	const cap = h("input", { name: "cap", value: gridText(defaultCap), size: 10, "data-testid": "price-cap" });
	const samples = h("input", { name: "samples", type: "number", min: c.computeProof.minSuppliedSamples.toString(), max: 256, value: c.computeProof.defaultSuppliedSamples.toString(), size: 4, "data-testid": "samples" });
	const quote = h("div", { "data-testid": "quote" });
	const log = h("ol", { class: "log", "data-testid": "progress" });
	const result = h("div", { "data-testid": "result" });
	let inputs: Inputs | undefined;

	const say = (text: string, cls = "") => log.append(h("li", { class: cls }, text));

	async function readInputs(): Promise<Inputs | undefined> {
		const [fa, fb] = [fileA.files?.[0], fileB.files?.[0]];
		if (!fa || !fb) return inputs;
		const a = parseNpyI8(new Uint8Array(await fa.arrayBuffer()), fa.name);
		const b = parseNpyI8(new Uint8Array(await fb.arrayBuffer()), fb.name);
		if (a.cols !== b.rows) throw new Error(`A is ${a.rows}×${a.cols} and B ${b.rows}×${b.cols}: A's columns must be B's rows`);
		return (inputs = { a, b });
	}

	async function refreshQuote() {
		quote.replaceChildren();
		try {
			const x = await readInputs();
			if (!x) return quote.append(h("p", {}, "Pick A.npy and B.npy (int8), or generate random ones."));
			const units = BigInt(pg.work_units(x.a.rows, x.b.cols, x.a.cols));
			const billed = units > BigInt(c.jobs.minWorkUnits.toString()) ? units : BigInt(c.jobs.minWorkUnits.toString());
			const price = planck(cap.value);
			const s = Number(samples.value);
			const catches = (f: number) => `${((1 - pg.pass_chance(f, s)) * 100).toPrecision(4)}%`;
			quote.append(
				h("p", {}, `A ${x.a.rows}×${x.a.cols} · B ${x.b.rows}×${x.b.cols}: ${billed} work unit(s).`),
				h("p", { "data-testid": "price" }, `Held at submission: budget ${grid(billed * price)} (units × your price cap; what the device does not charge comes back) and a deposit of ${grid(c.jobs.jobDeposit)} (returned). The chain's cost of checking the proof (the call fee) is fixed at submission and shown then.`),
				h("p", { "data-testid": "detection" }, `With ${s} samples the chain catches a device that faked 1% of C with probability ${catches(0.01)}, 10% with ${catches(0.1)}; this page also checks all of C itself (Freivalds) when the device commits.`),
			);
		} catch (e) {
			quote.append(problem((e as Error).message));
		}
	}

	async function generate() {
		const [m, k, n] = dims.map((d) => Number(d.value));
		inputs = { a: randomI8(m, k), b: randomI8(k, n) };
		fileA.value = fileB.value = "";
		await refreshQuote();
	}

	async function useExtension() {
		const found = await extensionAccounts().catch(() => []);
		if (found.length === 0) return say("No browser extension offered an account (polkadot{.js} or Talisman, with this site allowed).", "bad");
		signatories = [...signatories.filter((s) => s.kind === "pair"), ...found];
		who.replaceChildren(...signatories.map((s, i) => h("option", { value: i }, s.kind === "pair" ? `${DEV_ACCOUNTS[i]} (dev) ${s.address}` : `${s.name} ${s.address}`)));
		who.value = String(DEV_ACCOUNTS.length);
	}

	async function submit(ev: Event) {
		ev.preventDefault();
		log.replaceChildren();
		result.replaceChildren();
		try {
			const x = await readInputs();
			if (!x) throw new Error("pick or generate A and B first");
			await run(x, signatories[Number(who.value)], planck(cap.value), Number(samples.value), say, result);
		} catch (e) {
			const err = e as Error;
			const shown = problem(err instanceof Refused ? `The chain refused the transaction: ${err.message}` : err.message, err instanceof Refused ? "refused" : "error");
			result.append(shown);
		}
	}

	fileA.addEventListener("change", refreshQuote);
	fileB.addEventListener("change", refreshQuote);
	cap.addEventListener("input", refreshQuote);
	samples.addEventListener("input", refreshQuote);
	await refreshQuote();

	return h(
		"section",
		{ "data-testid": "submit" },
		h("h1", {}, "Submit a job"),
		h(
			"form",
			{ onsubmit: submit },
			h("p", {}, h("label", {}, "Signer ", who), " ", h("button", { type: "button", onclick: useExtension }, "Use a browser extension")),
			h("p", {}, h("label", {}, "A.npy ", fileA), " ", h("label", {}, "B.npy ", fileB)),
			h("p", {}, "or random: m ", dims[0], " k ", dims[1], " n ", dims[2], " ", h("button", { type: "button", onclick: generate, "data-testid": "generate" }, "Generate")),
			h("p", {}, h("label", {}, "Price cap (GRID per unit) ", cap), " ", h("label", {}, "Samples ", samples)),
			quote,
			h("button", { type: "submit", "data-testid": "submit-job" }, "Sign and submit"),
		),
		log,
		result,
	);
}

function gridText(p: bigint): string {
	const s = p.toString().padStart(13, "0");
	return `${s.slice(0, -12)}.${s.slice(-12)}`.replace(/\.?0+$/, "");
}

/** The device's data service URL (`https://…#sha256=…` pins are for programs; a browser
 * trusts the certificate or not on its own). */
async function serviceOf(device: string): Promise<string> {
	const d = (await allDevices()).find((x) => x.device === device);
	if (!d?.endpoint) throw new Error(`device ${device} publishes no data service, where your matrices would be uploaded`);
	const base = d.endpoint.split("#")[0].replace(/\/$/, "");
	const url = new URL(base);
	const refusal = pg.data_service_refusal(url.protocol.replace(":", ""), url.hostname, new URL(endpoint()).hostname);
	if (refusal) throw new Error(`${refusal}; nothing was sent: without its inputs the device gives the job back to the market`);
	return base;
}

/** A request to a device, its refusal read as the device's own one-line reason. */
async function ask(url: string, init: RequestInit, what: string): Promise<Response> {
	let response: Response;
	try {
		response = await fetch(url, init);
	} catch (e) {
		throw new Error(`the device's data service at ${new URL(url).origin} does not answer ${what} (${(e as Error).message}); an https service needs a certificate this browser trusts`);
	}
	return response;
}

async function sleep(ms: number) {
	return new Promise((r) => setTimeout(r, ms));
}

/** Polls the job until `until` says it is reached; an ended job is an error. */
async function waitFor(id: number, until: (status: any) => boolean, deadline: number): Promise<any> {
	for (;;) {
		const view = await rpc<any>("job", [id]);
		if (!view) throw new Error(`job ${id} ended before it was done: see its page for why`);
		if (until(view.status)) return view;
		const best = (await api().rpc.chain.getHeader()).number.toNumber();
		if (best > deadline) throw new Error(`job ${id} was not taken by block #${deadline}`);
		await sleep(300);
	}
}

async function run(x: Inputs, who: Signatory, cap: bigint, samples: number, say: (t: string, c?: string) => void, result: HTMLElement) {
	const a = api();
	const [m, k, n] = [x.a.rows, x.a.cols, x.b.cols];
	const rows = pg.lanes("a", x.a.values, m, k);
	const columns = pg.lanes("b", x.b.values, k, n);
	const rootA = pg.lanes_root(rows, k);
	const rootB = pg.lanes_root(columns, k);
	const spec = {
		shape: { m, n, k },
		inputs: {
			Supplied: {
				matrices: { a: { lanes: m, laneLen: k, root: u8aToHex(rootA) }, b: { lanes: n, laneLen: k, root: u8aToHex(rootB) } },
				a: { Upload: null },
				b: { Upload: null },
				samples,
				publicOutput: false,
			},
		},
		requirements: { kernel: "GemmI8", minVramMib: 0, minGops: 0 },
	};
	const best = (await a.rpc.chain.getHeader()).number.toNumber();
	say(`Committed to A (root ${u8aToHex(rootA).slice(0, 14)}…) and B (root ${u8aToHex(rootB).slice(0, 14)}…) in this browser; signing as ${who.address}.`);
	const included = await send(a.tx.jobs.submitJob(spec as any, cap, best + LIFETIME), who);
	const submitted = included.events.find((e) => e.section === "jobs" && e.method === "JobSubmitted");
	const id = Number((submitted?.data as any)[0]);
	say(`Job ${id} submitted in block #${included.blockNumber}.`, "ok");
	result.append(h("p", {}, h("a", { href: `#/job/${id}`, "data-testid": "job-link" }, `Job ${id}'s page`)));

	const assigned = await waitFor(id, (s) => s.state !== "submitted", best + LIFETIME);
	const device: string = assigned.status.device;
	say(`Device ${device} took it.`);
	const base = `${await serviceOf(device)}/v1/jobs/${id}`;
	const genesis = a.genesisHash.toU8a();
	const devicePub = decodeAddress(device);

	for (const [name, lanes, root] of [["a", rows, rootA], ["b", columns, rootB]] as const) {
		const signature = await signRaw(who, pg.upload_message(genesis, devicePub, BigInt(id), root));
		const r = await ask(`${base}/inputs/${name}`, { method: "PUT", headers: { "x-proofgrid-signature": signature, "content-type": "application/octet-stream" }, body: new Uint8Array(lanes.buffer, lanes.byteOffset, lanes.length) as BodyInit }, `an upload of ${name.toUpperCase()}`);
		if (!r.ok) throw new Error(`the device refused ${name.toUpperCase()}: ${r.status} ${await r.text()}`);
		say(`Uploaded ${name.toUpperCase()} (${lanes.length} bytes) to ${new URL(base).origin}.`);
	}

	// The device's receipt goes on chain: from then on it cannot give the job back for free.
	// (A device may compute and commit before the receipt lands: then there is nothing to confirm.)
	for (;;) {
		const now = await rpc<any>("job", [id]);
		if (now?.status?.state !== "assigned" || now.status.inputsReceived) break;
		const r = await ask(`${base}/inputs/receipt`, {}, "for its receipt");
		if (r.status === 409) {
			await sleep(300);
			continue;
		}
		if (!r.ok) throw new Error(`the device gave no receipt: ${r.status} ${await r.text()}`);
		const receipt = (await r.text()).trim();
		const message = pg.inputs_receipt_message(genesis, BigInt(id), devicePub);
		if (!signatureVerify(message, hexToU8a(receipt), devicePub).isValid) throw new Error("the device's receipt is not its signature");
		await send(a.tx.jobs.confirmInputs(id, { Sr25519: receipt } as any), who).catch((e) => {
			// The job moved on while the receipt was on its way: it is no longer needed.
			if (!(e instanceof Refused)) throw e;
		});
		say("The device's receipt for the inputs is on chain.");
		break;
	}

	const committed = await waitFor(id, (s) => s.state === "committed" || s.state === "verified", Number.MAX_SAFE_INTEGER);
	const root = hexToU8a(committed.status.root);
	say(`The device committed C's root ${committed.status.root.slice(0, 14)}…; downloading C.`);
	const expiry = BigInt(Math.floor(Date.now() / 1000) + 600);
	const grant = await signRaw(who, pg.output_grant_message(genesis, devicePub, BigInt(id), expiry));
	const r = await ask(`${base}/output`, { headers: { "x-proofgrid-signature": grant, "x-proofgrid-expiry": expiry.toString() } }, "for C");
	if (!r.ok) throw new Error(`the device does not serve its output: ${r.status} ${await r.text()}`);
	const bytes = new Uint8Array(await r.arrayBuffer());
	const cValues = pg.output_of_leaves(m, n, k, bytes, root);
	const seed = new BigUint64Array(1);
	crypto.getRandomValues(seed);
	const wrong = pg.check_product(rows, columns, cValues, k, seed[0]);
	if (wrong) {
		result.append(problem(`C is wrong at [${wrong.row}][${wrong.column}]: ${wrong.found}, where A·B gives ${wrong.expected}. The chain's samples or a fraud proof (proofgrid job dispute) settle it; see the job's page.`, "check-failed"));
		return;
	}
	const file = npyI32({ rows: m, cols: n, values: cValues });
	const url = URL.createObjectURL(new Blob([file as BlobPart], { type: "application/octet-stream" }));
	result.append(
		h("p", { class: "ok", "data-testid": "checked" }, `C (${m}×${n}) checked in this browser: its leaves hash to the root the device committed on chain, and Freivalds' check of C = A·B passed.`),
		h("p", {}, h("a", { href: url, download: `C-job${id}.npy`, "data-testid": "download-c" }, "Save C.npy")),
	);
	const done = await waitFor(id, (s) => s.state === "verified", Number.MAX_SAFE_INTEGER).catch(() => undefined);
	say(done ? `The chain verified job ${id}'s proof; it settles after the dispute window.` : `Job ${id} ended: see its page.`, done ? "ok" : "bad");
}
