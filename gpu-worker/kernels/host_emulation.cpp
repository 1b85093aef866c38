// Runs gemm_i8.cu on the CPU, one "thread" at a time, to check on machines without a GPU that
// the kernels compute exactly what proofgrid-primitives defines (the test
// `kernels_match_the_reference_when_emulated_on_the_host`). Not part of the worker.
//
//   c++ -O1 -std=c++17 host_emulation.cpp -o emu && ./emu M N K SEED_KEY
// prints one leaf hash (hex) per line, in leaf-index order;
//   ./emu requant MULTIPLIER SHIFT RELU < "M N", N biases, M*N accumulators
// prints the linear-i8 epilogue's M*N outputs (pg_linear_epilogue), one per line.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct PgDim3 {
	unsigned x, y, z;
};
static PgDim3 blockIdx, threadIdx, blockDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __constant__ static const

// __dp4a(a, b, c): c + the dot product of the four signed bytes of a and b.
static inline int __dp4a(int a, int b, int c) {
	for (int i = 0; i < 4; i++)
		c += (int)(int8_t)(uint8_t)((unsigned)a >> (8 * i)) * (int)(int8_t)(uint8_t)((unsigned)b >> (8 * i));
	return c;
}

#include "gemm_i8.cu"

// Runs `threads` kernel threads as blocks of 256.
template <typename F>
static void launch(uint64_t threads, F kernel) {
	blockDim = {256, 1, 1};
	for (uint64_t t = 0; t < threads; t++) {
		blockIdx = {(unsigned)(t / 256), 0, 0};
		threadIdx = {(unsigned)(t % 256), 0, 0};
		kernel();
	}
}

// The epilogue kernel on stdin's "M N", then N biases, then the M x N accumulators (row-major);
// prints the M x N outputs, one per line.
static int requant(int multiplier, u32 shift, u32 relu) {
	u32 m, n;
	if (scanf("%u %u", &m, &n) != 2) return 2;
	std::vector<int> bias(n), acc((size_t)m * n);
	for (auto& b : bias)
		if (scanf("%d", &b) != 1) return 2;
	for (auto& a : acc)
		if (scanf("%d", &a) != 1) return 2;
	std::vector<signed char> y(acc.size());
	launch((uint64_t)m * n, [&] {
		pg_linear_epilogue(acc.data(), bias.data(), m, n, multiplier, shift, relu, y.data());
	});
	for (signed char v : y) printf("%d\n", (int)v);
	return 0;
}

int main(int argc, char** argv) {
	if (argc == 5 && std::string(argv[1]) == "requant")
		return requant((int)strtol(argv[2], 0, 10), strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10));
	if (argc != 5) return 2;
	u32 m = strtoul(argv[1], 0, 10), n = strtoul(argv[2], 0, 10), k = strtoul(argv[3], 0, 10);
	u64 key = strtoull(argv[4], 0, 10);
	u32 stride = (k + 3) / 4 * 4;
	u32 tile_rows = (m + 3) / 4, tile_cols = (n + 3) / 4;
	std::vector<signed char> bt((size_t)n * stride);
	launch((uint64_t)n * stride, [&] { pg_gen_lanes(key, 1, 0, n, k, stride, bt.data()); });
	// Two tile rows per block, as the backend does when memory is short.
	const u32 block_rows = 2;
	for (u32 row0 = 0; row0 < tile_rows; row0 += block_rows) {
		u32 rows = tile_rows - row0 < block_rows ? tile_rows - row0 : block_rows;
		u32 first = row0 * 4, live = (m - first) < rows * 4 ? (m - first) : rows * 4;
		std::vector<signed char> a((size_t)live * stride);
		launch((uint64_t)live * stride, [&] { pg_gen_lanes(key, 0, first, live, k, stride, a.data()); });
		std::vector<u8> hashes((size_t)rows * tile_cols * 32);
		launch((uint64_t)rows * tile_cols,
			[&] { pg_leaf_hashes(a.data(), bt.data(), m, n, stride, row0, rows, tile_cols, hashes.data()); });
		for (size_t j = 0; j < (size_t)rows * tile_cols; j++) {
			for (int b = 0; b < 32; b++) printf("%02x", hashes[j * 32 + b]);
			printf("\n");
		}
	}
	return 0;
}
