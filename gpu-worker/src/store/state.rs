//! What a device must remember across a crash: the job it holds, how far it got, the output's
//! tree (needed to reveal), and the jobs it failed or lost (never claimed again).
//! Written before each chain step, atomically (write a temporary file, fsync it, rename it,
//! fsync the directory), so a restarted worker resumes where it stopped and never commits a job
//! twice.

use std::{
	fs,
	path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use codec::{Decode, Encode};
use proofgrid_primitives::job::{JobId, JobSpec};
use serde::{Deserialize, Serialize};

use crate::store::output::{OutputTree, OutputWriter};

/// Seconds since the UNIX epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or_default()
}

/// How far a held job got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
	/// A claim is being sent: the chain decides whether it landed.
	Claiming,
	/// Claimed on chain; output not computed yet.
	Claimed,
	/// Output computed and saved; root not committed yet.
	Computed,
	/// Root committed on chain; waiting for the challenge block to be final, then revealing.
	Committed,
	/// Reveal in a best block; the job is forgotten once the finalized block has no trace of
	/// it (a reorg may still drop the reveal, which is then sent again).
	Revealed,
}

/// The job a device holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldJob {
	/// Its id.
	pub job: JobId,
	/// Its spec, SCALE-encoded as hex (the chain's own encoding).
	pub spec: String,
	/// How far it got.
	pub stage: Stage,
	/// The output's Merkle root, once computed.
	pub root: Option<String>,
	/// When the device claimed it (UNIX seconds), for latency metrics.
	pub claimed_at: u64,
	/// Once committed: the challenge block and the last block of the reveal window, where the
	/// job's outcome is looked for.
	#[serde(default)]
	pub challenge: Option<(u32, u32)>,
}

impl HeldJob {
	/// A job about to be claimed, recorded before the claim is sent so that a crash in between
	/// is noticed on restart. `spec` is the listed one; the claim fixes the real inputs.
	pub fn claiming(job: JobId, spec: &JobSpec) -> Self {
		Self {
			job,
			spec: hex::encode(spec.encode()),
			stage: Stage::Claiming,
			root: None,
			claimed_at: unix_now(),
			challenge: None,
		}
	}

	/// The job as claimed on chain, with the spec the chain stores since the claim.
	pub fn claimed(mut self, spec: &JobSpec) -> Self {
		self.spec = hex::encode(spec.encode());
		self.stage = Stage::Claimed;
		self
	}

	/// The job's spec.
	pub fn spec(&self) -> Result<JobSpec> {
		let bytes = hex::decode(&self.spec)?;
		Ok(JobSpec::decode(&mut &bytes[..])?)
	}
}

/// Who may read a job's output from the data service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
	/// The job's client (account bytes, hex).
	pub client: String,
	/// Whether the client made the output public.
	pub public: bool,
}

impl Access {
	/// The record for a job of `client` on `spec`.
	pub fn of(client: &[u8; 32], spec: &JobSpec) -> Self {
		Self { client: hex::encode(client), public: spec.public_output() }
	}

	/// The client's account bytes.
	pub fn client(&self) -> Option<[u8; 32]> {
		hex::decode(&self.client).ok()?.try_into().ok()
	}
}

/// Failed or lost jobs remembered per device.
pub const MAX_LOST: usize = 1_024;

/// A device's state directory.
#[derive(Clone)]
pub struct Store {
	dir: PathBuf,
}

/// An upload under way ([`Store::begin_upload`]); its marker is removed when dropped.
pub struct UploadGuard(PathBuf);

impl Drop for UploadGuard {
	fn drop(&mut self) {
		let _ = fs::remove_file(&self.0);
	}
}

/// How much longer than the retention a layer's output is kept (see [`Store::sweep_outputs`]).
pub const LAYER_RETENTION_MARGIN: std::time::Duration = std::time::Duration::from_secs(3600);

impl Store {
	/// The store in `dir` (created if missing).
	pub fn open(dir: &Path) -> Result<Self> {
		fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
		Ok(Self { dir: dir.to_path_buf() })
	}

	fn state_path(&self) -> PathBuf {
		self.dir.join("job.json")
	}

	fn output_path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("job-{job}.output"))
	}

	/// The lanes of input `matrix` (`'a'`: rows of `A`; `'b'`: columns of `B`) of a job.
	fn input_path(&self, job: JobId, matrix: char) -> PathBuf {
		self.dir.join(format!("job-{job}.{matrix}"))
	}

	/// The values of a supplied job's output (kept after the job for clients to download).
	pub fn values_path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("job-{job}.values"))
	}

	/// The biases of a `linear-i8` job (`n` little-endian int32 values).
	fn bias_path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("job-{job}.bias"))
	}

	/// A `linear-i8` job's output `Y` (m×n int8, row-major), kept after the job for its client
	/// and for the device of a job chained from it.
	pub fn layer_path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("job-{job}.y"))
	}

	/// The int32 accumulators behind a layer's `Y` (m×n little-endian, row-major): the client's
	/// hint for checking `Y` quickly.
	pub fn accumulators_path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("job-{job}.acc"))
	}

	/// Who may read `job`'s output: its client, and whether it chose a public output.
	fn access_path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("job-{job}.access"))
	}

	/// Records who may read `job`'s output (before the claim is sent: the data service answers
	/// from it without asking the node, and after the chain has forgotten the job).
	pub fn save_access(&self, job: JobId, access: &Access) -> Result<()> {
		Self::write_atomically(&self.access_path(job), &serde_json::to_vec(access)?)
	}

	/// Who may read `job`'s output, if this device claimed it.
	pub fn access(&self, job: JobId) -> Result<Option<Access>> {
		match fs::read(self.access_path(job)) {
			Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).context("corrupt access record")?)),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	/// Saves the biases of `job` (already checked against the job's bias root).
	pub fn save_bias(&self, job: JobId, bias: &[i32]) -> Result<()> {
		let bytes: Vec<u8> = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
		Self::write_atomically(&self.bias_path(job), &bytes)
	}

	/// The biases of `job`, once they arrived.
	pub fn bias(&self, job: JobId) -> Result<Option<Vec<i32>>> {
		match fs::read(self.bias_path(job)) {
			Ok(bytes) => Ok(Some(
				bytes
					.chunks_exact(4)
					.map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
					.collect(),
			)),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	/// Saves a layer's output and the accumulators behind it (the accumulators first: a saved
	/// `Y` means both are whole).
	pub fn save_layer(&self, job: JobId, y: &[i8], acc: &[i32]) -> Result<()> {
		let acc: Vec<u8> = acc.iter().flat_map(|a| a.to_le_bytes()).collect();
		Self::write_atomically(&self.accumulators_path(job), &acc)?;
		let y: Vec<u8> = y.iter().map(|&v| v as u8).collect();
		Self::write_atomically(&self.layer_path(job), &y)
	}

	/// A layer's saved output and accumulators, if computed.
	pub fn layer(&self, job: JobId) -> Result<Option<(Vec<i8>, Vec<i32>)>> {
		let y = match fs::read(self.layer_path(job)) {
			Ok(bytes) => bytes.into_iter().map(|b| b as i8).collect::<Vec<_>>(),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		let acc = fs::read(self.accumulators_path(job))?;
		let acc = acc.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
		Ok(Some((y, acc.collect())))
	}

	/// Saves input `matrix` of `job` (already checked against its commitment).
	pub fn save_input(&self, job: JobId, matrix: char, lanes: &[u8]) -> Result<()> {
		Self::write_atomically(&self.input_path(job, matrix), lanes)
	}

	/// A temporary file for input `matrix` of `job`, written while the input arrives and put
	/// in place by [`InputPart::commit`] once checked (removed if dropped before).
	pub fn begin_input(&self, job: JobId, matrix: char) -> Result<InputPart> {
		static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
		let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
		let path = self.input_path(job, matrix);
		let name = path.file_name().unwrap_or_default().to_string_lossy();
		let tmp = path.with_file_name(format!("{name}.{}-{unique}.part", std::process::id()));
		let file = fs::File::create(&tmp)?;
		Ok(InputPart { file: Some(file), tmp, path })
	}

	/// Whether input `matrix` of `job` arrived.
	pub fn has_input(&self, job: JobId, matrix: char) -> bool {
		self.input_path(job, matrix).exists()
	}

	/// Input `matrix` of `job`, once it arrived (a model job's batch is its `'a'`).
	pub fn input(&self, job: JobId, matrix: char) -> Result<Option<Vec<i8>>> {
		match fs::read(self.input_path(job, matrix)) {
			Ok(bytes) => Ok(Some(bytes.into_iter().map(|b| b as i8).collect())),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	/// Both inputs of `job` (rows of `A`, columns of `B`), once both arrived.
	pub fn inputs(&self, job: JobId) -> Result<Option<(Vec<i8>, Vec<i8>)>> {
		let read = |matrix| match fs::read(self.input_path(job, matrix)) {
			Ok(bytes) => Ok(Some(bytes.into_iter().map(|b| b as i8).collect::<Vec<i8>>())),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(anyhow::Error::from(e)),
		};
		Ok(read('a')?.zip(read('b')?))
	}

	/// Deletes delivered outputs (values and tree) older than `retention`, except the held
	/// job's (its tree answers the challenge).
	pub fn sweep_outputs(&self, retention: std::time::Duration) -> Result<()> {
		let held = self.held()?.map(|held| [self.values_path(held.job), self.layer_path(held.job)]);
		for entry in fs::read_dir(&self.dir)? {
			let path = entry?.path();
			// A GEMM's values (with its tree) or a layer's `Y` (with its accumulators).
			let is_output = path.extension().is_some_and(|e| e == "values" || e == "y")
				&& !held.as_ref().is_some_and(|held| held.contains(&path));
			let age = fs::metadata(&path)?.modified()?.elapsed().unwrap_or_default();
			// The chain lists a layer's output for chained jobs from its settlement, which
			// comes a dispute window after it was computed: keep it that much longer.
			let margin = if path.extension().is_some_and(|e| e == "y") {
				LAYER_RETENTION_MARGIN
			} else {
				std::time::Duration::ZERO
			};
			if is_output && age > retention + margin {
				let _ = fs::remove_file(path.with_extension("output"));
				let _ = fs::remove_file(path.with_extension("acc"));
				let _ = fs::remove_file(path.with_extension("access"));
				let _ = fs::remove_file(&path);
			}
			// The record of a job that left no output (lost, released, seeded), kept as long.
			let orphan = path.extension().is_some_and(|e| e == "access")
				&& !path.with_extension("values").exists()
				&& !path.with_extension("y").exists()
				&& held.as_ref().is_none_or(|held| !held[0].with_extension("access").eq(&path));
			if orphan && age > retention + LAYER_RETENTION_MARGIN {
				let _ = fs::remove_file(&path);
			}
		}
		Ok(())
	}

	fn lost_path(&self) -> PathBuf {
		self.dir.join("lost.json")
	}

	/// Writes `bytes` to `path` so that a crash leaves either the old or the new content, and
	/// the new one survives a power cut once this returns.
	fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
		// A temporary file of its own per write: two files of a job (or two writes of one)
		// never share one, whatever runs at once (an upload, a fetch, a computation).
		static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
		let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
		let name = path.file_name().unwrap_or_default().to_string_lossy();
		let tmp = path.with_file_name(format!("{name}.{}-{unique}.part", std::process::id()));
		fs::write(&tmp, bytes)?;
		fs::File::open(&tmp)?.sync_all()?;
		fs::rename(&tmp, path)?;
		// The rename is only durable once the directory entry is.
		if let Some(dir) = path.parent() {
			fs::File::open(dir)?.sync_all()?;
		}
		Ok(())
	}

	/// The jobs this device failed or lost, newest last.
	pub fn lost(&self) -> Result<Vec<JobId>> {
		match fs::read(self.lost_path()) {
			Ok(bytes) => Ok(serde_json::from_slice(&bytes).context("corrupt lost.json")?),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
			Err(e) => Err(e.into()),
		}
	}

	/// Remembers that this device failed or lost `job`, so it never claims it again (the newest
	/// [`MAX_LOST`] are kept: older jobs are long past their deadlines).
	pub fn mark_lost(&self, job: JobId) -> Result<()> {
		let mut lost = self.lost()?;
		if !lost.contains(&job) {
			lost.push(job);
			let excess = lost.len().saturating_sub(MAX_LOST);
			lost.drain(..excess);
			Self::write_atomically(&self.lost_path(), &serde_json::to_vec(&lost)?)?;
		}
		Ok(())
	}

	fn top_ups_path(&self) -> PathBuf {
		self.dir.join("top-ups.json")
	}

	/// The bond top-ups of the last `period` (unix seconds, planck), oldest first.
	pub fn top_ups_since(&self, period: std::time::Duration) -> Result<Vec<(u64, u128)>> {
		let since = unix_now().saturating_sub(period.as_secs());
		let all: Vec<(u64, u128)> = match fs::read(self.top_ups_path()) {
			Ok(bytes) => serde_json::from_slice(&bytes).context("corrupt top-ups.json")?,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
			Err(e) => return Err(e.into()),
		};
		Ok(all.into_iter().filter(|(at, _)| *at >= since).collect())
	}

	/// Records a bond top-up of `amount` now; entries older than `keep` are dropped.
	pub fn record_top_up(&self, amount: u128, keep: std::time::Duration) -> Result<()> {
		let mut recent = self.top_ups_since(keep)?;
		recent.push((unix_now(), amount));
		Self::write_atomically(&self.top_ups_path(), &serde_json::to_vec(&recent)?)
	}

	/// Marks an upload of an input of `job` as under way until the guard is dropped: the
	/// device does not give the job back while its inputs are still arriving.
	pub fn begin_upload(&self, job: JobId) -> UploadGuard {
		let path = self.dir.join(format!("job-{job}.uploading"));
		let _ = fs::write(&path, b"");
		UploadGuard(path)
	}

	/// Whether an upload of an input of `job` is under way.
	pub fn upload_in_progress(&self, job: JobId) -> bool {
		self.dir.join(format!("job-{job}.uploading")).exists()
	}

	/// Marks `job` as about to be released: from now on the data service signs no receipt for
	/// its inputs (a receipt makes the release cost the device). The device checks for its
	/// inputs again *after* marking, so an input saved before a receipt is signed is always
	/// seen, and a job with a receipt is never released; [`Self::unmark_releasing`] if they came.
	pub fn mark_releasing(&self, job: JobId) -> Result<()> {
		Ok(fs::write(self.dir.join(format!("job-{job}.releasing")), b"")?)
	}

	/// Undoes [`Self::mark_releasing`].
	pub fn unmark_releasing(&self, job: JobId) {
		let _ = fs::remove_file(self.dir.join(format!("job-{job}.releasing")));
	}

	/// Whether `job` is marked as about to be released.
	pub fn releasing(&self, job: JobId) -> bool {
		self.dir.join(format!("job-{job}.releasing")).exists()
	}

	/// The held job, if any.
	pub fn held(&self) -> Result<Option<HeldJob>> {
		match fs::read(self.state_path()) {
			Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).context("corrupt job.json")?)),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	/// Records the held job.
	pub fn hold(&self, held: &HeldJob) -> Result<()> {
		Self::write_atomically(&self.state_path(), &serde_json::to_vec_pretty(held)?)
	}

	/// Forgets the held job, its inputs and its output tree (a finished or a partly written
	/// one). A supplied job's output values and tree stay for clients to download (whole, or a
	/// leaf with its path), until [`Self::sweep_outputs`].
	pub fn release(&self, job: JobId) -> Result<()> {
		if !self.values_path(job).exists() {
			let _ = fs::remove_file(self.output_path(job));
		}
		let _ = fs::remove_file(self.output_path(job).with_extension("tmp"));
		let _ = fs::remove_file(self.input_path(job, 'a'));
		let _ = fs::remove_file(self.input_path(job, 'b'));
		let _ = fs::remove_file(self.bias_path(job));
		// Writes a crash or a refused upload left half done.
		let prefix = format!("job-{job}.");
		for entry in fs::read_dir(&self.dir)?.flatten() {
			let name = entry.file_name().to_string_lossy().into_owned();
			if name.starts_with(&prefix)
				&& (name.ends_with(".part") || name.ends_with(".uploading"))
			{
				let _ = fs::remove_file(entry.path());
			}
		}
		match fs::remove_file(self.state_path()) {
			Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
			_ => Ok(()),
		}
	}

	/// Bytes free for the worker on the state directory's file system.
	pub fn available_disk(&self) -> Result<u64> {
		Ok(fs2::available_space(&self.dir)?)
	}

	/// Forgets a job's output values: a job that did not settle has no output worth serving.
	pub fn discard_values(&self, job: JobId) -> Result<()> {
		for path in [self.values_path(job), self.layer_path(job), self.accumulators_path(job)] {
			match fs::remove_file(path) {
				Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
				_ => {}
			}
		}
		Ok(())
	}

	/// Forgets a job's saved output (it is computed again).
	pub fn discard_output(&self, job: JobId) -> Result<()> {
		match fs::remove_file(self.output_path(job)) {
			Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
			_ => Ok(()),
		}
	}

	/// Starts writing a job's output (leaf hashes, then its tree; with `values`, the leaves'
	/// values too).
	pub fn output_writer(&self, job: JobId, values: bool) -> Result<OutputWriter> {
		let writer = OutputWriter::create(&self.output_path(job))?;
		if values {
			writer.with_values(&self.values_path(job))
		} else {
			Ok(writer)
		}
	}

	/// A job's saved output of `leaf_count` leaves, if it is whole.
	pub fn output(&self, job: JobId, leaf_count: u64) -> Result<Option<OutputTree>> {
		OutputTree::open(&self.output_path(job), leaf_count)
	}
}

/// An input being written as it arrives ([`Store::begin_input`]).
pub struct InputPart {
	file: Option<fs::File>,
	tmp: PathBuf,
	path: PathBuf,
}

impl InputPart {
	/// Appends `bytes`.
	pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
		use std::io::Write;
		let file = self.file.as_mut().context("the input was committed")?;
		Ok(file.write_all(bytes)?)
	}

	/// Puts the whole, checked input in place, durably.
	pub fn commit(mut self) -> Result<()> {
		let file = self.file.take().context("the input was committed")?;
		file.sync_all()?;
		drop(file);
		fs::rename(&self.tmp, &self.path)?;
		if let Some(dir) = self.path.parent() {
			fs::File::open(dir)?.sync_all()?;
		}
		Ok(())
	}
}

impl Drop for InputPart {
	fn drop(&mut self) {
		if self.file.take().is_some() {
			let _ = fs::remove_file(&self.tmp);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::LeafSink;
	use proofgrid_primitives::{
		device::{Kernel, Requirements},
		gemm::GemmShape,
	};

	/// The loss budget's books: top-ups are remembered across a reopen, and only those of the
	/// period count.
	#[test]
	fn top_ups_are_remembered_and_counted_over_the_period() {
		let dir = std::env::temp_dir().join(format!("pg-top-ups-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let store = Store::open(&dir).unwrap();
		let day = std::time::Duration::from_secs(24 * 3600);
		assert!(store.top_ups_since(day).unwrap().is_empty());
		store.record_top_up(100, day).unwrap();
		store.record_top_up(50, day).unwrap();
		let reopened = Store::open(&dir).unwrap();
		let spent: u128 = reopened.top_ups_since(day).unwrap().iter().map(|(_, a)| a).sum();
		assert_eq!(spent, 150);
		// An entry older than the period does not count (and is dropped at the next record).
		let old = vec![(unix_now() - 2 * 24 * 3600, 1_000u128), (unix_now(), 7)];
		fs::write(dir.join("top-ups.json"), serde_json::to_vec(&old).unwrap()).unwrap();
		assert_eq!(reopened.top_ups_since(day).unwrap(), vec![old[1]]);
		let _ = fs::remove_dir_all(&dir);
	}

	/// An upload under way is visible to the device until its guard drops.
	#[test]
	fn an_upload_marks_its_job_while_it_lasts() {
		let dir = std::env::temp_dir().join(format!("pg-upload-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let store = Store::open(&dir).unwrap();
		assert!(!store.upload_in_progress(4));
		let guard = store.begin_upload(4);
		assert!(store.upload_in_progress(4));
		assert!(!store.upload_in_progress(5));
		drop(guard);
		assert!(!store.upload_in_progress(4));
		let _ = fs::remove_dir_all(&dir);
	}

	#[test]
	fn held_jobs_and_leaves_survive_a_reopen_and_are_released() {
		let dir = std::env::temp_dir().join(format!("pg-state-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let spec = JobSpec::seeded(
			GemmShape { m: 4, n: 4, k: 4 },
			[7; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		);
		let store = Store::open(&dir).unwrap();
		assert_eq!(store.held().unwrap(), None);
		let mut held = HeldJob::claiming(3, &spec);
		store.hold(&held).unwrap();
		assert_eq!(store.held().unwrap().map(|h| h.stage), Some(Stage::Claiming));
		let mut claimed_spec = spec.clone();
		claimed_spec.inputs = proofgrid_primitives::job::JobInputs::Seeded { seed: [8; 32] };
		held = held.claimed(&claimed_spec);
		store.hold(&held).unwrap();
		let mut output = store.output_writer(3, false).unwrap();
		output.append(&[[1; 32], [2; 32]]).unwrap();
		let root = output.finish(2).unwrap().root();
		held.stage = Stage::Committed;
		store.hold(&held).unwrap();

		let reopened = Store::open(&dir).unwrap();
		let back = reopened.held().unwrap().unwrap();
		assert_eq!((back.stage, back.spec().unwrap()), (Stage::Committed, claimed_spec));
		let output = reopened.output(3, 2).unwrap().expect("saved");
		assert_eq!((output.root(), output.leaf(1).unwrap()), (root, [2; 32]));
		reopened.release(3).unwrap();
		assert_eq!(reopened.held().unwrap(), None);
		assert!(reopened.output(3, 2).unwrap().is_none());
		fs::remove_dir_all(&dir).unwrap();
	}

	#[test]
	fn the_sweep_keeps_the_held_job_and_a_settled_output_until_its_retention_ends() {
		let dir = std::env::temp_dir().join(format!("pg-sweep-{}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		let store = Store::open(&dir).unwrap();
		let spec = JobSpec::seeded(
			GemmShape { m: 4, n: 4, k: 4 },
			[7; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		);
		// Job 1 ended and was delivered; job 2 is held (committed, its challenge pending).
		for job in [1, 2] {
			fs::write(store.values_path(job), [0u8; 64]).unwrap();
			fs::write(store.output_path(job), [0u8; 64]).unwrap();
		}
		store.hold(&HeldJob::claiming(2, &spec)).unwrap();
		store.sweep_outputs(std::time::Duration::from_secs(3600)).unwrap();
		assert!(store.values_path(1).exists() && store.output_path(1).exists(), "within retention");
		store.sweep_outputs(std::time::Duration::ZERO).unwrap();
		assert!(!store.values_path(1).exists() && !store.output_path(1).exists(), "swept");
		assert!(store.values_path(2).exists() && store.output_path(2).exists(), "held: kept");
		// A job that did not settle keeps nothing once released.
		store.discard_values(2).unwrap();
		store.release(2).unwrap();
		assert!(!store.values_path(2).exists() && !store.output_path(2).exists());
		fs::remove_dir_all(&dir).unwrap();
	}

	#[test]
	fn a_layers_inputs_and_output_are_kept_and_swept_like_a_gemms() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(dir.path()).unwrap();
		assert_eq!((store.bias(4).unwrap(), store.layer(4).unwrap()), (None, None));
		store.save_bias(4, &[i32::MIN, -1, 7]).unwrap();
		store.save_layer(4, &[-128, 0, 127, 5], &[i32::MAX, -2, 0, 9]).unwrap();
		let reopened = Store::open(dir.path()).unwrap();
		assert_eq!(reopened.bias(4).unwrap(), Some(vec![i32::MIN, -1, 7]));
		let (y, acc) = reopened.layer(4).unwrap().unwrap();
		assert_eq!((y, acc), (vec![-128, 0, 127, 5], vec![i32::MAX, -2, 0, 9]));
		// Released: the inputs (and any half-done write) go, the output stays for its client
		// and chained jobs.
		let part = dir.path().join("job-4.a.77-3.part");
		fs::write(&part, [1u8]).unwrap();
		reopened.release(4).unwrap();
		assert!(!part.exists());
		assert_eq!(reopened.bias(4).unwrap(), None);
		assert!(reopened.layer(4).unwrap().is_some());
		reopened.sweep_outputs(std::time::Duration::from_secs(3600)).unwrap();
		assert!(reopened.layer(4).unwrap().is_some(), "within retention");
		reopened.sweep_outputs(std::time::Duration::ZERO).unwrap();
		assert!(reopened.layer(4).unwrap().is_some(), "kept a dispute window longer");
		let old = std::time::SystemTime::now() - LAYER_RETENTION_MARGIN * 2;
		fs::File::options()
			.write(true)
			.open(reopened.layer_path(4))
			.unwrap()
			.set_modified(old)
			.unwrap();
		reopened.sweep_outputs(std::time::Duration::ZERO).unwrap();
		assert!(reopened.layer(4).unwrap().is_none());
		assert!(!reopened.accumulators_path(4).exists());
		// A layer that did not settle keeps nothing.
		reopened.save_layer(5, &[1], &[1]).unwrap();
		reopened.discard_values(5).unwrap();
		assert!(reopened.layer(5).unwrap().is_none() && !reopened.accumulators_path(5).exists());
	}

	#[test]
	fn lost_jobs_are_remembered_across_a_reopen_and_bounded() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(dir.path()).unwrap();
		assert!(store.lost().unwrap().is_empty());
		store.mark_lost(5).unwrap();
		store.mark_lost(5).unwrap();
		store.mark_lost(9).unwrap();
		assert_eq!(Store::open(dir.path()).unwrap().lost().unwrap(), vec![5, 9]);
		for job in 100..(100 + MAX_LOST as u64) {
			store.mark_lost(job).unwrap();
		}
		let lost = store.lost().unwrap();
		assert_eq!(lost.len(), MAX_LOST);
		assert!(!lost.contains(&5) && lost.contains(&(99 + MAX_LOST as u64)));
	}
}
