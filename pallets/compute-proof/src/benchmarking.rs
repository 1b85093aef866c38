//! Benchmarks of verification, per sample, as a function of the GEMM inner dimension over its
//! whole range (1 to `MAX_K`), on the largest output a job may have (`MAX_DIM`², 2^36 leaves,
//! 36-sibling paths; lanes under 20-sibling paths). A reveal's cost is its sample count times a
//! sample's: per-sample benchmarks give that product exactly, where a two-component linear fit
//! of `samples` and `k` would not.
//!
//! A model sample is measured by its taps, one channel each, into a one-channel output row
//! (`verify_model_sample(t)`: one component, so that its fit is not drowned in another's cost);
//! the values its taps and weight lane carry beyond one per tap, and its output row's, cost what
//! a layer sample's longer lanes and rows do (`verify_layer_sample`'s slopes in `k` and `n`).

use super::*;
use alloc::{collections::btree_map::BTreeMap, vec, vec::Vec};
use frame_benchmarking::v2::*;
use proofgrid_primitives::{
	conv::Conv2d,
	device::{Kernel, Requirements},
	gemm::{dot, GemmShape, LEAF_ELEMENTS, MAX_DIM, MAX_K},
	inputs::{challenged_elements, hash_lane, MatrixCommitment, SuppliedInputs, SuppliedSample},
	linear::{hash_bias, linear_element, Layer, LayerSample, Requant},
	merkle::{hash_node, Hash32, MerkleTree},
	model::{Epilogue, Planned, Shape, Step, MAX_LAYERS, MAX_TAPS},
	model_proof::{
		model_challenge, output_tree, GemmWitness, ModelCommitments, ModelSample, ProvenRow,
		WeightsCommitment,
	},
	testing::{as_path, merkle_path},
};

/// Root and paths of a 2^`depth`-leaf tree whose leaves are zero except at `real`. Lets the
/// benchmark prove a few real leaves of a huge output without computing the rest.
fn sparse_tree(depth: u32, real: &[(u64, Hash32)]) -> (Hash32, Vec<Vec<Hash32>>) {
	let mut empty = vec![[0u8; 32]];
	for level in 0..depth as usize {
		empty.push(hash_node(&empty[level], &empty[level]));
	}
	let mut levels: Vec<BTreeMap<u64, Hash32>> = vec![real.iter().copied().collect()];
	for level in 0..depth as usize {
		let below = &levels[level];
		let get = |i: u64| below.get(&i).copied().unwrap_or(empty[level]);
		let above = below.keys().map(|&i| (i / 2, hash_node(&get(i & !1), &get(i | 1)))).collect();
		levels.push(above);
	}
	let root = levels[depth as usize].get(&0).copied().unwrap_or(empty[depth as usize]);
	let paths = real
		.iter()
		.map(|&(index, _)| {
			(0..depth as usize)
				.map(|level| {
					let sibling = (index >> level) ^ 1;
					levels[level].get(&sibling).copied().unwrap_or(empty[level])
				})
				.collect()
		})
		.collect();
	(root, paths)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Depth of the largest output's tree: `MAX_DIM`² elements in 4×4 leaves.
	const LEAF_DEPTH: u32 = 36;
	/// Depth of the largest matrix's lane tree: `MAX_DIM` lanes.
	const LANE_DEPTH: u32 = 20;

	/// One challenged leaf of a seeded job with inner dimension `k`: its index drawn, the leaf
	/// recomputed from the seed and its path checked.
	#[benchmark]
	fn verify_reveal_sample(k: Linear<1, MAX_K>) -> Result<(), BenchmarkError> {
		let spec = JobSpec::seeded(
			GemmShape { m: MAX_DIM, n: MAX_DIM, k },
			[7u8; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		);
		debug_assert_eq!(spec.shape.leaf_count(), 1 << LEAF_DEPTH);
		let seed = *spec.seed().expect("seeded");
		let index = spec.shape.leaf_count() / 3;
		let leaf = hash_leaf(&encode_leaf(&seeded_leaf(&spec.shape, &seed, index)));
		let (root, paths) = sparse_tree(LEAF_DEPTH, &[(index, leaf)]);
		let paths: RevealPaths = vec![as_path(paths[0].clone())].try_into().expect("one path");
		let root = H256(root);

		#[block]
		{
			core::hint::black_box(challenge_indices(&[9u8; 32], spec.shape.leaf_count(), 1));
			Pallet::<T>::verify_leaves(&spec, &root, &[index], &paths)
				.map_err(|_| BenchmarkError::Stop("honest reveal refused"))?;
		}
		Ok(())
	}

	/// One sample of a job on supplied inputs with inner dimension `k`: its element drawn from
	/// the challenge, its three paths checked (36, 20 and 20 siblings) and the element
	/// recomputed from the row and column. A fraud proof costs the same.
	#[benchmark]
	fn verify_supplied_sample(k: Linear<1, MAX_K>) -> Result<(), BenchmarkError> {
		let shape = GemmShape { m: MAX_DIM, n: MAX_DIM, k };
		let (r, c) = (MAX_DIM / 3, MAX_DIM / 5);
		let lane = |salt: u32| -> Vec<i8> {
			(0..k).map(|i| (i.wrapping_mul(31).wrapping_add(salt) % 251) as i8).collect()
		};
		let (row, col) = (lane(r), lane(c));
		let (a_root, a_paths) = sparse_tree(LANE_DEPTH, &[(r.into(), hash_lane(&row))]);
		let (b_root, b_paths) = sparse_tree(LANE_DEPTH, &[(c.into(), hash_lane(&col))]);
		let inputs = SuppliedInputs {
			a: MatrixCommitment { lanes: MAX_DIM, lane_len: k, root: H256(a_root) },
			b: MatrixCommitment { lanes: MAX_DIM, lane_len: k, root: H256(b_root) },
		};
		let mut leaf = [0i32; LEAF_ELEMENTS];
		leaf[((r % 4) * 4 + c % 4) as usize] = dot(&row, &col);
		let index = u64::from(r / 4) * u64::from(shape.tile_cols()) + u64::from(c / 4);
		let (root, leaf_paths) =
			sparse_tree(LEAF_DEPTH, &[(index, hash_leaf(&encode_leaf(&leaf)))]);
		let path = |p: &[Hash32]| as_path(p.to_vec());
		let sample = SuppliedSample {
			leaf,
			leaf_path: path(&leaf_paths[0]),
			row: row.try_into().expect("k ≤ MAX_K"),
			row_path: path(&a_paths[0]),
			col: col.try_into().expect("k ≤ MAX_K"),
			col_path: path(&b_paths[0]),
		};

		#[block]
		{
			core::hint::black_box(challenged_elements(&shape, &[9u8; 32], 1));
			proofgrid_primitives::inputs::verify_sample(
				&inputs,
				&shape,
				&root,
				index,
				(r, c),
				&sample,
			)
			.map_err(|_| BenchmarkError::Stop("honest sample refused"))?;
		}
		Ok(())
	}

	/// One sample of a `linear-i8` job with lanes of `k` values and output rows of `n` values
	/// (`n` columns of `W`, `n` biases): its element drawn, its four paths checked (20
	/// siblings for the output row and the row of `A`, ⌈log₂ n⌉ for the column and the bias)
	/// and the element recomputed. A layer fraud proof costs the same.
	#[benchmark]
	fn verify_layer_sample(k: Linear<1, MAX_K>, n: Linear<1, MAX_K>) -> Result<(), BenchmarkError> {
		let shape = GemmShape { m: MAX_DIM, n, k };
		let (i, j) = (MAX_DIM / 3, n / 2);
		let lane = |salt: u32, len: u32| -> Vec<i8> {
			(0..len).map(|x| (x.wrapping_mul(31).wrapping_add(salt) % 251) as i8).collect()
		};
		let (row, col) = (lane(i, k), lane(j, k));
		let (bias, requant) = (-12_345, Requant { multiplier: 1 << 30, shift: 40, relu: true });
		let mut output_row = lane(7, n);
		output_row[j as usize] = linear_element(&row, &col, bias, &requant);
		// Trees over `n` leaves are built whole (other leaves a dummy hash); trees over
		// `MAX_DIM` leaves sparsely.
		let dummy = [5u8; 32];
		let whole = |real: Hash32| -> MerkleTree {
			let mut leaves = vec![dummy; n as usize];
			leaves[j as usize] = real;
			MerkleTree::from_leaf_hashes(leaves).expect("n ≥ 1")
		};
		let (b_tree, bias_tree) = (whole(hash_lane(&col)), whole(hash_bias(bias)));
		let (a_root, a_paths) = sparse_tree(LANE_DEPTH, &[(i.into(), hash_lane(&row))]);
		let (y_root, y_paths) = sparse_tree(LANE_DEPTH, &[(i.into(), hash_lane(&output_row))]);
		let inputs = SuppliedInputs {
			a: MatrixCommitment { lanes: MAX_DIM, lane_len: k, root: H256(a_root) },
			b: MatrixCommitment { lanes: n, lane_len: k, root: H256(b_tree.root()) },
		};
		let layer = Layer { bias: H256(bias_tree.root()), requant };
		let path = as_path;
		let proof = |tree: &MerkleTree| merkle_path(tree, j.into());
		let sample = LayerSample {
			output_row: output_row.try_into().expect("n ≤ MAX_K"),
			output_path: path(y_paths[0].clone()),
			row: row.try_into().expect("k ≤ MAX_K"),
			row_path: path(a_paths[0].clone()),
			col: col.try_into().expect("k ≤ MAX_K"),
			col_path: proof(&b_tree),
			bias,
			bias_path: proof(&bias_tree),
		};
		let root = H256(y_root);

		#[block]
		{
			core::hint::black_box(challenged_elements(&shape, &[9u8; 32], 1));
			proofgrid_primitives::linear::verify_layer_sample(
				&inputs,
				&layer,
				&shape,
				&root,
				(i, j),
				&sample,
			)
			.map_err(|_| BenchmarkError::Stop("honest layer sample refused"))?;
		}
		Ok(())
	}

	/// One sample of a model job's element in its last layer of [`MAX_LAYERS`]: a convolution
	/// reading `t` one-channel input pixels (kernel `1 × t`) into one-channel output rows, over
	/// `MAX_DIM` input and output pixels (20-sibling paths). Its element drawn, its layer's and
	/// the previous layer's roots checked against the output root, its output row, its `t`
	/// taps, its weight lane and bias checked, and the element recomputed. A model fraud proof
	/// costs the same.
	#[benchmark]
	fn verify_model_sample(t: Linear<1, MAX_TAPS>) -> Result<(), BenchmarkError> {
		let n = 1;
		// 256 images of 1 × 4096 pixels: 2^20 rows in and, padded on the right, out.
		let conv = |filters: u32, taps: u32| Conv2d {
			batch: 256,
			height: 1,
			width: 4096,
			channels: 1,
			filters,
			kernel: (1, taps),
			stride: (1, 1),
			padding: [0, 0, 0, taps - 1],
			dilation: (1, 1),
			pad: 0,
		};
		let epilogue = Epilogue {
			requant: Requant { multiplier: 1 << 30, shift: 40, relu: true },
			zero_point: 0,
		};
		let planned = |filters: u32, taps: u32| Planned {
			step: Step::Gemm(conv(filters, taps), epilogue),
			input: Shape { height: 1, width: 4096, channels: 1 },
			output: Shape { height: 1, width: 4096, channels: filters },
			zero_point: 0,
		};
		// Every layer before the last writes one channel: the last one's input.
		let mut plan = vec![planned(1, 1); MAX_LAYERS as usize - 1];
		plan.push(planned(n, t));
		let last = MAX_LAYERS - 1;
		let (row, j) = (0u32, n / 2);
		debug_assert_eq!(plan[last as usize].rows(), MAX_DIM);

		let pixels: Vec<u32> = plan[last as usize].taps(row).into_iter().flatten().collect();
		debug_assert_eq!(pixels.len(), t as usize);
		let value = |x: u32| -> i8 { (x.wrapping_mul(31) % 251) as i8 };
		let taps: Vec<Vec<i8>> = pixels.iter().map(|&p| vec![value(p)]).collect();
		let (previous_root, tap_paths) = sparse_tree(
			LANE_DEPTH,
			&pixels.iter().zip(&taps).map(|(&p, v)| (p.into(), hash_lane(v))).collect::<Vec<_>>(),
		);
		let lane: Vec<i8> = (0..t).map(|x| value(x + 7)).collect();
		let bias = -12_345;
		let patch: Vec<i8> = taps.iter().flatten().copied().collect();
		let mut output_row: Vec<i8> = (0..n).map(value).collect();
		output_row[j as usize] = epilogue.requant.apply_at(dot(&patch, &lane), bias, 0);
		let (layer_root, output_paths) =
			sparse_tree(LANE_DEPTH, &[(row.into(), hash_lane(&output_row))]);
		// Trees over `n` leaves are built whole (other leaves a dummy hash).
		let dummy = [5u8; 32];
		let whole = |real: Hash32| -> MerkleTree {
			let mut leaves = vec![dummy; n as usize];
			leaves[j as usize] = real;
			MerkleTree::from_leaf_hashes(leaves).expect("n ≥ 1")
		};
		let (lane_tree, bias_tree) = (whole(hash_lane(&lane)), whole(hash_bias(bias)));
		let mut layer_roots = vec![H256([3u8; 32]); MAX_LAYERS as usize];
		layer_roots[last as usize - 1] = H256(previous_root);
		layer_roots[last as usize] = H256(layer_root);
		let outputs = output_tree(&layer_roots).expect("layers");
		let mut weights =
			vec![WeightsCommitment { lanes: H256(dummy), bias: H256(dummy) }; MAX_LAYERS as usize];
		weights[last as usize] =
			WeightsCommitment { lanes: H256(lane_tree.root()), bias: H256(bias_tree.root()) };
		let input = MatrixCommitment { lanes: MAX_DIM, lane_len: 1, root: H256(dummy) };
		let root = H256(outputs.root());
		let proven = |values: Vec<i8>, path: &[Hash32]| ProvenRow {
			values: values.try_into().expect("k ≤ MAX_K"),
			path: as_path(path.to_vec()),
		};
		let sample = ModelSample {
			layer_root: H256(layer_root),
			layer_path: merkle_path(&outputs, last.into()),
			output: proven(output_row, &output_paths[0]),
			previous_root: H256(previous_root),
			previous_path: merkle_path(&outputs, (last - 1).into()),
			taps: taps
				.into_iter()
				.zip(&tap_paths)
				.map(|(values, path)| proven(values, path))
				.collect::<Vec<_>>()
				.try_into()
				.expect("t ≤ MAX_TAPS"),
			weights: Some(GemmWitness {
				lane: ProvenRow {
					values: lane.try_into().expect("t ≤ MAX_K"),
					path: merkle_path(&lane_tree, j.into()),
				},
				bias,
				bias_path: merkle_path(&bias_tree, j.into()),
			}),
		};
		let job = ModelCommitments { plan: &plan, input: &input, weights: &weights, root: &root };

		#[block]
		{
			core::hint::black_box(model_challenge(&plan, &[9u8; 32], 1));
			proofgrid_primitives::model_proof::verify_model_sample(&job, (last, row, j), &sample)
				.map_err(|_| BenchmarkError::Stop("honest model sample refused"))?;
		}
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::tests::ext(), crate::tests::Test);
}
