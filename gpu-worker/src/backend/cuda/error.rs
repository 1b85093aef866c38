//! What "no GPU here" means, as against a GPU that is present and broken.

/// Why the GPUs of this host could not be opened. Only [`CudaError::NoDriver`] and
/// [`CudaError::NoDevice`] mean "no GPU here"; anything else is a GPU that is present but
/// broken (a kernel that does not compile for it, a driver error) and must not be hidden.
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
	/// The CUDA driver library (`libcuda.so`) cannot be loaded.
	#[error("no CUDA driver (libcuda.so) on this host")]
	NoDriver,
	/// The driver loads but sees no GPU.
	#[error("the CUDA driver sees no GPU")]
	NoDevice,
	/// The driver failed while counting GPUs.
	#[error("counting CUDA devices: {0}")]
	Driver(cudarc::driver::DriverError),
	/// GPU `ordinal` is present but could not be opened.
	#[error("GPU {ordinal}: {source:#}")]
	Open {
		/// Which GPU.
		ordinal: usize,
		/// What failed: context, NVRTC compile, module load, attributes.
		source: anyhow::Error,
	},
}

impl CudaError {
	/// Whether this host simply has no GPU (so the CPU backend is the right choice), as opposed
	/// to a GPU that failed.
	pub fn no_gpu(&self) -> bool {
		matches!(self, Self::NoDriver | Self::NoDevice)
	}
}

/// Whether the CUDA driver library (`libcuda`) can be loaded.
pub fn driver_present() -> bool {
	// SAFETY: only tries to open the library; nothing is called.
	unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether the NVRTC library can be loaded.
pub fn nvrtc_present() -> bool {
	// SAFETY: only tries to open the library; nothing is called.
	unsafe { cudarc::nvrtc::sys::is_culib_present() }
}
