//! The data service's connections. A new connection must send its first byte within
//! [`FIRST_BYTE_TIMEOUT`] to be served (it waits in a lobby of at most [`LOBBY`] meanwhile, off
//! the slots), so connections that send nothing — from however many addresses — never hold a
//! slot. Served connections: at most [`MAX_CONNECTIONS`] at once and [`MAX_PER_ADDRESS`] per
//! client (an IPv4 address, or an IPv6 /64: one host's share, counted from accept), each closed
//! once it has made no progress for [`IDLE_TIMEOUT`]; and when every slot is taken, a newcomer
//! closes the connection idle longest if it has been idle for [`EVICTABLE_AFTER`]. Without
//! these, clients that open many connections and send or read nothing would hold the worker's
//! slots, file descriptors and memory for as long as they like, and an honest upload would
//! wait behind them (the request-concurrency limit only covers a request until its response
//! starts streaming).

use std::{
	collections::HashMap,
	future::Future,
	io,
	net::{IpAddr, Ipv6Addr, SocketAddr},
	pin::Pin,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex, Weak,
	},
	task::{Context, Poll, Waker},
	time::Duration,
};

use tokio::{
	io::{AsyncRead, AsyncWrite, ReadBuf},
	net::{TcpListener, TcpStream},
	sync::{mpsc, OwnedSemaphorePermit, Semaphore},
	time::{sleep, Instant, Sleep},
};

/// Connections served at once at most.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections one client (IPv4 address, IPv6 /64) may hold open, served or waiting; further
/// ones are closed at once, so that one client cannot take every slot.
pub const MAX_PER_ADDRESS: usize = 8;

/// A served connection with no byte read or written for this long is closed (long enough for
/// the service to check a 1 GiB upload against its commitment before it answers).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A new connection that has sent nothing after this long is closed without being served (a
/// client sends its request at once).
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_millis(500);

/// New connections waiting for their first byte at most; past that, accepting waits.
pub const LOBBY: usize = 256;

/// When every slot is taken, a newcomer closes the served connection idle longest, if that one
/// has made no progress for this long.
pub const EVICTABLE_AFTER: Duration = Duration::from_secs(2);

/// How a [`LimitedListener`] admits and keeps connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
	/// Connections served at once.
	pub max: usize,
	/// Connections per client (IPv4 address, IPv6 /64), served or waiting.
	pub per_address: usize,
	/// A served connection without progress for this long is closed.
	pub idle: Duration,
	/// A new connection must send a byte within this long to be served; `None`: every
	/// connection is served in turn.
	pub first_byte: Option<Duration>,
	/// When every slot is taken, a newcomer closes the connection idle longest if idle this
	/// long; `None`: it waits for a slot.
	pub evict_after: Option<Duration>,
}

/// The data service's limits.
pub const LIMITS: Limits = Limits {
	max: MAX_CONNECTIONS,
	per_address: MAX_PER_ADDRESS,
	idle: IDLE_TIMEOUT,
	first_byte: Some(FIRST_BYTE_TIMEOUT),
	evict_after: Some(EVICTABLE_AFTER),
};

/// Open connections per client.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The client a connection from `ip` counts against: the address itself for IPv4 (and
/// IPv4-mapped IPv6), the /64 prefix for IPv6 — a host usually holds a whole /64.
pub fn client_of(ip: IpAddr) -> IpAddr {
	match ip {
		IpAddr::V4(_) => ip,
		IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
			Some(v4) => IpAddr::V4(v4),
			None => {
				let s = v6.segments();
				IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
			}
		},
	}
}

/// What the listener knows of a served connection: when it last made progress, and how to
/// close it from outside.
struct Activity {
	last_progress: Mutex<Instant>,
	evicted: AtomicBool,
	waker: Mutex<Option<Waker>>,
}

impl Activity {
	fn new() -> Self {
		Self {
			last_progress: Mutex::new(Instant::now()),
			evicted: AtomicBool::new(false),
			waker: Mutex::new(None),
		}
	}

	fn idle_since(&self) -> Instant {
		*self.last_progress.lock().unwrap_or_else(|e| e.into_inner())
	}

	/// Closes the connection: its next read or write fails.
	fn evict(&self) {
		self.evicted.store(true, Ordering::SeqCst);
		if let Some(waker) = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take() {
			waker.wake();
		}
	}
}

/// A connection accepted (and, with a first-byte rule, heard from), counted against its client.
type Admitted = (TcpStream, SocketAddr, AddressSlot);

/// A TCP listener that serves connections within [`Limits`].
pub struct LimitedListener {
	admitted: mpsc::Receiver<Admitted>,
	admission: tokio::task::JoinHandle<()>,
	local_addr: SocketAddr,
	permits: Arc<Semaphore>,
	limits: Limits,
	open: Vec<Weak<Activity>>,
	/// An admitted connection waiting for a slot.
	pending: Option<Admitted>,
}

impl LimitedListener {
	/// `listener` under `limits`. Spawns the task that accepts connections (and holds them in
	/// the lobby until their first byte), so it must be called within a Tokio runtime.
	pub fn new(listener: TcpListener, limits: Limits) -> io::Result<Self> {
		let local_addr = listener.local_addr()?;
		let (sender, admitted) = mpsc::channel(1);
		let admission = tokio::spawn(admit(listener, limits, sender));
		Ok(Self {
			admitted,
			admission,
			local_addr,
			permits: Arc::new(Semaphore::new(limits.max)),
			limits,
			open: Vec::new(),
			pending: None,
		})
	}

	/// Closes the served connection idle longest, if the eviction rule lets it go; whether
	/// one was.
	fn evict_idlest(&mut self) -> bool {
		let Some(after) = self.limits.evict_after else { return false };
		self.open.retain(|activity| activity.strong_count() > 0);
		let idlest = self
			.open
			.iter()
			.filter_map(Weak::upgrade)
			.filter(|a| !a.evicted.load(Ordering::SeqCst))
			.min_by_key(|a| a.idle_since());
		match idlest {
			Some(activity) if activity.idle_since().elapsed() >= after => {
				activity.evict();
				true
			}
			_ => false,
		}
	}
}

impl Drop for LimitedListener {
	fn drop(&mut self) {
		self.admission.abort();
	}
}

/// Accepts connections from `listener`: closes those past the per-client limit, holds the
/// others in the lobby until they send a byte (closing those silent for `first_byte`), and
/// hands them to the listener in the order they spoke.
async fn admit(listener: TcpListener, limits: Limits, admitted: mpsc::Sender<Admitted>) {
	let per_address = PerAddress::default();
	let mut lobby = tokio::task::JoinSet::new();
	loop {
		tokio::select! {
			accepted = listener.accept(), if lobby.len() < LOBBY => {
				let (stream, address) = match accepted {
					Ok(accepted) => accepted,
					// Out of descriptors and the like: wait a little rather than spin.
					Err(e) => {
						tracing::warn!("data service: accept failed: {e}");
						sleep(Duration::from_millis(100)).await;
						continue;
					}
				};
				let Some(slot) = AddressSlot::take(&per_address, address, limits.per_address)
				else {
					continue; // dropping `stream` closes it
				};
				match limits.first_byte {
					None => {
						if admitted.send((stream, address, slot)).await.is_err() {
							return;
						}
					}
					Some(wait) => {
						lobby.spawn(async move {
							// `peek` waits for a byte (`readable` may wake without one).
							let spoke = tokio::time::timeout(wait, stream.peek(&mut [0u8; 1])).await;
							matches!(spoke, Ok(Ok(1..))).then_some((stream, address, slot))
						});
					}
				}
			}
			Some(done) = lobby.join_next(), if !lobby.is_empty() => {
				if let Ok(Some(connection)) = done {
					if admitted.send(connection).await.is_err() {
						return;
					}
				}
			}
		}
	}
}

/// A connection counted against its client until dropped.
struct AddressSlot {
	per_address: PerAddress,
	client: IpAddr,
}

impl AddressSlot {
	/// Counts a connection from `address` against its client, unless the client holds `max`.
	fn take(per_address: &PerAddress, address: SocketAddr, max: usize) -> Option<Self> {
		let client = client_of(address.ip());
		let mut counts = per_address.lock().unwrap_or_else(|e| e.into_inner());
		let count = counts.entry(client).or_default();
		if *count >= max {
			tracing::debug!(%address, "data service: too many connections from it");
			return None;
		}
		*count += 1;
		Some(Self { per_address: per_address.clone(), client })
	}
}

impl Drop for AddressSlot {
	fn drop(&mut self) {
		let mut counts = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(count) = counts.get_mut(&self.client) {
			*count -= 1;
			if *count == 0 {
				counts.remove(&self.client);
			}
		}
	}
}

impl axum::serve::Listener for LimitedListener {
	type Io = LimitedStream;
	type Addr = SocketAddr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		// Cancel-safe: an admitted connection waiting for a slot stays in `pending`.
		if self.pending.is_none() {
			match self.admitted.recv().await {
				Some(connection) => self.pending = Some(connection),
				// The admission task ended (it only does when the listener is dropped).
				None => std::future::pending::<()>().await,
			}
		}
		let permit = match self.permits.clone().try_acquire_owned() {
			Ok(permit) => permit,
			Err(_) => {
				if self.evict_idlest() {
					tracing::debug!("data service: closed the idlest connection for a new one");
				}
				self.permits.clone().acquire_owned().await.expect("never closed")
			}
		};
		let (stream, address, slot) = self.pending.take().expect("admitted above");
		let activity = Arc::new(Activity::new());
		self.open.push(Arc::downgrade(&activity));
		let _ = stream.set_nodelay(true);
		let idle = self.limits.idle;
		let deadline = Box::pin(sleep(idle));
		let io = LimitedStream { stream, _permit: permit, _slot: slot, idle, deadline, activity };
		(io, address)
	}

	fn local_addr(&self) -> io::Result<Self::Addr> {
		Ok(self.local_addr)
	}
}

/// A connection: gives its permit back when dropped, and fails once idle too long.
pub struct LimitedStream {
	stream: TcpStream,
	_permit: OwnedSemaphorePermit,
	_slot: AddressSlot,
	idle: Duration,
	deadline: Pin<Box<Sleep>>,
	activity: Arc<Activity>,
}

impl LimitedStream {
	/// After progress, the idle clock starts again; while pending, it runs. An evicted
	/// connection fails.
	fn check<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
		if self.activity.evicted.load(Ordering::SeqCst) {
			return Poll::Ready(Err(io::Error::new(
				io::ErrorKind::ConnectionAborted,
				"closed for a new connection: idle while every slot was taken",
			)));
		}
		match poll {
			Poll::Ready(result) => {
				let now = Instant::now();
				self.deadline.as_mut().reset(now + self.idle);
				*self.activity.last_progress.lock().unwrap_or_else(|e| e.into_inner()) = now;
				Poll::Ready(result)
			}
			Poll::Pending => match self.deadline.as_mut().poll(cx) {
				Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
					io::ErrorKind::TimedOut,
					"connection idle for too long",
				))),
				Poll::Pending => {
					*self.activity.waker.lock().unwrap_or_else(|e| e.into_inner()) =
						Some(cx.waker().clone());
					Poll::Pending
				}
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
		let limits = Limits {
			max: 1,
			per_address: 8,
			idle: Duration::from_millis(300),
			first_byte: None,
			evict_after: None,
		};
		let mut listener = LimitedListener::new(tcp, limits).unwrap();
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

	#[test]
	fn an_ipv6_client_is_its_64() {
		let key = |s: &str| client_of(s.parse().unwrap());
		assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
		assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
		assert_eq!(key("::ffff:10.0.0.1"), key("10.0.0.1"));
		assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
	}

	/// Serves `listener`: each connection is read until it fails or ends, then dropped (as
	/// hyper does), and answered `k` once it sent 1 MiB. Returns how many reads failed because
	/// the connection was evicted.
	fn drain(mut listener: LimitedListener) -> Arc<std::sync::atomic::AtomicUsize> {
		let evicted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
		let count = evicted.clone();
		tokio::spawn(async move {
			loop {
				let (mut io, _) = listener.accept().await;
				let count = count.clone();
				tokio::spawn(async move {
					let mut buf = [0u8; 4096];
					let mut received = 0;
					loop {
						match io.read(&mut buf).await {
							Ok(0) => break,
							Ok(n) => {
								received += n;
								if received == 1 << 20 {
									let _ = io.write_all(b"k").await;
								}
							}
							Err(e) => {
								if e.kind() == io::ErrorKind::ConnectionAborted {
									count.fetch_add(1, Ordering::SeqCst);
								}
								break;
							}
						}
					}
				});
			}
		});
		evicted
	}

	/// How long an honest client takes to connect, send 1 MiB and hear back while `flood`
	/// connections that send nothing hold (or wait for) every slot, 8 from each of many
	/// loopback addresses.
	async fn honest_upload_under_flood(limits: Limits, flood: usize) -> Duration {
		let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let _served = drain(LimitedListener::new(tcp, limits).unwrap());
		let mut idle = Vec::new();
		for i in 0..flood {
			let source = std::net::Ipv4Addr::new(127, 0, 1, 1 + (i / MAX_PER_ADDRESS) as u8);
			let socket = tokio::net::TcpSocket::new_v4().unwrap();
			socket.bind(SocketAddr::new(source.into(), 0)).unwrap();
			idle.push(socket.connect(address).await.unwrap());
		}
		let started = std::time::Instant::now();
		let mut honest = TcpStream::connect(address).await.unwrap();
		let body = vec![7u8; 1 << 20];
		let upload = async {
			honest.write_all(&body).await?;
			// Done when the server has read it all and answered.
			let mut answer = [0u8; 1];
			honest.read_exact(&mut answer).await
		};
		tokio::time::timeout(Duration::from_secs(60), upload)
			.await
			.expect("the honest upload finished within a minute")
			.unwrap();
		started.elapsed()
	}

	/// Issue 32: 500 idle connections from 63 addresses. Served in turn (the old rule), an
	/// honest upload waits for idle timeouts (1 s here, 120 s in the service) behind them; with
	/// the first-byte rule they never hold a slot. Printed, not asserted on time.
	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn idle_connections_from_many_addresses_do_not_keep_an_honest_upload_out() {
		let idle = Duration::from_secs(1);
		let old = Limits { idle, first_byte: None, evict_after: None, ..LIMITS };
		let new = Limits { idle, ..LIMITS };
		let alone = honest_upload_under_flood(new, 0).await;
		let before = honest_upload_under_flood(old, 500).await;
		let after = honest_upload_under_flood(new, 500).await;
		println!(
			"honest 1 MiB upload: alone {:.3} s; under 500 idle connections from 63 addresses {:.3} s served in turn (idle timeout 1 s; 120 s in the service), {:.3} s with the first-byte rule ({:.1}× faster)",
			alone.as_secs_f64(),
			before.as_secs_f64(),
			after.as_secs_f64(),
			before.as_secs_f64() / after.as_secs_f64().max(1e-6)
		);
		assert!(after < before, "the first-byte rule did not help: {after:?} vs {before:?}");
	}

	#[tokio::test]
	async fn a_connection_that_sends_nothing_is_never_served() {
		let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let limits = Limits { max: 1, first_byte: Some(Duration::from_millis(100)), ..LIMITS };
		let mut listener = LimitedListener::new(tcp, limits).unwrap();
		let mut silent = TcpStream::connect(address).await.unwrap();
		let mut speaker = TcpStream::connect(address).await.unwrap();
		speaker.write_all(b"GET").await.unwrap();
		// The one that spoke is served, though it came second; the silent one is closed.
		let (mut served, _) =
			tokio::time::timeout(Duration::from_secs(2), listener.accept()).await.unwrap();
		let mut buf = [0u8; 3];
		served.read_exact(&mut buf).await.unwrap();
		assert_eq!(&buf, b"GET");
		let closed = tokio::time::timeout(Duration::from_secs(2), silent.read(&mut buf)).await;
		assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
	}

	#[tokio::test]
	async fn an_idle_connection_makes_room_for_a_new_one_when_every_slot_is_taken() {
		let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let limits = Limits {
			max: 1,
			first_byte: None,
			evict_after: Some(Duration::from_millis(100)),
			..LIMITS
		};
		let evicted = drain(LimitedListener::new(tcp, limits).unwrap());
		let mut first = TcpStream::connect(address).await.unwrap();
		first.write_all(b"x").await.unwrap();
		tokio::time::sleep(Duration::from_millis(200)).await;
		let mut second = TcpStream::connect(address).await.unwrap();
		second.write_all(b"y").await.unwrap();
		let started = std::time::Instant::now();
		while evicted.load(Ordering::SeqCst) == 0 {
			assert!(started.elapsed() < Duration::from_secs(2), "the idle one kept its slot");
			tokio::time::sleep(Duration::from_millis(10)).await;
		}
		// The first one was closed for the second.
		let mut buf = [0u8; 1];
		let closed = tokio::time::timeout(Duration::from_secs(2), first.read(&mut buf)).await;
		assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
	}

	#[tokio::test]
	async fn one_address_cannot_take_every_slot() {
		let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let limits = Limits {
			max: 10,
			per_address: 2,
			idle: Duration::from_secs(30),
			first_byte: None,
			evict_after: None,
		};
		let mut listener = LimitedListener::new(tcp, limits).unwrap();
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
