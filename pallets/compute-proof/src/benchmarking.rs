//! Benchmark of verification as a function of the sample count and the GEMM inner dimension,
//! on a 4096×4096 output (2^20 leaves, 20-sibling paths).

use super::*;
use alloc::{collections::btree_map::BTreeMap, vec, vec::Vec};
use frame_benchmarking::v2::*;
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
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

	impl_benchmark_test_suite!(Pallet, crate::tests::ext(), crate::tests::Test);
}
