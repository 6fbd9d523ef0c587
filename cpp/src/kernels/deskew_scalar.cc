// SPDX-License-Identifier: MIT
// Scalar reference for skew estimation and rotation: the definition of every result.
#include "kernels/deskew_kernels.h"

namespace ocrai::kernels::scalar {

void rotate_row(const std::uint8_t* src, std::ptrdiff_t stride, int src_width, int src_height,
                int channels, std::uint8_t* dst, int width, const std::int32_t* ox,
                const std::int32_t* oy, std::int32_t ax, std::int32_t ay, int border) {
  rotate_span(src, stride, src_width, src_height, channels, dst, ox, oy, ax, ay, border, 0, width);
}

void ink_counts(const std::uint8_t* src, std::ptrdiff_t stride, int width, int rows, int threshold,
                int group, std::uint16_t* counts) {
  for (int j = 0; group * j < width; ++j) {
    const int x_end = group * (j + 1) < width ? group * (j + 1) : width;
    int count = 0;
    for (int r = 0; r < rows; ++r) {
      const std::uint8_t* row = src + static_cast<std::ptrdiff_t>(r) * stride;
      for (int x = group * j; x < x_end; ++x) count += row[x] <= threshold ? 1 : 0;
    }
    counts[j] = static_cast<std::uint16_t>(count);
  }
}

std::uint64_t profile_score(const std::uint32_t* pairs, std::ptrdiff_t strip_stride, int strips,
                            const std::int32_t* offsets, const std::uint32_t* weights, int length,
                            int shift) {
  std::uint64_t score = 0;
  for (int b = 0; b < length; ++b) {
    std::int32_t p = 0;
    for (int k = 0; k < strips; ++k) {
      const std::uint32_t pair = pairs[k * strip_stride + offsets[k] + b];
      const std::uint32_t w = weights[k];
      p += static_cast<std::int32_t>((pair & 0xFFFF) * (w & 0xFFFF) + (pair >> 16) * (w >> 16));
    }
    const auto v = static_cast<std::uint64_t>(static_cast<std::uint32_t>(p) >> shift);
    score += v * v;
  }
  return score;
}

}  // namespace ocrai::kernels::scalar
