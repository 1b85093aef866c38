//! The runtime API behind the node's `proofgrid_device` RPC.

use codec::Codec;

use crate::DeviceInfo;

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
	}
}
