//! The data service's connections: at most [`MAX_CONNECTIONS`] open at once, and each closed
//! once it has made no progress for [`IDLE_TIMEOUT`]. Without both, clients that open many
//! downloads and read them slowly would hold the worker's file descriptors and memory for as
//! long as they like (the request-concurrency limit only covers a request until its response
//! starts streaming).

use std::{
	future::Future,
	io,
	net::SocketAddr,
	pin::Pin,
	sync::Arc,
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

/// A connection with no byte read or written for this long is closed (long enough for the
/// service to check a 1 GiB upload against its commitment before it answers).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A TCP listener that holds a permit per open connection.
pub struct LimitedListener {
	listener: TcpListener,
	permits: Arc<Semaphore>,
	idle: Duration,
}

impl LimitedListener {
	/// `listener`, with at most `max` connections open, each closed after `idle` without
	/// progress.
	pub fn new(listener: TcpListener, max: usize, idle: Duration) -> Self {
		Self { listener, permits: Arc::new(Semaphore::new(max)), idle }
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
					let _ = stream.set_nodelay(true);
					let deadline = Box::pin(sleep(self.idle));
					let io = LimitedStream { stream, _permit: permit, idle: self.idle, deadline };
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
		let mut listener = LimitedListener::new(tcp, 1, Duration::from_millis(300));
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
}
