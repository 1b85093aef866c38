//! One address policy for every request ProofGrid software sends to an address someone else
//! chose: a device's published data-service endpoint (the SDK, the CLI) or a client's input URL
//! (the worker). Both are chosen by a party that may be hostile, so a request goes only to a
//! public address (unless the caller opted into private networks), to the address that was
//! checked (no second DNS lookup), never through a redirect and never through a system proxy.

use std::net::{IpAddr, SocketAddr};

use crate::Error;

/// How long a request may stall (connecting, or between two reads) before it is given up.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Which addresses requests may go to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressPolicy {
	/// Public internet addresses only ([`is_public`]): the default.
	#[default]
	PublicOnly,
	/// Private, loopback and link-local addresses too: a private network or a test on
	/// loopback (`--allow-private-endpoints` in the CLI, `--fetch-private-urls` in the worker).
	AllowPrivate,
}

/// The environment variable that makes the CLI allow private endpoints (as
/// `--allow-private-endpoints` does): scripts and tests on loopback set it once.
pub const ALLOW_PRIVATE_ENV: &str = "PROOFGRID_ALLOW_PRIVATE_ENDPOINTS";

/// Whether `address` is reachable from anywhere on the internet: not loopback, private,
/// link-local, shared (CGNAT), benchmarking, documentation, reserved, multicast or unspecified,
/// nor an IPv6 form that embeds such an IPv4 address or translates to IPv4 on the way
/// (IPv4-mapped and -compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`), nor IPv6
/// unique-local, link-local or site-local.
pub fn is_public(address: IpAddr) -> bool {
	match address {
		IpAddr::V4(v4) => {
			let [a, b, ..] = v4.octets();
			!(v4.is_loopback()
				|| v4.is_private()
				|| v4.is_link_local()
				|| v4.is_unspecified()
				|| v4.is_broadcast()
				|| v4.is_documentation()
				|| v4.is_multicast()
				|| a == 0 || (a == 100 && (64..128).contains(&b))
				|| (a == 198 && (18..20).contains(&b))
				|| a >= 240)
		}
		IpAddr::V6(v6) => {
			if let Some(v4) = v6.to_ipv4_mapped() {
				return is_public(IpAddr::V4(v4));
			}
			let segments = v6.segments();
			let first = segments[0];
			// IPv4-compatible (`::a.b.c.d`, deprecated): the embedded address decides.
			if segments[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
				return false;
			}
			!(v6.is_loopback()
				|| v6.is_unspecified()
				|| v6.is_multicast()
				|| (first & 0xfe00) == 0xfc00
				|| (first & 0xffc0) == 0xfe80
				|| (first & 0xffc0) == 0xfec0
				|| segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
				|| first == 0x2002)
		}
	}
}

/// A device's published endpoint as the SDK accepts it: an `http://` or `https://` URL with a
/// host, no user name or password, no query and no fragment (the SDK appends paths to it).
pub fn check_endpoint(endpoint: &str) -> Result<reqwest::Url, Error> {
	let refused = |why: &str| Error::Data(format!("endpoint {endpoint:?} refused: {why}"));
	let url = reqwest::Url::parse(endpoint).map_err(|e| refused(&e.to_string()))?;
	if !matches!(url.scheme(), "http" | "https") {
		return Err(refused("not http:// or https://"));
	}
	if url.host_str().is_none() {
		return Err(refused("no host"));
	}
	if !url.username().is_empty() || url.password().is_some() {
		return Err(refused("it carries a user name or password"));
	}
	if endpoint.contains(['?', '#']) {
		return Err(refused("it carries a query or a fragment"));
	}
	Ok(url)
}

/// A client for requests to `url`'s host that connects only to the address checked here:
/// resolved once, refused unless public (or `policy` allows private addresses), no redirect
/// followed, no proxy, giving up after [`TIMEOUT`] of silence.
pub async fn pinned_client(
	url: &reqwest::Url,
	policy: AddressPolicy,
) -> Result<reqwest::Client, Error> {
	let fail = |why: String| Error::Data(format!("{url}: {why}"));
	let host = url.host_str().ok_or_else(|| fail("no host".into()))?.to_string();
	let port = url.port_or_known_default().ok_or_else(|| fail("no port".into()))?;
	let address: SocketAddr = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
		.await
		.map_err(|e| fail(e.to_string()))?
		.next()
		.ok_or_else(|| fail(format!("{host} has no address")))?;
	if policy == AddressPolicy::PublicOnly && !is_public(address.ip()) {
		return Err(Error::PrivateAddress { url: url.to_string(), address: address.ip() });
	}
	reqwest::Client::builder()
		.resolve(&host, address)
		.redirect(reqwest::redirect::Policy::none())
		.no_proxy()
		.connect_timeout(TIMEOUT)
		.read_timeout(TIMEOUT)
		.build()
		.map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_public_addresses_are_public() {
		for private in [
			"127.0.0.1",
			"10.1.2.3",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.1.1",
			"100.64.0.1",
			"198.18.0.1",
			"198.19.255.255",
			"240.0.0.1",
			"255.255.255.255",
			"224.0.0.1",
			"0.0.0.0",
			"192.0.2.1",
			"::1",
			"::",
			"fc00::1",
			"fe80::1",
			"fec0::1",
			"ff02::1",
			"::ffff:10.0.0.1",
			"::10.0.0.1",
			"64:ff9b::a00:1",
			"64:ff9b::808:808",
			"2002:a00:1::1",
		] {
			assert!(!is_public(private.parse().unwrap()), "{private}");
		}
		for public in ["8.8.8.8", "1.1.1.1", "198.20.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
		{
			assert!(is_public(public.parse().unwrap()), "{public}");
		}
	}

	#[tokio::test]
	async fn requests_go_to_public_addresses_only_and_never_follow_a_redirect() {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url =
			reqwest::Url::parse(&format!("http://{}/v1", server.local_addr().unwrap())).unwrap();
		let refused = pinned_client(&url, AddressPolicy::PublicOnly).await.unwrap_err();
		assert!(matches!(refused, Error::PrivateAddress { .. }), "{refused}");
		// Allowed on a private network, a redirect (into the client's own network, say) is
		// returned as it is, not followed.
		tokio::spawn(async move {
			let (mut stream, _) = server.accept().await.unwrap();
			let _ = stream.read(&mut [0u8; 1024]).await;
			let redirect =
				"HTTP/1.1 302 Found\r\nlocation: http://10.0.0.1/\r\ncontent-length: 0\r\n\r\n";
			stream.write_all(redirect.as_bytes()).await.unwrap();
		});
		let client = pinned_client(&url, AddressPolicy::AllowPrivate).await.unwrap();
		let response = client.get(url).send().await.unwrap();
		assert_eq!(response.status(), reqwest::StatusCode::FOUND);
	}

	#[test]
	fn endpoints_with_a_query_fragment_user_or_other_scheme_are_refused() {
		assert!(check_endpoint("https://gpu.example:8443").is_ok());
		assert!(check_endpoint("http://127.0.0.1:9700/").is_ok());
		for bad in [
			"https://gpu.example/?x=1",
			"https://gpu.example/#frag",
			"https://user:pw@gpu.example",
			"ftp://gpu.example",
			"file:///etc/passwd",
			"gpu.example",
		] {
			assert!(check_endpoint(bad).is_err(), "{bad}");
		}
	}
}
