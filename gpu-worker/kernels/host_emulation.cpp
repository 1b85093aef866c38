// Runs gemm_i8.cu on the CPU, one "thread" at a time, to check on machines without a GPU that
// the kernels compute exactly what proofgrid-primitives defines (the test
// `kernels_match_the_reference_when_emulated_on_the_host`). Not part of the worker.
//
//   c++ -O1 -std=c++17 host_emulation.cpp -o emu && ./emu M N K SEED_KEY
// prints one leaf hash (hex) per line, in leaf-index order;
//   ./emu fill M N K A_VALUE B_VALUE
// the same for inputs whose every element is A_VALUE (in A) or B_VALUE (in B);
//   ./emu tree < leaf hashes (hex, one per line)
// prints the Merkle root built by pg_tree_level;
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

struct int4 {
	int x, y, z, w;
};

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

// The job's leaf hashes, block by block as the backend runs it (the fallback GEMM, then the leaf
// hashes), with A's rows and B's columns from `lanes(matrix, first, live, count, kp, out)`.
template <typename Lanes>
static void leaf_hashes(u32 m, u32 n, u32 k, Lanes lanes) {
	u32 kp = (k + 15) / 16 * 16, np = (n + 15) / 16 * 16;
	u32 tile_rows = (m + 3) / 4, tile_cols = (n + 3) / 4;
	std::vector<signed char> bt((size_t)np * kp);
	lanes(1, 0, n, np, kp, bt.data());
	// Four tile rows (16 rows of A) per block, so that small shapes run several blocks.
	const u32 block_rows = 4;
	for (u32 row0 = 0; row0 < tile_rows; row0 += block_rows) {
		u32 rows = tile_rows - row0 < block_rows ? tile_rows - row0 : block_rows;
		u32 first = row0 * 4, live = (m - first) < rows * 4 ? (m - first) : rows * 4;
		u32 a_rows = (rows * 4 + 15) / 16 * 16;
		std::vector<signed char> a((size_t)a_rows * kp);
		lanes(0, first, live, a_rows, kp, a.data());
		std::vector<int> c((size_t)a_rows * np);
		launch((uint64_t)(a_rows / 4) * (np / 4),
			[&] { pg_gemm_tiles(a.data(), bt.data(), kp, a_rows, np, c.data()); });
		std::vector<u64> hashes((size_t)rows * tile_cols * 4);
		launch((uint64_t)rows * tile_cols, [&] { pg_hash_tiles(c.data(), rows * 4, np, tile_cols, hashes.data()); });
		for (size_t j = 0; j < (size_t)rows * tile_cols; j++) {
			for (int b = 0; b < 32; b++) printf("%02x", (unsigned)(u8)(hashes[j * 4 + b / 8] >> (8 * (b % 8))));
			printf("\n");
		}
	}
}

// The Merkle root of stdin's leaf hashes (hex, one per line) by pg_tree_level, level by level.
static int tree() {
	std::vector<u64> level;
	char line[80];
	while (scanf("%79s", line) == 1) {
		u64 words[4] = {0, 0, 0, 0};
		for (int b = 0; b < 32; b++) {
			unsigned byte;
			if (sscanf(line + 2 * b, "%2x", &byte) != 1) return 2;
			words[b / 8] |= (u64)byte << (8 * (b % 8));
		}
		level.insert(level.end(), words, words + 4);
	}
	u64 width = level.size() / 4;
	while (width > 1) {
		std::vector<u64> above((width + 1) / 2 * 4);
		launch((width + 1) / 2, [&] { pg_tree_level(level.data(), width, above.data()); });
		level.swap(above);
		width = (width + 1) / 2;
	}
	for (int b = 0; b < 32; b++) printf("%02x", (unsigned)(u8)(level[b / 8] >> (8 * (b % 8))));
	printf("\n");
	return 0;
}

int main(int argc, char** argv) {
	if (argc == 2 && std::string(argv[1]) == "tree") return tree();
	if (argc == 5 && std::string(argv[1]) == "requant")
		return requant((int)strtol(argv[2], 0, 10), strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10));
	// ./emu fill M N K A_VALUE B_VALUE: every element of A and of B is the same value.
	if (argc == 7 && std::string(argv[1]) == "fill") {
		u32 m = strtoul(argv[2], 0, 10), n = strtoul(argv[3], 0, 10), k = strtoul(argv[4], 0, 10);
		signed char value[2] = {(signed char)strtol(argv[5], 0, 10), (signed char)strtol(argv[6], 0, 10)};
		leaf_hashes(m, n, k, [&](u32 matrix, u32, u32 live, u32 count, u32 kp, signed char* out) {
			for (u64 i = 0; i < (u64)count * kp; i++) out[i] = (i / kp < live && i % kp < k) ? value[matrix] : 0;
		});
		return 0;
	}
	if (argc != 5) return 2;
	u32 m = strtoul(argv[1], 0, 10), n = strtoul(argv[2], 0, 10), k = strtoul(argv[3], 0, 10);
	u64 key = strtoull(argv[4], 0, 10);
	leaf_hashes(m, n, k, [&](u32 matrix, u32 first, u32 live, u32 count, u32 kp, signed char* out) {
		launch((uint64_t)count * kp / 4, [&] { pg_gen_lanes(key, matrix, first, live, count, k, kp, (u32*)out); });
	});
	return 0;
}
