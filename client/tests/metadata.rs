//! The SDK's types are generated from `client/metadata/proofgrid.scale`; this fails when that
//! file no longer matches the runtime built from this tree. Fix: `scripts/update-metadata.sh`.

#[test]
fn metadata_file_matches_the_runtime() {
	let fresh = sp_io::TestExternalities::new_empty()
		.execute_with(|| proofgrid_runtime::Runtime::metadata_at_version(15))
		.expect("V15 is supported");
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/metadata/proofgrid.scale");
	let stored = std::fs::read(path).expect("client/metadata/proofgrid.scale exists");
	assert!(
		stored == *fresh,
		"client/metadata/proofgrid.scale is stale ({} bytes stored, {} bytes from the runtime): \
		 run scripts/update-metadata.sh and rebuild",
		stored.len(),
		fresh.len()
	);
}
