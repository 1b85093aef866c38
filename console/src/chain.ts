// The connection to a node: one ApiPromise, ProofGrid's own RPC methods, amounts in GRID,
// transactions whose refusals read as the pallet's own docs, and an index of the jobs'
// events (finished jobs leave storage; their story is in the events).
import { ApiPromise, WsProvider } from "@polkadot/api";
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import type { Signer } from "@polkadot/types/types";
import type { KeyringPair } from "@polkadot/keyring/types";

export const DEFAULT_ENDPOINT = "ws://127.0.0.1:9944";
/** GRID has 12 decimals (the chain spec's `tokenDecimals`). */
export const PLANCK_PER_GRID = 10n ** 12n;
/** How far back the job index reads events when it connects (an hour of 6 s blocks). */
export const HISTORY_BLOCKS = 600;

export class NodeUnreachable extends Error {}

let current: ApiPromise | undefined;
let currentUrl = "";
const listeners = new Set<() => void>();

export function api(): ApiPromise {
	if (!current) throw new NodeUnreachable("not connected to a node");
	return current;
}

export function endpoint(): string {
	return currentUrl;
}

/** Called on every new best block while connected. */
export function onBlock(f: () => void): () => void {
	listeners.add(f);
	return () => listeners.delete(f);
}

/** Connects to `url`, replacing any connection; fails within `timeoutMs` if nothing answers. */
export async function connect(url: string, timeoutMs = 8000): Promise<ApiPromise> {
	if (current) {
		await current.disconnect().catch(() => {});
		current = undefined;
	}
	jobIndex.clear();
	const provider = new WsProvider(url, false);
	const timeout = new Promise<never>((_, reject) =>
		setTimeout(
			() => reject(new NodeUnreachable(`the node at ${url} does not answer (is it running, and is its RPC port open to this page? nodes serve browsers with --rpc-cors)`)),
			timeoutMs,
		),
	);
	try {
		await Promise.race([provider.connect(), timeout]);
		const created = ApiPromise.create({
			provider,
			throwOnConnect: true,
			noInitWarn: true,
			// ProofGrid's one transaction extension of its own carries no data.
			signedExtensions: { CheckDeviceCall: { extrinsic: {}, payload: {} } },
		});
		current = await Promise.race([created, timeout]);
	} catch (e) {
		await provider.disconnect().catch(() => {});
		if (e instanceof NodeUnreachable) throw e;
		throw new NodeUnreachable(`the node at ${url} does not answer: ${(e as Error).message}`);
	}
	currentUrl = url;
	const connected = current;
	await connected.rpc.chain.subscribeNewHeads((header) => {
		if (connected !== current) return;
		jobIndex.follow(header.number.toNumber()).catch(() => {});
		listeners.forEach((f) => f());
	});
	return connected;
}

/** ProofGrid's own JSON-RPC methods (`proofgrid_*`), answered as plain JSON. */
export function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
	return (api() as any)._rpcCore.provider.send(`proofgrid_${method}`, params);
}

/** `planck` as GRID, at most 4 decimals, without trailing zeros. */
export function grid(planck: bigint | string | number | { toString(): string }): string {
	const v = BigInt(planck.toString());
	const sign = v < 0n ? "-" : "";
	const abs = v < 0n ? -v : v;
	const whole = abs / PLANCK_PER_GRID;
	const frac = ((abs % PLANCK_PER_GRID) * 10000n) / PLANCK_PER_GRID;
	const fracText = frac === 0n ? "" : "." + frac.toString().padStart(4, "0").replace(/0+$/, "");
	return `${sign}${whole}${fracText} GRID`;
}

/** A GRID amount typed by a person ("0.25") in planck. */
export function planck(text: string): bigint {
	const t = text.trim();
	if (!/^\d+(\.\d{0,12})?$/.test(t)) throw new Error(`"${text}" is not an amount of GRID`);
	const [whole, frac = ""] = t.split(".");
	return BigInt(whole) * PLANCK_PER_GRID + BigInt(frac.padEnd(12, "0"));
}

/** Who signs: a dev account's key pair, or an extension account with its signer. */
export type Signatory =
	| { kind: "pair"; address: string; pair: KeyringPair }
	| { kind: "extension"; address: string; signer: Signer; name: string };

/** A transaction the chain refused, with the pallet error's name and docs from metadata. */
export class Refused extends Error {
	constructor(
		readonly error: string,
		readonly docs: string,
	) {
		super(docs ? `${error}: ${docs}` : error);
	}
}

export interface Included {
	blockHash: string;
	blockNumber: number;
	events: { section: string; method: string; data: any }[];
}

/** Signs and sends `tx`, resolving once it is in a block and succeeded. */
export function send(tx: SubmittableExtrinsic<"promise">, who: Signatory): Promise<Included> {
	const a = api();
	return new Promise((resolve, reject) => {
		let unsubscribe: (() => void) | undefined;
		const options = who.kind === "extension" ? { signer: who.signer } : {};
		const account = who.kind === "pair" ? who.pair : who.address;
		tx.signAndSend(account as any, options, (result) => {
			const { status, dispatchError, events } = result;
			if (dispatchError) {
				unsubscribe?.();
				if (dispatchError.isModule) {
					const meta = a.registry.findMetaError(dispatchError.asModule);
					reject(new Refused(`${meta.section}.${meta.name}`, meta.docs.join(" ").trim()));
				} else {
					reject(new Refused(dispatchError.type, dispatchError.toString()));
				}
				return;
			}
			if (status.isInBlock || status.isFinalized) {
				unsubscribe?.();
				const blockHash = (status.isInBlock ? status.asInBlock : status.asFinalized).toHex();
				a.rpc.chain
					.getHeader(blockHash)
					.then((h) =>
						resolve({
							blockHash,
							blockNumber: h.number.toNumber(),
							events: events.map(({ event }) => ({
								section: event.section,
								method: event.method,
								data: event.data.toJSON(),
							})),
						}),
					)
					.catch(reject);
			} else if (status.isInvalid || status.isDropped || status.isUsurped) {
				unsubscribe?.();
				reject(new Refused(`transaction ${status.type.toLowerCase()}`, "the pool dropped it (often a fee the signer cannot pay)"));
			}
		})
			.then((u) => (unsubscribe = u))
			.catch((e: Error) => reject(poolRefusal(e, who.address)));
	});
}

/** The pool's refusal before inclusion ("1010: Invalid Transaction: Inability to pay …"). */
function poolRefusal(e: Error, address: string): Error {
	const text = e.message || String(e);
	if (/1010|Inability to pay|payment/i.test(text)) {
		return new Refused("the pool refused the transaction", `${text} (signed by ${address}; most often a fee it cannot pay)`);
	}
	return e;
}

/** One step of a job's story, from an event. */
export interface JobEvent {
	block: number;
	time?: number;
	method: string;
	data: Record<string, any>;
}

/** Jobs' events by job id, read from the last HISTORY_BLOCKS blocks and every new one. */
class JobIndex {
	private byJob = new Map<string, JobEvent[]>();
	private slashes = new Map<number, { device: string; amount: string }[]>();
	/** Eras that ended in the blocks read: their verified work units, fees burned and mint. */
	readonly eras = new Map<number, { block: number; units: number; fees: string; minted: string }>();
	private read = new Set<number>();
	private from = 0;
	private generation = 0;
	backfilled: Promise<void> = Promise.resolve();
	/** Whether the blocks before the connection have all been read. */
	complete = false;

	clear() {
		this.byJob.clear();
		this.slashes.clear();
		this.eras.clear();
		this.read.clear();
		this.from = 0;
		this.complete = false;
		this.generation++;
	}

	/** The oldest block this index has read (its events before it are unknown). */
	oldest(): number {
		return this.from;
	}

	/** Jobs submitted by `client` in the blocks read, newest first. */
	jobsOf(client: string): string[] {
		const ids: string[] = [];
		for (const [id, events] of this.byJob) if (events.some((e) => e.method === "JobSubmitted" && e.data.client === client)) ids.push(id);
		return ids.sort((x, y) => Number(y) - Number(x));
	}

	events(job: string | number): JobEvent[] {
		return (this.byJob.get(String(job)) ?? []).slice().sort((x, y) => x.block - y.block);
	}

	/** Device slashes in `block`: the amounts behind a failed job's `slashed`. */
	slashesAt(block: number) {
		return this.slashes.get(block) ?? [];
	}

	async follow(best: number) {
		const generation = this.generation;
		if (this.read.size === 0) {
			this.from = Math.max(1, best - HISTORY_BLOCKS);
			this.backfilled = this.readRange(this.from, best, generation).then(() => {
				if (generation === this.generation) this.complete = true;
			});
			return this.backfilled;
		}
		const last = Math.max(...this.read);
		await this.readRange(last + 1, best, generation);
	}

	private async readRange(first: number, last: number, generation: number) {
		const blocks: number[] = [];
		// Claimed before it is read, so that a new block's follow() never reads it twice.
		for (let b = first; b <= last; b++) if (!this.read.has(b)) (this.read.add(b), blocks.push(b));
		// A few requests in flight at once: fast on loopback, gentle on a public node.
		const workers = Array.from({ length: 8 }, async () => {
			for (let b = blocks.shift(); b !== undefined; b = blocks.shift()) {
				if (generation !== this.generation) return;
				await this.readBlock(b, generation).catch(() => this.read.delete(b));
			}
		});
		await Promise.all(workers);
	}

	private async readBlock(block: number, generation: number) {
		const a = api();
		const hash = await a.rpc.chain.getBlockHash(block);
		const at = await a.at(hash);
		const [records, now] = await Promise.all([at.query.system.events(), at.query.timestamp.now()]);
		if (generation !== this.generation) return;
		const time = Number((now as any).toString());
		for (const { event } of records as any) {
			if (event.section === "jobs") {
				const data = event.data.toJSON() as Record<string, any>;
				const names: string[] = (event.meta.fields ?? []).map((f: any) => f.name.toString());
				const named: Record<string, any> = {};
				names.forEach((n, i) => (named[camel(n)] = Array.isArray(data) ? data[i] : (data as any)[n]));
				const job = named.job;
				if (job === undefined) continue;
				const list = this.byJob.get(String(job)) ?? [];
				list.push({ block, time, method: event.method, data: named });
				this.byJob.set(String(job), list);
			} else if (event.section === "rewards" && event.method === "EraEnded") {
				const [era, units, fees, minted] = event.data.toJSON() as any[];
				this.eras.set(Number(era), { block, units: Number(units), fees: String(fees), minted: String(minted) });
			} else if (event.section === "devices" && event.method === "Slashed") {
				const [device, amount] = event.data.toJSON() as any[];
				const list = this.slashes.get(block) ?? [];
				list.push({ device, amount: String(amount) });
				this.slashes.set(block, list);
			}
		}
	}
}

export const jobIndex = new JobIndex();

export function camel(snake: string): string {
	return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
