//! # Rewards pallet
//!
//! New GRID for verified compute, and for nothing else: not uptime, not self-reported numbers.
//!
//! - **Schedule.** Time is cut into eras of [`EraLength`] blocks. Era `e` is scheduled
//!   [`Config::FirstEraEmission`] halved every [`Config::HalvingInterval`] eras (rounded down;
//!   see [`schedule`]), and never mints past [`Config::MaxIssuance`] of total issuance.
//! - **Work.** The jobs pallet reports each settled job's provider, work units and the protocol
//!   fee its client burned through [`OnWorkVerified`](proofgrid_primitives::traits::OnWorkVerified); they add up per era and
//!   provider.
//! - **Era end.** In the first block after an era, it mints `min(schedule, MaxRewardPerFee ×
//!   fees burned in the era)` ([`Config::MaxRewardPerFee`] = ρ < 1) into the pallet's pot
//!   ([`Config::PalletId`]); [`Config::TreasuryShare`] of it goes to the treasury at once. The
//!   rest of the schedule is never minted. So every era mints strictly less than its jobs'
//!   clients burned, and a provider that buys its own work loses money (docs/PROTOCOL.md §6.1).
//! - **Payout by claim.** A provider calls `claim(era)` for each finished era: constant weight
//!   however many providers there are. Its share is `pool × its fees / the era's fees`, rounded
//!   down; once every provider of an era has claimed, the rounding dust goes to the treasury.
//! - **Expiry.** An era can be claimed for [`Config::HistoryDepth`] eras after it ends; then its
//!   unclaimed remainder goes to the treasury and its work records are deleted, at most
//!   [`Config::CleanupBatch`] per block, so storage stays bounded.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod impls;
pub mod runtime_api;
pub mod schedule;
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

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{traits::Saturating, Perbill};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the rewards pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency minted as rewards.
		type Currency: Inspect<Self::AccountId> + Mutate<Self::AccountId>;

		/// Derives the pot account that holds finished eras' unclaimed rewards.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Receives the treasury share, rounding dust and expired rewards.
		#[pallet::constant]
		type Treasury: Get<Self::AccountId>;

		/// Era length used when the genesis config names none.
		#[pallet::constant]
		type DefaultEraLength: Get<BlockNumberFor<Self>>;

		/// What era 0 mints.
		#[pallet::constant]
		type FirstEraEmission: Get<BalanceOf<Self>>;

		/// Eras between halvings of the emission (at least 1).
		#[pallet::constant]
		type HalvingInterval: Get<u32>;

		/// Hard cap on total issuance: minting never crosses it.
		#[pallet::constant]
		type MaxIssuance: Get<BalanceOf<Self>>;

		/// Share of each era's emission that goes to the treasury.
		#[pallet::constant]
		type TreasuryShare: Get<Perbill>;

		/// ρ: an era mints at most this share of the protocol fees its jobs burned (below
		/// 100%, so emission can never pay for the fees that earn it).
		#[pallet::constant]
		type MaxRewardPerFee: Get<Perbill>;

		/// Eras during which a finished era can still be claimed.
		#[pallet::constant]
		type HistoryDepth: Get<u32>;

		/// Work records of expired eras deleted per block at most.
		#[pallet::constant]
		type CleanupBatch: Get<u32>;

		/// Weights of this pallet.
		type WeightInfo: WeightInfo;
	}

	/// Blocks per era.
	#[pallet::storage]
	pub type EraLength<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, T::DefaultEraLength>;

	/// The era in progress.
	#[pallet::storage]
	pub type CurrentEra<T> = StorageValue<_, EraIndex, ValueQuery>;

	/// The first block of the era in progress.
	#[pallet::storage]
	pub type CurrentEraStart<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Verified work units settled in the era in progress.
	#[pallet::storage]
	pub type CurrentEraUnits<T> = StorageValue<_, u128, ValueQuery>;

	/// Protocol fees burned by the jobs settled in the era in progress.
	#[pallet::storage]
	pub type CurrentEraFees<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Verified work per era and provider, until claimed or expired.
	#[pallet::storage]
	pub type EraWork<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EraIndex,
		Blake2_128Concat,
		T::AccountId,
		Work<BalanceOf<T>>,
	>;

	/// Finished eras with rewards left to claim.
	#[pallet::storage]
	pub type Eras<T: Config> = StorageMap<_, Twox64Concat, EraIndex, EraReward<BalanceOf<T>>>;

	/// Everything this pallet has minted since genesis.
	#[pallet::storage]
	pub type TotalMinted<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Rewards each provider has claimed since genesis (its earnings summary reads it).
	#[pallet::storage]
	pub type TotalClaimed<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// Eras whose work records are being deleted, oldest first.
	#[pallet::storage]
	pub type Cleanup<T> =
		StorageValue<_, BoundedVec<EraIndex, ConstU32<MAX_CLEANUP_QUEUE>>, ValueQuery>;

	/// Genesis: the era length (dev chains use short eras).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Blocks per era; [`Config::DefaultEraLength`] if `None`.
		pub era_length: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(length) = self.era_length {
				assert!(!length.is_zero(), "an era lasts at least one block");
				EraLength::<T>::put(length);
			}
			// The pot lives forever: it keeps the existential deposit, so claims never reap it.
			let pot = Pallet::<T>::pot();
			let minimum = T::Currency::minimum_balance();
			let balance = T::Currency::balance(&pot);
			if balance < minimum {
				let _ = T::Currency::mint_into(&pot, minimum - balance);
			}
		}
	}

	/// Events of the rewards pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An era ended: `minted` new tokens (at most `MaxRewardPerFee × fees`), `to_treasury`
		/// of them to the treasury, `pool` for the providers of its `units` verified work units
		/// whose clients burned `fees`.
		EraEnded {
			era: EraIndex,
			units: u128,
			fees: BalanceOf<T>,
			minted: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
			pool: BalanceOf<T>,
		},
		/// A provider claimed its share of an era.
		Claimed {
			era: EraIndex,
			provider: T::AccountId,
			units: u64,
			fees: BalanceOf<T>,
			amount: BalanceOf<T>,
		},
		/// An era is done with: every share was claimed (`returned` is rounding dust) or it
		/// expired (`returned` is what was unclaimed). `returned` went to the treasury.
		EraClosed { era: EraIndex, returned: BalanceOf<T> },
	}

	/// Errors of the rewards pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The era has not ended yet.
		EraNotFinished,
		/// The era ended more than `HistoryDepth` eras ago; its rewards went to the treasury.
		EraExpired,
		/// The caller has no unclaimed verified work in this era (or already claimed it).
		NothingToClaim,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut weight = T::WeightInfo::on_initialize_idle();
			if now >= CurrentEraStart::<T>::get().saturating_add(EraLength::<T>::get()) {
				Self::end_era(now);
				weight = weight.saturating_add(T::WeightInfo::end_era());
			}
			if let Some(removed) = Self::clean_up() {
				weight = weight.saturating_add(T::WeightInfo::clean_up(removed));
			}
			weight
		}

		fn integrity_test() {
			assert!(T::HalvingInterval::get() > 0, "the emission halves every 1 or more eras");
			assert!(T::HistoryDepth::get() > 0, "rewards must be claimable for an era at least");
			assert!(T::CleanupBatch::get() > 0, "expired eras must be cleaned up");
			assert!(!T::DefaultEraLength::get().is_zero(), "an era lasts at least one block");
			assert!(
				T::MaxRewardPerFee::get() < Perbill::one(),
				"an era must mint less than its jobs burned"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Claim the caller's share of finished era `era`: the era's pool times the fees the
		/// caller's jobs burned over the era's total, rounded down. Possible once per era, for
		/// [`Config::HistoryDepth`] eras after it ends.
		#[pallet::call_index(0)]
		// The measured weight plus the `TotalClaimed` entry's read and write, until the benchmark is
		// run again (docs/WEIGHTS.md).
		#[pallet::weight(T::WeightInfo::claim().saturating_add(T::DbWeight::get().reads_writes(1, 1)))]
		pub fn claim(origin: OriginFor<T>, era: EraIndex) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim(&who, era)
		}
	}
}

/// Expired eras awaiting cleanup at most (one expires per era, and each takes one block or a
/// few to clean, so this only fills with eras of a handful of blocks and millions of providers).
pub const MAX_CLEANUP_QUEUE: u32 = 64;
