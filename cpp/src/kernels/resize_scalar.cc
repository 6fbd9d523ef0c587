// SPDX-License-Identifier: MIT
// Scalar reference for the separable resize filters: the definition of the result.
#include <vector>

#include "kernels/resize_kernels.h"
#include "ocrai/resize.h"

namespace ocrai::kernels::scalar {

void resize_rows(const ImageView& src, const MutableImageView& dst, const AxisTaps& xt,
                 const AxisTaps& yt, int y0, int y1) {
  const int channels = src.channels;
  const int n = src.width * channels;
  constexpr int kShift = kResizeBitsY + kResizeBitsX;
  constexpr std::uint32_t kRound = 1u << (kShift - 1);
  std::vector<std::uint32_t> column_sums(static_cast<std::size_t>(n));
  for (int y = y0; y < y1; ++y) {
    // Vertical pass: at most 255 * 2^kResizeBitsY per value.
    const int sy = yt.start[static_cast<std::size_t>(y)];
    const std::int32_t* wy = &yt.weight[static_cast<std::size_t>(y) * yt.taps];
    for (int i = 0; i < n; ++i) column_sums[static_cast<std::size_t>(i)] = 0;
    for (int t = 0; t < yt.taps; ++t) {
      const std::uint8_t* row = src.row(sy + t);
      const auto w = static_cast<std::uint32_t>(wy[t]);
      for (int i = 0; i < n; ++i) column_sums[static_cast<std::size_t>(i)] += w * row[i];
    }
    // Horizontal pass: at most 255 * 2^(kResizeBitsY + kResizeBitsX) < 2^31 per value.
    std::uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x) {
      const std::uint32_t* base =
          column_sums.data() + static_cast<std::ptrdiff_t>(xt.start[static_cast<std::size_t>(x)]) *
                                   channels;
      const std::int32_t* wx = &xt.weight[static_cast<std::size_t>(x) * xt.taps];
      for (int c = 0; c < channels; ++c) {
        std::uint32_t acc = kRound;
        for (int t = 0; t < xt.taps; ++t) {
          acc += static_cast<std::uint32_t>(wx[t]) * base[t * channels + c];
        }
        out[x * channels + c] = static_cast<std::uint8_t>(acc >> kShift);
      }
    }
  }
}

}  // namespace ocrai::kernels::scalar
