// SPDX-License-Identifier: MIT
#pragma once
// Internal: the horizontal-pass plan shared by the SIMD resize kernels (plain C++, built once
// per call before any vector code runs).
//
// The SIMD kernels keep the vertical sums as int16 with a bias: stored = sum - 32768 (sums
// reach 65280, beyond int16), so that pmaddwd can multiply them by the int16 x weights. As the
// x weights of an output sum to 2^kResizeBitsX, the bias adds back as one constant:
//     sum_t w_t * v_t = sum_t w_t * stored_t + 32768 * 2^kResizeBitsX.
// Output element e = x * channels + c reads the taps v[(start[x] + t) * channels + c]. Taps are
// taken in pairs (2p, 2p + 1) so that one pmaddwd handles two; an odd last tap pairs with a
// zero weight.

#include <cstdint>
#include <vector>

#include "kernels/resize_kernels.h"
#include "ocrai/resize.h"

namespace ocrai::kernels {

/// Added to every horizontal sum before the final shift: the bias correction and the rounding.
inline constexpr std::int32_t kResizeOffset =
    (std::int32_t{32768} << kResizeBitsX) + (std::int32_t{1} << (kResizeBitsY + kResizeBitsX - 1));
inline constexpr int kResizeShift = kResizeBitsY + kResizeBitsX;

/// Horizontal plan in blocks of `lanes` output elements.
struct HPlan {
  int lanes = 0;
  int pairs = 0;
  int blocks = 0;
  int channels = 0;
  /// Per block: first word of the window (start[x of the block's first element] * channels).
  std::vector<std::int32_t> base;
  /// Per block and lane: word offset of tap 2p relative to base + 2p * channels (the same
  /// for every pair); tap 2p + 1 is `channels` further.
  std::vector<std::int32_t> offset;
  /// Per block, pair and lane: the weights of taps 2p and 2p + 1 packed as int16 pairs.
  std::vector<std::int32_t> weight;
  /// Largest offset + channels: a window of this many words covers every block.
  int span = 0;
};

inline HPlan make_hplan(const AxisTaps& xt, int out_width, int channels, int lanes) {
  HPlan plan;
  plan.lanes = lanes;
  plan.channels = channels;
  plan.pairs = (xt.taps + 1) / 2;
  const int n = out_width * channels;
  plan.blocks = (n + lanes - 1) / lanes;
  plan.base.resize(static_cast<std::size_t>(plan.blocks));
  plan.offset.assign(static_cast<std::size_t>(plan.blocks) * lanes, 0);
  plan.weight.assign(static_cast<std::size_t>(plan.blocks) * plan.pairs * lanes, 0);
  for (int b = 0; b < plan.blocks; ++b) {
    const int e0 = b * lanes;
    const std::int32_t base = xt.start[static_cast<std::size_t>(e0 / channels)] * channels;
    plan.base[static_cast<std::size_t>(b)] = base;
    for (int k = 0; k < lanes && e0 + k < n; ++k) {
      const int x = (e0 + k) / channels;
      const int c = (e0 + k) % channels;
      const std::int32_t off = xt.start[static_cast<std::size_t>(x)] * channels + c - base;
      plan.offset[static_cast<std::size_t>(b) * lanes + k] = off;
      if (off + channels > plan.span) plan.span = off + channels;
      for (int p = 0; p < plan.pairs; ++p) {
        const std::int32_t* w = &xt.weight[static_cast<std::size_t>(x) * xt.taps];
        const std::int32_t w0 = w[2 * p];
        const std::int32_t w1 = 2 * p + 1 < xt.taps ? w[2 * p + 1] : 0;
        plan.weight[(static_cast<std::size_t>(b) * plan.pairs + p) * lanes + k] =
            static_cast<std::int32_t>((static_cast<std::uint32_t>(w1) << 16) |
                                      static_cast<std::uint32_t>(w0));
      }
    }
  }
  return plan;
}

/// Words of zero padding after the vertical sums: every window or gather of the plan stays
/// inside the buffer (windows reach 64 words past a base, pairs add 2 * channels per pair).
inline std::size_t resize_row_padding(const AxisTaps& xt, int channels) {
  return 128 + static_cast<std::size_t>(xt.taps + 2) * static_cast<std::size_t>(channels);
}

}  // namespace ocrai::kernels
