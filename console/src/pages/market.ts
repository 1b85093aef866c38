// The market: devices with their advertised and delivered throughput, open jobs, the rules,
// burned fees and the era's emission, live as blocks arrive.
import { api, grid, jobIndex, rpc } from "../chain";
import { bars, h, problem, short, table } from "../ui";

export interface DeviceView {
	device: string;
	owner: string;
	model: string;
	vramMib: number;
	advertisedGops: number;
	deliveredGops: number;
	pricePerUnit: string;
	bond: string;
	locked: string;
	freeBond: string;
	activeJobs: number;
	completed: number;
	failed: number;
	lastHeartbeat: number;
	status: { state: string; until?: number };
	kernels: string[];
	earned: string;
	slashed: string;
	endpoint?: string;
}

/** Every device, a page of 100 at a time (the RPC's most). */
export async function allDevices(): Promise<DeviceView[]> {
	const out: DeviceView[] = [];
	for (;;) {
		const page = await rpc<DeviceView[]>("devices", [out.length ? out[out.length - 1].device : null, 100]);
		out.push(...page);
		if (page.length < 100) return out;
	}
}

/** Open jobs listed (a page of the index; the total comes from its counters). */
const OPEN_JOBS_SHOWN = 100;

export async function market(): Promise<HTMLElement> {
	const a = api();
	// Open jobs: their count from the per-bucket counters, and one page of them, so the page
	// costs the same with ten open jobs or ten thousand.
	const [devices, era, best, burned, slashesBurned, nextJob, openKeys, openCounts, eras] = await Promise.all([
		allDevices(),
		rpc<any>("currentEra"),
		a.rpc.chain.getHeader(),
		a.query.jobs.feesBurned(),
		a.query.jobs.slashesBurned(),
		a.query.jobs.nextJobId(),
		a.query.jobs.openJobs.keysPaged({ args: [], pageSize: OPEN_JOBS_SHOWN }),
		a.query.jobs.openJobCount.entries(),
		a.query.rewards.eras.entries(),
	]);
	const now = best.number.toNumber();
	const openTotal = openCounts.reduce((sum, [, v]) => sum + Number((v as any).toString()), 0);
	const openIds = openKeys.map((k) => (k.args[1] as any).toString()).sort((x, y) => Number(x) - Number(y));
	const open = openIds.length ? await a.query.jobs.jobs.multi(openIds) : [];

	const c = a.consts as any;
	const rules: [string, string][] = [
		["device bond", grid(c.devices.deviceBond)],
		["lowest price", `${grid(c.jobs.minPricePerUnit)} per unit (10⁹ operations)`],
		["protocol fee (burned)", c.jobs.protocolFee.toHuman()],
		["job deposit", grid(c.jobs.jobDeposit)],
		["device collateral", `${c.jobs.collateralPercent}% of the job's value, at least ${grid(c.jobs.minCollateral)}`],
		["samples a supplied job's proof checks", `${c.computeProof.defaultSuppliedSamples} by default (${c.computeProof.minSuppliedSamples}–256)`],
		["dispute window", `${(await a.query.jobs.disputeWindowBlocks()).toString()} blocks`],
	];

	const deviceRows = devices.map((d) => [
		h("span", { title: d.device, "data-testid": "device" }, short(d.device)),
		d.model,
		`${d.advertisedGops}`,
		`${d.deliveredGops}`,
		grid(d.pricePerUnit),
		grid(d.bond),
		grid(d.locked),
		`${d.completed} / ${d.failed}`,
		d.lastHeartbeat ? `#${d.lastHeartbeat} (${now - d.lastHeartbeat} blocks ago)` : "never",
		d.status.state + (d.status.until ? ` until #${d.status.until}` : ""),
	]);
	const openRows = open.map((j, i) => {
		const job = (j as any).unwrap().toJSON();
		return [
			h("a", { href: `#/job/${openIds[i]}` }, openIds[i]),
			short(job.client),
			`${job.spec.shape.m}×${job.spec.shape.k} · ${job.spec.shape.k}×${job.spec.shape.n}`,
			`${job.units}`,
			grid(BigInt(job.priceCap)),
			`#${job.deadline}`,
		];
	});
	const eraList = eras
		.map(([k, v]) => ({ era: Number(k.args[0].toString()), value: (v as any).toJSON() }))
		.sort((x, y) => x.era - y.era)
		.slice(-12);
	const toGrid = (p: bigint | string | number) => Number(BigInt(p)) / 1e12;

	return h(
		"section",
		{ "data-testid": "market" },
		h("h1", {}, "Market"),
		h(
			"dl",
			{ class: "facts" },
			h("dt", {}, "best block"), h("dd", { "data-testid": "best-block" }, `#${now}`),
			h("dt", {}, "jobs submitted ever"), h("dd", {}, nextJob.toString()),
			h("dt", {}, "fees burned"), h("dd", {}, grid(burned as any)),
			h("dt", {}, "slashes burned"), h("dd", {}, grid(slashesBurned as any)),
			h("dt", {}, `era ${era.era}`), h("dd", {}, `blocks #${era.start}–#${era.end}: emission ${grid(era.emission)}, at most ${grid(era.mintable)} mintable against ${grid(era.fees)} of fees so far`),
		),
		h("h2", {}, `Devices (${devices.length})`),
		devices.length
			? table("devices", ["device", "GPU", "advertised GOPS", "delivered GOPS", "price / unit", "bond", "locked", "done / failed", "last heartbeat", "status"], deviceRows)
			: problem("No device is registered on this chain yet: a provider starts proofgrid-worker to offer one.", "no-devices"),
		devices.length
			? h(
					"div",
					{ class: "charts" },
					bars("Throughput per device (GOPS)", devices.map((d) => short(d.device)), [
						{ name: "advertised", values: devices.map((d) => d.advertisedGops), color: "#9db4d0" },
						{ name: "delivered", values: devices.map((d) => d.deliveredGops), color: "#2c6fbb" },
					]),
					bars("Price per work unit (GRID)", devices.map((d) => short(d.device)), [
						{ name: "price", values: devices.map((d) => toGrid(d.pricePerUnit)), color: "#d08c2c" },
					]),
				)
			: null,
		h("h2", {}, `Open jobs (${openTotal}${openTotal > openIds.length ? `; ${openIds.length} shown` : ""})`),
		openIds.length
			? table("open-jobs", ["job", "client", "A · B", "units", "price cap / unit", "deadline"], openRows)
			: h("p", {}, "No job is waiting for a device."),
		h("h2", {}, "Eras"),
		eraList.length
			? h(
					"div",
					{ class: "charts" },
					bars("Per era: fees burned and rewards pool (GRID)", eraList.map((e) => `era ${e.era}`), [
						{ name: "fees burned", values: eraList.map((e) => toGrid(e.value.totalFees)), color: "#bb2c2c" },
						{ name: "rewards pool", values: eraList.map((e) => toGrid(e.value.pool)), color: "#2cbb6f" },
					]),
					// Verified work per era, from the eras' EraEnded events the console has read.
					bars("Per era: verified work units", eraList.map((e) => `era ${e.era}`), [
						{ name: "work units", values: eraList.map((e) => jobIndex.eras.get(e.era)?.units ?? 0), color: "#6f2cbb" },
					]),
				)
			: h("p", {}, "No era has ended yet."),
		h("h2", {}, "Rules"),
		table("rules", ["rule", "value"], rules),
	);
}
