// The `.npy` files a dApp's matrices travel in: 2-D int8 in, 2-D int32 out (what NumPy's
// np.load reads), parsed strictly from bytes a person picked.

export interface Matrix<T> {
	rows: number;
	cols: number;
	values: T;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER = 4096;

/** A 2-D int8 matrix (C order) from a `.npy` file's bytes, or why it is not one. */
export function parseNpyI8(bytes: Uint8Array, name: string): Matrix<Int8Array> {
	const fail = (why: string) => new Error(`${name}: ${why}`);
	if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw fail("not a .npy file");
	const major = bytes[6];
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	let headerLen: number, start: number;
	if (major === 1) [headerLen, start] = [view.getUint16(8, true), 10];
	else if (major === 2 || major === 3) [headerLen, start] = [view.getUint32(8, true), 12];
	else throw fail(`.npy format version ${major} is not supported`);
	if (headerLen > MAX_HEADER || start + headerLen > bytes.length) throw fail("its header is too long");
	const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
	const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
	if (descr !== "|i1" && descr !== "<i1" && descr !== "i1") throw fail(`dtype ${descr ?? "?"} is not int8; save A.astype(np.int8)`);
	if (!/'fortran_order'\s*:\s*False/.test(header)) throw fail("Fortran order; save it C-contiguous");
	const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
	const dims = (shape ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
	if (dims.length !== 2 || dims.some((d) => !Number.isSafeInteger(d) || d <= 0)) throw fail(`shape (${shape}) is not 2-D`);
	const [rows, cols] = dims;
	const data = bytes.subarray(start + headerLen);
	if (data.length !== rows * cols) throw fail(`${data.length} bytes for ${rows}×${cols} values`);
	return { rows, cols, values: new Int8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
}

/** A row-major int32 matrix as a `.npy` file (format 1.0, little-endian, C order). */
export function npyI32(m: Matrix<Int32Array>): Uint8Array {
	const head = npyHead("<i4", m.rows, m.cols);
	const out = new Uint8Array(head.length + m.values.length * 4);
	out.set(head, 0);
	const body = new DataView(out.buffer, head.length);
	m.values.forEach((v, i) => body.setInt32(i * 4, v, true));
	return out;
}

/** A random int8 matrix (for trying the market without files). */
export function randomI8(rows: number, cols: number): Matrix<Int8Array> {
	const values = new Int8Array(rows * cols);
	// getRandomValues fills at most 64 KiB a call.
	for (let at = 0; at < values.length; at += 65536) crypto.getRandomValues(values.subarray(at, at + 65536));
	return { rows, cols, values };
}

/** A format 1.0 `.npy` head (magic, version, length, header padded to 64 bytes) for a 2-D,
 * C-order matrix of `descr`. */
function npyHead(descr: string, rows: number, cols: number): Uint8Array {
	let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
	header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
	const head = new Uint8Array(10 + header.length);
	head.set(MAGIC, 0);
	head[6] = 1;
	new DataView(head.buffer).setUint16(8, header.length, true);
	head.set(new TextEncoder().encode(header), 10);
	return head;
}
