//! One address policy for every request ProofGrid software sends to an address someone else
//! chose: a device's published data-service endpoint (the SDK, the CLI) or a client's input URL
//! (the worker). Both are chosen by a party that may be hostile, so a request goes only to a
//! public address (unless the caller opted into private networks), to the address that was
//! checked (no second DNS lookup), never through a redirect and never through a system proxy.

use std::{net::SocketAddr, sync::Arc};

use crate::{DataError, Error};

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

pub use proofgrid_primitives::net::is_public;

/// What a device's endpoint may end with: the SHA-256 of its data service's certificate (64
/// hex digits), which a client pins instead of trusting a certificate authority.
pub const PIN_FRAGMENT: &str = "#sha256=";

/// A device's data service as its published endpoint names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
	/// Its base URL (without the pin).
	pub url: reqwest::Url,
	/// The SHA-256 of the certificate it serves, if the endpoint pins one: then that
	/// certificate and no other is accepted, whoever signed it.
	pub cert_sha256: Option<[u8; 32]>,
}

/// A device's published endpoint as the SDK accepts it: an `http://` or `https://` URL with a
/// host, no user name or password, no query, and no fragment but a certificate pin
/// ([`PIN_FRAGMENT`], `https://` only). A plain `http://` endpoint is refused unless `policy`
/// allows private networks: data sent to the internet goes encrypted.
pub fn check_endpoint(endpoint: &str, policy: AddressPolicy) -> Result<Endpoint, Error> {
	let refused = |why: &str| {
		Error::from(DataError::BadEndpoint {
			endpoint: endpoint.to_string(),
			reason: why.to_string(),
		})
	};
	let (base, pin) = match endpoint.split_once('#') {
		Some((base, fragment)) => (base, Some(format!("#{fragment}"))),
		None => (endpoint, None),
	};
	let cert_sha256 = match pin {
		None => None,
		Some(pin) => {
			let digits = pin
				.strip_prefix(PIN_FRAGMENT)
				.ok_or_else(|| refused("a fragment other than a certificate pin (#sha256=…)"))?;
			let bytes = hex::decode(digits).map_err(|_| refused("the pin is not hex"))?;
			Some(<[u8; 32]>::try_from(bytes).map_err(|_| refused("the pin is not 32 bytes"))?)
		}
	};
	let url = reqwest::Url::parse(base).map_err(|e| refused(&e.to_string()))?;
	if !matches!(url.scheme(), "http" | "https") {
		return Err(refused("not http:// or https://"));
	}
	if url.host_str().is_none() {
		return Err(refused("no host"));
	}
	if !url.username().is_empty() || url.password().is_some() {
		return Err(refused("it carries a user name or password"));
	}
	if base.contains('?') {
		return Err(refused("it carries a query"));
	}
	if url.scheme() == "http" && cert_sha256.is_some() {
		return Err(refused("a certificate pin on a plain http:// endpoint"));
	}
	if url.scheme() == "http" && policy == AddressPolicy::PublicOnly {
		return Err(refused(
			"plain http:// (unencrypted) is for private networks only (--allow-private-endpoints)",
		));
	}
	Ok(Endpoint { url, cert_sha256 })
}

/// A client for requests to `url`'s host that connects only to the address checked here:
/// resolved once, refused unless public (or `policy` allows private addresses), no redirect
/// followed, no proxy, giving up after [`TIMEOUT`] of silence; over TLS, accepting only the
/// certificate whose SHA-256 is `cert_sha256` if one is given (else one a root the system
/// trusts vouches for).
pub async fn pinned_client(
	url: &reqwest::Url,
	policy: AddressPolicy,
	cert_sha256: Option<[u8; 32]>,
) -> Result<reqwest::Client, Error> {
	let fail =
		|reason: String| Error::from(DataError::BadEndpoint { endpoint: url.to_string(), reason });
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
	let mut builder = reqwest::Client::builder()
		.resolve(&host, address)
		.redirect(reqwest::redirect::Policy::none())
		.no_proxy()
		.connect_timeout(TIMEOUT)
		.read_timeout(TIMEOUT);
	if let Some(pin) = cert_sha256 {
		builder = builder.use_preconfigured_tls(pinned_tls(pin));
	}
	builder.build().map_err(|e| fail(e.to_string()))
}

/// A TLS client configuration that accepts exactly the certificate whose SHA-256 is `pin`.
pub fn pinned_tls(pin: [u8; 32]) -> rustls::ClientConfig {
	let provider = Arc::new(rustls::crypto::ring::default_provider());
	let verifier = Arc::new(PinnedCertificate { pin, provider: provider.clone() });
	rustls::ClientConfig::builder_with_provider(provider)
		.with_safe_default_protocol_versions()
		.expect("the ring provider supports the default TLS versions")
		.dangerous()
		.with_custom_certificate_verifier(verifier)
		.with_no_client_auth()
}

/// Accepts the one certificate pinned, and checks the handshake is signed by its key.
#[derive(Debug)]
struct PinnedCertificate {
	pin: [u8; 32],
	provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedCertificate {
	fn verify_server_cert(
		&self,
		end_entity: &rustls::pki_types::CertificateDer<'_>,
		_intermediates: &[rustls::pki_types::CertificateDer<'_>],
		_server_name: &rustls::pki_types::ServerName<'_>,
		_ocsp_response: &[u8],
		_now: rustls::pki_types::UnixTime,
	) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
		if sp_crypto_hashing::sha2_256(end_entity.as_ref()) == self.pin {
			Ok(rustls::client::danger::ServerCertVerified::assertion())
		} else {
			Err(rustls::Error::General(
				"the data service's certificate is not the one its endpoint pins".into(),
			))
		}
	}

	fn verify_tls12_signature(
		&self,
		message: &[u8],
		cert: &rustls::pki_types::CertificateDer<'_>,
		dss: &rustls::DigitallySignedStruct,
	) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
		rustls::crypto::verify_tls12_signature(
			message,
			cert,
			dss,
			&self.provider.signature_verification_algorithms,
		)
	}

	fn verify_tls13_signature(
		&self,
		message: &[u8],
		cert: &rustls::pki_types::CertificateDer<'_>,
		dss: &rustls::DigitallySignedStruct,
	) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
		rustls::crypto::verify_tls13_signature(
			message,
			cert,
			dss,
			&self.provider.signature_verification_algorithms,
		)
	}

	fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
		self.provider.signature_verification_algorithms.supported_schemes()
	}
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
		let refused = pinned_client(&url, AddressPolicy::PublicOnly, None).await.unwrap_err();
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
		let client = pinned_client(&url, AddressPolicy::AllowPrivate, None).await.unwrap();
		let response = client.get(url).send().await.unwrap();
		assert_eq!(response.status(), reqwest::StatusCode::FOUND);
	}

	#[test]
	fn endpoints_with_a_query_fragment_user_or_other_scheme_are_refused() {
		let open = AddressPolicy::AllowPrivate;
		assert!(check_endpoint("https://gpu.example:8443", AddressPolicy::PublicOnly).is_ok());
		assert!(check_endpoint("http://127.0.0.1:9700/", open).is_ok());
		let pin = format!("https://gpu.example:8443{PIN_FRAGMENT}{}", "ab".repeat(32));
		let pinned = check_endpoint(&pin, AddressPolicy::PublicOnly).unwrap();
		assert_eq!(pinned.cert_sha256, Some([0xab; 32]));
		assert_eq!(pinned.url.as_str(), "https://gpu.example:8443/");
		for bad in [
			"https://gpu.example/?x=1",
			"https://gpu.example/#frag",
			"https://gpu.example/#sha256=abcd",
			"http://gpu.example/#sha256=abababababababababababababababababababababababababababababababab",
			"https://user:pw@gpu.example",
			"ftp://gpu.example",
			"file:///etc/passwd",
			"gpu.example",
		] {
			assert!(check_endpoint(bad, open).is_err(), "{bad}");
		}
		// Unencrypted to the internet: refused unless private networks are allowed.
		let plain = check_endpoint("http://gpu.example:9700", AddressPolicy::PublicOnly);
		assert!(plain.unwrap_err().to_string().contains("unencrypted"));
	}
}
