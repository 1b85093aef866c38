//! subxt's RPC transport over the workspace's jsonrpsee (0.24), so that the tree holds one
//! jsonrpsee instead of two (subxt's own transport uses 0.26).

use futures::{StreamExt, TryStreamExt};
use jsonrpsee::{
	core::{
		client::{ClientT, Error as RpcError, SubscriptionClientT, SubscriptionKind},
		traits::ToRpcParams,
	},
	types::SubscriptionId,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::value::RawValue;
use subxt::rpcs::{
	client::{RawRpcFuture, RawRpcSubscription, RpcClientT},
	Error, UserError,
};

/// A WebSocket JSON-RPC connection to a node, shared by subxt and the `proofgrid_*` client.
pub struct Transport(pub(crate) std::sync::Arc<WsClient>);

impl Transport {
	/// Connects to `url` (`ws://` or `wss://`).
	pub async fn connect(url: &str) -> Result<Self, RpcError> {
		let client = WsClientBuilder::default()
			.max_buffer_capacity_per_subscription(4096)
			.build(url)
			.await?;
		Ok(Self(std::sync::Arc::new(client)))
	}
}

/// Parameters that are already JSON.
struct Params(Option<Box<RawValue>>);

impl ToRpcParams for Params {
	fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
		Ok(self.0)
	}
}

fn convert(error: RpcError) -> Error {
	match error {
		RpcError::Call(e) => Error::User(UserError {
			code: e.code(),
			message: e.message().to_owned(),
			data: e.data().map(|d| d.to_owned()),
		}),
		other => Error::Client(Box::new(other)),
	}
}

impl RpcClientT for Transport {
	fn request_raw<'a>(
		&'a self,
		method: &'a str,
		params: Option<Box<RawValue>>,
	) -> RawRpcFuture<'a, Box<RawValue>> {
		Box::pin(async move { self.0.request(method, Params(params)).await.map_err(convert) })
	}

	fn subscribe_raw<'a>(
		&'a self,
		sub: &'a str,
		params: Option<Box<RawValue>>,
		unsub: &'a str,
	) -> RawRpcFuture<'a, RawRpcSubscription> {
		Box::pin(async move {
			let stream = self
				.0
				.subscribe::<Box<RawValue>, _>(sub, Params(params), unsub)
				.await
				.map_err(convert)?;
			let id = match stream.kind() {
				SubscriptionKind::Subscription(SubscriptionId::Str(id)) => {
					Some(id.clone().into_owned())
				}
				_ => None,
			};
			let stream = stream.map_err(|e| Error::Client(Box::new(e))).boxed();
			Ok(RawRpcSubscription { stream, id })
		})
	}
}
