//! # Models pallet
//!
//! The registry of quantized models that whole-model jobs run: a model is registered **once**
//! and jobs name it by its [`ModelId`].
//!
//! A registration stores:
//! - the model's layers ([`Model`]: input shape and zero point; convolutions, pooling and dense
//!   layers with their requantization, as `proofgrid-primitives` defines them);
//! - one [`WeightsCommitment`] per convolution or dense layer: the Merkle root of its weight
//!   lanes and of its biases;
//! - optionally, the URL devices fetch the weights from.
//!
//! The chain checks what it can: the layers chain on a one-image batch ([`Model::plan`]), and
//! there is one commitment per GEMM layer. The weights themselves never touch the chain. A
//! device fetches them once, checks them against the roots, and caches them by root. A job's
//! samples are then proven against these roots (`proofgrid_primitives::model_proof`).
//!
//! ## Deposit
//! Storage is paid for by its registrant: [`Config::DepositBase`] plus
//! [`Config::DepositPerByte`] for each byte of the stored record, held
//! ([`HoldReason::ModelDeposit`]) until `remove` gives it back. A registrant can flood
//! storage only at this price, and everyone's deposit comes back whole.
//!
//! ## Removal
//! Only the registrant can remove its model. Removal is refused while jobs use the model
//! ([`ModelRegistry::acquire`]): a job's samples need its commitments until it settles.
//!
//! ## For sibling pallets
//! The jobs pallet sees models through [`ModelRegistry`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible::Inspect;
use proofgrid_primitives::{
	job::MAX_URL_LEN,
	model::{Model, ModelId, MAX_LAYERS},
	model_proof::WeightsCommitment,
	traits::ModelRegistry,
};
use scale_info::TypeInfo;
use sp_runtime::BoundedVec;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A GEMM layer's commitments, one per convolution or dense layer.
pub type WeightsOf = BoundedVec<WeightsCommitment, sp_core::ConstU32<MAX_LAYERS>>;

/// Where devices fetch a model's weights from.
pub type WeightsUrl = BoundedVec<u8, sp_core::ConstU32<MAX_URL_LEN>>;

/// A registered model.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ModelInfo<AccountId, Balance> {
	/// Who registered it, and may remove it.
	pub owner: AccountId,
	/// What is held from `owner` for its storage.
	pub deposit: Balance,
	/// The layers.
	pub model: Model,
	/// One per GEMM layer, in order.
	pub weights: WeightsOf,
	/// Where devices fetch the weights from, if the registrant serves them.
	pub weights_url: Option<WeightsUrl>,
	/// Jobs that use it now.
	pub users: u32,
}

/// A registered model, with the runtime's types.
pub type ModelInfoOf<T> = ModelInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{Saturating, Zero};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the models pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency deposits are held in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Held for every registered model, whatever its size.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Held for each byte of a registered model's record.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a registered model.
		#[codec(index = 0)]
		ModelDeposit,
	}

	/// Every registered model.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelInfoOf<T>>;

	/// The id the next registration gets.
	#[pallet::storage]
	pub type NextModelId<T: Config> = StorageValue<_, ModelId, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `owner` registered model `model`, holding `deposit`.
		ModelRegistered { model: ModelId, owner: T::AccountId, deposit: BalanceOf<T> },
		/// Model `model` was removed and its deposit returned.
		ModelRemoved { model: ModelId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The layers do not chain: a layer cannot run on its input (see `Model::plan`).
		InvalidModel,
		/// Not one weights commitment per convolution or dense layer.
		WrongWeightCount,
		/// The weights URL is not an `http://` or `https://` URL with a host.
		BadWeightsUrl,
		/// No model with this id.
		NoSuchModel,
		/// Only the registrant may remove a model.
		NotOwner,
		/// Jobs use the model: it stays until they settle.
		InUse,
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
		/// Registers `model` with one weights commitment per convolution or dense layer, and
		/// optionally where devices fetch the weights. Holds the deposit from the caller.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register(model.layers.len() as u32))]
		pub fn register(
			origin: OriginFor<T>,
			model: Model,
			weights: WeightsOf,
			weights_url: Option<WeightsUrl>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			model.plan(1).map_err(|_| Error::<T>::InvalidModel)?;
			ensure!(weights.len() as u32 == model.gemm_layers(), Error::<T>::WrongWeightCount);
			if let Some(url) = &weights_url {
				ensure!(proofgrid_primitives::job::is_http_url(url), Error::<T>::BadWeightsUrl);
			}
			let mut info = ModelInfo {
				owner: owner.clone(),
				deposit: Zero::zero(),
				model,
				weights,
				weights_url,
				users: 0,
			};
			let deposit = Self::deposit_for(&info);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)?;
			info.deposit = deposit;
			let id = NextModelId::<T>::mutate(|next| {
				let id = *next;
				*next = next.saturating_add(1);
				id
			});
			Models::<T>::insert(id, info);
			Self::deposit_event(Event::ModelRegistered { model: id, owner, deposit });
			Ok(())
		}

		/// Removes the caller's model `model` and returns its deposit; refused while jobs use
		/// it.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Models::<T>::get(model).ok_or(Error::<T>::NoSuchModel)?;
			ensure!(info.owner == who, Error::<T>::NotOwner);
			ensure!(info.users == 0, Error::<T>::InUse);
			T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&who,
				info.deposit,
				Precision::Exact,
			)?;
			Models::<T>::remove(model);
			Self::deposit_event(Event::ModelRemoved { model });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The deposit a record costs: the base plus its encoded bytes at the per-byte price.
		pub fn deposit_for(info: &ModelInfoOf<T>) -> BalanceOf<T> {
			let bytes: BalanceOf<T> = (info.encoded_size() as u32).into();
			T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
		}

		/// Money invariants: each owner's held deposits are the sum of its models' deposits,
		/// and no model has an id at or past `NextModelId`.
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			use frame_support::traits::fungible::hold::Inspect as _;
			let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let next = NextModelId::<T>::get();
			for (id, info) in Models::<T>::iter() {
				ensure!(id < next, "a model id at or past NextModelId");
				let sum = deposits.entry(info.owner.clone()).or_insert_with(Zero::zero);
				*sum = sum.saturating_add(info.deposit);
			}
			for (owner, sum) in deposits {
				let held = T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &owner);
				ensure!(held == sum, "held model deposits differ from the sum of deposits");
			}
			Ok(())
		}
	}
}

impl<T: Config> ModelRegistry for Pallet<T> {
	fn model(id: ModelId) -> Option<(Model, Vec<WeightsCommitment>)> {
		Models::<T>::get(id).map(|info| (info.model, info.weights.into_inner()))
	}

	fn acquire(id: ModelId) -> sp_runtime::DispatchResult {
		Models::<T>::try_mutate(id, |info| {
			let info = info.as_mut().ok_or(Error::<T>::NoSuchModel)?;
			info.users = info.users.saturating_add(1);
			Ok(())
		})
	}

	fn release(id: ModelId) {
		Models::<T>::mutate(id, |info| match info {
			Some(info) if info.users > 0 => info.users -= 1,
			// A release without its acquire is the caller's bug: it must not let a model that
			// other jobs still use be removed, so the count stays as it is.
			Some(_) => {
				frame_support::defensive!("model released more often than acquired");
			}
			None => {}
		});
	}
}
