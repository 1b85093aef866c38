//! 2-D convolution, int8 in and int8 out, as the coming model kind will run it: defined once,
//! here, as a GEMM over the input's patches (im2col), so that a convolution's output element
//! is a `linear-i8` element bit for bit ([`linear_element`]) and reuses its proof.
//!
//! **Layout.** The input is NHWC (`[batch][height][width][channels]`, row-major), the filters
//! are `[filters][kernel_h][kernel_w][channels]`, the output is NHWC with `filters` channels.
//! Output pixel `(b, y, x)` is row `(b·out_h + y)·out_w + x` of `A = im2col(input)`, whose
//! `k = kernel_h·kernel_w·channels` values are the pixel's receptive field in `[ky][kx][c]`
//! order; filter `o` is lane `o` of `W` in the same order. So the output, row-major, is the
//! `m × n` product `requant(A·W + bias)` with `m = batch·out_h·out_w`, `n = filters`, and is
//! itself the NHWC input of a next layer.
//!
//! **Geometry** (as ONNX `Conv`): input row `y·stride_h − pad_top + ky·dilation_h`, column
//! `x·stride_w − pad_left + kx·dilation_w`; positions outside the input read [`Conv2d::pad`]
//! (a quantized input's zero point: 0 for a symmetric one); `out_h = (height + pad_top +
//! pad_bottom − dilation_h·(kernel_h − 1) − 1) / stride_h + 1`, and likewise `out_w`.

use alloc::vec::Vec;

use crate::{
	gemm::{GemmShape, MAX_DIM, MAX_K},
	linear::Requant,
};

/// How many windows of `kernel` taps, `dilation` apart, fit along `size` values padded by
/// `before` and `after`, starting every `stride` (ONNX's output size, rounded down); `None` if
/// none fits. Convolutions and pooling share it.
pub fn window_extent(
	size: u32,
	kernel: u32,
	stride: u32,
	dilation: u32,
	before: u32,
	after: u32,
) -> Option<u32> {
	let padded = u64::from(size) + u64::from(before) + u64::from(after);
	let span = u64::from(dilation) * (u64::from(kernel).checked_sub(1)?) + 1;
	let free = padded.checked_sub(span)?;
	u32::try_from(free / u64::from(stride.max(1)) + 1).ok()
}

/// A 2-D convolution's geometry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Conv2d {
	/// Images in the batch.
	pub batch: u32,
	/// Input height.
	pub height: u32,
	/// Input width.
	pub width: u32,
	/// Input channels.
	pub channels: u32,
	/// Output channels (filters).
	pub filters: u32,
	/// Kernel height and width.
	pub kernel: (u32, u32),
	/// Vertical and horizontal stride.
	pub stride: (u32, u32),
	/// Padding: top, left, bottom, right.
	pub padding: [u32; 4],
	/// Vertical and horizontal dilation.
	pub dilation: (u32, u32),
	/// What a position outside the input reads.
	pub pad: i8,
}

/// Why a [`Conv2d`] cannot be run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConvError {
	/// A size, the kernel, a stride or a dilation is zero.
	Empty,
	/// The dilated kernel is larger than the padded input: no output pixel.
	KernelLargerThanInput,
	/// Padding on some side is larger than the dilated kernel's reach (`dilation·(kernel − 1)`):
	/// output pixels that read padding alone.
	PaddingTooLarge,
	/// The patch (`kernel_h·kernel_w·channels`) is longer than a lane ([`MAX_K`]), or the
	/// output has more than [`MAX_DIM`] pixels or filters.
	TooLarge,
}

impl Conv2d {
	/// `Ok` if the convolution has an output and its GEMM form is a valid [`GemmShape`].
	pub fn validate(&self) -> Result<(), ConvError> {
		let (kh, kw) = self.kernel;
		let sizes = [self.batch, self.height, self.width, self.channels, self.filters, kh, kw];
		let steps = [self.stride.0, self.stride.1, self.dilation.0, self.dilation.1];
		if sizes.iter().chain(&steps).any(|&v| v == 0) {
			return Err(ConvError::Empty);
		}
		let [top, left, bottom, right] = self.padding.map(u64::from);
		let reach = |kernel: u32, dilation: u32| u64::from(dilation) * u64::from(kernel - 1);
		let (vertical, horizontal) = (reach(kh, self.dilation.0), reach(kw, self.dilation.1));
		if top.max(bottom) > vertical || left.max(right) > horizontal {
			return Err(ConvError::PaddingTooLarge);
		}
		let (Some(_), Some(_)) = (self.out_extent(true), self.out_extent(false)) else {
			return Err(ConvError::KernelLargerThanInput);
		};
		let shape = self.gemm_shape();
		if u64::from(kh) * u64::from(kw) * u64::from(self.channels) > u64::from(MAX_K)
			|| shape.validate().is_err()
			|| u64::from(shape.m) > u64::from(MAX_DIM)
		{
			return Err(ConvError::TooLarge);
		}
		Ok(())
	}

	/// The output's height (`vertical`) or width, `None` if the kernel does not fit.
	fn out_extent(&self, vertical: bool) -> Option<u32> {
		let [top, left, bottom, right] = self.padding;
		if vertical {
			window_extent(self.height, self.kernel.0, self.stride.0, self.dilation.0, top, bottom)
		} else {
			window_extent(self.width, self.kernel.1, self.stride.1, self.dilation.1, left, right)
		}
	}

	/// Output height.
	pub fn out_height(&self) -> u32 {
		self.out_extent(true).unwrap_or(0)
	}

	/// Output width.
	pub fn out_width(&self) -> u32 {
		self.out_extent(false).unwrap_or(0)
	}

	/// The GEMM form: `m` output pixels, `n` filters, `k` values per patch (saturating: call
	/// [`Self::validate`] first).
	pub fn gemm_shape(&self) -> GemmShape {
		let pixels =
			u64::from(self.batch) * u64::from(self.out_height()) * u64::from(self.out_width());
		let patch = u64::from(self.kernel.0) * u64::from(self.kernel.1) * u64::from(self.channels);
		GemmShape {
			m: u32::try_from(pixels).unwrap_or(u32::MAX),
			n: self.filters,
			k: u32::try_from(patch).unwrap_or(u32::MAX),
		}
	}

	/// Row `row` of `im2col(input)` (output pixel `row`'s receptive field, `[ky][kx][c]`) into
	/// `out`, `k` values. `input` is NHWC.
	pub fn patch(&self, input: &[i8], row: u32, out: &mut [i8]) {
		let c = self.channels as usize;
		for (cell, tap) in out.chunks_exact_mut(c).zip(self.taps(row)) {
			match tap {
				Some(pixel) => cell.copy_from_slice(&input[pixel as usize * c..][..c]),
				None => cell.fill(self.pad),
			}
		}
	}

	/// The input pixels (indices into the batch's `batch·height·width` pixels, NHWC) that
	/// output pixel `row`'s patch reads, in `[ky][kx]` order; `None` for a tap in the padding
	/// (it reads [`Self::pad`]). [`Self::patch`] is these pixels' values, one after the other.
	pub fn taps(&self, row: u32) -> Vec<Option<u32>> {
		let (out_h, out_w) = (self.out_height(), self.out_width());
		let (b, rest) = (row / (out_h * out_w), row % (out_h * out_w));
		let (y, x) = (rest / out_w, rest % out_w);
		let mut taps = Vec::with_capacity((self.kernel.0 * self.kernel.1) as usize);
		for ky in 0..self.kernel.0 {
			let iy = i64::from(y) * i64::from(self.stride.0) - i64::from(self.padding[0])
				+ i64::from(ky) * i64::from(self.dilation.0);
			for kx in 0..self.kernel.1 {
				let ix = i64::from(x) * i64::from(self.stride.1) - i64::from(self.padding[1])
					+ i64::from(kx) * i64::from(self.dilation.1);
				let inside = (0..i64::from(self.height)).contains(&iy)
					&& (0..i64::from(self.width)).contains(&ix);
				// Below `batch·height·width`, which `Model::plan` bounds by MAX_DIM.
				let pixel = || {
					((u64::from(b) * u64::from(self.height) + iy as u64) * u64::from(self.width)
						+ ix as u64) as u32
				};
				taps.push(inside.then(pixel));
			}
		}
		taps
	}

	/// `im2col(input)`: every output pixel's patch, `m × k` row-major.
	pub fn im2col(&self, input: &[i8]) -> Vec<i8> {
		let shape = self.gemm_shape();
		let k = shape.k as usize;
		let mut a = alloc::vec![0i8; shape.m as usize * k];
		for (row, out) in a.chunks_exact_mut(k.max(1)).enumerate() {
			self.patch(input, row as u32, out);
		}
		a
	}

	/// The convolution's output, NHWC: element `(pixel, o)` is
	/// `requant.apply_at(dot(patch(pixel), filter o), bias[o], zero_point)`, which at zero
	/// point 0 is [`linear_element`](crate::linear::linear_element).
	pub fn output(
		&self,
		input: &[i8],
		filters: &[i8],
		bias: &[i32],
		requant: &Requant,
		zero_point: i8,
	) -> Vec<i8> {
		let shape = self.gemm_shape();
		let k = shape.k as usize;
		let a = self.im2col(input);
		let mut y = Vec::with_capacity(shape.m as usize * shape.n as usize);
		for patch in a.chunks_exact(k.max(1)) {
			for (o, filter) in filters.chunks_exact(k.max(1)).enumerate() {
				y.push(requant.apply_at(crate::gemm::dot(patch, filter), bias[o], zero_point));
			}
		}
		y
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::gemm::mix64;

	const Q: Requant = Requant { multiplier: 1 << 30, shift: 36, relu: false };

	fn values(n: usize, salt: u64) -> Vec<i8> {
		(0..n as u64).map(|i| mix64(i ^ salt.rotate_left(17)) as i8).collect()
	}

	/// The convolution by its textbook loops, independent of im2col's layout.
	fn direct(c: &Conv2d, input: &[i8], filters: &[i8], bias: &[i32], q: &Requant) -> Vec<i8> {
		let (oh, ow) = (c.out_height(), c.out_width());
		let (kh, kw, ch) = (c.kernel.0 as i64, c.kernel.1 as i64, c.channels as i64);
		let mut out = Vec::new();
		for b in 0..c.batch as i64 {
			for y in 0..oh as i64 {
				for x in 0..ow as i64 {
					for o in 0..c.filters as i64 {
						let mut acc = 0i32;
						for ky in 0..kh {
							for kx in 0..kw {
								let iy = y * c.stride.0 as i64 - c.padding[0] as i64
									+ ky * c.dilation.0 as i64;
								let ix = x * c.stride.1 as i64 - c.padding[1] as i64
									+ kx * c.dilation.1 as i64;
								for ci in 0..ch {
									let v = if iy < 0
										|| ix < 0 || iy >= c.height as i64
										|| ix >= c.width as i64
									{
										c.pad
									} else {
										input[(((b * c.height as i64 + iy) * c.width as i64 + ix)
											* ch + ci) as usize]
									};
									let w = filters[(((o * kh + ky) * kw + kx) * ch + ci) as usize];
									acc = acc.wrapping_add(v as i32 * w as i32);
								}
							}
						}
						out.push(q.apply(acc, bias[o as usize]));
					}
				}
			}
		}
		out
	}

	fn conv(
		(batch, height, width, channels, filters): (u32, u32, u32, u32, u32),
		kernel: (u32, u32),
		stride: (u32, u32),
		padding: [u32; 4],
		dilation: (u32, u32),
		pad: i8,
	) -> Conv2d {
		Conv2d { batch, height, width, channels, filters, kernel, stride, padding, dilation, pad }
	}

	#[test]
	fn the_im2col_form_equals_the_textbook_convolution_on_ragged_geometries() {
		let cases = [
			conv((1, 5, 7, 3, 4), (3, 3), (1, 1), [1, 1, 1, 1], (1, 1), 0),
			conv((2, 9, 6, 2, 5), (3, 2), (2, 3), [0, 1, 1, 0], (1, 1), 0),
			conv((1, 8, 8, 1, 3), (3, 3), (1, 1), [2, 2, 2, 2], (2, 2), -7),
			conv((3, 4, 5, 4, 2), (1, 1), (1, 1), [0, 0, 0, 0], (1, 1), 0),
			conv((1, 6, 6, 3, 1), (6, 6), (1, 1), [0, 0, 0, 0], (1, 1), 0),
			conv((2, 7, 3, 5, 6), (2, 3), (3, 1), [1, 0, 2, 1], (2, 1), 5),
		];
		for (i, c) in cases.iter().enumerate() {
			c.validate().unwrap();
			let shape = c.gemm_shape();
			let input = values((c.batch * c.height * c.width * c.channels) as usize, i as u64);
			let filters = values((shape.n * shape.k) as usize, 100 + i as u64);
			let bias: Vec<i32> = (0..c.filters as i32).map(|o| o * 37 - 50).collect();
			let y = c.output(&input, &filters, &bias, &Q, 0);
			assert_eq!(y.len() as u32, shape.m * shape.n, "{c:?}");
			assert_eq!(y, direct(c, &input, &filters, &bias, &Q), "{c:?}");
			assert_eq!(shape.m, c.batch * c.out_height() * c.out_width());
		}
		// The taps name the pixels each patch reads.
		for c in &cases {
			let input = values((c.batch * c.height * c.width * c.channels) as usize, 9);
			let ch = c.channels as usize;
			let mut patch = alloc::vec![0i8; c.gemm_shape().k as usize];
			for row in 0..c.gemm_shape().m {
				c.patch(&input, row, &mut patch);
				let from_taps: Vec<i8> = c
					.taps(row)
					.iter()
					.flat_map(|tap| match tap {
						Some(p) => input[*p as usize * ch..(*p as usize + 1) * ch].to_vec(),
						None => alloc::vec![c.pad; ch],
					})
					.collect();
				assert_eq!(patch, from_taps, "{c:?} row {row}");
			}
		}
		// ONNX's output sizes: 5×7 with 3×3 and padding 1 keeps its size; stride 2 halves.
		assert_eq!((cases[0].out_height(), cases[0].out_width()), (5, 7));
		assert_eq!((cases[1].out_height(), cases[1].out_width()), (4, 2));
		assert_eq!((cases[2].out_height(), cases[2].out_width()), (8, 8));
	}

	#[test]
	fn padding_reads_the_pad_value_and_the_extremes_accumulate_exactly() {
		// A 1×1 input under a 3×3 kernel with padding 1: eight of nine taps are padding.
		let c = conv((1, 1, 1, 1, 1), (3, 3), (1, 1), [1, 1, 1, 1], (1, 1), -128);
		let mut patch = [0i8; 9];
		c.patch(&[5], 0, &mut patch);
		assert_eq!(patch, [-128, -128, -128, -128, 5, -128, -128, -128, -128]);
		// -128 · -128 over the longest patch a lane holds (64×64×16 = MAX_K): 2³⁰, exact in
		// i32, then saturated.
		let c = conv((1, 64, 64, 16, 1), (64, 64), (1, 1), [0, 0, 0, 0], (1, 1), 0);
		c.validate().unwrap();
		assert_eq!(c.gemm_shape().k, MAX_K);
		let input = alloc::vec![-128i8; 64 * 64 * 16];
		let filters = alloc::vec![-128i8; 64 * 64 * 16];
		let unit = Requant { multiplier: 1 << 30, shift: 30, relu: false };
		let y = c.output(&input, &filters, &[0], &unit, 0);
		assert_eq!(y, alloc::vec![127i8], "saturated");
		let half = Requant { multiplier: 1 << 30, shift: 54, relu: false };
		assert_eq!(c.output(&input, &filters, &[0], &half, 0), alloc::vec![64i8], "2³⁰ / 2²⁴");
		assert_eq!(y, direct(&c, &input, &filters, &[0], &unit));
	}

	#[test]
	fn geometries_without_an_output_or_too_large_are_refused() {
		let base = conv((1, 4, 4, 2, 2), (3, 3), (1, 1), [0, 0, 0, 0], (1, 1), 0);
		assert_eq!(base.validate(), Ok(()));
		assert_eq!(Conv2d { stride: (0, 1), ..base }.validate(), Err(ConvError::Empty));
		assert_eq!(Conv2d { channels: 0, ..base }.validate(), Err(ConvError::Empty));
		assert_eq!(
			Conv2d { kernel: (5, 3), ..base }.validate(),
			Err(ConvError::KernelLargerThanInput)
		);
		assert_eq!(
			Conv2d { dilation: (2, 1), ..base }.validate(),
			Err(ConvError::KernelLargerThanInput)
		);
		// Padding makes room for it.
		assert_eq!(Conv2d { kernel: (5, 3), padding: [1, 0, 1, 0], ..base }.validate(), Ok(()));
		// But no more than the kernel reaches: a pixel of padding alone.
		assert_eq!(
			Conv2d { padding: [0, 0, 3, 0], ..base }.validate(),
			Err(ConvError::PaddingTooLarge)
		);
		assert_eq!(Conv2d { padding: [4, 0, 0, 0], dilation: (2, 1), ..base }.validate(), Ok(()));
		let wide = conv((1, 300, 300, 1024, 1), (9, 9), (1, 1), [4, 4, 4, 4], (1, 1), 0);
		assert_eq!(wide.validate(), Err(ConvError::TooLarge), "a patch of 82 944 values");
	}
}
