// ProofGrid GEMM-i8 on the GPU: seeded inputs, the int8 GEMM with exact int32 accumulation, and
// the Merkle leaf hashes of the output, so that only leaf hashes leave the device. Every
// function mirrors its `proofgrid-primitives` definition bit for bit:
//   - pg_mix64 / pg_lane_key / pg_lane_element   <->  gemm::{mix64, lane_key, lane_element}
//   - a leaf is the 4x4 tile of C, row-major, zero past the edges of C  <->  gemm::seeded_leaf
//   - pg_blake2b_256 over 0x00 || 16 little-endian i32  <->  merkle::hash_leaf(encode_leaf(..))
// Compiled at run time by NVRTC (no nvcc, no CUDA toolkit at build time).

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
// each `k` elements long, stored with a stride of `stride` bytes (k rounded up to 4, padded
// with zeros so the GEMM can read whole 32-bit words).
extern "C" __global__ void pg_gen_lanes(
	u64 key, u32 matrix, u32 first, u32 count, u32 k, u32 stride, signed char* out) {
	u64 idx = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	u64 total = (u64)count * stride;
	if (idx >= total) return;
	u32 lane = (u32)(idx / stride);
	u32 i = (u32)(idx % stride);
	out[idx] = i < k ? pg_lane_element(pg_lane_key(key, matrix, first + lane), i) : 0;
}

__constant__ u64 PG_IV[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
	0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

__constant__ u8 PG_SIGMA[12][16] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

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

// BLAKE2b with a 32-byte digest of a message of `len` <= 128 bytes, given as 16 little-endian
// words (zero padded): a single, final compression.
__device__ void pg_blake2b_256(const u64 m[16], u32 len, u8 out[32]) {
	u64 h[8];
	for (int i = 0; i < 8; i++) h[i] = PG_IV[i];
	h[0] ^= 0x01010020ULL;  // digest length 32, no key, fanout 1, depth 1
	u64 v[16];
	for (int i = 0; i < 8; i++) {
		v[i] = h[i];
		v[i + 8] = PG_IV[i];
	}
	v[12] ^= (u64)len;
	v[14] = ~v[14];
	for (int r = 0; r < 12; r++) {
		const u8* s = PG_SIGMA[r];
		PG_G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
		PG_G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
		PG_G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
		PG_G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
		PG_G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
		PG_G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
		PG_G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
		PG_G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
	}
	for (int i = 0; i < 4; i++) {
		u64 word = h[i] ^ v[i] ^ v[i + 8];
		for (int b = 0; b < 8; b++) out[i * 8 + b] = (u8)(word >> (8 * b));
	}
}

// The 4x4 tile of C at leaf `j` of a block of tile rows starting at `row0` (see
// pg_leaf_hashes), zero past the edges of C.
__device__ __forceinline__ void pg_tile(
	const signed char* a, const signed char* bt, u32 m, u32 n, u32 stride, u32 row0, u32 tile_cols,
	u64 j, int out[PG_TILE][PG_TILE]) {
	u32 tile_row = row0 + (u32)(j / tile_cols);
	u32 tile_col = (u32)(j % tile_cols);
	int acc[PG_TILE][PG_TILE];
	for (int r = 0; r < PG_TILE; r++)
		for (int c = 0; c < PG_TILE; c++) acc[r][c] = 0;
	const int* a_words[PG_TILE];
	const int* b_words[PG_TILE];
	bool row_live[PG_TILE], col_live[PG_TILE];
	for (int t = 0; t < PG_TILE; t++) {
		u32 row = tile_row * PG_TILE + t;
		u32 col = tile_col * PG_TILE + t;
		row_live[t] = row < m;
		col_live[t] = col < n;
		// Dead lanes point at lane 0 and are zeroed below: no reads out of bounds.
		a_words[t] = (const int*)(a + (u64)(row_live[t] ? row - row0 * PG_TILE : 0) * stride);
		b_words[t] = (const int*)(bt + (u64)(col_live[t] ? col : 0) * stride);
	}
	for (u32 w = 0; w < stride / 4; w++) {
		int av[PG_TILE], bv[PG_TILE];
		for (int t = 0; t < PG_TILE; t++) {
			av[t] = a_words[t][w];
			bv[t] = b_words[t][w];
		}
		for (int r = 0; r < PG_TILE; r++)
			for (int c = 0; c < PG_TILE; c++) acc[r][c] = __dp4a(av[r], bv[c], acc[r][c]);
	}
	for (int r = 0; r < PG_TILE; r++)
		for (int c = 0; c < PG_TILE; c++) out[r][c] = (row_live[r] && col_live[c]) ? acc[r][c] : 0;
}

// The hashes of leaves in tile rows `row0 .. row0 + rows` (all tile columns), one thread per
// leaf. `a` holds this block's rows of A (row `row0 * 4` first), `bt` all of B's columns, both
// with a stride of `stride` bytes. Hash `j` of the block goes to `hashes + 32 * j`.
extern "C" __global__ void pg_leaf_hashes(
	const signed char* a, const signed char* bt, u32 m, u32 n, u32 stride, u32 row0, u32 rows,
	u32 tile_cols, u8* hashes) {
	u64 j = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	if (j >= (u64)rows * tile_cols) return;
	int tile[PG_TILE][PG_TILE];
	pg_tile(a, bt, m, n, stride, row0, tile_cols, j, tile);
	// 0x00 || 16 little-endian i32 = 65 bytes, in 16 zero-padded little-endian words.
	u8 bytes[128];
	for (int i = 0; i < 128; i++) bytes[i] = 0;
	for (int r = 0; r < PG_TILE; r++)
		for (int c = 0; c < PG_TILE; c++) {
			u32 bits = (u32)tile[r][c];
			int at = 1 + 4 * (r * PG_TILE + c);
			for (int b = 0; b < 4; b++) bytes[at + b] = (u8)(bits >> (8 * b));
		}
	u64 words[16];
	for (int i = 0; i < 16; i++) {
		u64 word = 0;
		for (int b = 0; b < 8; b++) word |= (u64)bytes[i * 8 + b] << (8 * b);
		words[i] = word;
	}
	pg_blake2b_256(words, 65, hashes + 32 * j);
}

// For `bench` only: the same GEMM without hashing; each leaf's 16 values are XOR-folded into
// `folds[j]` so the work cannot be optimised away. Timing it against pg_leaf_hashes splits a
// job's time into GEMM and hashing.
extern "C" __global__ void pg_gemm_fold(
	const signed char* a, const signed char* bt, u32 m, u32 n, u32 stride, u32 row0, u32 rows,
	u32 tile_cols, u32* folds) {
	u64 j = (u64)blockIdx.x * blockDim.x + threadIdx.x;
	if (j >= (u64)rows * tile_cols) return;
	int tile[PG_TILE][PG_TILE];
	pg_tile(a, bt, m, n, stride, row0, tile_cols, j, tile);
	u32 fold = 0;
	for (int r = 0; r < PG_TILE; r++)
		for (int c = 0; c < PG_TILE; c++) fold ^= (u32)tile[r][c];
	folds[j] = fold;
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
