// ProofGrid GEMM-i8 on the GPU: seeded inputs, the int8 GEMM with exact int32 accumulation, and
// the Merkle leaf hashes of the output, so that only leaf hashes leave the device. Every
// function mirrors its `proofgrid-primitives` definition bit for bit:
//   - pg_mix64 / pg_lane_key / pg_lane_element   <->  gemm::{mix64, lane_key, lane_element}
//   - a leaf is the 4x4 tile of C, row-major, zero past the edges of C  <->  gemm::seeded_leaf
//   - pg_blake2b_leaf over 0x00 || 16 little-endian i32  <->  merkle::hash_leaf(encode_leaf(..))
// Compiled at run time by NVRTC (no nvcc, no CUDA toolkit at build time).
//
// Layout (backend/cuda.rs, `Padded`): A's rows and B's columns are "lanes" of `kp` bytes (k
// rounded up to 16, zeros after k); lanes past m or n are zero too. A block's C is int32,
// row-major, `rows` x `np` (n rounded up to 16). cuBLASLt writes it (backend/cublaslt.rs), or
// pg_gemm_tiles where cuBLASLt is missing; pg_hash_tiles hashes its 4x4 tiles. The zero padding
// is what makes C zero past its edges, as the definition wants.

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define PG_GAMMA 0x9e3779b97f4a7c15ULL
#define PG_TILE 4

__device__ __forceinline__ u64 pg_mix64(u64 z) {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

__device__ __forceinline__ u64 pg_lane_key(u64 key, u32 matrix, u32 lane) {
	u64 x = pg_mix64((key + PG_GAMMA) ^ (u64)matrix);
	return pg_mix64((x + PG_GAMMA) ^ (u64)lane);
}

__device__ __forceinline__ signed char pg_lane_element(u64 lane_key, u32 i) {
	return (signed char)(u8)(pg_mix64((lane_key + PG_GAMMA) ^ (u64)i) >> 56);
}

// Lanes `first .. first + count` of seeded matrix `matrix` (0 = A by rows, 1 = B by columns),
// each `k` elements long, stored `stride` bytes apart (a multiple of 4) with zeros after `k`.
// Lanes at or past `live` (relative to `first`) are all zeros: the padding past the edge of A
// or B. One thread per 4-byte word, so that a lane's key is mixed once per 4 elements.
extern "C" __global__ void pg_gen_lanes(
	u64 key, u32 matrix, u32 first, u32 live, u32 count, u32 k, u32 stride, u32* out) {
	u64 idx = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	u32 words = stride / 4;
	if (idx >= (u64)count * words) return;
	u32 lane = (u32)(idx / words);
	u32 i = (u32)(idx % words) * 4;
	u32 word = 0;
	if (lane < live) {
		u64 lane_key = pg_lane_key(key, matrix, first + lane);
		for (u32 b = 0; b < 4; b++)
			if (i + b < k) word |= (u32)(u8)pg_lane_element(lane_key, i + b) << (8 * b);
	}
	out[idx] = word;
}

// Every one of `len` bytes set to `value`: the all -128 inputs that check a cuBLASLt algorithm
// before the backend uses it.
extern "C" __global__ void pg_fill(u8* out, u64 len, u32 value) {
	u64 idx = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	if (idx < len) out[idx] = (u8)value;
}

__device__ __forceinline__ u64 pg_rotr64(u64 x, int n) { return (x >> n) | (x << (64 - n)); }

#define PG_G(a, b, c, d, x, y)          \
	a = a + b + x;                      \
	d = pg_rotr64(d ^ a, 32);           \
	c = c + d;                          \
	b = pg_rotr64(b ^ c, 24);           \
	a = a + b + y;                      \
	d = pg_rotr64(d ^ a, 16);           \
	c = c + d;                          \
	b = pg_rotr64(b ^ c, 63);

// One BLAKE2b round with its message schedule written out: every index is a constant, so the
// message and state stay in registers (a table lookup, m[SIGMA[r][i]], would index them at run
// time and put both in local memory).
#define PG_ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15) \
	PG_G(v0, v4, v8, v12, m[s0], m[s1]);                                              \
	PG_G(v1, v5, v9, v13, m[s2], m[s3]);                                              \
	PG_G(v2, v6, v10, v14, m[s4], m[s5]);                                             \
	PG_G(v3, v7, v11, v15, m[s6], m[s7]);                                             \
	PG_G(v0, v5, v10, v15, m[s8], m[s9]);                                             \
	PG_G(v1, v6, v11, v12, m[s10], m[s11]);                                           \
	PG_G(v2, v7, v8, v13, m[s12], m[s13]);                                            \
	PG_G(v3, v4, v9, v14, m[s14], m[s15]);

#define PG_IV0 0x6a09e667f3bcc908ULL
#define PG_IV1 0xbb67ae8584caa73bULL
#define PG_IV2 0x3c6ef372fe94f82bULL
#define PG_IV3 0xa54ff53a5f1d36f1ULL
#define PG_IV4 0x510e527fade682d1ULL
#define PG_IV5 0x9b05688c2b3e6c1fULL
#define PG_IV6 0x1f83d9abfb41bd6bULL
#define PG_IV7 0x5be0cd19137e2179ULL

// BLAKE2b-256 of a message of `len` <= 128 bytes given as 16 little-endian words (zero padded):
// a single, final compression. The digest is written as 4 little-endian words.
__device__ __forceinline__ void pg_blake2b_256(const u64 m[16], u32 len, u64 out[4]) {
	// h = IV with the parameter block (digest length 32, no key, fanout 1, depth 1) in h[0].
	const u64 h0 = PG_IV0 ^ 0x01010020ULL;
	u64 v0 = h0, v1 = PG_IV1, v2 = PG_IV2, v3 = PG_IV3, v4 = PG_IV4, v5 = PG_IV5, v6 = PG_IV6,
	    v7 = PG_IV7;
	u64 v8 = PG_IV0, v9 = PG_IV1, v10 = PG_IV2, v11 = PG_IV3, v12 = PG_IV4 ^ (u64)len,
	    v13 = PG_IV5, v14 = ~PG_IV6, v15 = PG_IV7;
	PG_ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	PG_ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3)
	PG_ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4)
	PG_ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8)
	PG_ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13)
	PG_ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9)
	PG_ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11)
	PG_ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10)
	PG_ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5)
	PG_ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0)
	PG_ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	PG_ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3)
	out[0] = h0 ^ v0 ^ v8;
	out[1] = PG_IV1 ^ v1 ^ v9;
	out[2] = PG_IV2 ^ v2 ^ v10;
	out[3] = PG_IV3 ^ v3 ^ v11;
}

// BLAKE2b-256 of a 65-byte message: the byte `prefix`, then 64 bytes given as 8 little-endian
// words p[0..8]. Message word i is the last byte of p[i-1] and the first 7 of p[i] (the prefix
// shifts everything by one); word 8 holds p[7]'s last byte; words 9..15 are zero.
__device__ __forceinline__ void pg_blake2b_65(u32 prefix, const u64 p[8], u64 out[4]) {
	u64 m[16];
	m[0] = (u64)prefix | (p[0] << 8);
	for (int i = 1; i < 8; i++) m[i] = (p[i - 1] >> 56) | (p[i] << 8);
	m[8] = p[7] >> 56;
	for (int i = 9; i < 16; i++) m[i] = 0;
	pg_blake2b_256(m, 65, out);
}

// The leaf hash of 16 outputs (row-major): BLAKE2b-256 of 0x00 || 16 little-endian i32
// <-> merkle::hash_leaf(encode_leaf(..)).
__device__ __forceinline__ void pg_blake2b_leaf(const int vals[16], u64 out[4]) {
	u64 p[8];
	for (int i = 0; i < 8; i++) p[i] = (u64)(u32)vals[2 * i] | ((u64)(u32)vals[2 * i + 1] << 32);
	pg_blake2b_65(0x00, p, out);
}

// The fallback GEMM, for GPUs where cuBLASLt cannot be loaded: one thread per 4x4 tile of the
// block's C (`rows` x `np`, row-major), int8 dot products with exact int32 `dp4a`. `a` holds
// the block's `rows` lanes of A, `bt` B's `np` lanes, both `kp` bytes apart (kp, rows and np
// multiples of 16, so every load is whole and aligned).
extern "C" __global__ void pg_gemm_tiles(
	const signed char* a, const signed char* bt, u32 kp, u32 rows, u32 np, int* c) {
	u64 j = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	u32 tiles_per_row = np / PG_TILE;
	if (j >= (u64)(rows / PG_TILE) * tiles_per_row) return;
	u32 row = (u32)(j / tiles_per_row) * PG_TILE;
	u32 col = (u32)(j % tiles_per_row) * PG_TILE;
	const int* a_words[PG_TILE];
	const int* b_words[PG_TILE];
	for (int t = 0; t < PG_TILE; t++) {
		a_words[t] = (const int*)(a + (u64)(row + t) * kp);
		b_words[t] = (const int*)(bt + (u64)(col + t) * kp);
	}
	int acc[PG_TILE][PG_TILE];
	for (int r = 0; r < PG_TILE; r++)
		for (int q = 0; q < PG_TILE; q++) acc[r][q] = 0;
	for (u32 w = 0; w < kp / 4; w++) {
		int av[PG_TILE], bv[PG_TILE];
		for (int t = 0; t < PG_TILE; t++) {
			av[t] = a_words[t][w];
			bv[t] = b_words[t][w];
		}
		for (int r = 0; r < PG_TILE; r++)
			for (int q = 0; q < PG_TILE; q++) acc[r][q] = __dp4a(av[r], bv[q], acc[r][q]);
	}
	for (int r = 0; r < PG_TILE; r++)
		for (int q = 0; q < PG_TILE; q++) c[(u64)(row + r) * np + col + q] = acc[r][q];
}

// The leaf hashes of a block: one thread per leaf of its `rows / 4` tile rows and `tile_cols`
// tile columns (the live ones: np may hold up to 3 tile columns more). `c` is the block's C
// (`rows` x `np`, int32, row-major, 16-byte aligned); leaf `j` of the block is hashed into
// `hashes[4 j .. 4 j + 4]`. The tile is read as four 16-byte loads, hashed in registers.
extern "C" __global__ void pg_hash_tiles(
	const int* c, u32 rows, u32 np, u32 tile_cols, u64* hashes) {
	u64 j = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	if (j >= (u64)(rows / PG_TILE) * tile_cols) return;
	u64 row = (j / tile_cols) * PG_TILE;
	u64 col = (j % tile_cols) * PG_TILE;
	int vals[16];
	for (int r = 0; r < PG_TILE; r++) {
		int4 q = *(const int4*)(c + (row + r) * np + col);
		vals[4 * r] = q.x;
		vals[4 * r + 1] = q.y;
		vals[4 * r + 2] = q.z;
		vals[4 * r + 3] = q.w;
	}
	u64 out[4];
	pg_blake2b_leaf(vals, out);
	for (int i = 0; i < 4; i++) hashes[4 * j + i] = out[i];
}

// One level of the Merkle tree: node i of `above` is the hash of nodes 2i and 2i+1 of `below`
// (`width` nodes, 4 words each), BLAKE2b-256 of 0x01 || left || right; a lone last node is
// carried up unchanged  <->  merkle::parent_level.
extern "C" __global__ void pg_tree_level(const u64* below, u64 width, u64* above) {
	u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= (width + 1) / 2) return;
	const u64* left = below + 8 * i;
	if (2 * i + 1 == width) {
		for (int w = 0; w < 4; w++) above[4 * i + w] = left[w];
		return;
	}
	u64 p[8];
	for (int w = 0; w < 8; w++) p[w] = left[w];
	u64 out[4];
	pg_blake2b_65(0x01, p, out);
	for (int w = 0; w < 4; w++) above[4 * i + w] = out[w];
}

// The linear-i8 epilogue, element by element: Y = act(sat_i8(requant(acc + bias)))  <->
// linear::Requant::apply. acc is A·W (int32, from the GEMM above); the column's int32 bias is
// added exactly; times the int32 multiplier and divided by 2^shift, rounded to the nearest
// integer with ties away from zero; saturated to [-128, 127]; ReLU when relu != 0.
// For a valid requantization (multiplier > 0, shift <= 62) everything fits 64 bits:
// |acc + bias| <= 2^32 and multiplier < 2^31, so |p| < 2^63; |p| + 2^(shift-1) < 2^64.
__device__ __forceinline__ signed char pg_requant(int acc, int bias, int multiplier, u32 shift, u32 relu) {
	long long z = (long long)acc + (long long)bias;
	long long p = z * (long long)multiplier;
	u64 magnitude = p < 0 ? (u64)0 - (u64)p : (u64)p;
	if (shift > 62) shift = 62;
	if (shift > 0) magnitude = (magnitude + (1ULL << (shift - 1))) >> shift;
	long long rounded = p < 0 ? -(long long)magnitude : (long long)magnitude;
	if (rounded > 127) rounded = 127;
	if (rounded < -128) rounded = -128;
	if (relu && rounded < 0) rounded = 0;
	return (signed char)rounded;
}

// One thread per element of Y (m x n, row-major) from the accumulators (same layout) and the
// n biases.
extern "C" __global__ void pg_linear_epilogue(
	const int* acc, const int* bias, u32 m, u32 n, int multiplier, u32 shift, u32 relu,
	signed char* y) {
	u64 idx = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	if (idx >= (u64)m * n) return;
	y[idx] = pg_requant(acc[idx], bias[idx % n], multiplier, shift, relu);
}
