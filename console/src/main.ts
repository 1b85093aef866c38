// The console's shell: the node field, the router (#/market, #/job/ID, #/submit,
// #/account[/ADDRESS]) and a refresh of the page on every new block.
import "./style.css";
import { connect, DEFAULT_ENDPOINT, endpoint, jobIndex, NodeUnreachable, onBlock, api } from "./chain";
import { market } from "./pages/market";
import { jobPage } from "./pages/job";
import { submitPage } from "./pages/submit";
import { accountPage } from "./pages/account";
import { h, problem } from "./ui";

const page = document.getElementById("page")!;
const status = document.getElementById("chain-status")!;
const endpointForm = document.getElementById("endpoint") as HTMLFormElement;
const urlField = endpointForm.elements.namedItem("url") as HTMLInputElement;

/** Pages that follow the chain re-render on each block; Submit keeps its form. */
const LIVE = new Set(["market", "job", "account"]);
let rendering = false;

async function render(quiet = false) {
	const [name = "market", arg] = location.hash.replace(/^#\/?/, "").split("/");
	if (quiet && (!LIVE.has(name) || rendering)) return;
	rendering = true;
	try {
		if (!endpoint()) throw new NodeUnreachable("not connected: give a node's WebSocket address above");
		const view =
			name === "job" ? await jobPage(arg ?? "")
			: name === "submit" ? await submitPage()
			: name === "account" ? await accountPage(arg)
			: await market();
		page.replaceChildren(view);
		page.dataset.rendered = String(Date.now());
	} catch (e) {
		if (!quiet) page.replaceChildren(problem((e as Error).message, e instanceof NodeUnreachable ? "unreachable" : "error"));
	} finally {
		rendering = false;
	}
}

async function start(url: string) {
	status.dataset.state = "connecting";
	status.textContent = `connecting to ${url}…`;
	try {
		const a = await connect(url);
		const chain = await a.rpc.system.chain();
		status.dataset.state = "connected";
		status.textContent = `${chain} · spec ${a.runtimeVersion.specVersion}`;
		localStorage.setItem("proofgrid.endpoint", url);
		// Pages draw at once from storage; the events of past blocks fill in when read.
		jobIndex.backfilled.then(() => render(true));
		await render();
	} catch (e) {
		status.dataset.state = "failed";
		status.textContent = "not connected";
		page.replaceChildren(problem((e as Error).message, "unreachable"));
	}
}

onBlock(() => {
	api().rpc.chain.getHeader().then((hd) => (status.dataset.best = String(hd.number.toNumber())));
	render(true);
});
window.addEventListener("hashchange", () => render());
endpointForm.addEventListener("submit", (e) => {
	e.preventDefault();
	start(urlField.value.trim());
});
document.getElementById("job-search")!.addEventListener("submit", (e) => {
	e.preventDefault();
	const id = ((e.target as HTMLFormElement).elements.namedItem("id") as HTMLInputElement).value.trim();
	location.hash = `#/job/${id}`;
});

const initial = new URLSearchParams(location.search).get("rpc") ?? localStorage.getItem("proofgrid.endpoint") ?? DEFAULT_ENDPOINT;
urlField.value = initial;
page.append(h("p", {}, "Connecting…"));
start(initial);
