//! Devices: registration (signed by the device key, submitted by its owner), heartbeats,
//! deregistration and reads.

use proofgrid_primitives::device::{registration_message, DeviceSpec};
use subxt::utils::Static;

use crate::{node_error, runtime, AccountId32, Balance, Client, Error, Keypair};

/// A device's state on chain.
pub use runtime::runtime_types::proofgrid_primitives::device::DeviceStatus;

/// A device as stored on chain.
pub type DeviceInfo =
	runtime::runtime_types::pallet_devices::types::DeviceInfo<AccountId32, Balance, u32>;

impl Client {
	/// Registers `device` (its key signs the registration message) for `owner` at
	/// `price_per_unit`; the owner's bond is held.
	pub async fn register_device(
		&self,
		owner: &Keypair,
		device: &Keypair,
		spec: DeviceSpec,
		price_per_unit: Balance,
	) -> Result<(), Error> {
		let owner_id = sp_core::crypto::AccountId32::from(owner.account().0);
		let message = registration_message(&owner_id, &self.genesis_hash().0);
		let call = runtime::tx().devices().register(
			device.account(),
			Static(spec),
			price_per_unit,
			runtime::runtime_types::sp_runtime::MultiSignature::Sr25519(
				device.sign_bytes(&message),
			),
		);
		self.submit(&call, owner).await.map(|_| ())
	}

	/// A device's liveness signal, signed by the device key (free once a minute).
	pub async fn heartbeat(&self, device: &Keypair) -> Result<(), Error> {
		self.submit(&runtime::tx().devices().heartbeat(), device).await.map(|_| ())
	}

	/// Stops `device` from taking new work; what it holds goes on (the owner signs). A worker
	/// keeps running, finishes its jobs and claims nothing until [`Self::resume_device`].
	pub async fn pause_device(&self, owner: &Keypair, device: &AccountId32) -> Result<(), Error> {
		self.submit(&runtime::tx().devices().pause(*device), owner).await.map(|_| ())
	}

	/// Lets a paused `device` take work again (the owner signs).
	pub async fn resume_device(&self, owner: &Keypair, device: &AccountId32) -> Result<(), Error> {
		self.submit(&runtime::tx().devices().resume(*device), owner).await.map(|_| ())
	}

	/// Starts unbonding `device` (the owner signs).
	pub async fn deregister_device(
		&self,
		owner: &Keypair,
		device: &AccountId32,
	) -> Result<(), Error> {
		let call = runtime::tx().devices().deregister(*device);
		self.submit(&call, owner).await.map(|_| ())
	}

	/// Returns the bond of a device whose unbonding period has passed (the owner signs).
	/// Changes `device`'s advertised spec and price (signed by its owner).
	pub async fn update_device(
		&self,
		owner: &Keypair,
		device: &AccountId32,
		spec: DeviceSpec,
		price_per_unit: Balance,
	) -> Result<(), Error> {
		let call = runtime::tx().devices().update(*device, Static(spec), price_per_unit);
		self.submit(&call, owner).await.map(|_| ())
	}

	/// Holds `amount` more of `owner`'s balance as `device`'s bond.
	pub async fn top_up_bond(
		&self,
		owner: &Keypair,
		device: &AccountId32,
		amount: Balance,
	) -> Result<(), Error> {
		let call = runtime::tx().devices().top_up_bond(*device, amount);
		self.submit(&call, owner).await.map(|_| ())
	}

	pub async fn withdraw_bond(&self, owner: &Keypair, device: &AccountId32) -> Result<(), Error> {
		let call = runtime::tx().devices().withdraw_bond(*device);
		self.submit(&call, owner).await.map(|_| ())
	}

	/// A device, if registered.
	pub async fn device(&self, device: &AccountId32) -> Result<Option<DeviceInfo>, Error> {
		let at = self.at_best().await?;
		let value = at
			.storage()
			.try_fetch(runtime::storage().devices().devices(), (*device,))
			.await
			.map_err(node_error)?;
		value.map(|v| v.decode().map_err(node_error)).transpose()
	}

	/// Publishes (`Some`) or withdraws (`None`) the URL of `device`'s data service.
	pub async fn set_endpoint(
		&self,
		owner: &Keypair,
		device: &AccountId32,
		endpoint: Option<&str>,
	) -> Result<(), Error> {
		use runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec;
		let endpoint = endpoint.map(|url| BoundedVec(url.as_bytes().to_vec()));
		let call = runtime::tx().devices().set_endpoint(*device, endpoint);
		self.submit(&call, owner).await.map(|_| ())
	}

	/// The URL of `device`'s data service, if it published one.
	pub async fn endpoint(&self, device: &AccountId32) -> Result<Option<String>, Error> {
		let at = self.at_best().await?;
		let value = at
			.storage()
			.try_fetch(runtime::storage().devices().endpoints(), (*device,))
			.await
			.map_err(node_error)?;
		Ok(value.map(|v| v.decode().map_err(node_error)).transpose()?.map(
			|url: runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec<u8>| {
				String::from_utf8_lossy(&url.0).into_owned()
			},
		))
	}

	/// The devices registered by `owner`.
	pub async fn devices_of(&self, owner: &AccountId32) -> Result<Vec<AccountId32>, Error> {
		let at = self.at_best().await?;
		let value = at
			.storage()
			.try_fetch(runtime::storage().devices().owner_devices(), (*owner,))
			.await
			.map_err(node_error)?;
		match value {
			Some(v) => Ok(v.decode().map_err(node_error)?.0),
			None => Ok(Vec::new()),
		}
	}
}
