//! `linear-i8` layer jobs from the client's side: a layer's spec from its matrices and biases.
//! The chain checks the rest (docs/PROTOCOL.md, "`linear-i8` jobs").

use proofgrid_primitives::{
	device::{Kernel, Requirements},
	inputs::{MatrixCommitment, SuppliedInputs},
	job::{InputSource, JobInputs, JobSpec},
	linear::{bias_root, bias_tree, Layer, LayerFraudProof, LayerSample, Requant},
};
use sp_core::H256;

use crate::{disputes::lane_path, Error};

/// The spec of a layer on `A`'s rows and `W`'s columns (`k` values each, lane after lane),
/// `bias` (one per column of `W`) and `requant`, with `A` from `a` (an upload, a URL, or the
/// output of an earlier layer job, whose rows these must be), `W` and the biases uploaded, and
/// `samples` challenged elements.
pub fn layer_spec(
	rows: &[i8],
	cols: &[i8],
	k: usize,
	bias: &[i32],
	requant: Requant,
	a: InputSource,
	samples: u32,
) -> Result<JobSpec, Error> {
	let bad = |what: &str| Error::Data(what.to_string());
	requant.validate().map_err(|e| bad(&format!("requantization: {e:?}")))?;
	if k == 0 || !rows.len().is_multiple_of(k) || !cols.len().is_multiple_of(k) {
		return Err(bad("A and W must be lanes of k values"));
	}
	if cols.len() / k != bias.len() {
		return Err(bad("one bias per column of W"));
	}
	let commit = |lanes: &[i8]| {
		MatrixCommitment::of_lanes(lanes.chunks_exact(k)).ok_or_else(|| bad("an empty matrix"))
	};
	let matrices = SuppliedInputs { a: commit(rows)?, b: commit(cols)? };
	let shape = matrices.shape().map_err(|e| bad(&format!("shape: {e:?}")))?;
	let layer = Layer { bias: bias_root(bias).ok_or_else(|| bad("no biases"))?, requant };
	Ok(JobSpec {
		shape,
		inputs: JobInputs::Layer {
			matrices,
			a,
			b: InputSource::Upload,
			bias: InputSource::Upload,
			layer,
			samples,
			public_output: false,
		},
		requirements: Requirements { kernel: Kernel::LinearI8, min_vram_mib: 0, min_gops: 0 },
	})
}

/// The fraud proof of element `(row, col)` of a layer's output `y` (its `m` rows of `n`
/// values, as the device committed them), from the layer's own inputs: `A`'s rows and `W`'s
/// columns (`k` values each) and the biases. Everything comes from data the client holds; the
/// output rows' paths prove them against the committed root.
pub fn layer_fraud_proof(
	rows: &[i8],
	cols: &[i8],
	k: usize,
	bias: &[i32],
	y: &[i8],
	(row, col): (u32, u32),
) -> Result<LayerFraudProof, Error> {
	let n = bias.len();
	let lane = |lanes: &[i8], index: u32, len: usize| {
		let start = index as usize * len;
		lanes
			.get(start..start + len)
			.ok_or_else(|| Error::Data(format!("no lane {index}")))?
			.to_vec()
			.try_into()
			.map_err(|_| Error::Data("a lane longer than any job's".into()))
	};
	let tree = bias_tree(bias).ok_or_else(|| Error::Data("no biases".into()))?;
	let bias_path = tree
		.proof(col.into())
		.map_err(|e| Error::Data(format!("no bias {col} ({e:?})")))?
		.into_iter()
		.map(H256)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| Error::Data("a bias path deeper than any job's".into()))?;
	Ok(LayerFraudProof {
		element: (row, col),
		sample: LayerSample {
			output_row: lane(y, row, n)?,
			output_path: lane_path(y, n, row as usize)?,
			row: lane(rows, row, k)?,
			row_path: lane_path(rows, k, row as usize)?,
			col: lane(cols, col, k)?,
			col_path: lane_path(cols, k, col as usize)?,
			bias: *bias.get(col as usize).ok_or_else(|| Error::Data(format!("no bias {col}")))?,
			bias_path,
		},
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::linear::fixture::LayerJob;

	const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };

	#[test]
	fn a_layers_spec_commits_to_its_matrices_and_biases_and_chains_by_output() {
		let first = LayerJob::new(9, 7, 5, 1, SCALE);
		let spec = layer_spec(
			&first.rows.concat(),
			&first.cols.concat(),
			5,
			&first.bias,
			SCALE,
			InputSource::Upload,
			32,
		)
		.unwrap();
		assert_eq!(spec.shape, first.shape);
		assert_eq!(spec.supplied(), Some(&first.inputs));
		assert_eq!(spec.layer(), Some(&first.layer));
		assert_eq!(spec.output_kind(), Some(proofgrid_primitives::job::OutputKind::Layer));
		// The next layer on the first's output: its `A` commitment is that output's.
		let cols = LayerJob::new(9, 3, 7, 2, SCALE).cols.concat();
		let next = layer_spec(
			&first.output.concat(),
			&cols,
			7,
			&[1, 2, 3],
			SCALE,
			InputSource::Job(4),
			32,
		)
		.unwrap();
		assert_eq!(next.supplied().map(|m| m.a), Some(first.output_commitment()));
		assert_eq!(next.chained_from(), Some(4));
		// What the chain would refuse anyway is refused here with a reason.
		let refuse = |rows: &[i8], cols: &[i8], k, bias: &[i32], requant| {
			layer_spec(rows, cols, k, bias, requant, InputSource::Upload, 32).unwrap_err()
		};
		refuse(&[1; 4], &[1; 4], 2, &[0], SCALE); // two columns, one bias
		refuse(&[1; 5], &[1; 4], 2, &[0, 0], SCALE); // rows not lanes of k
		refuse(&[1; 4], &[1; 4], 2, &[0, 0], Requant { multiplier: 0, ..SCALE });
		refuse(&[], &[], 2, &[], SCALE);
	}

	#[test]
	fn a_fraud_proof_from_the_clients_data_proves_a_wrong_element_and_no_right_one() {
		use proofgrid_primitives::linear::{layer_fraud_proven, LayerFraudRefused};
		let honest = LayerJob::new(9, 7, 5, 1, SCALE);
		let wrong = LayerJob::new(9, 7, 5, 1, SCALE).doctored(|i, j, y| {
			if (i, j) == (4, 6) {
				*y = y.wrapping_add(1);
			}
		});
		let (rows, cols) = (honest.rows.concat(), honest.cols.concat());
		let prove = |job: &LayerJob, element| {
			let proof =
				layer_fraud_proof(&rows, &cols, 5, &job.bias, &job.output.concat(), element)
					.unwrap();
			layer_fraud_proven(&job.inputs, &job.layer, &job.shape, &job.root(), &proof)
		};
		assert_eq!(prove(&wrong, (4, 6)), Ok(()));
		assert_eq!(prove(&wrong, (4, 5)), Err(LayerFraudRefused::ElementCorrect));
		assert_eq!(prove(&honest, (4, 6)), Err(LayerFraudRefused::ElementCorrect));
		assert!(layer_fraud_proof(&rows, &cols, 5, &honest.bias, &[], (0, 0)).is_err());
	}
}
