//! # Devices pallet
//!
//! The registry of GPU devices that sell compute on ProofGrid.
//!
//! An **owner** (provider) account registers each GPU as a **device**: an sr25519 key generated
//! and kept by `proofgrid-worker`. Registration holds a bond from the owner
//! ([`Config::DeviceBond`], a fungible hold with [`HoldReason::DeviceBond`]) and needs a proof
//! that the device key agreed: its signature over
//! [`registration_message`](proofgrid_primitives::device::registration_message)`(owner, genesis
//! hash)`. Nobody can register a key they do not hold, and a proof made for one chain is
//! worthless on another.
//!
//! From then on the worker signs the device's own calls with the device key. A device is
//! eligible for work while it is active, *fresh* (a heartbeat within
//! [`Config::HeartbeatTimeout`] blocks), holds fewer than [`Config::MaxActiveJobs`] open jobs,
//! matches a job's requirements and price cap, and its bond is at least
//! [`Config::DeviceBond`] with enough of it **free** (not locked as collateral by its open jobs)
//! to cover the new job's collateral.
//!
//! ## Bond and collateral
//! The bond is the device's stake. The jobs pallet locks part of it as collateral for each job
//! the device claims ([`DeviceRegistry::lock_collateral`](proofgrid_primitives::traits::DeviceRegistry::lock_collateral)) and slashes that collateral if the
//! job fails. A slashed device whose bond fell below [`Config::DeviceBond`] takes no work until
//! its owner calls `top_up_bond`. Prices below [`Config::MinPricePerUnit`] are refused, so work
//! is never sold for nothing.
//!
//! ## Fees for heartbeats
//! A heartbeat from a registered device, at most one per [`Config::MinHeartbeatInterval`]
//! blocks, is refunded in full (`Pays::No`): honest devices pay nothing over time, though the
//! device account needs a small balance for the fee that is charged up front and refunded.
//! Anything else (a heartbeat from an unknown account, or one sent too early) fails and keeps
//! its fee, so spamming heartbeats costs the spammer.
//!
//! ## Leaving
//! `deregister` (refused while the device has assigned work) starts an unbonding period of
//! [`Config::UnbondingPeriod`] blocks; the bond can be slashed until `withdraw_bond` releases
//! it, so a provider cannot escape a slash by leaving.
//!
//! ## For sibling pallets
//! The jobs pallet sees devices only through [`DeviceRegistry`](proofgrid_primitives::traits::DeviceRegistry): eligibility, owner, price,
//! busy/idle, reputation, and slashing a bond to named beneficiaries.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod impls;
pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use types::*;
pub use weights::WeightInfo;

/// Most devices one page of the `devices` runtime API (and the `proofgrid_devices` RPC)
/// returns: a page is read from storage in one call.
pub const MAX_DEVICES_PAGE: u32 = 100;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use proofgrid_primitives::device::{
		registration_message, Attestation, DeviceSpec, DeviceStatus, Reputation,
	};
	use sp_runtime::traits::{IdentifyAccount, Saturating, Verify, Zero};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Default configurations of this pallet, for `#[derive_impl]`.
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl,
			traits::{ConstU32, ConstU64},
		};

		/// A test runtime's configuration (`u64` balances and block numbers, `MultiSignature`
		/// device keys): a 1 000 bond, a minimum price of 10, 4 jobs per device, 8 devices per
		/// owner, 1 000-block heartbeat timeout, 10-block unbonding. Mocks override what their
		/// tests need.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type DeviceSignature = sp_runtime::MultiSignature;
			type DeviceBond = ConstU64<1_000>;
			type MinPricePerUnit = ConstU64<10>;
			type MaxActiveJobs = ConstU32<4>;
			type MaxDevicesPerOwner = ConstU32<8>;
			type HeartbeatTimeout = ConstU64<1_000>;
			type MinHeartbeatInterval = ConstU64<1>;
			type UnbondingPeriod = ConstU64<10>;
			type WeightInfo = ();
		}
	}

	/// Configuration of the devices pallet.
	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// The currency in which bonds are held.
		#[pallet::no_default]
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// Signature of a device key over its registration message. Its signer is the device's
		/// account, so a device account *is* its public key.
		#[pallet::no_default_bounds]
		type DeviceSignature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>>
			+ Parameter
			+ MaxEncodedLen;

		/// Bond held from the owner for each registered device, and the least bond a device must
		/// keep to take work (a slashed device tops up with `top_up_bond`).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DeviceBond: Get<BalanceOf<Self>>;

		/// Lowest price per work unit a device may ask.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinPricePerUnit: Get<BalanceOf<Self>>;

		/// Most open (assigned or committed) jobs a device may hold at once.
		#[pallet::constant]
		type MaxActiveJobs: Get<u32>;

		/// Most devices one owner may register.
		#[pallet::constant]
		type MaxDevicesPerOwner: Get<u32>;

		/// A device whose last heartbeat is older than this many blocks gets no work.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type HeartbeatTimeout: Get<BlockNumberFor<Self>>;

		/// A device's heartbeats are free at most once per this many blocks.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinHeartbeatInterval: Get<BlockNumberFor<Self>>;

		/// Blocks between `deregister` and `withdraw_bond`.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Makes device keys and proofs for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, Self::DeviceSignature>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The bond of a registered device.
		#[codec(index = 0)]
		DeviceBond,
	}

	/// Every registered device (including unbonding ones), by device account.
	#[pallet::storage]
	pub type Devices<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, DeviceInfoOf<T>>;

	/// The data service of each device that published one: where clients upload a job's
	/// inputs and download its output (`http://` or `https://`, see `proofgrid-worker`).
	#[pallet::storage]
	pub type Endpoints<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, EndpointOf>;

	/// The devices of each owner.
	#[pallet::storage]
	pub type OwnerDevices<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<T::AccountId, T::MaxDevicesPerOwner>,
		ValueQuery,
	>;

	/// Events of the devices pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A device was registered and its bond held.
		Registered { owner: T::AccountId, device: T::AccountId, bond: BalanceOf<T> },
		/// A device reported that it is alive.
		Heartbeat { device: T::AccountId },
		/// An owner changed a device's spec or price.
		Updated { device: T::AccountId, price_per_unit: BalanceOf<T> },
		/// An owner paused a device: it takes no new work.
		Paused { device: T::AccountId },
		/// An owner resumed a paused device.
		Resumed { device: T::AccountId },
		/// A device left; its bond can be withdrawn from block `unbonding_until` on.
		Deregistered { device: T::AccountId, unbonding_until: BlockNumberFor<T> },
		/// An unbonded device's bond was released to its owner and the device removed.
		BondWithdrawn { device: T::AccountId, owner: T::AccountId, amount: BalanceOf<T> },
		/// A device's bond was slashed by `amount`.
		Slashed { device: T::AccountId, amount: BalanceOf<T> },
		/// The owner added `amount` to a device's bond, which is now `bond`.
		BondToppedUp { device: T::AccountId, amount: BalanceOf<T>, bond: BalanceOf<T> },
		/// An owner published (`Some`) or withdrew (`None`) a device's data-service endpoint.
		EndpointSet { device: T::AccountId, endpoint: Option<EndpointOf> },
	}

	/// Errors of the devices pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// This device key is already registered.
		AlreadyRegistered,
		/// The owner has registered `MaxDevicesPerOwner` devices already.
		TooManyDevices,
		/// The registration proof is not the device key's signature over the registration
		/// message for this owner and chain.
		BadProof,
		/// A device key cannot be its own owner.
		DeviceIsOwner,
		/// The spec is unusable: no memory, no throughput or no kernel.
		InvalidSpec,
		/// No device is registered under this account.
		UnknownDevice,
		/// The caller is not the device's owner.
		NotOwner,
		/// The heartbeat came sooner than `MinHeartbeatInterval` after the last one.
		HeartbeatTooSoon,
		/// The device has assigned work: finish or fail it first.
		DeviceBusy,
		/// The device is not active.
		NotActive,
		/// The device is not paused.
		NotPaused,
		/// The device is unbonding and can no longer be changed.
		Unbonding,
		/// The device is not unbonding: `deregister` it first.
		NotUnbonding,
		/// The unbonding period has not ended yet.
		StillUnbonding,
		/// The device's last heartbeat is too old for new work.
		Stale,
		/// The device has less memory than the job requires.
		InsufficientVram,
		/// The device is slower than the job requires.
		TooSlow,
		/// The device does not support the job's kernel.
		KernelUnsupported,
		/// The device asks more per unit than the job's price cap.
		PriceTooHigh,
		/// The price is below `MinPricePerUnit`.
		PriceTooLow,
		/// The device's bond is below `DeviceBond`: top it up before taking work.
		BondTooLow,
		/// The device's free bond (bond less the collateral of its open jobs) does not cover
		/// the job's collateral.
		InsufficientCollateral,
		/// The device holds `MaxActiveJobs` open jobs already.
		TooManyJobs,
		/// A top-up of zero.
		ZeroAmount,
		/// An endpoint is not an `http://` or `https://` URL with a host.
		BadEndpoint,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register `device` (a device key) for the caller, holding [`Config::DeviceBond`].
		///
		/// `proof` is the device key's signature over
		/// `registration_message(caller, genesis_hash)`. The device starts active and fresh.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			device: T::AccountId,
			spec: DeviceSpec,
			price_per_unit: BalanceOf<T>,
			proof: T::DeviceSignature,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(device != owner, Error::<T>::DeviceIsOwner);
			ensure!(price_per_unit >= T::MinPricePerUnit::get(), Error::<T>::PriceTooLow);
			ensure!(!Devices::<T>::contains_key(&device), Error::<T>::AlreadyRegistered);
			Self::ensure_valid_spec(&spec)?;

			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let message = registration_message(&owner, &genesis);
			ensure!(proof.verify(&message[..], &device), Error::<T>::BadProof);

			OwnerDevices::<T>::try_mutate(&owner, |devices| {
				devices.try_push(device.clone()).map_err(|_| Error::<T>::TooManyDevices)
			})?;
			let bond = T::DeviceBond::get();
			T::Currency::hold(&HoldReason::DeviceBond.into(), &owner, bond)?;

			let now = frame_system::Pallet::<T>::block_number();
			Devices::<T>::insert(
				&device,
				DeviceInfo {
					owner: owner.clone(),
					spec,
					price_per_unit,
					bond,
					locked: Zero::zero(),
					status: DeviceStatus::Active,
					registered_at: now,
					last_heartbeat: now,
					active_jobs: 0,
					reputation: Reputation::default(),
					measured_gops: None,
					delivered_gops: 0,
					earned: Zero::zero(),
					slashed: Zero::zero(),
					attestation: Attestation::Unattested,
				},
			);
			Self::deposit_event(Event::Registered { owner, device, bond });
			Ok(())
		}

		/// Signed by a device key: the device is alive. Free once per
		/// [`Config::MinHeartbeatInterval`] blocks (see the module docs).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let device = ensure_signed(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			Devices::<T>::try_mutate(&device, |info| -> DispatchResult {
				let info = info.as_mut().ok_or(Error::<T>::UnknownDevice)?;
				ensure!(
					!matches!(info.status, DeviceStatus::Unbonding { .. }),
					Error::<T>::Unbonding
				);
				ensure!(
					now >= info.last_heartbeat.saturating_add(T::MinHeartbeatInterval::get()),
					Error::<T>::HeartbeatTooSoon
				);
				info.last_heartbeat = now;
				Ok(())
			})?;
			Self::deposit_event(Event::Heartbeat { device });
			Ok(Pays::No.into())
		}

		/// Change a device's advertised spec and price per work unit. Jobs already assigned keep
		/// the price they were assigned at.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::update())]
		pub fn update(
			origin: OriginFor<T>,
			device: T::AccountId,
			spec: DeviceSpec,
			price_per_unit: BalanceOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::ensure_valid_spec(&spec)?;
			ensure!(price_per_unit >= T::MinPricePerUnit::get(), Error::<T>::PriceTooLow);
			Self::mutate_owned(&owner, &device, |info| {
				ensure!(
					!matches!(info.status, DeviceStatus::Unbonding { .. }),
					Error::<T>::Unbonding
				);
				info.spec = spec;
				info.price_per_unit = price_per_unit;
				Ok(())
			})?;
			Self::deposit_event(Event::Updated { device, price_per_unit });
			Ok(())
		}

		/// Stop a device from taking new work (assigned work goes on).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::pause())]
		pub fn pause(origin: OriginFor<T>, device: T::AccountId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::mutate_owned(&owner, &device, |info| {
				ensure!(info.status == DeviceStatus::Active, Error::<T>::NotActive);
				info.status = DeviceStatus::Paused;
				Ok(())
			})?;
			Self::deposit_event(Event::Paused { device });
			Ok(())
		}

		/// Let a paused device take work again.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>, device: T::AccountId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::mutate_owned(&owner, &device, |info| {
				ensure!(info.status == DeviceStatus::Paused, Error::<T>::NotPaused);
				info.status = DeviceStatus::Active;
				Ok(())
			})?;
			Self::deposit_event(Event::Resumed { device });
			Ok(())
		}

		/// Start unbonding a device with no assigned work. It takes no new work; its bond stays
		/// held (and slashable) for [`Config::UnbondingPeriod`] blocks.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::deregister())]
		pub fn deregister(origin: OriginFor<T>, device: T::AccountId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let until =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			Self::mutate_owned(&owner, &device, |info| {
				ensure!(
					!matches!(info.status, DeviceStatus::Unbonding { .. }),
					Error::<T>::Unbonding
				);
				// Idle, and no collateral at stake (a verified job's waits out its dispute
				// window after the device's slot is free).
				ensure!(info.active_jobs == 0 && info.locked.is_zero(), Error::<T>::DeviceBusy);
				info.status = DeviceStatus::Unbonding { until };
				Ok(())
			})?;
			Self::deposit_event(Event::Deregistered { device, unbonding_until: until });
			Ok(())
		}

		/// After unbonding: release what is left of the bond and forget the device.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw_bond())]
		pub fn withdraw_bond(origin: OriginFor<T>, device: T::AccountId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let info = Devices::<T>::get(&device).ok_or(Error::<T>::UnknownDevice)?;
			ensure!(info.owner == owner, Error::<T>::NotOwner);
			let DeviceStatus::Unbonding { until } = info.status else {
				return Err(Error::<T>::NotUnbonding.into());
			};
			ensure!(frame_system::Pallet::<T>::block_number() >= until, Error::<T>::StillUnbonding);

			let released = T::Currency::release(
				&HoldReason::DeviceBond.into(),
				&owner,
				info.bond,
				Precision::Exact,
			)?;
			Devices::<T>::remove(&device);
			Endpoints::<T>::remove(&device);
			OwnerDevices::<T>::mutate_exists(&owner, |devices| {
				if let Some(list) = devices {
					list.retain(|d| d != &device);
					if list.is_empty() {
						*devices = None;
					}
				}
			});
			Self::deposit_event(Event::BondWithdrawn { device, owner, amount: released });
			Ok(())
		}

		/// Hold `amount` more from the owner as `device`'s bond: the way back to work for a
		/// device slashed below [`Config::DeviceBond`], and the way to take jobs whose
		/// collateral exceeds the free bond.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::top_up_bond())]
		pub fn top_up_bond(
			origin: OriginFor<T>,
			device: T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let bond = Self::mutate_owned(&owner, &device, |info| {
				ensure!(
					!matches!(info.status, DeviceStatus::Unbonding { .. }),
					Error::<T>::Unbonding
				);
				T::Currency::hold(&HoldReason::DeviceBond.into(), &owner, amount)?;
				info.bond = info.bond.saturating_add(amount);
				Ok(info.bond)
			})?;
			Self::deposit_event(Event::BondToppedUp { device, amount, bond });
			Ok(())
		}

		/// Publish (`Some`) or withdraw (`None`) the URL of `device`'s data service, where the
		/// clients of its jobs upload inputs and download outputs. Owner only; at most
		/// `MAX_ENDPOINT_LEN` bytes per device (the bond pays for its storage); removed with
		/// the device.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_endpoint())]
		pub fn set_endpoint(
			origin: OriginFor<T>,
			device: T::AccountId,
			endpoint: Option<EndpointOf>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			if let Some(url) = &endpoint {
				ensure!(proofgrid_primitives::job::is_http_url(url), Error::<T>::BadEndpoint);
			}
			Self::mutate_owned(&owner, &device, |info| {
				ensure!(
					!matches!(info.status, DeviceStatus::Unbonding { .. }),
					Error::<T>::Unbonding
				);
				Ok(())
			})?;
			Endpoints::<T>::set(&device, endpoint.clone());
			Self::deposit_event(Event::EndpointSet { device, endpoint });
			Ok(())
		}
	}
}
