//! 2-D max pooling over int8 NHWC activations, as the model kind runs it.
//!
//! An output value is the largest input value in its window; windows are laid out as ONNX's
//! `MaxPool` lays them out (dilation 1, output size rounded down: [`window_extent`]).
//! Positions in the padding are **not read** (ONNX pads max pooling with −∞), and the padding
//! on each side must be smaller than the kernel, so every window holds at least one input
//! value. Max pooling commutes with any increasing requantization, so a quantized model pools
//! its int8 values directly, with the input's scale and zero point.

use alloc::vec::Vec;

use crate::conv::window_extent;

/// A 2-D max pooling's geometry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MaxPool2d {
	/// Images in the batch.
	pub batch: u32,
	/// Input height.
	pub height: u32,
	/// Input width.
	pub width: u32,
	/// Channels (pooled separately).
	pub channels: u32,
	/// Window height and width.
	pub kernel: (u32, u32),
	/// Vertical and horizontal stride.
	pub stride: (u32, u32),
	/// Padding: top, left, bottom, right.
	pub padding: [u32; 4],
}

/// Why a [`MaxPool2d`] cannot be run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PoolError {
	/// A size, the window or a stride is zero.
	Empty,
	/// Padding on some side is as large as the window: a window could hold padding only.
	PaddingNotSmallerThanKernel,
	/// The window is larger than the padded input: no output.
	KernelLargerThanInput,
}

impl MaxPool2d {
	/// `Ok` if the pooling has an output and every window reads an input value.
	pub fn validate(&self) -> Result<(), PoolError> {
		let (kh, kw) = self.kernel;
		let sizes = [self.batch, self.height, self.width, self.channels, kh, kw];
		if sizes.iter().chain(&[self.stride.0, self.stride.1]).any(|&v| v == 0) {
			return Err(PoolError::Empty);
		}
		let [top, left, bottom, right] = self.padding;
		if top.max(bottom) >= kh || left.max(right) >= kw {
			return Err(PoolError::PaddingNotSmallerThanKernel);
		}
		if self.out_height() == 0 || self.out_width() == 0 {
			return Err(PoolError::KernelLargerThanInput);
		}
		Ok(())
	}

	/// Output height (0 if the window does not fit).
	pub fn out_height(&self) -> u32 {
		let [top, _, bottom, _] = self.padding;
		window_extent(self.height, self.kernel.0, self.stride.0, 1, top, bottom).unwrap_or(0)
	}

	/// Output width (0 if the window does not fit).
	pub fn out_width(&self) -> u32 {
		let [_, left, _, right] = self.padding;
		window_extent(self.width, self.kernel.1, self.stride.1, 1, left, right).unwrap_or(0)
	}

	/// The input pixels (indices into the batch's `batch·height·width` pixels, NHWC) that
	/// output pixel `pixel` pools, in `[ky][kx]` order, padding skipped.
	pub fn window(&self, pixel: u32) -> Vec<u32> {
		let (out_h, out_w) = (self.out_height(), self.out_width());
		let (b, rest) = (pixel / (out_h * out_w), pixel % (out_h * out_w));
		let (y, x) = (rest / out_w, rest % out_w);
		let mut taps = Vec::with_capacity((self.kernel.0 * self.kernel.1) as usize);
		for ky in 0..self.kernel.0 {
			let iy = i64::from(y) * i64::from(self.stride.0) + i64::from(ky)
				- i64::from(self.padding[0]);
			for kx in 0..self.kernel.1 {
				let ix = i64::from(x) * i64::from(self.stride.1) + i64::from(kx)
					- i64::from(self.padding[1]);
				if (0..i64::from(self.height)).contains(&iy)
					&& (0..i64::from(self.width)).contains(&ix)
				{
					let pixel = (u64::from(b) * u64::from(self.height) + iy as u64)
						* u64::from(self.width)
						+ ix as u64;
					// Below `batch·height·width`, which `Model::plan` bounds by MAX_DIM.
					taps.push(pixel as u32);
				}
			}
		}
		taps
	}

	/// The pooled output, NHWC: value `(pixel, c)` is the largest channel-`c` value over
	/// [`Self::window`]`(pixel)`. For a geometry that passes [`Self::validate`].
	pub fn output(&self, input: &[i8]) -> Vec<i8> {
		let c = self.channels as usize;
		let pixels = self.batch * self.out_height() * self.out_width();
		let mut y = Vec::with_capacity(pixels as usize * c);
		for pixel in 0..pixels {
			let taps = self.window(pixel);
			for channel in 0..c {
				let max = taps.iter().map(|&t| input[t as usize * c + channel]).max();
				y.push(max.unwrap_or(i8::MIN));
			}
		}
		y
	}
}

/// One value of an **average** pooling over `values` (a window's, padding never part of it):
/// the sum of `v − zero_in` requantized by `requant` to the output's zero point `zero_out`. The
/// importer folds the division by the window's size into the scale (`s_in / (s_out · count)`),
/// so average pooling has no padding: every window counts the same.
pub fn average(
	values: impl Iterator<Item = i8>,
	zero_in: i8,
	requant: &crate::linear::Requant,
	zero_out: i8,
) -> i8 {
	let sum: i32 = values.map(|v| i32::from(v) - i32::from(zero_in)).sum();
	requant.apply_at(sum, 0, zero_out)
}

impl MaxPool2d {
	/// The average-pooled output, NHWC ([`average`] over each window). For a geometry that
	/// passes [`Self::validate`] with no padding.
	pub fn average_output(
		&self,
		input: &[i8],
		zero_in: i8,
		requant: &crate::linear::Requant,
		zero_out: i8,
	) -> Vec<i8> {
		let c = self.channels as usize;
		let pixels = self.batch * self.out_height() * self.out_width();
		let mut y = Vec::with_capacity(pixels as usize * c);
		for pixel in 0..pixels {
			let taps = self.window(pixel);
			for channel in 0..c {
				let values = taps.iter().map(|&t| input[t as usize * c + channel]);
				y.push(average(values, zero_in, requant, zero_out));
			}
		}
		y
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::gemm::mix64;

	fn pool(
		(batch, height, width, channels): (u32, u32, u32, u32),
		kernel: (u32, u32),
		stride: (u32, u32),
		padding: [u32; 4],
	) -> MaxPool2d {
		MaxPool2d { batch, height, width, channels, kernel, stride, padding }
	}

	/// Max pooling by its textbook loops over an NCHW copy of the input, with the padding as
	/// −∞ (`i32::MIN`), independent of the window list above.
	fn textbook(p: &MaxPool2d, nhwc: &[i8]) -> Vec<i8> {
		let (h, w, c) = (p.height as i64, p.width as i64, p.channels as i64);
		let at = |b: i64, ch: i64, y: i64, x: i64| nhwc[(((b * h + y) * w + x) * c + ch) as usize];
		let (oh, ow) = (p.out_height() as i64, p.out_width() as i64);
		let mut out = alloc::vec![0i8; (p.batch as i64 * oh * ow * c) as usize];
		for b in 0..p.batch as i64 {
			for ch in 0..c {
				for y in 0..oh {
					for x in 0..ow {
						let mut best = i32::MIN;
						for ky in 0..p.kernel.0 as i64 {
							for kx in 0..p.kernel.1 as i64 {
								let iy = y * p.stride.0 as i64 + ky - p.padding[0] as i64;
								let ix = x * p.stride.1 as i64 + kx - p.padding[1] as i64;
								if iy >= 0 && ix >= 0 && iy < h && ix < w {
									best = best.max(at(b, ch, iy, ix) as i32);
								}
							}
						}
						out[(((b * oh + y) * ow + x) * c + ch) as usize] = best as i8;
					}
				}
			}
		}
		out
	}

	#[test]
	fn max_pooling_equals_the_textbook_loops_on_ragged_geometries() {
		let cases = [
			pool((1, 8, 8, 3), (2, 2), (2, 2), [0, 0, 0, 0]),
			pool((2, 7, 5, 4), (3, 3), (2, 2), [1, 1, 1, 1]),
			pool((1, 5, 9, 1), (2, 3), (1, 2), [1, 0, 0, 2]),
			pool((3, 4, 4, 2), (4, 4), (1, 1), [0, 0, 0, 0]),
			pool((1, 6, 3, 5), (3, 1), (3, 1), [2, 0, 2, 0]),
		];
		for (i, p) in cases.iter().enumerate() {
			p.validate().unwrap();
			let n = (p.batch * p.height * p.width * p.channels) as usize;
			let input: Vec<i8> = (0..n as u64).map(|v| mix64(v ^ (i as u64) << 40) as i8).collect();
			let y = p.output(&input);
			assert_eq!(y.len() as u32, p.batch * p.out_height() * p.out_width() * p.channels);
			assert_eq!(y, textbook(p, &input), "{p:?}");
		}
		assert_eq!((cases[0].out_height(), cases[0].out_width()), (4, 4));
		assert_eq!((cases[1].out_height(), cases[1].out_width()), (4, 3));
		assert_eq!((cases[2].out_height(), cases[2].out_width()), (5, 5));
	}

	#[test]
	fn padding_is_never_read_and_the_extremes_pool_exactly() {
		// All −128: padding that read as 0 (or anything but −∞) would show.
		let p = pool((1, 3, 3, 2), (3, 3), (1, 1), [2, 2, 2, 2]);
		p.validate().unwrap();
		let y = p.output(&[-128; 18]);
		assert_eq!(y.len(), 5 * 5 * 2);
		assert!(y.iter().all(|&v| v == -128));
		// One 127 among −128s reaches exactly the windows that cover it.
		let mut input = [-128i8; 18];
		input[2 * 3 * 2 + 2 * 2 + 1] = 127; // pixel (2, 2), channel 1
		let y = p.output(&input);
		assert_eq!(y, textbook(&p, &input));
		let hits = y.iter().filter(|&&v| v == 127).count();
		assert_eq!(hits, 9, "the 3×3 output pixels whose window covers (2, 2)");
		// A corner window pools one input value, the rest of it padding.
		assert_eq!(p.window(0), alloc::vec![0]);
	}

	#[test]
	fn geometries_that_could_pool_padding_alone_are_refused() {
		let base = pool((1, 4, 4, 1), (2, 2), (2, 2), [0, 0, 0, 0]);
		assert_eq!(base.validate(), Ok(()));
		assert_eq!(
			MaxPool2d { padding: [2, 0, 0, 0], ..base }.validate(),
			Err(PoolError::PaddingNotSmallerThanKernel)
		);
		assert_eq!(
			MaxPool2d { padding: [0, 0, 0, 2], ..base }.validate(),
			Err(PoolError::PaddingNotSmallerThanKernel)
		);
		assert_eq!(MaxPool2d { stride: (0, 1), ..base }.validate(), Err(PoolError::Empty));
		assert_eq!(
			MaxPool2d { kernel: (5, 2), padding: [0; 4], ..base }.validate(),
			Err(PoolError::KernelLargerThanInput)
		);
	}

	#[test]
	fn average_pooling_is_the_window_mean_requantized_at_the_extremes() {
		use crate::linear::Requant;
		// A mean over 4 values: scale 1/4 (multiplier 2³⁰, shift 32), zero points −3 and 5.
		let quarter = Requant { multiplier: 1 << 30, shift: 32, relu: false };
		let p = pool((1, 4, 6, 2), (2, 2), (2, 2), [0, 0, 0, 0]);
		let input: Vec<i8> = (0..48u64).map(|v| mix64(v) as i8).collect();
		let y = p.average_output(&input, -3, &quarter, 5);
		assert_eq!(y.len(), 2 * 3 * 2);
		for (at, &value) in y.iter().enumerate() {
			let (pixel, channel) = (at / 2, at % 2);
			let sum: i64 = p
				.window(pixel as u32)
				.iter()
				.map(|&t| input[t as usize * 2 + channel] as i64 + 3)
				.sum();
			// The textbook mean, rounded half away from zero, plus the zero point, saturated.
			let mean = (2 * sum + if sum >= 0 { 4 } else { -4 }) / 8;
			assert_eq!(
				value as i64,
				(mean + 5).clamp(-128, 127),
				"pixel {pixel} channel {channel}"
			);
		}
		// The extremes: a window of 4 096 values of 127 at zero point −128 sums to 1 044 480.
		let global = pool((1, 64, 64, 1), (64, 64), (1, 1), [0, 0, 0, 0]);
		global.validate().unwrap();
		let one_4096th = Requant { multiplier: 1 << 30, shift: 42, relu: false };
		assert_eq!(global.average_output(&[127; 4096], -128, &one_4096th, 0), [127]);
		assert_eq!(global.average_output(&[-128; 4096], 127, &one_4096th, -100), [-128]);
	}
}
