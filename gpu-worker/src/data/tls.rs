//! The data service's TLS: inputs and outputs travel encrypted. The certificate is the
//! operator's (`--tls-cert`, `--tls-key`) or one the worker generates once and keeps in its
//! base path; either way the device publishes the certificate's SHA-256 with its endpoint
//! (`https://host:port#sha256=…`, [`proofgrid_client::endpoint::PIN_FRAGMENT`]), and clients
//! accept that certificate and no other, so no certificate authority is needed.
//!
//! The handshake runs in the connection's own task (first read or write), never in the accept
//! loop: a client that stalls its handshake holds only its own connection, which the
//! connection limits close like any idle one ([`crate::data::connections`]).

use std::{
	future::Future,
	io,
	path::Path,
	pin::Pin,
	sync::Arc,
	task::{ready, Context, Poll},
};

use anyhow::{bail, Context as _, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::{rustls, server::TlsStream, Accept, TlsAcceptor};

/// The certificate the data service serves.
pub struct Identity {
	/// The server configuration.
	pub config: Arc<rustls::ServerConfig>,
	/// The SHA-256 of the certificate (DER), which clients pin.
	pub cert_sha256: [u8; 32],
}

impl Identity {
	/// The pin to append to the service's URL.
	pub fn pin_fragment(&self) -> String {
		format!("{}{}", proofgrid_client::endpoint::PIN_FRAGMENT, hex::encode(self.cert_sha256))
	}
}

/// The operator's certificate chain and key (PEM files), or — with neither given — the
/// worker's own self-signed certificate in `dir` (generated on first start, for `names`).
pub fn load_or_generate(
	cert: Option<&Path>,
	key: Option<&Path>,
	dir: &Path,
	names: Vec<String>,
) -> Result<Identity> {
	let (cert_pem, key_pem) = match (cert, key) {
		(Some(cert), Some(key)) => (
			std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?,
			std::fs::read(key).with_context(|| format!("reading {}", key.display()))?,
		),
		(None, None) => {
			let (cert, key) = (dir.join("data-service.crt"), dir.join("data-service.key"));
			if !cert.exists() || !key.exists() {
				let generated = rcgen::generate_simple_self_signed(names)
					.context("generating the data service's certificate")?;
				std::fs::create_dir_all(dir)?;
				write_private(&key, generated.serialize_private_key_pem().as_bytes())?;
				std::fs::write(&cert, generated.serialize_pem()?)?;
				tracing::info!(cert = %cert.display(), "generated a self-signed certificate for the data service");
			}
			(std::fs::read(&cert)?, std::fs::read(&key)?)
		}
		_ => bail!("give both --tls-cert and --tls-key, or neither"),
	};
	let certs = rustls_pemfile::certs(&mut &cert_pem[..])
		.collect::<Result<Vec<_>, _>>()
		.context("the certificate is not PEM")?;
	let first = certs.first().context("no certificate in the PEM file")?;
	let cert_sha256 = sp_crypto_hashing::sha2_256(first.as_ref());
	let key = rustls_pemfile::private_key(&mut &key_pem[..])
		.context("the key is not PEM")?
		.context("no private key in the PEM file")?;
	let provider = Arc::new(rustls::crypto::ring::default_provider());
	let config = rustls::ServerConfig::builder_with_provider(provider)
		.with_safe_default_protocol_versions()?
		.with_no_client_auth()
		.with_single_cert(certs, key)
		.context("the certificate and key do not go together")?;
	Ok(Identity { config: Arc::new(config), cert_sha256 })
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
	use std::{io::Write, os::unix::fs::OpenOptionsExt};
	let mut file = std::fs::OpenOptions::new()
		.write(true)
		.create(true)
		.truncate(true)
		.mode(0o600)
		.open(path)?;
	file.write_all(bytes)?;
	Ok(())
}

/// A listener whose connections speak TLS.
pub struct TlsListener<L> {
	inner: L,
	acceptor: TlsAcceptor,
}

impl<L> TlsListener<L> {
	/// `inner`'s connections, served with `identity`.
	pub fn new(inner: L, identity: &Identity) -> Self {
		Self { inner, acceptor: TlsAcceptor::from(identity.config.clone()) }
	}
}

impl<L: axum::serve::Listener> axum::serve::Listener for TlsListener<L> {
	type Io = TlsIo<L::Io>;
	type Addr = L::Addr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		let (io, address) = self.inner.accept().await;
		(TlsIo::Handshaking(Box::new(self.acceptor.accept(io))), address)
	}

	fn local_addr(&self) -> io::Result<Self::Addr> {
		self.inner.local_addr()
	}
}

/// A connection: its handshake first (driven by the first read or write), then TLS.
pub enum TlsIo<IO> {
	/// The handshake under way.
	Handshaking(Box<Accept<IO>>),
	/// Encrypted.
	Ready(Box<TlsStream<IO>>),
	/// The handshake failed.
	Failed,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlsIo<IO> {
	/// The encrypted stream, once the handshake is done.
	fn poll_stream(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut TlsStream<IO>>> {
		if let Self::Handshaking(accept) = self {
			match ready!(Pin::new(accept.as_mut()).poll(cx)) {
				Ok(stream) => *self = Self::Ready(Box::new(stream)),
				Err(e) => {
					*self = Self::Failed;
					return Poll::Ready(Err(e));
				}
			}
		}
		match self {
			Self::Ready(stream) => Poll::Ready(Ok(stream)),
			_ => Poll::Ready(Err(io::Error::new(
				io::ErrorKind::NotConnected,
				"TLS handshake failed",
			))),
		}
	}
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsIo<IO> {
	fn poll_read(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &mut ReadBuf<'_>,
	) -> Poll<io::Result<()>> {
		let stream = ready!(self.get_mut().poll_stream(cx))?;
		Pin::new(stream).poll_read(cx, buf)
	}
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsIo<IO> {
	fn poll_write(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		let stream = ready!(self.get_mut().poll_stream(cx))?;
		Pin::new(stream).poll_write(cx, buf)
	}

	fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		let stream = ready!(self.get_mut().poll_stream(cx))?;
		Pin::new(stream).poll_flush(cx)
	}

	fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		match self.get_mut() {
			Self::Ready(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
			_ => Poll::Ready(Ok(())),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_generated_certificate_is_kept_and_its_pin_stays() {
		let dir = tempfile::tempdir().unwrap();
		let first = load_or_generate(None, None, dir.path(), vec!["localhost".into()]).unwrap();
		let again = load_or_generate(None, None, dir.path(), vec!["localhost".into()]).unwrap();
		assert_eq!(first.cert_sha256, again.cert_sha256, "a restart keeps the pin");
		let mode = std::os::unix::fs::PermissionsExt::mode(
			&std::fs::metadata(dir.path().join("data-service.key")).unwrap().permissions(),
		);
		assert_eq!(mode & 0o077, 0, "the key is its owner's only");
		let cert = dir.path().join("data-service.crt");
		assert!(load_or_generate(Some(&cert), None, dir.path(), vec![]).is_err());
		let key = dir.path().join("data-service.key");
		let given = load_or_generate(Some(&cert), Some(&key), dir.path(), vec![]).unwrap();
		assert_eq!(given.cert_sha256, first.cert_sha256);
	}
}
