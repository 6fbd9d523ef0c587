// SPDX-License-Identifier: MIT
// Scalar reference for binarization: the definition of every result.
#include "kernels/binarize_kernels.h"

namespace ocrai::kernels::scalar {

void histogram(const std::uint8_t* src, std::ptrdiff_t stride, int width, int height,
               std::uint64_t* hist) {
  for (int y = 0; y < height; ++y, src += stride) {
    for (int x = 0; x < width; ++x) ++hist[src[x]];
  }
}

void threshold_row(const std::uint8_t* src, std::uint8_t* dst, int n, int threshold, bool invert) {
  // A u8 -> u8 map is a table lookup; the table is the definition.
  std::uint8_t lut[256];
  const std::uint8_t lo = invert ? 255 : 0;
  const std::uint8_t hi = invert ? 0 : 255;
  for (int v = 0; v < 256; ++v) lut[v] = v > threshold ? hi : lo;
  for (int i = 0; i < n; ++i) dst[i] = lut[src[i]];
}

void window_step(const std::uint8_t* add, const std::uint8_t* sub, std::uint32_t* col_s,
                 std::uint32_t* col_q, std::uint32_t* pre_s, std::uint32_t* pre_q, int width) {
  for (int x = 0; x < width; ++x) {
    const std::uint32_t a = add[x];
    const std::uint32_t d = sub[x];
    col_s[x] += a - d;  // modulo 2^32: the column sum itself never leaves [0, 255 * 255]
    if (col_q != nullptr) col_q[x] += a * a - d * d;
  }
  std::uint32_t s = 0;
  std::uint32_t q = 0;
  pre_s[0] = 0;
  if (pre_q != nullptr) pre_q[0] = 0;
  for (int x = 0; x < width; ++x) {
    s += col_s[x];
    pre_s[x + 1] = s;
    if (pre_q != nullptr) {
      q += col_q[x];  // wraps on wide rows; window differences stay exact (header)
      pre_q[x + 1] = q;
    }
  }
}

void sauvola_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                 const std::uint32_t* pre_q, int width, int radius, int rows, float a, float b) {
  sauvola_span(src, dst, pre_s, pre_q, width, radius, rows, a, b, 0, width);
}

void adaptive_mean_row(const std::uint8_t* src, std::uint8_t* dst, const std::uint32_t* pre_s,
                       int width, int radius, int rows, int c) {
  adaptive_mean_span(src, dst, pre_s, width, radius, rows, c, 0, width);
}

}  // namespace ocrai::kernels::scalar
