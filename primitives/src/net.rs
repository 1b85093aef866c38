//! Which addresses are public: a device's data service must be reachable from the internet
//! unless the client chose a private network, and clients never send data into their own
//! network for a device. One rule for the SDK, the worker and the web console.

use core::net::IpAddr;

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
