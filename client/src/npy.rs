//! The `.npy` files a dApp's matrices travel in: 2-D int8 matrices and 1-D int32 bias
//! vectors read safely from hostile bytes, and written for NumPy to load. `data` re-exports
//! them, where the SDK has always offered them.

use crate::Error;

/// Most bytes a `.npy` file's header may take; NumPy writes ~128.
pub const MAX_NPY_HEADER: usize = 4 << 10;

/// A 2-D int8 `.npy` file: its rows, columns and values (row-major). C order only: NumPy
/// writes it by default (`np.ascontiguousarray` otherwise).
pub fn read_npy_i8(path: &std::path::Path) -> Result<(usize, usize, Vec<i8>), Error> {
	let bytes = std::fs::read(path).map_err(|source| file_error(path, source))?;
	parse_npy_i8(&bytes, &path.display().to_string())
}

/// [`read_npy_i8`] of the bytes of a `.npy` file (`name` says where they came from). Safe on
/// hostile bytes: the header is at most [`MAX_NPY_HEADER`] bytes of printable ASCII nested no
/// deeper than a 2-D file's, and its shape must fit the bytes that follow, all checked before
/// the header is parsed.
pub fn parse_npy_i8(bytes: &[u8], name: &str) -> Result<(usize, usize, Vec<i8>), Error> {
	let fail = |reason: String| Error::BadFile { name: name.to_string(), reason };
	let dims = check_npy_header(bytes, 1).map_err(fail)?;
	let [rows, cols] = dims[..] else {
		return Err(fail(format!("shape {dims:?} is not 2-D")));
	};
	let npy = npyz::NpyFile::new(bytes).map_err(|e| fail(e.to_string()))?;
	if npy.shape() != [rows as u64, cols as u64] {
		return Err(fail(format!("shape {:?} is not 2-D", npy.shape())));
	}
	if npy.order() != npyz::Order::C {
		return Err(fail("Fortran order; save it C-contiguous".into()));
	}
	let values =
		npy.into_vec::<i8>().map_err(|e| fail(format!("not int8 ({e}); use A.astype(np.int8)")))?;
	if values.len() != rows * cols {
		return Err(fail(format!("{} values for {rows}×{cols}", values.len())));
	}
	Ok((rows, cols, values))
}

/// A 1-D int32 `.npy` file's values (a layer's biases, `np.save(path, b.astype(np.int32))`),
/// parsed as safely as [`parse_npy_i8`] parses a matrix.
pub fn parse_npy_i32_vector(bytes: &[u8], name: &str) -> Result<Vec<i32>, Error> {
	let fail = |reason: String| Error::BadFile { name: name.to_string(), reason };
	let dims = check_npy_header(bytes, 4).map_err(fail)?;
	let [len] = dims[..] else {
		return Err(fail(format!("shape {dims:?} is not 1-D")));
	};
	let npy = npyz::NpyFile::new(bytes).map_err(|e| fail(e.to_string()))?;
	let values = npy
		.into_vec::<i32>()
		.map_err(|e| fail(format!("not int32 ({e}); use b.astype(np.int32)")))?;
	if values.len() != len {
		return Err(fail(format!("{} values for {len}", values.len())));
	}
	Ok(values)
}

/// [`parse_npy_i32_vector`] of a file.
pub fn read_npy_i32_vector(path: &std::path::Path) -> Result<Vec<i32>, Error> {
	let bytes = std::fs::read(path).map_err(|source| file_error(path, source))?;
	parse_npy_i32_vector(&bytes, &path.display().to_string())
}

/// The shape (one or two sizes) of a `.npy` file of `element_size`-byte values whose header is
/// safe to parse, or why it is not.
fn check_npy_header(bytes: &[u8], element_size: usize) -> Result<Vec<usize>, String> {
	let preamble = bytes.get(..12).ok_or("too short for a .npy file")?;
	if &preamble[..6] != b"\x93NUMPY" {
		return Err("not a .npy file".into());
	}
	let (length, start) = match preamble[6] {
		1 => (u16::from_le_bytes([preamble[8], preamble[9]]) as usize, 10),
		2 | 3 => (u32::from_le_bytes(preamble[8..12].try_into().expect("4 bytes")) as usize, 12),
		version => return Err(format!(".npy format version {version} is unknown")),
	};
	if length > MAX_NPY_HEADER {
		return Err(format!("a header of {length} bytes (at most {MAX_NPY_HEADER})"));
	}
	let header = bytes.get(start..start + length).ok_or("the header is cut short")?;
	// A 2-D file's header nests two deep ({ … ( … ) }): deeper nesting is not one (and would
	// make the parser recurse at the sender's will).
	let mut depth = 0u32;
	for &b in header {
		match b {
			b'{' | b'[' | b'(' => depth += 1,
			b'}' | b']' | b')' => depth = depth.saturating_sub(1),
			b' '..=b'~' | b'\n' => {}
			_ => return Err("a header that is not printable ASCII".into()),
		}
		if depth > 2 {
			return Err("a header nested deeper than a 2-D file's".into());
		}
	}
	let header = std::str::from_utf8(header).map_err(|_| "a header that is not ASCII")?;
	// One spelling of each key, once: the parser below must see the shape checked here.
	if header.contains('"') || header.matches("'shape'").count() != 1 {
		return Err("a header with other than one 'shape' key".into());
	}
	let shape = header
		.split_once("'shape':")
		.and_then(|(_, rest)| rest.trim_start().strip_prefix('('))
		.and_then(|rest| rest.split_once(')'))
		.map(|(dims, _)| dims)
		.ok_or("a header without a shape")?;
	let dims: Vec<usize> = shape
		.split(',')
		.map(str::trim)
		.filter(|d| !d.is_empty())
		.map(|d| d.trim_end_matches('L').parse::<usize>())
		.collect::<Result<_, _>>()
		.map_err(|_| format!("shape ({shape}) is not a list of sizes"))?;
	if !(1..=2).contains(&dims.len()) {
		return Err(format!("shape ({shape}) is not 1-D or 2-D"));
	}
	let body = bytes.len() - start - length;
	let needed = dims.iter().try_fold(element_size, |bytes, &d| bytes.checked_mul(d));
	match needed {
		Some(needed) if needed <= body => Ok(dims),
		_ => Err(format!("shape ({shape}) needs more than the {body} bytes that follow")),
	}
}

/// The `.npy` file of a row-major int8 `rows × cols` matrix (C order).
pub fn npy_i8_bytes(rows: usize, cols: usize, values: &[i8]) -> Vec<u8> {
	use npyz::WriterBuilder;
	let mut bytes = Vec::with_capacity(values.len() + 128);
	let mut writer = npyz::WriteOptions::new()
		.default_dtype()
		.shape(&[rows as u64, cols as u64])
		.writer(&mut bytes)
		.begin_nd()
		.expect("writing to memory");
	writer.extend(values.iter().copied()).expect("writing to memory");
	writer.finish().expect("writing to memory");
	bytes
}

/// The `.npy` file of an int32 vector (a layer's biases).
pub fn npy_i32_vector_bytes(values: &[i32]) -> Vec<u8> {
	use npyz::WriterBuilder;
	let mut bytes = Vec::with_capacity(values.len() * 4 + 128);
	let mut writer = npyz::WriteOptions::new()
		.default_dtype()
		.shape(&[values.len() as u64])
		.writer(&mut bytes)
		.begin_nd()
		.expect("writing to memory");
	writer.extend(values.iter().copied()).expect("writing to memory");
	writer.finish().expect("writing to memory");
	bytes
}

pub use proofgrid_primitives::gemm::columns_of;

/// Writes a row-major `rows × cols` int32 matrix as a `.npy` file (C order).
pub fn write_npy_i32(
	path: &std::path::Path,
	rows: usize,
	cols: usize,
	values: &[i32],
) -> Result<(), Error> {
	use npyz::WriterBuilder;
	let fail = |source| file_error(path, source);
	let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
	let mut writer = npyz::WriteOptions::new()
		.default_dtype()
		.shape(&[rows as u64, cols as u64])
		.writer(file)
		.begin_nd()
		.map_err(fail)?;
	writer.extend(values.iter().copied()).map_err(fail)?;
	writer.finish().map_err(fail)
}

/// A local file that could not be read or written.
fn file_error(path: &std::path::Path, source: std::io::Error) -> Error {
	Error::File { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::data::Matrix;

	#[test]
	fn npy_files_round_trip_and_columns_are_lanes() {
		let dir = std::env::temp_dir().join(format!("pg-npy-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let c = dir.join("c.npy");
		write_npy_i32(&c, 2, 3, &[1, -2, 3, 4, 5, -6]).unwrap();
		let bytes = std::fs::read(&c).unwrap();
		assert!(bytes.starts_with(b"\x93NUMPY"));
		let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
		assert_eq!(npy.shape(), &[2, 3]);
		assert_eq!(npy.into_vec::<i32>().unwrap(), vec![1, -2, 3, 4, 5, -6]);
		// An int8 file (as `np.save` writes `A.astype(np.int8)`) reads back row-major.
		let a = dir.join("a.npy");
		std::fs::write(&a, npy_i8_bytes(2, 2, &[1, -128, 127, 0])).unwrap();
		assert_eq!(read_npy_i8(&a).unwrap(), (2, 2, vec![1, -128, 127, 0]));
		// A truncated file is refused, not padded.
		let short = npy_i8_bytes(2, 2, &[1, -128, 127, 0]);
		assert!(parse_npy_i8(&short[..short.len() - 1], "short").is_err());
		// Hostile headers are refused before they are parsed.
		let with_header = |header: &str| {
			let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
			bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
			bytes.extend_from_slice(header.as_bytes());
			bytes.extend_from_slice(&[0; 4]);
			parse_npy_i8(&bytes, "hostile").unwrap_err().to_string()
		};
		let deep = format!("{{'descr': '|i1', 'x': {}, 'shape': (2, 2), }}", "[".repeat(100_000));
		assert!(with_header(&deep[..4000]).contains("nested deeper"));
		let huge = "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
		assert!(with_header(huge).contains("needs more than the 4 bytes"));
		let three = "{'descr': '|i1', 'fortran_order': False, 'shape': (1, 2, 2), }";
		assert!(with_header(three).contains("not 1-D or 2-D"));
		let twice = "{'descr': '|i1', 'shape': (1, 1), 'shape': (4294967296, 4294967296), }";
		assert!(with_header(twice).contains("one 'shape'"));
		let quoted = "{\"descr\": '|i1', 'shape': (1, 1), \"shape\": (65536, 65536), }";
		assert!(with_header(quoted).contains("one 'shape'"));
		let mut long = b"\x93NUMPY\x02\x00".to_vec();
		long.extend_from_slice(&u32::MAX.to_le_bytes());
		assert!(parse_npy_i8(&long, "long").unwrap_err().to_string().contains("at most"));
		// B's lanes are its columns; A's its rows.
		assert_eq!(Matrix::B.lanes(2, 3, vec![1, 2, 3, 4, 5, 6]), vec![1, 4, 2, 5, 3, 6]);
		assert_eq!(Matrix::A.lanes(2, 3, vec![1, 2, 3, 4, 5, 6]), vec![1, 2, 3, 4, 5, 6]);
		assert_eq!((Matrix::A.lane_shape(2, 3), Matrix::B.lane_shape(2, 3)), ((2, 3), (3, 2)));
		// An int32 file is not an int8 input.
		assert!(read_npy_i8(&c).unwrap_err().to_string().contains("not int8"));
		assert_eq!(columns_of(&[1, 2, 3, 4, 5, 6], 2, 3), vec![1, 4, 2, 5, 3, 6]);
		std::fs::remove_dir_all(&dir).unwrap();
	}

	#[test]
	fn biases_read_as_a_safe_int32_vector() {
		use npyz::WriterBuilder;
		let vector = |values: &[i32]| {
			let mut bytes = Vec::new();
			let mut writer = npyz::WriteOptions::new()
				.default_dtype()
				.shape(&[values.len() as u64])
				.writer(&mut bytes)
				.begin_nd()
				.unwrap();
			writer.extend(values.iter().copied()).unwrap();
			writer.finish().unwrap();
			bytes
		};
		let bias = [i32::MIN, -1, 0, 7, i32::MAX];
		assert_eq!(parse_npy_i32_vector(&vector(&bias), "b").unwrap(), bias);
		// Cut short by one byte: a length that needs more bytes than follow.
		let bytes = vector(&bias);
		let short = parse_npy_i32_vector(&bytes[..bytes.len() - 1], "b").unwrap_err();
		assert!(short.to_string().contains("needs more than"), "{short}");
		// An int8 matrix is neither 1-D nor int32; an int32 vector is not a matrix.
		let matrix = npy_i8_bytes(2, 2, &[1, 2, 3, 4]);
		assert!(parse_npy_i32_vector(&matrix, "m").is_err());
		assert!(parse_npy_i8(&vector(&bias), "v").unwrap_err().to_string().contains("not 2-D"));
		let int8_vector = b"\x93NUMPY\x01\x00\x46\x00{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }                      \n\x01\x02\x03\x04";
		assert!(parse_npy_i32_vector(int8_vector, "i8").is_err());
	}
}
