// ProofGrid's primitives, compiled from Rust to WebAssembly (console/wasm, wasm-bindgen):
// the commitments, the output check and Freivalds' check are the chain's own definitions.
import init from "./wasm-pkg/proofgrid.js";
export * from "./wasm-pkg/proofgrid.js";

let ready: Promise<unknown> | undefined;

export function loadPrimitives(): Promise<unknown> {
	ready ??= init();
	return ready;
}
