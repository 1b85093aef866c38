// A few DOM helpers: the console is small enough not to need a framework.

type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`on…` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	attrs: Record<string, any> = {},
	...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
		else el.setAttribute(k, v === true ? "" : String(v));
	}
	for (const c of children.flat()) {
		if (c === null || c === undefined || c === false) continue;
		el.append(c instanceof Node ? c : String(c));
	}
	return el;
}

/** A table with a header row; `rows` are cells. */
export function table(testid: string, head: string[], rows: Child[][]): HTMLTableElement {
	return h(
		"table",
		{ "data-testid": testid },
		h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
		h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
	);
}

/** A message a person reads when something went wrong. */
export function problem(message: string, testid = "error"): HTMLElement {
	return h("p", { class: "error", role: "alert", "data-testid": testid }, message);
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
	if (text !== undefined) el.textContent = text;
	return el;
}

/** Grouped horizontal bars: one group per label, one bar per series (same unit). */
export function bars(
	title: string,
	labels: string[],
	series: { name: string; values: number[]; color: string }[],
	unit = "",
): HTMLElement {
	const barH = 12;
	const groupH = series.length * barH + 10;
	const left = 120;
	const width = 560;
	const height = Math.max(1, labels.length) * groupH + 30;
	const max = Math.max(1e-9, ...series.flatMap((s) => s.values));
	const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
	chart.append(svg("title", {}, title));
	labels.forEach((label, i) => {
		const y = i * groupH;
		chart.append(svg("text", { x: 0, y: y + groupH / 2, class: "axis" }, label));
		series.forEach((s, j) => {
			const v = s.values[i] ?? 0;
			const w = ((width - left - 90) * v) / max;
			chart.append(svg("rect", { x: left, y: y + j * barH, width: Math.max(w, 1), height: barH - 2, fill: s.color }));
			chart.append(svg("text", { x: left + w + 4, y: y + j * barH + barH - 3, class: "value" }, `${fmt(v)}${unit}`));
		});
	});
	series.forEach((s, j) => {
		chart.append(svg("rect", { x: left + j * 150, y: height - 14, width: 10, height: 10, fill: s.color }));
		chart.append(svg("text", { x: left + j * 150 + 14, y: height - 5, class: "axis" }, s.name));
	});
	return h("figure", { class: "chart" }, h("figcaption", {}, title), chart as unknown as Node);
}

function fmt(v: number): string {
	return Number.isInteger(v) ? String(v) : v.toPrecision(3);
}

export function short(address: string): string {
	return address.length > 14 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** A block number with its wall time, when known. */
export function when(block: number, time?: number): string {
	return time ? `#${block} (${new Date(time).toLocaleTimeString()})` : `#${block}`;
}
