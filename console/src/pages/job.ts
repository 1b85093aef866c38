// A job: where it stands, its timeline from the chain's events, the samples the chain checked
// and its verdict, and where the money went (payment, refund, slash, compensation).
import { api, grid, jobIndex, rpc, type JobEvent } from "../chain";
import { h, problem, short, table, when } from "../ui";

/** Challenged leaves seen while a job was committed (the chain prunes their seed later). */
const challenges = new Map<string, { drawn: number[]; tileCols: number }>();

/** A `DispatchError` (as JSON) with the pallet error's name and docs. */
export function dispatchError(e: any): string {
	const module = e?.module ?? e?.Module;
	if (module) {
		try {
			const meta = api().registry.findMetaError({ index: api().createType("u8", module.index), error: api().createType("[u8;4]", module.error) } as any);
			return `${meta.section}.${meta.name}: ${meta.docs.join(" ").trim()}`;
		} catch {
			/* fall through */
		}
	}
	return JSON.stringify(e);
}

function failure(reason: any): string {
	if (reason?.badProof !== undefined) return `the proof was refused (${dispatchError(reason.badProof)})`;
	if (reason?.fraudProven) return `a fraud proof showed element [${reason.fraudProven.row}][${reason.fraudProven.col}] wrong`;
	if (reason?.lateReveal !== undefined || reason === "LateReveal") return "no proof before its deadline";
	if (reason?.dataWithheld !== undefined || reason === "DataWithheld") return "the device withheld data its client demanded";
	return JSON.stringify(reason);
}

/** What one event means, in a sentence. */
function step(e: JobEvent): [string, string] {
	const d = e.data;
	switch (e.method) {
		case "JobSubmitted":
			return ["submitted", `by ${short(d.client)}: ${d.units} units, budget ${grid(d.budget)}, deposit ${grid(d.deposit)}, call fee ${grid(d.callFee)}`];
		case "JobAssigned":
			return ["assigned", `to device ${short(d.device)} at ${grid(d.price)}/unit, collateral ${grid(d.collateral)}; commit by #${d.commitBy}`];
		case "InputsReceived":
			return ["inputs received", `the device signed a receipt for the client's matrices`];
		case "JobCommitted":
			return ["committed", `output root ${String(d.root).slice(0, 18)}…; challenge from block #${d.challengeBlock}; proof due by #${d.revealBy}`];
		case "JobVerified":
			return ["verified", `the chain checked the device's proof; disputes until #${d.disputeUntil}`];
		case "JobSettled":
			return ["settled", `paid ${grid(d.payment)} to ${short(d.provider)}, fee burned ${grid(d.feeBurned)}, refunded ${grid(d.refund)} to the client`];
		case "JobFailed":
			return ["failed", `${failure(d.reason)}; device ${short(d.device)} slashed ${grid(d.slashed)}, client compensated ${grid(d.compensation)}`];
		case "JobReleased":
			return ["released", `device ${short(d.device)} gave the job back (forfeited ${grid(d.forfeited)})`];
		case "JobUnassigned":
			return ["unassigned", `device ${short(d.device)} lost the job (forfeited ${grid(d.forfeited)})`];
		case "JobExpired":
			return ["expired", "no device took it before its deadline; the client was refunded"];
		case "JobCancelled":
			return ["cancelled", "by its client, before any device took it"];
		case "DataDemanded":
			return ["data demanded", `the client demanded ${d.elements?.length ?? "some"} elements on chain, answer by #${d.answerBy}`];
		case "DataPublished":
			return ["data published", `the device published the demanded leaves`];
		case "DisputeRejected":
			return ["dispute rejected", `${short(d.accuser)}'s dispute was refused; deposit burned ${grid(d.depositBurned)}`];
		default:
			return [e.method, JSON.stringify(d)];
	}
}

/** The reveal extrinsic behind a verdict: how many samples it carried and its size. */
async function revealIn(block: number, job: string): Promise<{ samples: number; bytes: number } | undefined> {
	const a = api();
	const hash = await a.rpc.chain.getBlockHash(block);
	const signed = await a.rpc.chain.getBlock(hash);
	for (const x of signed.block.extrinsics) {
		if (x.method.section !== "jobs" || x.method.method !== "reveal") continue;
		const args = x.method.toJSON() as any;
		if (String(args.args?.job) !== job) continue;
		const reveal = args.args.reveal ?? {};
		const samples = Object.values(reveal).find(Array.isArray) as unknown[] | undefined;
		return { samples: samples?.length ?? 0, bytes: x.encodedLength };
	}
	return undefined;
}

export async function jobPage(id: string): Promise<HTMLElement> {
	if (!/^\d+$/.test(id)) return problem(`"${id}" is not a job id`);
	const [view, events] = [await rpc<any>("job", [Number(id)]), jobIndex.events(id)];
	if (!view && events.length === 0 && !jobIndex.complete) {
		return h("p", { "data-testid": "job-pending" }, `Job ${id} is not in storage; reading the chain's events since block #${jobIndex.oldest()} for its story…`);
	}
	if (!view && events.length === 0) {
		return problem(`Job ${id} is not in storage and none of its events is in the blocks read (since #${jobIndex.oldest()}): it never existed, or it ended earlier.`, "job-unknown");
	}
	const state: string = view?.status?.state ?? (events.length ? step(events[events.length - 1])[0] : "unknown");
	if (view?.status?.state === "committed") {
		const drawn = await rpc<number[] | null>("challenge", [Number(id)]);
		if (drawn) challenges.set(id, { drawn, tileCols: Math.ceil(view.shape.n / 4) });
	}

	const timeline = events.map((e) => {
		const [name, text] = step(e);
		return [h("span", { class: `stage stage-${name.replace(/ /g, "-")}` }, name), when(e.block, e.time), text];
	});

	const verdictEvent = events.find((e) => e.method === "JobVerified" || (e.method === "JobFailed" && e.data.reason?.badProof !== undefined));
	const verdict: (Node | string)[] = [];
	if (verdictEvent) {
		const reveal = await revealIn(verdictEvent.block, id).catch(() => undefined);
		const samples = reveal ? `${reveal.samples} samples (${(reveal.bytes / 1024).toFixed(1)} KiB) in block #${verdictEvent.block}` : `the proof in block #${verdictEvent.block}`;
		verdict.push(
			verdictEvent.method === "JobVerified"
				? h("p", { "data-testid": "verdict", class: "ok" }, `Verdict: proven. The chain recomputed ${samples}, each an element of C from its row of A and column of B, all under the committed roots.`)
				: h("p", { "data-testid": "verdict", class: "bad" }, `Verdict: refused. ${samples}: ${failure(verdictEvent.data.reason)}.`),
		);
	} else if (state === "committed") {
		verdict.push(h("p", { "data-testid": "verdict" }, "Verdict: the device has committed; its proof is due."));
	}
	const challenge = challenges.get(id);
	if (challenge?.drawn.length) {
		const { drawn, tileCols: tiles } = challenge;
		const leaves = [...new Set(drawn)];
		verdict.push(
			h("p", { "data-testid": "challenge" }, `The challenge drew ${drawn.length} samples in ${leaves.length} leaves (4×4 tiles of C, by their first element): ${leaves.slice(0, 24).map((l) => (tiles ? `[${Math.floor(l / tiles) * 4}][${(l % tiles) * 4}]` : `#${l}`)).join(" ")}${leaves.length > 24 ? " …" : ""}`),
		);
	}

	const money: [string, string][] = [];
	for (const e of events) {
		if (e.method === "JobSettled") {
			money.push(["paid to the provider", grid(e.data.payment)], ["protocol fee burned", grid(e.data.feeBurned)], ["refunded to the client", grid(e.data.refund)]);
		}
		if (e.method === "JobFailed") {
			money.push(["slashed from the device", grid(e.data.slashed)], ["compensation to the client", grid(e.data.compensation)]);
			for (const s of jobIndex.slashesAt(e.block)) money.push([`Devices.Slashed of ${short(s.device)} (block #${e.block})`, grid(s.amount)]);
		}
	}

	const facts = view
		? [
				["client", view.client],
				["shape", `A ${view.shape.m}×${view.shape.k} · B ${view.shape.k}×${view.shape.n}`],
				["units", String(view.units)],
				["price cap", `${grid(view.priceCap)} per unit`],
				["budget held", grid(view.budget)],
				["deposit", grid(view.deposit)],
				["call fee still held", grid(view.callFee)],
				["deadline", `#${view.deadline}`],
			]
		: [];

	return h(
		"section",
		{ "data-testid": "job" },
		h("h1", {}, `Job ${id}`),
		h("p", {}, "State: ", h("strong", { "data-testid": "job-state" }, state)),
		facts.length ? table("job-facts", ["", ""], facts) : h("p", {}, "The job has ended: the chain keeps its story in events only."),
		h("h2", {}, "Timeline"),
		timeline.length
			? table("timeline", ["stage", "block", "what happened"], timeline)
			: h("p", {}, `No event of this job since block #${jobIndex.oldest()}.`),
		jobIndex.complete ? null : h("p", { "data-testid": "timeline-pending" }, `Reading the events of blocks since #${jobIndex.oldest()}…`),
		h("h2", {}, "Proof"),
		verdict.length ? verdict : h("p", {}, "No proof yet."),
		h("h2", {}, "Money"),
		money.length ? table("money", ["", "GRID"], money) : h("p", {}, "Nothing paid, refunded or slashed yet."),
	);
}
