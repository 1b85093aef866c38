//! Fraud proofs: a client that finds an element of a verified job's output wrong (by
//! Freivalds' check of the whole output, say) proves it on chain within the job's dispute
//! window. The chain recomputes the element from the client's own row of `A` and column of `B`;
//! if the output was wrong the device's collateral is slashed and the client refunded and
//! compensated, even though the random spot check had passed.

use crate::{
	data::ProvenLeaf, node_error, runtime, runtime::jobs::events as ev, Balance, Client, Error,
	Keypair, H256,
};
use proofgrid_primitives::{
	inputs::{hash_lane, FraudProof, SuppliedSample},
	job::{Accusation, JobId, MerklePath},
	merkle::MerkleTree,
};
use subxt::utils::Static;
use subxt::{extrinsics::ExtrinsicEvents, PolkadotConfig};

/// What the chain made of a fraud proof.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum DisputeOutcome {
	/// The element was wrong: the job failed, the device was slashed.
	Upheld {
		/// Taken from the device's bond, in planck.
		#[serde(serialize_with = "crate::planck")]
		slashed: Balance,
		/// Of which to the client, in planck.
		#[serde(serialize_with = "crate::planck")]
		compensation: Balance,
	},
	/// The proof showed nothing (the element is right, or a path did not check out): the
	/// accuser's deposit was burned and the job goes on.
	Rejected {
		/// The chain's reason.
		reason: String,
		/// Burned from the accuser, in planck.
		#[serde(serialize_with = "crate::planck")]
		deposit_burned: Balance,
	},
}

/// The Merkle path of lane `index` of a matrix given as its lanes (each `k` values, one after
/// the other), against the root its commitment holds.
pub fn lane_path(lanes: &[i8], k: usize, index: usize) -> Result<MerklePath, Error> {
	let hashes = lanes.chunks_exact(k).map(hash_lane).collect();
	let tree = MerkleTree::from_leaf_hashes(hashes)
		.ok_or_else(|| Error::BadInput("a matrix without lanes".into()))?;
	let path = tree
		.proof(index as u64)
		.map_err(|e| Error::BadInput(format!("no lane {index} ({e:?})")))?
		.into_iter()
		.map(H256)
		.collect::<Vec<_>>();
	path.try_into().map_err(|_| Error::BadInput("a lane path deeper than any job's".into()))
}

/// The fraud proof of element `(row, col)` of a job on `A` (its rows, each `k` values) and `B`
/// (its columns): the element's leaf as the device committed it (downloaded with its path) and
/// the row and column with their paths.
pub fn fraud_proof(
	rows: &[i8],
	cols: &[i8],
	k: usize,
	(row, col): (u32, u32),
	leaf: ProvenLeaf,
) -> Result<FraudProof, Error> {
	let lane = |lanes: &[i8], index: u32| {
		let start = index as usize * k;
		lanes
			.get(start..start + k)
			.ok_or_else(|| Error::BadInput(format!("no lane {index}")))?
			.to_vec()
			.try_into()
			.map_err(|_| Error::BadInput("k is larger than any job's".into()))
	};
	let leaf_path = leaf
		.path
		.into_iter()
		.map(H256)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| Error::BadInput("a leaf path deeper than any job's".into()))?;
	Ok(FraudProof {
		element: (row, col),
		sample: SuppliedSample {
			leaf: leaf.values,
			leaf_path,
			row: lane(rows, row)?,
			row_path: lane_path(rows, k, row as usize)?,
			col: lane(cols, col)?,
			col_path: lane_path(cols, k, col as usize)?,
		},
	})
}

/// How long a download grant the client signs for itself (to fetch its own job's output)
/// lasts.
pub(crate) const OWN_GRANT: std::time::Duration = std::time::Duration::from_secs(600);
/// How long the chain may take to rule on a reveal before a wrong output is proven.
pub(crate) const VERDICT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// An element the client's check found wrong: where, what the device committed and what it
/// should be.
pub(crate) struct WrongElement {
	pub row: u32,
	pub column: u32,
	pub found: i64,
	pub expected: i64,
}

impl Client {
	/// The end of following job `id` (submitted after block `from`) whose check found `wrong`:
	/// reports it, waits for the chain's ruling on the reveal, and if the reveal passed, proves
	/// the element wrong with `prove` (which sends the dispute). Every kind of job ends its
	/// follow this way; the error to return.
	pub(crate) async fn wrong_output<Fut>(
		&self,
		id: JobId,
		from: u32,
		wrong: WrongElement,
		on_step: &mut impl FnMut(crate::own::Step),
		prove: impl FnOnce() -> Fut,
	) -> Error
	where
		Fut: std::future::Future<Output = Result<DisputeOutcome, Error>>,
	{
		use crate::own::Step;
		let WrongElement { row, column, found, expected } = wrong;
		on_step(Step::Wrong { row: row.into(), column: column.into(), found, expected });
		let outcome = match self.watch_job(id, from, VERDICT_TIMEOUT, |_, _| {}).await {
			Ok(outcome) => outcome,
			Err(e) => return e,
		};
		on_step(Step::Ruled(outcome.clone()));
		// If the chain's own check caught it (or the job ended otherwise), nothing to prove.
		let dispute = if matches!(outcome, crate::jobs::JobOutcome::Verified { .. }) {
			let verdict = match prove().await {
				Ok(verdict) => verdict,
				Err(e) => return e,
			};
			on_step(Step::Disputed {
				row: row.into(),
				column: column.into(),
				verdict: verdict.clone(),
			});
			Some(verdict)
		} else {
			None
		};
		Error::WrongOutput {
			job: id,
			row: row.into(),
			column: column.into(),
			found,
			expected,
			outcome: Box::new(outcome),
			dispute,
		}
	}

	/// Submits `accusation` against verified job `job` (inner dimension `k_dim`), signed by
	/// `accuser`, and returns the chain's verdict. A rejected accusation burns the accuser's
	/// dispute deposit; an upheld one is free.
	pub async fn dispute(
		&self,
		accuser: &Keypair,
		job: JobId,
		accusation: Accusation,
		k_dim: u32,
	) -> Result<DisputeOutcome, Error> {
		let call = runtime::tx().jobs().dispute(job, Static(accusation), k_dim);
		verdict(&self.submit(&call, accuser).await?, job)
	}
}

/// The verdict on a dispute of `job` that `events` report.
fn verdict(events: &ExtrinsicEvents<PolkadotConfig>, job: JobId) -> Result<DisputeOutcome, Error> {
	for event in events.find::<ev::JobFailed>() {
		let e = event.map_err(node_error)?;
		if e.job == job {
			return Ok(DisputeOutcome::Upheld { slashed: e.slashed, compensation: e.compensation });
		}
	}
	for event in events.find::<ev::DisputeRejected>() {
		let e = event.map_err(node_error)?;
		if e.job == job {
			return Ok(DisputeOutcome::Rejected {
				reason: format!("{:?}", e.reason),
				deposit_burned: e.deposit_burned,
			});
		}
	}
	Err(Error::MissingEvent("Jobs::JobFailed or Jobs::DisputeRejected"))
}

/// Data-availability demands: a client that cannot get a verified job's output from its device
/// makes the device publish the leaves it names on chain (or be slashed), then proves a wrong
/// element from them with [`fraud_proof`].
impl Client {
	/// The client of verified job `job` (inner dimension `k_dim`) demands that its device
	/// publish the leaves holding `elements` (at most
	/// [`MAX_DEMANDED_ELEMENTS`](proofgrid_primitives::job::MAX_DEMANDED_ELEMENTS)) within a
	/// reveal window. Returns the last block for the answer.
	pub async fn demand_data(
		&self,
		client: &Keypair,
		job: JobId,
		elements: Vec<(u32, u32)>,
		k_dim: u32,
	) -> Result<u32, Error> {
		use runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec;
		if elements.len() > proofgrid_primitives::job::MAX_DEMANDED_ELEMENTS as usize {
			return Err(Error::BadInput("more elements than one demand may name".into()));
		}
		let call = runtime::tx().jobs().demand_data(job, BoundedVec(elements), k_dim);
		let events = self.submit(&call, client).await?;
		let demanded = events
			.find_first::<ev::DataDemanded>()
			.ok_or(Error::MissingEvent("Jobs::DataDemanded"))?
			.map_err(node_error)?;
		Ok(demanded.answer_by)
	}

	/// The open (unanswered) demands on `device`'s verified jobs: each job and the elements it
	/// must publish.
	pub async fn demands_for_device(
		&self,
		device: &crate::AccountId32,
	) -> Result<Vec<(JobId, Vec<(u32, u32)>)>, Error> {
		let at = self.at_best().await?;
		let mut entries = at
			.storage()
			.iter(runtime::storage().jobs().demands(), (*device,))
			.await
			.map_err(node_error)?;
		let mut demands = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(node_error)?;
			let (_, job) = entry.key().map_err(node_error)?.decode().map_err(node_error)?;
			let demand = entry.value().decode().map_err(node_error)?;
			if !demand.answered {
				demands.push((job, demand.elements.0.to_vec()));
			}
		}
		Ok(demands)
	}

	/// The device of `job` publishes `leaves` (what holds each demanded element, in order: a
	/// GEMM output's leaf, a layer output's row).
	pub async fn publish_data(
		&self,
		device: &Keypair,
		job: JobId,
		leaves: Vec<proofgrid_primitives::job::PublishedLeaf>,
	) -> Result<(), Error> {
		use runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec;
		let leaves = BoundedVec(leaves.into_iter().map(Static).collect());
		let call = runtime::tx().jobs().publish_data(job, leaves);
		self.submit(&call, device).await.map(|_| ())
	}
}
