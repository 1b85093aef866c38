// An account: balances and holds, jobs as client, devices as owner, and era rewards it can
// claim (with the claim).
import { api, grid, jobIndex, rpc, send, Refused } from "../chain";
import { DEV_ACCOUNTS, devAccount } from "../accounts";
import { h, problem, short, table } from "../ui";

export async function accountPage(address?: string): Promise<HTMLElement> {
	const a = api();
	const dev = await devAccount(DEV_ACCOUNTS[4]);
	const who = address || dev.address;
	const field = h("input", { name: "address", value: who, size: 50, "data-testid": "account-address" });
	const form = h("form", { onsubmit: (e: Event) => { e.preventDefault(); location.hash = `#/account/${field.value.trim()}`; } }, h("label", {}, "Account ", field), h("button", {}, "Show"));

	let account: any, holds: any, owned: any, pending: any[];
	try {
		[account, holds, owned, pending] = await Promise.all([
			a.query.system.account(who),
			a.query.balances.holds(who),
			a.query.devices.ownerDevices(who),
			rpc<any[]>("pendingRewards", [who]),
		]);
	} catch (e) {
		return h("section", {}, form, problem(`"${who}" is not an account on this chain: ${(e as Error).message}`));
	}
	const data = account.data;
	const holdRows = (holds as any).map((hold: any) => [JSON.stringify(hold.id.toJSON()).replace(/[{}"]/g, "").replace(":", " · "), grid(hold.amount)]);
	// Jobs as client: those the event index saw it submit (there is no index by client on
	// chain), each with its state in storage or, once ended, its last event.
	const ids = jobIndex.jobsOf(who).slice(0, 200);
	const stored = ids.length ? await a.query.jobs.jobs.multi(ids) : [];
	const jobRows = ids.map((id, i) => {
		const job = (stored[i] as any).unwrapOr(null);
		const events = jobIndex.events(id);
		const state = job ? Object.keys(job.status.toJSON())[0] : `${events[events.length - 1].method.replace(/^Job/, "").toLowerCase()} (ended)`;
		return [h("a", { href: `#/job/${id}` }, id), state, job ? grid(job.budget) : "—"];
	});
	const devices = (owned as any).map((d: any) => d.toString());
	const claimNote = h("div", { "data-testid": "claim-result" });
	const rewardRows = pending.map((r) => [
		`era ${r.era}`,
		`${r.units} units`,
		grid(r.fees),
		grid(r.amount),
		who === dev.address || DEV_ACCOUNTS.length
			? h(
					"button",
					{
						onclick: async () => {
							claimNote.replaceChildren();
							try {
								const signer = await signerFor(who);
								if (!signer) throw new Error("only a dev account's rewards can be claimed here without an extension");
								const done = await send(a.tx.rewards.claim(r.era), signer);
								claimNote.append(h("p", { class: "ok" }, `Claimed era ${r.era} in block #${done.blockNumber}.`));
							} catch (e) {
								claimNote.append(problem(e instanceof Refused ? `The chain refused the claim: ${(e as Error).message}` : (e as Error).message));
							}
						},
					},
					"Claim",
				)
			: "",
	]);
	const ended = jobIndex.oldest();

	return h(
		"section",
		{ "data-testid": "account" },
		h("h1", {}, "Account"),
		form,
		table("balances", ["", "GRID"], [
			["free", grid(data.free)],
			["held (reserved)", grid(data.reserved)],
			["frozen", grid(data.frozen)],
		]),
		h("h2", {}, "Holds"),
		holdRows.length ? table("holds", ["reason", "amount"], holdRows) : h("p", {}, "No hold."),
		h("h2", {}, `Jobs as client (submitted since block #${ended})`),
		table("client-jobs", ["job", "state", "budget held"], jobRows),
		jobIndex.complete ? null : h("p", { "data-testid": "jobs-pending" }, `Reading the events of blocks since #${ended}…`),
		h("h2", {}, "Devices as owner"),
		devices.length ? table("owned-devices", ["device"], devices.map((d: string) => [h("span", { title: d }, short(d))])) : h("p", {}, "No device."),
		h("h2", {}, "Claimable rewards"),
		rewardRows.length ? table("rewards", ["era", "work", "fees", "reward", ""], rewardRows) : h("p", {}, "Nothing to claim."),
		claimNote,
	);
}

async function signerFor(address: string) {
	for (const name of DEV_ACCOUNTS) {
		const s = await devAccount(name);
		if (s.address === address) return s;
	}
	return undefined;
}
