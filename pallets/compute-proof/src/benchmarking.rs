//! Benchmark of verification as a function of the sample count and the GEMM inner dimension,
//! on a 4096×4096 output (2^20 leaves, 20-sibling paths).

use super::*;
use alloc::{collections::btree_map::BTreeMap, vec, vec::Vec};
use frame_benchmarking::v2::*;
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::{dot, GemmShape, LEAF_ELEMENTS},
	inputs::{challenged_elements, hash_lane, MatrixCommitment, SuppliedInputs, SuppliedSample},
	job::MerklePath,
	merkle::{hash_node, Hash32},
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

	/// `s` challenged leaves of a 4096×4096 output with inner dimension `d`.
	#[benchmark]
	fn verify_reveal(s: Linear<1, 64>, d: Linear<1, 4096>) -> Result<(), BenchmarkError> {
		let spec = JobSpec::seeded(
			GemmShape { m: 4096, n: 4096, k: d },
			[7u8; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		);
		let seed = *spec.seed().expect("seeded");
		// Spread-out, sorted leaf indices.
		let indices: Vec<u64> = (0..s as u64).map(|i| i * (spec.shape.leaf_count() / 64)).collect();
		let real: Vec<(u64, Hash32)> = indices
			.iter()
			.map(|&i| (i, hash_leaf(&encode_leaf(&seeded_leaf(&spec.shape, &seed, i)))))
			.collect();
		let (root, paths) = sparse_tree(20, &real);
		let paths: Vec<MerklePath> = paths
			.into_iter()
			.map(|p| p.into_iter().map(H256).collect::<Vec<_>>().try_into().expect("20 < 40"))
			.collect();
		let paths: RevealPaths = paths.try_into().map_err(|_| BenchmarkError::Stop("too many"))?;
		let root = H256(root);

		#[block]
		{
			Pallet::<T>::verify_leaves(&spec, &root, &indices, &paths)
				.map_err(|_| BenchmarkError::Stop("honest reveal refused"))?;
		}
		Ok(())
	}

	/// `s` samples of a 4096×4096 output on supplied inputs with inner dimension `d`: the
	/// elements drawn from the challenge (as `verify_supplied` does before anything else), then
	/// each sample's three paths (20, 12 and 12 siblings) checked and its element recomputed.
	#[benchmark]
	fn verify_supplied(s: Linear<1, 256>, d: Linear<1, 4096>) -> Result<(), BenchmarkError> {
		let shape = GemmShape { m: 4096, n: 4096, k: d };
		// Distinct rows and columns, one element per sample.
		let elements: Vec<(u32, u32)> = (0..s).map(|i| (i * 16, i * 16 + 1)).collect();
		let lane = |salt: u32| -> Vec<i8> {
			(0..d).map(|i| (i.wrapping_mul(31).wrapping_add(salt) % 251) as i8).collect()
		};
		let rows: Vec<Vec<i8>> = elements.iter().map(|&(r, _)| lane(r)).collect();
		let cols: Vec<Vec<i8>> = elements.iter().map(|&(_, c)| lane(c)).collect();
		let lane_tree = |at: &dyn Fn(usize) -> u32, lanes: &[Vec<i8>]| {
			let real: Vec<(u64, Hash32)> =
				lanes.iter().enumerate().map(|(i, l)| (at(i) as u64, hash_lane(l))).collect();
			sparse_tree(12, &real)
		};
		let (a_root, a_paths) = lane_tree(&|i| elements[i].0, &rows);
		let (b_root, b_paths) = lane_tree(&|i| elements[i].1, &cols);
		let inputs = SuppliedInputs {
			a: MatrixCommitment { lanes: 4096, lane_len: d, root: H256(a_root) },
			b: MatrixCommitment { lanes: 4096, lane_len: d, root: H256(b_root) },
		};
		let leaves: Vec<(u64, [i32; LEAF_ELEMENTS])> = elements
			.iter()
			.enumerate()
			.map(|(i, &(r, c))| {
				let mut leaf = [0i32; LEAF_ELEMENTS];
				leaf[((r % 4) * 4 + c % 4) as usize] = dot(&rows[i], &cols[i]);
				(u64::from(r / 4) * 1024 + u64::from(c / 4), leaf)
			})
			.collect();
		let real: Vec<(u64, Hash32)> =
			leaves.iter().map(|(i, l)| (*i, hash_leaf(&encode_leaf(l)))).collect();
		let (root, leaf_paths) = sparse_tree(20, &real);
		let path = |p: Vec<Hash32>| -> MerklePath {
			p.into_iter().map(H256).collect::<Vec<_>>().try_into().expect("shallow")
		};
		let samples: Vec<SuppliedSample> = (0..s as usize)
			.map(|i| SuppliedSample {
				leaf: leaves[i].1,
				leaf_path: path(leaf_paths[i].clone()),
				row: rows[i].clone().try_into().expect("d ≤ MAX_K"),
				row_path: path(a_paths[i].clone()),
				col: cols[i].clone().try_into().expect("d ≤ MAX_K"),
				col_path: path(b_paths[i].clone()),
			})
			.collect();

		#[block]
		{
			core::hint::black_box(challenged_elements(&shape, &[9u8; 32], s));
			for (i, sample) in samples.iter().enumerate() {
				proofgrid_primitives::inputs::verify_sample(
					&inputs,
					&shape,
					&root,
					leaves[i].0,
					elements[i],
					sample,
				)
				.map_err(|_| BenchmarkError::Stop("honest sample refused"))?;
			}
		}
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::tests::ext(), crate::tests::Test);
}
