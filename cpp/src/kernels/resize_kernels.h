// SPDX-License-Identifier: MIT
#pragma once
// Internal: separable integer resize filters, one set of row kernels per SIMD target.
//
// resize.cc turns a filter (bilinear or area) into AxisTaps for each axis; resize_rows then
// computes output rows [y0, y1): a vertical pass sums `yt.taps` source rows with weights that
// add up to 2^kResizeBitsY into one uint16 row (exact: at most 255 * 256), then a horizontal
// pass sums `xt.taps` of those per channel with weights that add up to 2^kResizeBitsX
// (exact in int32) and rounds once. Integer sums without intermediate rounding are
// associative, so a SIMD version may reorder them freely and still match the scalar one.

#include <cstdint>
#include <vector>

#include "ocrai/image.h"

namespace ocrai::kernels {

/// Taps of a filter along one axis. Output position i reads the `taps` source positions
/// start[i] .. start[i] + taps - 1 (all inside the source) with weights
/// weight[i * taps + t], zero where a position has fewer real taps.
struct AxisTaps {
  int taps = 0;
  std::vector<std::int32_t> start;
  std::vector<std::int32_t> weight;
};

namespace scalar {
void resize_rows(const ImageView& src, const MutableImageView& dst, const AxisTaps& xt,
                 const AxisTaps& yt, int y0, int y1);
}  // namespace scalar

namespace avx2 {
void resize_rows(const ImageView& src, const MutableImageView& dst, const AxisTaps& xt,
                 const AxisTaps& yt, int y0, int y1);
}  // namespace avx2

namespace avx512 {
void resize_rows(const ImageView& src, const MutableImageView& dst, const AxisTaps& xt,
                 const AxisTaps& yt, int y0, int y1);
}  // namespace avx512

}  // namespace ocrai::kernels
