//! Writes the runtime's metadata (V15, SCALE-encoded, as `state_getMetadata` would return it) to
//! the file named on the command line. `scripts/update-metadata.sh` uses it to refresh
//! `client/metadata/proofgrid.scale`, from which the client SDK generates its types.

fn main() {
	let path = std::env::args().nth(1).expect("usage: export_metadata <output file>");
	// Metadata building reads a storage version or two: give it an empty state.
	let metadata = sp_io::TestExternalities::new_empty()
		.execute_with(|| proofgrid_runtime::Runtime::metadata_at_version(15))
		.expect("V15 is supported");
	std::fs::write(&path, &*metadata).expect("metadata file written");
	println!("wrote {} bytes of metadata to {path}", metadata.len());
}
