//! [`CheckDeviceCall`]: the transaction extension that makes the device's protocol calls free
//! without making them a free spam channel.
//!
//! `claim`, `commit`, `reveal`, `release` and `publish_data` are `Pays::No` and
//! operational, so a device never needs funds to answer a challenge, and block stuffing by
//! normal transactions cannot crowd them out (the
//! operational class has block space of its own). In exchange this extension admits them to
//! the pool, and to a block, only when the very checks the call makes pass for the signer now:
//! the signer is the device that may make this step of this job, in the job's current state,
//! within its window. Such a call cannot fail at dispatch, and each job has one valid call per
//! step (the `provides` tag), so they cannot be used to spam. Valid ones get
//! [`Config::DeviceCallPriority`], above any realistic tip.
//!
//! A claim's tag names the *device*, not the job: a device has one claim in the pool at a time
//! (a second is refused until the first lands or leaves), and claims of several devices for
//! one job wait side by side — the first in a block takes the job, the others then fail this
//! check and are dropped unpaid. So an idle device cannot corner the pool by claiming every
//! open job, which a tag per job would let it do (each of its claims would shut honest claims
//! for that job out).

use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use frame_support::{
	dispatch::DispatchInfo,
	pallet_prelude::{TransactionSource, ValidTransaction},
	traits::{Get, IsSubType, OriginTrait},
	weights::Weight,
};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{DispatchInfoOf, Dispatchable, Implication, TransactionExtension, ValidateResult},
	transaction_validity::{InvalidTransaction, TransactionValidityError},
	DispatchError, ModuleError,
};

use crate::{Call, Config, Pallet};

/// Tag prefix of the `provides` tags of device calls.
const TAG: &[u8] = b"pg/jobs";

/// Validates the device calls in the pool (see the module docs). Other calls
/// pass untouched.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckDeviceCall<T>(PhantomData<T>);

impl<T> CheckDeviceCall<T> {
	/// The extension (it carries no data).
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

impl<T> Default for CheckDeviceCall<T> {
	fn default() -> Self {
		Self::new()
	}
}

impl<T> core::fmt::Debug for CheckDeviceCall<T> {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "CheckDeviceCall")
	}
}

/// The pool error for a device call that would fail with `error`: the pallet error's index, so
/// a client can tell `CommitTooLate` from `NotAssignedDevice`.
fn invalid(error: DispatchError) -> TransactionValidityError {
	match error {
		DispatchError::Module(ModuleError { error, .. }) => {
			InvalidTransaction::Custom(error[0]).into()
		}
		_ => InvalidTransaction::Call.into(),
	}
}

impl<T: Config + Send + Sync> CheckDeviceCall<T>
where
	<T as frame_system::Config>::RuntimeCall: IsSubType<Call<T>>,
{
	/// The `provides` tag of a device call, after checking that `who` may make it now: the
	/// device for a claim, the job and step otherwise; `None` for any other call.
	fn check(
		who: &T::AccountId,
		call: &<T as frame_system::Config>::RuntimeCall,
	) -> Result<Option<alloc::vec::Vec<u8>>, TransactionValidityError> {
		let step = match call.is_sub_type() {
			Some(Call::claim { job, basis }) => {
				Pallet::<T>::check_claim(who, *job).map_err(invalid)?;
				Pallet::<T>::check_claim_basis(*basis).map_err(invalid)?;
				return Ok(Some((TAG, b"claim", who).encode()));
			}
			Some(Call::commit { job, .. }) => {
				Pallet::<T>::check_commit(who, *job).map_err(invalid)?;
				(*job, 1)
			}
			Some(Call::reveal { job, challenge_hash, reveal, k_dim_witness }) => {
				Pallet::<T>::check_reveal(who, *job, challenge_hash, *k_dim_witness, reveal.kind())
					.map_err(invalid)?;
				(*job, 2)
			}
			Some(Call::release { job }) => {
				Pallet::<T>::check_release(who, *job).map_err(invalid)?;
				(*job, 3)
			}
			Some(Call::publish_data { job, .. }) => {
				Pallet::<T>::check_publish(who, *job).map_err(invalid)?;
				(*job, 4)
			}
			_ => return Ok(None),
		};
		Ok(Some((TAG, step).encode()))
	}
}

impl<T: Config + Send + Sync> TransactionExtension<<T as frame_system::Config>::RuntimeCall>
	for CheckDeviceCall<T>
where
	<T as frame_system::Config>::RuntimeCall:
		IsSubType<Call<T>> + Dispatchable<Info = DispatchInfo>,
{
	const IDENTIFIER: &'static str = "CheckDeviceCall";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, call: &<T as frame_system::Config>::RuntimeCall) -> Weight {
		match call.is_sub_type() {
			// A reveal also reads the seeds that pick its challenge block (at most
			// `ChallengeDelay + MAX_CHALLENGE_EXTENSION` of them; the benchmark read one).
			Some(Call::reveal { .. }) => {
				T::DbWeight::get().reads(2 + 2 * u64::from(crate::MAX_CHALLENGE_EXTENSION))
			}
			// The job and the device record.
			Some(
				Call::claim { .. }
				| Call::commit { .. }
				| Call::release { .. }
				| Call::publish_data { .. },
			) => T::DbWeight::get().reads(2),
			_ => Weight::zero(),
		}
	}

	fn validate(
		&self,
		origin: <T as frame_system::Config>::RuntimeOrigin,
		call: &<T as frame_system::Config>::RuntimeCall,
		_info: &DispatchInfoOf<<T as frame_system::Config>::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Implication,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, <T as frame_system::Config>::RuntimeCall> {
		let Some(who) = origin.as_signer().cloned() else {
			return Ok((ValidTransaction::default(), (), origin));
		};
		let valid = match Self::check(&who, call)? {
			Some(tag) => ValidTransaction::with_tag_prefix("CheckDeviceCall")
				.priority(T::DeviceCallPriority::get())
				.and_provides(tag)
				.into(),
			None => ValidTransaction::default(),
		};
		Ok((valid, (), origin))
	}

	impl_tx_ext_default!(<T as frame_system::Config>::RuntimeCall; prepare);
}
