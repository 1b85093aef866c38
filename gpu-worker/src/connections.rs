//! The data service's connections: at most [`MAX_CONNECTIONS`] open at once and
//! [`MAX_PER_ADDRESS`] from one IP address, and each closed once it has made no progress for
//! [`IDLE_TIMEOUT`]. Without both, clients that open many
//! downloads and read them slowly would hold the worker's file descriptors and memory for as
//! long as they like (the request-concurrency limit only covers a request until its response
//! starts streaming).

use std::{
	collections::HashMap,
	future::Future,
	io,
	net::{IpAddr, SocketAddr},
	pin::Pin,
	sync::{Arc, Mutex},
	task::{Context, Poll},
	time::Duration,
};

use tokio::{
	io::{AsyncRead, AsyncWrite, ReadBuf},
	net::{TcpListener, TcpStream},
	sync::{OwnedSemaphorePermit, Semaphore},
	time::{sleep, Instant, Sleep},
};

/// Connections open at once at most; further ones wait in the kernel's accept queue.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections one IP address may hold open; further ones are closed at once, so that one
/// client cannot take every [`MAX_CONNECTIONS`] slot.
pub const MAX_PER_ADDRESS: usize = 8;

/// A connection with no byte read or written for this long is closed (long enough for the
/// service to check a 1 GiB upload against its commitment before it answers).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Open connections per IP address.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// A TCP listener that holds a permit per open connection.
pub struct LimitedListener {
	listener: TcpListener,
	permits: Arc<Semaphore>,
	per_address: PerAddress,
	max_per_address: usize,
	idle: Duration,
}

impl LimitedListener {
	/// `listener`, with at most `max` connections open, `max_per_address` from one address,
	/// each closed after `idle` without progress.
	pub fn new(listener: TcpListener, max: usize, max_per_address: usize, idle: Duration) -> Self {
		Self {
			listener,
			permits: Arc::new(Semaphore::new(max)),
			per_address: Default::default(),
			max_per_address,
			idle,
		}
	}
}

/// A connection counted against its address until dropped.
struct AddressSlot {
	per_address: PerAddress,
	address: IpAddr,
}

impl Drop for AddressSlot {
	fn drop(&mut self) {
		let mut counts = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(count) = counts.get_mut(&self.address) {
			*count -= 1;
			if *count == 0 {
				counts.remove(&self.address);
			}
		}
	}
}

impl axum::serve::Listener for LimitedListener {
	type Io = LimitedStream;
	type Addr = SocketAddr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		let permit =
			self.permits.clone().acquire_owned().await.expect("the semaphore is never closed");
		loop {
			match self.listener.accept().await {
				Ok((stream, address)) => {
					let ip = address.ip();
					{
						let mut counts = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
						let count = counts.entry(ip).or_default();
						if *count >= self.max_per_address {
							tracing::debug!(%address, "data service: too many connections from it");
							continue; // dropping `stream` closes it
						}
						*count += 1;
					}
					let slot = AddressSlot { per_address: self.per_address.clone(), address: ip };
					let _ = stream.set_nodelay(true);
					let deadline = Box::pin(sleep(self.idle));
					let io = LimitedStream {
						stream,
						_permit: permit,
						_slot: slot,
						idle: self.idle,
						deadline,
					};
					return (io, address);
				}
				// Out of descriptors and the like: wait a little rather than spin.
				Err(e) => {
					tracing::warn!("data service: accept failed: {e}");
					sleep(Duration::from_millis(100)).await;
				}
			}
		}
	}

	fn local_addr(&self) -> io::Result<Self::Addr> {
		self.listener.local_addr()
	}
}

/// A connection: gives its permit back when dropped, and fails once idle too long.
pub struct LimitedStream {
	stream: TcpStream,
	_permit: OwnedSemaphorePermit,
	_slot: AddressSlot,
	idle: Duration,
	deadline: Pin<Box<Sleep>>,
}

impl LimitedStream {
	/// After progress, the idle clock starts again; while pending, it runs.
	fn check<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
		match poll {
			Poll::Ready(result) => {
				self.deadline.as_mut().reset(Instant::now() + self.idle);
				Poll::Ready(result)
			}
			Poll::Pending => match self.deadline.as_mut().poll(cx) {
				Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
					io::ErrorKind::TimedOut,
					"connection idle for too long",
				))),
				Poll::Pending => Poll::Pending,
			},
		}
	}
}

impl AsyncRead for LimitedStream {
	fn poll_read(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &mut ReadBuf<'_>,
	) -> Poll<io::Result<()>> {
		let this = self.get_mut();
		let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
		this.check(cx, poll)
	}
}

impl AsyncWrite for LimitedStream {
	fn poll_write(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
		this.check(cx, poll)
	}

	fn poll_write_vectored(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		bufs: &[io::IoSlice<'_>],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
		this.check(cx, poll)
	}

	fn is_write_vectored(&self) -> bool {
		self.stream.is_write_vectored()
	}

	fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		let this = self.get_mut();
		let poll = Pin::new(&mut this.stream).poll_flush(cx);
		this.check(cx, poll)
	}

	fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use axum::serve::Listener;
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	#[tokio::test]
	async fn connections_beyond_the_limit_wait_and_idle_ones_are_closed() {
		let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let mut listener = LimitedListener::new(tcp, 1, 8, Duration::from_millis(300));
		let _first = TcpStream::connect(address).await.unwrap();
		let _second = TcpStream::connect(address).await.unwrap();
		let (mut held, _) = listener.accept().await;
		let accepted = std::time::Instant::now();
		// The second connection is not accepted while the first is open.
		let waiting = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
		assert!(waiting.is_err(), "a second connection was accepted past the limit");
		// The first one sends nothing: its read fails once idle, and its permit comes back.
		let error = held.read(&mut [0u8; 16]).await.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::TimedOut);
		assert!(accepted.elapsed() >= Duration::from_millis(250), "closed before it was idle");
		drop(held);
		let (mut next, _) =
			tokio::time::timeout(Duration::from_secs(2), listener.accept()).await.unwrap();
		// Progress keeps a connection open.
		next.write_all(b"x").await.unwrap();
	}

	#[tokio::test]
	async fn one_address_cannot_take_every_slot() {
		let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let mut listener = LimitedListener::new(tcp, 10, 2, Duration::from_secs(30));
		let mut clients = vec![];
		for _ in 0..3 {
			clients.push(TcpStream::connect(address).await.unwrap());
		}
		let (_a, _) = listener.accept().await;
		let (_b, _) = listener.accept().await;
		// The third connection from the same address is closed, not served.
		let third = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
		assert!(third.is_err(), "a third connection from one address was accepted");
		let mut buf = [0u8; 1];
		let closed = tokio::time::timeout(Duration::from_secs(2), clients[2].read(&mut buf)).await;
		assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
		// Once one closes, the address may connect again.
		drop(_a);
		let _fourth = TcpStream::connect(address).await.unwrap();
		assert!(tokio::time::timeout(Duration::from_secs(2), listener.accept()).await.is_ok());
	}
}
