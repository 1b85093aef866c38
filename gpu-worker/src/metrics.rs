//! Prometheus metrics, served as text on `/metrics` (any path answers).

use std::net::SocketAddr;

use anyhow::Result;
use prometheus::{
	Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry,
	TextEncoder,
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpListener,
};

/// The worker's metrics.
#[derive(Clone)]
pub struct Metrics {
	registry: Registry,
	/// Jobs by outcome: `settled`, `failed`, `lost` (assignment or job gone).
	pub jobs: IntCounterVec,
	/// Claim → end of a job, in seconds.
	pub job_seconds: Histogram,
	/// Verified work units settled.
	pub work_units: IntCounter,
	/// Work units per second of the last computation.
	pub units_per_second: Gauge,
	/// Accelerator outputs the CPU spot check refused (computed again, not committed).
	pub spot_check_failures: IntCounter,
}

impl Metrics {
	/// Registers every metric.
	pub fn new() -> Result<Self> {
		let registry = Registry::new_custom(Some("proofgrid_worker".into()), None)?;
		let jobs = IntCounterVec::new(Opts::new("jobs_total", "Jobs by outcome"), &["outcome"])?;
		let job_seconds = Histogram::with_opts(
			HistogramOpts::new("job_seconds", "Claim to settlement, seconds")
				.buckets(vec![1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0]),
		)?;
		let work_units = IntCounter::new("work_units_total", "Settled work units")?;
		let units_per_second =
			Gauge::new("work_units_per_second", "Work units per second of the last job's compute")?;
		registry.register(Box::new(jobs.clone()))?;
		registry.register(Box::new(job_seconds.clone()))?;
		registry.register(Box::new(work_units.clone()))?;
		let spot_check_failures = IntCounter::new(
			"spot_check_failures_total",
			"Accelerator outputs that failed the CPU spot check before commit",
		)?;
		registry.register(Box::new(units_per_second.clone()))?;
		registry.register(Box::new(spot_check_failures.clone()))?;
		Ok(Self { registry, jobs, job_seconds, work_units, units_per_second, spot_check_failures })
	}

	/// The text exposition format.
	pub fn render(&self) -> String {
		let mut buffer = Vec::new();
		let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
		String::from_utf8_lossy(&buffer).into_owned()
	}

	/// Serves the metrics on `address` until the task is dropped.
	pub async fn serve(self, address: SocketAddr) -> Result<()> {
		let listener = TcpListener::bind(address).await?;
		tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
		loop {
			// A failed accept (e.g. out of file descriptors) must not end the server.
			let mut socket = match listener.accept().await {
				Ok((socket, _)) => socket,
				Err(e) => {
					tracing::warn!("metrics: accept failed: {e}");
					tokio::time::sleep(std::time::Duration::from_millis(100)).await;
					continue;
				}
			};
			let body = self.render();
			tokio::spawn(async move {
				// The request itself does not matter: every path gets the metrics.
				let mut request = [0u8; 1024];
				let _ = socket.read(&mut request).await;
				let response = format!(
					"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
					body.len()
				);
				let _ = socket.write_all(response.as_bytes()).await;
			});
		}
	}
}
