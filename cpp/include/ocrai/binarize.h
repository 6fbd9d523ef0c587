// SPDX-License-Identifier: MIT
#pragma once
/// Binarization of gray images: global (Otsu) and local (Sauvola, adaptive mean) thresholds.
///
/// Every function takes 1-channel images; colour pages go through to_gray_u8 first. The
/// output convention is the same everywhere: a pixel that passes the threshold test (it is
/// brighter than its threshold) becomes 255 (paper), every other pixel 0 (ink), so dark text
/// on light paper comes out black on white.
///
/// Local thresholds use window statistics with clipped borders: near an edge the window is
/// cut by the image and mean and deviation are taken over the pixels inside it (n varies),
/// never over padding or mirrored pixels. The window sums come from running integral images
/// (per-column window sums, then a prefix sum along each row) in 32-bit modular arithmetic:
/// a difference of two prefix sums is exact modulo 2^32, and every window sum is below 2^32
/// for windows up to kMaxWindow, so no sum over a whole page ever has to fit.

#include <array>
#include <cstdint>

#include "ocrai/image.h"

namespace ocrai {

/// Largest local window side: 255^2 pixels of 255^2 still sum below 2^32.
inline constexpr int kMaxWindow = 255;

/// Counts of each gray level in a 1-channel image.
using Histogram = std::array<std::uint64_t, 256>;

/// Histogram of a 1-channel image. Throws std::invalid_argument for another channel count.
Histogram histogram_u8(const ImageView& gray);

/// Otsu's threshold of a histogram: the t in [0, 254] that maximises the between-class
/// variance of the classes {v <= t} (dark: ink) and {v > t} (light: paper); the first one
/// wins a tie. Returns 0 when fewer than two levels occur (an empty or constant image), so
/// that binarize_u8 keeps every pixel but pure black as paper.
int otsu_threshold(const Histogram& histogram);

/// Otsu's threshold of a 1-channel image (see otsu_threshold).
int otsu_threshold_u8(const ImageView& gray);

/// dst = src > threshold ? 255 : 0, or the opposite when `invert`. `threshold` is in
/// [0, 255]; src and dst are 1-channel images of one size (they may be the same memory).
void binarize_u8(const ImageView& src, const MutableImageView& dst, int threshold, bool invert);

/// Sauvola's local threshold: dst = src > T ? 255 : 0 with T = m * (1 + k * (s / R - 1)),
/// m and s the mean and standard deviation over the window x window neighbourhood (clipped
/// at the borders, see above). `window` is odd, in [3, kMaxWindow]; `k` is finite; R > 0.
///
/// The arithmetic is float32 in this exact order, which every SIMD target reproduces bit for
/// bit (n = pixels in the clipped window, S and Q its sum and sum of squares):
///   inv = 1 / n; m = S * inv; v = max(Q * inv - m * m, 0); T = m * (a + b * sqrt(v))
/// with a = float(1 - k) and b = float(k / R) rounded once from double.
void sauvola_u8(const ImageView& src, const MutableImageView& dst, int window, double k,
                double r);

/// Adaptive mean threshold: dst = src > m - c ? 255 : 0 with m the mean over the clipped
/// window. Evaluated exactly in integers as n * (src + c) > S. `window` is odd, in
/// [3, kMaxWindow]; c is in [-255, 255].
void adaptive_mean_u8(const ImageView& src, const MutableImageView& dst, int window, int c);

}  // namespace ocrai
