// SPDX-License-Identifier: MIT
#pragma once
// Internal: binarization kernels, one set per SIMD target.
//
// The per-pixel definitions below are the reference for every target: the scalar kernels
// apply them to every pixel, the SIMD kernels reproduce them lane by lane and call them
// directly for the border pixels whose windows are clipped. This file and every file that
// includes it are compiled with -ffp-contract=off (CMakeLists.txt), so a compiler can never
// fuse m * (a + b * s) into an FMA in one target and not in another.

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace ocrai::kernels {

/// Columns [x0, x1) of the window of radius r around x, clipped to [0, width).
inline void window_span(int x, int width, int radius, int& x0, int& x1) {
  x0 = x - radius < 0 ? 0 : x - radius;
  x1 = x + radius + 1 > width ? width : x + radius + 1;
}

/// Sauvola's decision for one pixel of value v whose window of n pixels has sum s and sum of
/// squares q (both exact). a = 1 - k and b = k / R, already rounded to float.
inline std::uint8_t sauvola_pixel(std::uint8_t v, std::uint32_t s, std::uint32_t q, int n, float a,
                                  float b) {
  const float inv = 1.0f / static_cast<float>(n);
  const float mean = static_cast<float>(s) * inv;
  float var = static_cast<float>(q) * inv - mean * mean;
  var = var > 0.0f ? var : 0.0f;  // rounding can leave a flat window slightly negative
  const float t = mean * (a + b * std::sqrt(var));
  return static_cast<float>(v) > t ? 255 : 0;
}

/// Adaptive-mean decision: v > s / n - c, exactly, as n * (v + c) > s. |n * (v + c)| stays
/// below 65025 * 510, well inside int.
inline std::uint8_t adaptive_pixel(std::uint8_t v, std::uint32_t s, int n, int c) {
  return static_cast<std::int64_t>(n) * (v + c) > static_cast<std::int64_t>(s) ? 255 : 0;
}

/// Sauvola over columns [x_begin, x_end) of a row of `width` (the reference loop; SIMD kernels
/// use it for the clipped border columns).
inline void sauvola_span(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                         const std::uint32_t* pre_q, int width, int radius, int rows, float a,
                         float b, int x_begin, int x_end) {
  for (int x = x_begin; x < x_end; ++x) {
    int x0 = 0;
    int x1 = 0;
    window_span(x, width, radius, x0, x1);
    dst[x] = sauvola_pixel(src[x], pre_s[x1] - pre_s[x0], pre_q[x1] - pre_q[x0], (x1 - x0) * rows,
                           a, b);
  }
}

/// Adaptive mean over columns [x_begin, x_end) of a row of `width` (as sauvola_span).
inline void adaptive_mean_span(const std::uint8_t* src, std::uint8_t* dst,
                               const std::uint32_t* pre_s, int width, int radius, int rows, int c,
                               int x_begin, int x_end) {
  for (int x = x_begin; x < x_end; ++x) {
    int x0 = 0;
    int x1 = 0;
    window_span(x, width, radius, x0, x1);
    dst[x] = adaptive_pixel(src[x], pre_s[x1] - pre_s[x0], (x1 - x0) * rows, c);
  }
}

/// Columns [lo, hi) whose window is not clipped horizontally (empty when the window is wider
/// than the row).
inline void interior_columns(int width, int radius, int& lo, int& hi) {
  lo = radius < width ? radius : width;
  hi = width - radius > lo ? width - radius : lo;
}

// The kernels, declared once per target:
//
// histogram: adds the gray levels of a width x height image to hist (256 counters).
// threshold_row: dst[i] = src[i] > threshold ? hi : lo with (lo, hi) = (0, 255), swapped when
//   invert; threshold in [0, 255].
// window_step: the running column sums of a local window move down one row:
//   col_s[x] += add[x] - sub[x] and col_q[x] += add[x]^2 - sub[x]^2 (the caller passes a row
//   of zeros for "no row"; col_q and pre_q are null when only sums are needed), then
//   pre_s[0] = 0 and
//   pre_s[x + 1] = pre_s[x] + col_s[x] modulo 2^32 (likewise pre_q from col_q).
// sauvola_row / adaptive_mean_row: one output row from the prefix sums of its window's column
//   sums; `rows` is the number of image rows inside the window, radius = window / 2.
namespace scalar {
void histogram(const std::uint8_t* src, std::ptrdiff_t stride, int width, int height,
               std::uint64_t* hist);
void threshold_row(const std::uint8_t* src, std::uint8_t* dst, int n, int threshold, bool invert);
void window_step(const std::uint8_t* add, const std::uint8_t* sub, std::uint32_t* col_s,
                 std::uint32_t* col_q, std::uint32_t* pre_s, std::uint32_t* pre_q, int width);
void sauvola_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                 const std::uint32_t* pre_q, int width, int radius, int rows, float a, float b);
void adaptive_mean_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                       int width, int radius, int rows, int c);
}  // namespace scalar

namespace avx2 {
void histogram(const std::uint8_t* src, std::ptrdiff_t stride, int width, int height,
               std::uint64_t* hist);
void threshold_row(const std::uint8_t* src, std::uint8_t* dst, int n, int threshold, bool invert);
void window_step(const std::uint8_t* add, const std::uint8_t* sub, std::uint32_t* col_s,
                 std::uint32_t* col_q, std::uint32_t* pre_s, std::uint32_t* pre_q, int width);
void sauvola_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                 const std::uint32_t* pre_q, int width, int radius, int rows, float a, float b);
void adaptive_mean_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                       int width, int radius, int rows, int c);
}  // namespace avx2

namespace avx512 {
void histogram(const std::uint8_t* src, std::ptrdiff_t stride, int width, int height,
               std::uint64_t* hist);
void threshold_row(const std::uint8_t* src, std::uint8_t* dst, int n, int threshold, bool invert);
void window_step(const std::uint8_t* add, const std::uint8_t* sub, std::uint32_t* col_s,
                 std::uint32_t* col_q, std::uint32_t* pre_s, std::uint32_t* pre_q, int width);
void sauvola_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                 const std::uint32_t* pre_q, int width, int radius, int rows, float a, float b);
void adaptive_mean_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                       int width, int radius, int rows, int c);
}  // namespace avx512

}  // namespace ocrai::kernels
