import { defineConfig } from "vite";

// A static app: `vite build` writes dist/, which any web server can serve. The wasm file
// is loaded by wasm-bindgen's `--target web` glue with `new URL(…, import.meta.url)`, which
// Vite copies as an asset.
export default defineConfig({
	build: { target: "es2022", chunkSizeWarningLimit: 2048 },
	server: { host: "127.0.0.1" },
	preview: { host: "127.0.0.1" },
});
