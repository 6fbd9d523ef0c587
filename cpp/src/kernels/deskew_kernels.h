// SPDX-License-Identifier: MIT
#pragma once
// Internal: skew-estimation and rotation kernels, one set per SIMD target.
//
// Everything here is integer arithmetic, so the SIMD versions reproduce the scalar reference
// exactly; the per-pixel definitions below are that reference, and the SIMD rotation calls
// them for the pixels near the source's edges.

#include <cstddef>
#include <cstdint>

namespace ocrai::kernels {

/// Fixed-point rotation sampling: source coordinates are 16.16 fixed point; the bilinear
/// weights keep the 8 bits below the integer part (1/256 pixel).
inline constexpr int kCoordBits = 16;
inline constexpr int kWeightBits = 8;
inline constexpr int kWeightOne = 1 << kWeightBits;
/// Output pixels per coordinate segment: each segment restarts from an exactly rounded
/// origin, so the error of the per-pixel step (2^-17 pixel) never accumulates past 63 steps.
inline constexpr int kSegment = 64;

/// Skew estimation counts ink in groups of 4 or 16 columns over bands of at most
/// kMaxBandRows rows (per-column byte counters, and group counts that fit 16 bits).
inline constexpr int kMaxBandRows = 16;

/// Pixel (x, y), channel c of the source, or `border` outside it.
inline int source_at(const std::uint8_t* src, std::ptrdiff_t stride, int width, int height,
                     int channels, int x, int y, int c, int border) {
  if (x < 0 || y < 0 || x >= width || y >= height) return border;
  return src[static_cast<std::ptrdiff_t>(y) * stride + static_cast<std::ptrdiff_t>(x) * channels +
             c];
}

/// Bilinear sample at the 16.16 fixed-point position (sx, sy), writing `channels` bytes:
/// with (ix, fx) and (iy, fy) the integer parts and the top 8 fraction bits,
///   top = p(ix, iy) * (256 - fx) + p(ix + 1, iy) * fx, bottom likewise on row iy + 1,
///   out = (top * (256 - fy) + bottom * fy + 2^15) >> 16,
/// where p is the source pixel or `border` outside the source. Shifts of negative values
/// are arithmetic (floor), as GCC and Clang define them and as the SIMD code computes them.
inline void bilinear_pixel(const std::uint8_t* src, std::ptrdiff_t stride, int width, int height,
                           int channels, std::int32_t sx, std::int32_t sy, int border,
                           std::uint8_t* out) {
  const int ix = sx >> kCoordBits;
  const int iy = sy >> kCoordBits;
  const int fx = (sx >> (kCoordBits - kWeightBits)) & (kWeightOne - 1);
  const int fy = (sy >> (kCoordBits - kWeightBits)) & (kWeightOne - 1);
  for (int c = 0; c < channels; ++c) {
    const int top = source_at(src, stride, width, height, channels, ix, iy, c, border) *
                        (kWeightOne - fx) +
                    source_at(src, stride, width, height, channels, ix + 1, iy, c, border) * fx;
    const int bottom =
        source_at(src, stride, width, height, channels, ix, iy + 1, c, border) *
            (kWeightOne - fx) +
        source_at(src, stride, width, height, channels, ix + 1, iy + 1, c, border) * fx;
    out[c] = static_cast<std::uint8_t>((top * (kWeightOne - fy) + bottom * fy + (1 << 15)) >> 16);
  }
}

/// Output pixels [x_begin, x_end) of a rotated row through bilinear_pixel (the reference loop).
inline void rotate_span(const std::uint8_t* src, std::ptrdiff_t stride, int src_width,
                        int src_height, int channels, std::uint8_t* dst, const std::int32_t* ox,
                        const std::int32_t* oy, std::int32_t ax, std::int32_t ay, int border,
                        int x_begin, int x_end) {
  for (int x = x_begin; x < x_end; ++x) {
    const int lx = x % kSegment;
    bilinear_pixel(src, stride, src_width, src_height, channels, ox[x / kSegment] + lx * ax,
                   oy[x / kSegment] + lx * ay, border,
                   dst + static_cast<std::ptrdiff_t>(x) * channels);
  }
}

// The kernels, declared once per target:
//
// rotate_row: one output row of `width` pixels: pixel x samples the source at
//   (ox[x / 64] + (x % 64) * ax, oy[x / 64] + (x % 64) * ay) in 16.16 fixed point.
//   The caller guarantees |origin| <= 2^30 and that
//   (src_height - 1) * stride + src_width * channels + 4 fits in int32 (gather offsets);
//   otherwise it uses the scalar kernel.
// ink_counts: for one band of `rows` rows, counts[j] = the number of pixels v <= threshold in
//   columns [group * j, group * (j + 1)) (the last group may be partial); group is 4 or 16,
//   rows <= kMaxBandRows.
// profile_score: the projection profile of the strips for one candidate angle and its sharpness:
//   profile[b] = sum over strips k of lo * (64 - w) + hi * w, where (lo, hi) are the two 16-bit
//   halves of pairs[k * strip_stride + offsets[k] + b] and (64 - w, w) those of weights[k],
//   for b in [0, length); returns the sum of (profile[b] >> shift)^2.
namespace scalar {
void rotate_row(const std::uint8_t* src, std::ptrdiff_t stride, int src_width, int src_height,
                int channels, std::uint8_t* dst, int width, const std::int32_t* ox,
                const std::int32_t* oy, std::int32_t ax, std::int32_t ay, int border);
void ink_counts(const std::uint8_t* src, std::ptrdiff_t stride, int width, int rows, int threshold,
                int group, std::uint16_t* counts);
std::uint64_t profile_score(const std::uint32_t* pairs, std::ptrdiff_t strip_stride, int strips,
                            const std::int32_t* offsets, const std::uint32_t* weights, int length,
                            int shift);
}  // namespace scalar

namespace avx2 {
void rotate_row(const std::uint8_t* src, std::ptrdiff_t stride, int src_width, int src_height,
                int channels, std::uint8_t* dst, int width, const std::int32_t* ox,
                const std::int32_t* oy, std::int32_t ax, std::int32_t ay, int border);
void ink_counts(const std::uint8_t* src, std::ptrdiff_t stride, int width, int rows, int threshold,
                int group, std::uint16_t* counts);
std::uint64_t profile_score(const std::uint32_t* pairs, std::ptrdiff_t strip_stride, int strips,
                            const std::int32_t* offsets, const std::uint32_t* weights, int length,
                            int shift);
}  // namespace avx2

namespace avx512 {
void rotate_row(const std::uint8_t* src, std::ptrdiff_t stride, int src_width, int src_height,
                int channels, std::uint8_t* dst, int width, const std::int32_t* ox,
                const std::int32_t* oy, std::int32_t ax, std::int32_t ay, int border);
void ink_counts(const std::uint8_t* src, std::ptrdiff_t stride, int width, int rows, int threshold,
                int group, std::uint16_t* counts);
std::uint64_t profile_score(const std::uint32_t* pairs, std::ptrdiff_t strip_stride, int strips,
                            const std::int32_t* offsets, const std::uint32_t* weights, int length,
                            int shift);
}  // namespace avx512

}  // namespace ocrai::kernels
