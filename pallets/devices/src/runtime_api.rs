//! The runtime API behind the node's `proofgrid_device` and `proofgrid_devices` RPCs.

use alloc::vec::Vec;
use codec::Codec;

use crate::DeviceInfo;

/// A device as a page of [`DevicesApi::devices`] lists it: its account, its record, and its
/// data-service endpoint if it publishes one.
pub type ListedDevice<AccountId, Balance, BlockNumber> =
	(AccountId, DeviceInfo<AccountId, Balance, BlockNumber>, Option<Vec<u8>>);

sp_api::decl_runtime_apis! {
	/// Read access to the device registry.
	pub trait DevicesApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A registered device: spec, price, bond and locked collateral, status, reputation,
		/// and the throughput its settled jobs proved (`delivered_gops`).
		fn device(device: AccountId) -> Option<DeviceInfo<AccountId, Balance, BlockNumber>>;

		/// Up to `count` registered devices (at most [`crate::MAX_DEVICES_PAGE`]) in storage
		/// order, after `start_after` if given, each with its data-service endpoint: pages of
		/// the whole market.
		fn devices(
			start_after: Option<AccountId>,
			count: u32,
		) -> Vec<ListedDevice<AccountId, Balance, BlockNumber>>;
	}
}
