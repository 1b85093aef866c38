//! Verification of honest and dishonest reveals, and the statistical check that a provider who
//! faked a fraction `f` of its output passes at the rate `(1 − f)^k` predicts.

use frame_support::{
	assert_noop, assert_ok, derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use proofgrid_primitives::{
	challenge::challenge_seed,
	device::{Kernel, Requirements},
	gemm::GemmShape,
	inputs::challenged_elements,
	job::{
		Accusation, InputSource, JobInputs, JobSpec, LayerReveal, ModelReveal, OutputKind, Reveal,
		RevealPaths, SuppliedReveal,
	},
	linear::Requant,
	merkle::{hash_leaf, MerkleTree},
	testing::layer::LayerJob,
	testing::model::ModelJob,
	testing::supplied::SuppliedJob,
	testing::{reveal_paths, seeded_output},
};
use sp_core::H256;
use sp_runtime::BuildStorage;

use crate::{self as pallet_compute_proof, Error};
use proofgrid_primitives::traits::ComputeVerifier;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
		ComputeProof: pallet_compute_proof,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub static Samples: u32 = 16;
}

impl pallet_models::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ConstU64<1>;
	type DepositPerByte = ConstU64<0>;
	type WeightInfo = ();
}

#[derive_impl(crate::config_preludes::TestDefaultConfig)]
impl crate::Config for Test {
	type Samples = Samples;
	type MinSuppliedSamples = ConstU32<8>;
	type DefaultSuppliedSamples = ConstU32<64>;
	type Models = Models;
}

/// The account that registers models.
const OWNER: u64 = 1;

pub(crate) fn ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> { balances: vec![(OWNER, 1_000)], ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	storage.into()
}

const ANY_DEVICE: Requirements =
	Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 };

fn spec(m: u32, n: u32, k: u32) -> JobSpec {
	JobSpec::seeded(GemmShape { m, n, k }, [3u8; 32], ANY_DEVICE)
}

/// The spec of a supplied job (uploaded inputs) whose client asked for `samples`.
fn supplied_spec(job: &SuppliedJob, samples: u32) -> JobSpec {
	JobSpec {
		shape: job.shape,
		inputs: JobInputs::Supplied {
			matrices: job.inputs,
			a: InputSource::Upload,
			b: InputSource::Upload,
			samples,
			public_output: false,
		},
		requirements: ANY_DEVICE,
	}
}

/// What the provider of supplied job `job` with `samples` reveals for the challenge of `block`.
fn supplied_reveal(id: u64, job: &SuppliedJob, samples: u32, block: H256) -> SuppliedReveal {
	let seed = challenge_seed(id, &job.root(), &block.0);
	job.reveal(&challenged_elements(&job.shape, &seed, samples))
}

/// What the provider reveals for the challenge of `block`.
fn reveal(job: u64, spec: &JobSpec, tree: &MerkleTree, block: H256) -> (H256, RevealPaths) {
	let root = H256(tree.root());
	(root, reveal_paths(tree, &ComputeProof::challenge(job, spec, &root, &block)))
}

#[test]
fn an_honest_reveal_verifies_for_ragged_shapes() {
	ext().execute_with(|| {
		for (m, n, k) in [(1, 1, 1), (16, 12, 20), (13, 9, 7), (64, 64, 64)] {
			let spec = spec(m, n, k);
			let tree = seeded_output(&spec, |_| false);
			let block = H256::repeat_byte(m as u8);
			let (root, paths) = reveal(1, &spec, &tree, block);
			assert_ok!(ComputeProof::verify_seeded(1, &spec, &root, &block, &paths));
		}
	});
}

#[test]
fn a_faked_challenged_leaf_is_caught() {
	ext().execute_with(|| {
		let spec = spec(32, 32, 16);
		let block = H256::repeat_byte(1);
		// Every leaf faked: whatever the challenge, the first path checked fails.
		let tree = seeded_output(&spec, |_| true);
		let (root, paths) = reveal(1, &spec, &tree, block);
		assert_noop!(
			ComputeProof::verify_seeded(1, &spec, &root, &block, &paths),
			Error::<Test>::LeafMismatch
		);
	});
}

#[test]
fn malformed_reveals_are_refused_by_name() {
	ext().execute_with(|| {
		let spec = spec(32, 32, 8);
		let tree = seeded_output(&spec, |_| false);
		let block = H256::repeat_byte(2);
		let (root, paths) = reveal(1, &spec, &tree, block);

		let mut fewer = paths.clone();
		fewer.pop();
		assert_noop!(
			ComputeProof::verify_seeded(1, &spec, &root, &block, &fewer),
			Error::<Test>::WrongPathCount
		);

		let mut longer = paths.clone();
		longer[0].try_push(H256::zero()).unwrap();
		assert_noop!(
			ComputeProof::verify_seeded(1, &spec, &root, &block, &longer),
			Error::<Test>::WrongPathLength
		);

		// The paths of another job's challenge (same output, other job id) do not fit.
		let (_, other_job) = reveal(2, &spec, &tree, block);
		assert!(ComputeProof::verify_seeded(1, &spec, &root, &block, &other_job).is_err());

		// A root the paths do not lead to (its challenge differs too, so any refusal will do).
		assert!(
			ComputeProof::verify_seeded(1, &spec, &H256::repeat_byte(9), &block, &paths).is_err()
		);

		let bad_shape = JobSpec { shape: GemmShape { m: 0, n: 1, k: 1 }, ..spec.clone() };
		assert_noop!(
			ComputeProof::verify_seeded(1, &bad_shape, &root, &block, &paths),
			Error::<Test>::InvalidShape
		);
	});
}

/// The security claim, measured: over many challenge blocks, a provider who faked a fraction
/// `f` of its leaves passes as often as `(1 − f)^k` predicts (small `k`, many trials).
#[test]
fn dishonest_pass_rate_matches_one_minus_f_to_the_k() {
	ext().execute_with(|| {
		let spec = spec(40, 40, 4); // 100 leaves
		let trials = 1_500u32;
		for (f_percent, k) in [(20u64, 4u32), (30, 3), (10, 8)] {
			Samples::set(k);
			// Fake leaves whose index hashes below f (deterministic, spread out).
			let faked = |i: u64| (sp_crypto_hashing_blake(i) % 100) < f_percent;
			let fraction = (0..spec.shape.leaf_count()).filter(|&i| faked(i)).count() as f64
				/ spec.shape.leaf_count() as f64;
			let tree = seeded_output(&spec, faked);
			let passes = (0..trials)
				.filter(|t| {
					let block = H256::from_low_u64_be(*t as u64 + 1);
					let (root, paths) = reveal(7, &spec, &tree, block);
					ComputeProof::verify_seeded(7, &spec, &root, &block, &paths).is_ok()
				})
				.count();
			let observed = passes as f64 / trials as f64;
			let expected = (1.0 - fraction).powi(k as i32);
			let sigma = (expected * (1.0 - expected) / trials as f64).sqrt();
			println!("f = {fraction:.2}, k = {k}: observed {observed:.4}, (1-f)^k = {expected:.4}");
			assert!((observed - expected).abs() < 5.0 * sigma, "{observed} vs {expected}");
		}
	});
}

/// A well-spread hash of `i`, to pick which leaves a cheater fakes.
fn sp_crypto_hashing_blake(i: u64) -> u64 {
	let h = hash_leaf(&i.to_le_bytes());
	u64::from_le_bytes(h[..8].try_into().unwrap())
}

#[test]
fn samples_bound_the_reveal_size() {
	ext().execute_with(|| {
		Samples::set(64);
		let spec = spec(4096, 4096, 4096);
		let indices = ComputeProof::challenge(1, &spec, &H256::zero(), &H256::repeat_byte(5));
		assert!(indices.len() <= 64 && !indices.is_empty());
		// 2^20 leaves: 20 siblings of 32 bytes per path.
		assert_eq!(proofgrid_primitives::merkle::proof_len(spec.shape.leaf_count(), 0), Ok(20));
	});
}

#[test]
fn an_honest_supplied_reveal_verifies_for_ragged_shapes() {
	ext().execute_with(|| {
		for (m, n, k) in [(1, 1, 1), (16, 12, 20), (13, 9, 7), (37, 29, 41)] {
			let job = SuppliedJob::new(m, n, k, m as u64);
			let spec = supplied_spec(&job, 16);
			let block = H256::repeat_byte(m as u8);
			let reveal = supplied_reveal(1, &job, 16, block);
			assert_ok!(ComputeProof::verify_supplied(
				1,
				&spec,
				&job.root().into(),
				&block,
				&reveal
			));
			// The challenge's leaves are the samples' leaves.
			let leaves = ComputeProof::challenge(1, &spec, &job.root().into(), &block);
			assert_eq!(leaves.len(), reveal.len());
		}
	});
}

#[test]
fn a_supplied_output_wrong_everywhere_is_caught_and_reveals_of_the_wrong_kind_refused() {
	ext().execute_with(|| {
		let block = H256::repeat_byte(3);
		let wrong_everywhere = SuppliedJob::new(24, 20, 16, 5).doctored(|_, leaf| {
			for v in leaf.iter_mut() {
				*v += 1;
			}
		});
		let spec = supplied_spec(&wrong_everywhere, 16);
		let root = H256(wrong_everywhere.root());
		let reveal = supplied_reveal(1, &wrong_everywhere, 16, block);
		assert_noop!(
			ComputeProof::verify_supplied(1, &spec, &root, &block, &reveal),
			Error::<Test>::ElementMismatch
		);
		// Seeded paths for a supplied job, and supplied samples for a seeded one.
		let paths: RevealPaths = Default::default();
		assert_noop!(
			ComputeProof::verify(1, &spec, &root, &block, &Reveal::Seeded(paths)),
			Error::<Test>::WrongRevealKind
		);
		assert_noop!(
			ComputeProof::verify_supplied(1, &self::spec(24, 20, 16), &root, &block, &reveal),
			Error::<Test>::WrongRevealKind
		);
		// A sample missing.
		let mut fewer = supplied_reveal(1, &wrong_everywhere, 16, block);
		fewer.pop();
		assert_noop!(
			ComputeProof::verify_supplied(1, &spec, &root, &block, &fewer),
			Error::<Test>::WrongPathCount
		);
		// The samples of a cheaper challenge than the client asked for.
		let cheaper = supplied_reveal(1, &wrong_everywhere, 8, block);
		assert_noop!(
			ComputeProof::verify_supplied(1, &spec, &root, &block, &cheaper),
			Error::<Test>::WrongPathCount
		);
	});
}

/// The security claim for supplied inputs, measured: a provider with a fraction `f` of wrong
/// output *elements* passes as often as `(1 − f)^k` predicts.
#[test]
fn supplied_pass_rate_matches_one_minus_f_to_the_k() {
	ext().execute_with(|| {
		let honest = SuppliedJob::new(20, 20, 3, 9); // 400 elements, 25 leaves
		let trials = 1_500u32;
		for (f_percent, k) in [(20u64, 4u32), (10, 8)] {
			// Fake elements whose (leaf, cell) hashes below f: spread over leaves and cells.
			let faked = |leaf: u64, cell: usize| {
				sp_crypto_hashing_blake(leaf * 16 + cell as u64) % 100 < f_percent
			};
			let cheater = SuppliedJob::new(20, 20, 3, 9).doctored(|leaf, values| {
				for (cell, v) in values.iter_mut().enumerate() {
					if faked(leaf, cell) {
						*v += 1;
					}
				}
			});
			let wrong = (0..honest.shape.leaf_count())
				.map(|leaf| (0..16).filter(|&cell| faked(leaf, cell)).count())
				.sum::<usize>();
			let fraction = wrong as f64 / 400.0;
			let spec = supplied_spec(&cheater, k);
			let root = H256(cheater.root());
			let passes = (0..trials)
				.filter(|t| {
					let block = H256::from_low_u64_be(*t as u64 + 1);
					let reveal = supplied_reveal(7, &cheater, k, block);
					ComputeProof::verify_supplied(7, &spec, &root, &block, &reveal).is_ok()
				})
				.count();
			let observed = passes as f64 / trials as f64;
			let expected = (1.0 - fraction).powi(k as i32);
			let sigma = (expected * (1.0 - expected) / trials as f64).sqrt();
			println!("supplied f = {fraction:.3}, k = {k}: observed {observed:.4}, (1-f)^k = {expected:.4}");
			assert!((observed - expected).abs() < 5.0 * sigma, "{observed} vs {expected}");
		}
	});
}

#[test]
fn a_supplied_reveal_is_about_two_lanes_per_sample() {
	ext().execute_with(|| {
		Samples::set(64);
		let seeded = spec(4096, 4096, 4096);
		// 64 paths of 20 siblings.
		assert_eq!(ComputeProof::reveal_bytes(&seeded), 64 * (1 + 32 * 20));
		let job = SuppliedJob::new(4, 4, 4, 1);
		let mut supplied = supplied_spec(&job, 64);
		supplied.shape = GemmShape { m: 4096, n: 4096, k: 4096 };
		assert_eq!(
			ComputeProof::reveal_bytes(&supplied),
			64 * proofgrid_primitives::inputs::sample_bytes(&supplied.shape)
		);
		assert_eq!(ComputeProof::reveal_bytes(&supplied), 618_944);
		// The runtime's 1 MiB admits k up to 7 452 on a 4096² output (docs/PROTOCOL.md).
		let max = ComputeProof::max_reveal_bytes();
		supplied.shape.k = 7_452;
		assert_eq!(ComputeProof::reveal_bytes(&supplied), 1_048_512);
		assert!(ComputeProof::reveal_bytes(&supplied) <= max);
		supplied.shape.k = 7_453;
		assert!(ComputeProof::reveal_bytes(&supplied) > max);
		// The largest k on a 4096² output at the fewest and the most samples a client may ask.
		for (samples, largest, bytes) in [(32, 15_644, 1_048_544), (256, 1_308, 1_048_320)] {
			let mut spec = supplied_spec(&job, samples);
			spec.shape = GemmShape { m: 4096, n: 4096, k: largest };
			assert_eq!(ComputeProof::reveal_bytes(&spec), bytes);
			spec.shape.k += 1;
			assert!(ComputeProof::reveal_bytes(&spec) > max);
		}
		// The client pays for what it asks: the reveal and its weight grow with its samples.
		let mut more = supplied_spec(&job, 256);
		more.shape = GemmShape { m: 4096, n: 4096, k: 1024 };
		let less = supplied_spec(&job, 64);
		let less = JobSpec { shape: more.shape, ..less };
		assert_eq!(ComputeProof::reveal_bytes(&more), 4 * ComputeProof::reveal_bytes(&less));
		assert!(
			ComputeProof::verify_weight(OutputKind::Supplied, 256, 1024, 0, 0).ref_time()
				> 3 * ComputeProof::verify_weight(OutputKind::Supplied, 64, 1024, 0, 0).ref_time()
		);
	});
}

#[test]
fn a_fraud_proof_is_upheld_for_a_wrong_element_and_refused_by_name_otherwise() {
	type V = crate::Pallet<Test>;
	// One element of a 9×7 output is off by one: a 1/63 fault most challenges miss.
	let job = SuppliedJob::new(9, 7, 12, 3).doctored(|index, leaf| {
		if index == 0 {
			leaf[5] -= 1;
		}
	});
	let spec = supplied_spec(&job, 8);
	let root = H256(job.root());
	ext().execute_with(|| {
		assert_ok!(V::verify_gemm_fraud(&spec, &root, &job.fraud_proof((1, 1))));
		assert_noop!(
			V::verify_gemm_fraud(&spec, &root, &job.fraud_proof((8, 6))),
			Error::<Test>::ElementCorrect
		);
		let mut outside = job.fraud_proof((8, 6));
		outside.element = (9, 0);
		assert_noop!(
			V::verify_gemm_fraud(&spec, &root, &outside),
			Error::<Test>::ElementOutsideOutput
		);
		let mut forged = job.fraud_proof((8, 6));
		forged.sample.col[3] = forged.sample.col[3].wrapping_add(1);
		assert_noop!(V::verify_gemm_fraud(&spec, &root, &forged), Error::<Test>::InputLaneMismatch);
		// Against another root (another job's output): the leaf is not proven.
		assert_noop!(
			V::verify_gemm_fraud(&spec, &H256([1; 32]), &job.fraud_proof((1, 1))),
			Error::<Test>::LeafMismatch
		);
		// Seeded jobs have no client inputs to prove anything against.
		assert_noop!(
			V::verify_gemm_fraud(&self::spec(8, 8, 8), &root, &job.fraud_proof((1, 1))),
			Error::<Test>::WrongRevealKind
		);
	});
}

/// The spec of a `linear-i8` job (uploaded inputs) whose client asked for `samples`.
fn layer_spec(job: &LayerJob, samples: u32) -> JobSpec {
	job.spec(InputSource::Upload, samples)
}

/// The reveal of layer job `id` answering the challenge of `block`'s randomness.
fn layer_reveal(id: u64, job: &LayerJob, samples: u32, block: H256) -> LayerReveal {
	let seed = challenge_seed(id, &job.root().0, &block.0);
	job.reveal(&challenged_elements(&job.shape, &seed, samples))
}

const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 38, relu: true };

#[test]
fn an_honest_layer_reveal_verifies_and_a_wrong_row_is_caught() {
	type V = crate::Pallet<Test>;
	ext().execute_with(|| {
		for (m, n, k) in [(1, 1, 1), (16, 12, 20), (13, 9, 7)] {
			let job = LayerJob::new(m, n, k, m as u64, SCALE);
			let spec = layer_spec(&job, 16);
			let block = H256::repeat_byte(m as u8);
			let reveal = layer_reveal(1, &job, 16, block);
			assert_ok!(V::verify_layer(1, &spec, &job.root(), &block, &reveal));
			// The challenge names the rows the samples open.
			let rows = V::challenge(1, &spec, &job.root(), &block);
			assert_eq!(rows.len(), reveal.len());
		}
		// Every element of one row wrong: the challenged elements of that row are caught.
		let bad = LayerJob::new(16, 12, 20, 7, SCALE).doctored(|i, _, v| {
			if i == 3 {
				*v = v.wrapping_add(1)
			}
		});
		let spec = layer_spec(&bad, 64);
		let caught = (0..40u64)
			.filter(|t| {
				let block = H256::from_low_u64_be(t + 1);
				let reveal = layer_reveal(1, &bad, 64, block);
				V::verify_layer(1, &spec, &bad.root(), &block, &reveal).is_err()
			})
			.count();
		// A 1/16 fault at 64 samples passes with probability (15/16)^64 ≈ 1.6%.
		assert!(caught >= 36, "caught {caught} of 40");
		let block = H256::repeat_byte(9);
		let reveal = layer_reveal(1, &bad, 64, block);
		if let Err(e) = V::verify_layer(1, &spec, &bad.root(), &block, &reveal) {
			assert_eq!(e, Error::<Test>::ElementMismatch.into());
		}
	});
}

#[test]
fn layer_reveals_of_the_wrong_kind_or_count_are_refused() {
	type V = crate::Pallet<Test>;
	ext().execute_with(|| {
		let job = LayerJob::new(8, 8, 8, 2, SCALE);
		let spec = layer_spec(&job, 16);
		let block = H256::repeat_byte(4);
		let reveal = layer_reveal(1, &job, 16, block);
		let mut fewer = reveal.clone();
		fewer.pop();
		assert_noop!(
			V::verify_layer(1, &spec, &job.root(), &block, &fewer),
			Error::<Test>::WrongPathCount
		);
		// A GEMM reveal for a layer job, a layer reveal for a GEMM job or a seeded one.
		let gemm = SuppliedJob::new(8, 8, 8, 2);
		let samples = supplied_reveal(1, &gemm, 16, block);
		assert_noop!(
			V::verify_supplied(1, &spec, &job.root(), &block, &samples),
			Error::<Test>::WrongRevealKind
		);
		for other in [supplied_spec(&gemm, 16), self::spec(8, 8, 8)] {
			assert_noop!(
				V::verify_layer(1, &other, &job.root(), &block, &reveal),
				Error::<Test>::WrongRevealKind
			);
		}
		// The right elements, proven against another output root: the rows are not proven.
		let other = H256([1; 32]);
		let elements = challenged_elements(&job.shape, &challenge_seed(1, &other.0, &block.0), 16);
		assert_noop!(
			V::verify_layer(1, &spec, &other, &block, &job.reveal(&elements)),
			Error::<Test>::OutputRowMismatch
		);
		// A reveal is bounded by its samples: two lanes of k, a row of n and four paths each.
		let mut wide = spec.clone();
		wide.shape = GemmShape { m: 4096, n: 1024, k: 4096 };
		assert_eq!(
			V::reveal_bytes(&wide),
			16 * proofgrid_primitives::linear::layer_sample_bytes(&wide.shape)
		);
	});
}

#[test]
fn a_layer_fraud_proof_is_upheld_for_a_wrong_element_and_refused_by_name_otherwise() {
	type V = crate::Pallet<Test>;
	let job = LayerJob::new(9, 7, 12, 3, SCALE).doctored(|i, j, v| {
		if (i, j) == (4, 5) {
			*v = v.wrapping_sub(1)
		}
	});
	let spec = layer_spec(&job, 8);
	let root = job.root();
	ext().execute_with(|| {
		assert_ok!(V::verify_layer_fraud(&spec, &root, &job.fraud_proof((4, 5))));
		assert_noop!(
			V::verify_layer_fraud(&spec, &root, &job.fraud_proof((4, 4))),
			Error::<Test>::ElementCorrect
		);
		let mut outside = job.fraud_proof((8, 6));
		outside.element = (9, 0);
		assert_noop!(
			V::verify_layer_fraud(&spec, &root, &outside),
			Error::<Test>::ElementOutsideOutput
		);
		let mut forged = job.fraud_proof((8, 6));
		forged.sample.bias += 1;
		assert_noop!(V::verify_layer_fraud(&spec, &root, &forged), Error::<Test>::BiasMismatch);
		let mut forged = job.fraud_proof((8, 6));
		forged.sample.row[0] = forged.sample.row[0].wrapping_add(1);
		assert_noop!(
			V::verify_layer_fraud(&spec, &root, &forged),
			Error::<Test>::InputLaneMismatch
		);
		// A GEMM job's spec: nothing to prove a layer element against.
		let gemm = supplied_spec(&SuppliedJob::new(9, 7, 12, 3), 8);
		assert_noop!(
			V::verify_layer_fraud(&gemm, &root, &job.fraud_proof((4, 5))),
			Error::<Test>::WrongRevealKind
		);
	});
}

#[test]
fn a_reveal_or_accusation_of_another_kind_than_the_job_is_refused_before_its_samples() {
	let gemm = SuppliedJob::new(8, 8, 8, 2);
	let layer = LayerJob::new(9, 7, 12, 3, SCALE);
	let block = H256::repeat_byte(4);
	let (gemm_spec, layer_spec) = (supplied_spec(&gemm, 16), layer_spec(&layer, 16));
	let seeded_spec = self::spec(8, 8, 8);
	let reveals = [
		Reveal::Seeded(Default::default()),
		Reveal::Supplied(supplied_reveal(1, &gemm, 16, block)),
		Reveal::Layer(layer_reveal(1, &layer, 16, block)),
	];
	let accusations =
		[Accusation::Gemm(gemm.fraud_proof((1, 1))), Accusation::Layer(layer.fraud_proof((4, 5)))];
	ext().execute_with(|| {
		for spec in [&seeded_spec, &gemm_spec, &layer_spec] {
			let kind = spec.output_kind().unwrap();
			for reveal in reveals.iter().filter(|r| r.kind() != kind) {
				assert_noop!(
					ComputeProof::verify(1, spec, &H256(gemm.root()), &block, reveal),
					Error::<Test>::WrongRevealKind
				);
			}
			for accusation in accusations.iter().filter(|a| a.kind() != kind) {
				assert_noop!(
					ComputeProof::verify_fraud(spec, &layer.root(), accusation),
					Error::<Test>::WrongRevealKind
				);
			}
		}
		// Of the right kind, each goes on to its kind's check.
		assert_ok!(ComputeProof::verify(
			1,
			&gemm_spec,
			&H256(gemm.root()),
			&block,
			&Reveal::Supplied(supplied_reveal(1, &gemm, 16, block))
		));
		assert_noop!(
			ComputeProof::verify_fraud(&layer_spec, &layer.root(), &accusations[1]),
			Error::<Test>::ElementCorrect
		);
	});
}

#[test]
fn a_reveal_is_priced_by_its_kind_samples_and_rows() {
	ext().execute_with(|| {
		let supplied =
			|samples| ComputeProof::verify_weight(OutputKind::Supplied, samples, 1024, 0, 0);
		assert_eq!(supplied(64).ref_time(), 64 * supplied(1).ref_time());
		// A seeded job's verification draws the chain's own samples, whatever is revealed.
		assert_eq!(
			ComputeProof::verify_weight(OutputKind::Seeded, 0, 1024, 0, 0),
			ComputeProof::verify_weight(OutputKind::Seeded, 64, 1024, 0, 0)
		);
		let layer = |row_len| ComputeProof::verify_weight(OutputKind::Layer, 16, 1024, row_len, 0);
		assert!(layer(4096).ref_time() > layer(16).ref_time());
		// An accusation costs one sample of its kind.
		assert_eq!(
			ComputeProof::verify_fraud_weight(OutputKind::Layer, 1024, 512, 0),
			ComputeProof::verify_weight(OutputKind::Layer, 1, 1024, 512, 0)
		);
	});
}

// ---- Model jobs ----

/// Registers `job`'s model (the weights' commitments as the registration names them): its id.
fn register(job: &ModelJob) -> u64 {
	let id = pallet_models::NextModelId::<Test>::get();
	assert_ok!(Models::register(
		frame_system::RawOrigin::Signed(OWNER).into(),
		job.model.clone(),
		job.commitments.clone().try_into().unwrap(),
		None,
	));
	id
}

#[test]
fn an_honest_model_reveal_verifies_and_every_layer_is_drawn() {
	ext().execute_with(|| {
		let job = ModelJob::new(3);
		let model = register(&job);
		for samples in [5, 13, 40] {
			let spec = job.spec(model, samples);
			let block = H256::repeat_byte(samples as u8);
			let reveal = job.reveal(1, samples, &block);
			assert_ok!(ComputeProof::verify_model(1, &spec, &job.root(), &block, &reveal));
			assert_ok!(ComputeProof::verify(1, &spec, &job.root(), &block, &Reveal::Model(reveal)));
			// Every layer gets at least one draw once there are as many samples as layers.
			let drawn = job.challenged(1, samples, &block);
			let layers: std::collections::BTreeSet<u32> = drawn.iter().map(|e| e.0).collect();
			assert_eq!(layers.len(), job.plan.len(), "{samples} samples: {drawn:?}");
			// The RPC's indices: one per element, layer in the top bits.
			let indices = ComputeProof::challenge(1, &spec, &job.root(), &block);
			assert_eq!(indices.len(), drawn.len());
			assert!(indices.iter().zip(&drawn).all(|(i, e)| (i >> 48) as u32 == e.0));
		}
	});
}

#[test]
fn a_model_faked_in_an_inner_layer_is_caught_when_drawn() {
	ext().execute_with(|| {
		// Every element of layer 2 (the dilated convolution) off by one: whatever the draw,
		// its samples recompute differently.
		let honest = ModelJob::new(2);
		let model = register(&honest);
		let mut job = ModelJob::new(2);
		for row in 0..job.plan[2].rows() {
			for channel in 0..job.plan[2].output.channels {
				job = job.fake((2, row, channel));
			}
		}
		let spec = job.spec(model, 10);
		for byte in 0..8u8 {
			let block = H256::repeat_byte(byte);
			let reveal = job.reveal(7, 10, &block);
			assert_noop!(
				ComputeProof::verify_model(7, &spec, &job.root(), &block, &reveal),
				Error::<Test>::ElementMismatch
			);
		}
	});
}

#[test]
fn model_reveals_that_do_not_prove_their_parts_are_refused_by_name() {
	ext().execute_with(|| {
		let job = ModelJob::new(2);
		let model = register(&job);
		let spec = job.spec(model, 10);
		let (root, block) = (job.root(), H256::repeat_byte(9));
		let reveal = job.reveal(1, 10, &block);
		let refused = |reveal: &ModelReveal| {
			ComputeProof::verify_model(1, &spec, &root, &block, reveal).unwrap_err()
		};
		let mut fewer = reveal.clone();
		fewer.pop();
		assert_eq!(refused(&fewer), Error::<Test>::WrongPathCount.into());

		// Find a GEMM layer's sample and a pooling layer's in the draw.
		let drawn = job.challenged(1, 10, &block);
		let gemm = drawn.iter().position(|e| e.0 == 0).unwrap();
		let pooled = drawn.iter().position(|e| e.0 == 1).unwrap();

		let mut forged = reveal.clone();
		forged[gemm].weights.as_mut().unwrap().lane.values[0] ^= 1;
		assert_eq!(refused(&forged), Error::<Test>::WeightsMismatch.into());
		let mut forged = reveal.clone();
		forged[pooled].weights = reveal[gemm].weights.clone();
		assert_eq!(refused(&forged), Error::<Test>::WeightsMismatch.into());
		let mut forged = reveal.clone();
		forged[gemm].weights.as_mut().unwrap().bias ^= 1;
		assert_eq!(refused(&forged), Error::<Test>::BiasMismatch.into());
		let mut forged = reveal.clone();
		forged[pooled].taps[0].values[0] ^= 1;
		assert_eq!(refused(&forged), Error::<Test>::InputLaneMismatch.into());
		let mut forged = reveal.clone();
		forged[pooled].taps.pop();
		assert_eq!(refused(&forged), Error::<Test>::InputLaneMismatch.into());
		let mut forged = reveal.clone();
		forged[gemm].output.values[0] ^= 1;
		assert_eq!(refused(&forged), Error::<Test>::OutputRowMismatch.into());

		// Another batch than the input commitment's, an unknown model.
		let JobInputs::Model { input, .. } = &spec.inputs else { unreachable!() };
		let mut other = spec.clone();
		if let JobInputs::Model { batch, .. } = &mut other.inputs {
			*batch = 3;
		}
		assert_noop!(
			ComputeProof::verify_model(1, &other, &root, &block, &reveal),
			Error::<Test>::ModelMismatch
		);
		let _ = input;
		assert_noop!(
			ComputeProof::verify_model(1, &job.spec(model + 1, 10), &root, &block, &reveal),
			Error::<Test>::UnknownModel
		);
		// A model reveal for a layer job and a layer reveal for a model job.
		let layer = LayerJob::new(9, 7, 12, 3, SCALE);
		assert_noop!(
			ComputeProof::verify(1, &layer_spec(&layer, 16), &root, &block, &Reveal::Model(reveal)),
			Error::<Test>::WrongRevealKind
		);
		let layer_reveal = layer_reveal(1, &layer, 16, block);
		assert_noop!(
			ComputeProof::verify(1, &spec, &root, &block, &Reveal::Layer(layer_reveal)),
			Error::<Test>::WrongRevealKind
		);
	});
}

#[test]
fn a_model_fraud_proof_is_upheld_for_a_wrong_element_and_refused_otherwise() {
	ext().execute_with(|| {
		let victim = (3, 2, 1);
		let job = ModelJob::new(2).fake(victim);
		let model = register(&job);
		let spec = job.spec(model, 10);
		let root = job.root();
		assert_ok!(ComputeProof::verify_fraud(
			&spec,
			&root,
			&Accusation::Model(job.accuse(victim))
		));
		assert_noop!(
			ComputeProof::verify_fraud(&spec, &root, &Accusation::Model(job.accuse((3, 2, 0)))),
			Error::<Test>::ElementCorrect
		);
		// A proof against another root proves nothing.
		assert_noop!(
			ComputeProof::verify_fraud(
				&spec,
				&ModelJob::new(2).root(),
				&Accusation::Model(job.accuse(victim))
			),
			Error::<Test>::OutputRowMismatch
		);
		let mut outside = job.accuse(victim);
		outside.element = (9, 0, 0);
		assert_noop!(
			ComputeProof::verify_fraud(&spec, &root, &Accusation::Model(outside)),
			Error::<Test>::ElementOutsideOutput
		);
	});
}

#[test]
fn a_model_reveal_is_priced_by_its_taps_and_bounded_by_its_plan() {
	ext().execute_with(|| {
		let job = ModelJob::new(4);
		let model = register(&job);
		let spec = job.spec(model, 13);
		let block = H256::repeat_byte(3);
		let reveal = Reveal::Model(job.reveal(1, 13, &block));
		// What the device's call is charged for an honest reveal is at most what its client
		// paid for; and each tap costs.
		let charged = ComputeProof::verify_weight(
			OutputKind::Model,
			reveal.samples(),
			spec.shape.k,
			reveal.row_len(),
			reveal.taps(),
		);
		assert!(charged.all_lte(ComputeProof::reveal_weight(&spec)));
		let weight = |taps| ComputeProof::verify_weight(OutputKind::Model, 13, 64, 8, taps);
		assert!(weight(9).ref_time() > weight(4).ref_time());
		// Its size bound holds the real reveal.
		let bytes = codec::Encode::encoded_size(&reveal) as u64;
		assert!(bytes <= ComputeProof::reveal_bytes(&spec), "{bytes}");
		assert!(ComputeProof::reveal_bytes(&spec) < 2 * bytes + 4_096);
	});
}
