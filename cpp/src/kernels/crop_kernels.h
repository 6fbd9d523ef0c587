// SPDX-License-Identifier: MIT
#pragma once
// Internal: perspective/affine bilinear sampling of a source image, one set per SIMD target.
//
// crop.cc reduces a quad to a CropMap whose coefficients take integer destination indices
// straight to source index coordinates (pixel centres, half-pixel offsets and the output size
// are folded in, in double, then rounded to float once). crop_rows fills destination rows
// [y0, y1). The float evaluation order is part of the definition, and every target follows
// it (no fused multiply-add; the build passes -ffp-contract=off):
//     xf = float(x), yf = float(y)
//     X = m[0] * xf + (m[1] * yf + m[2]);  Y = m[3] * xf + (m[4] * yf + m[5])
//     if perspective: W = m[6] * xf + (m[7] * yf + m[8]); X = X / W; Y = Y / W
// then per axis, with min/max returning their second operand for NaN (as SSE's minps/maxps):
//     replicate: t = min(max(X * 128, 0), (w - 1) * 128); q = int(t)
//                i = min(q >> 7, w - 2), f = q - 128 i   (w = 1: i = 0, f = 0, one tap)
//     constant:  t = min(max(X * 128, -128), w * 128); q = int(floor(t)); i = q >> 7, f = q & 127
// and the sample is (sum over the 2x2 taps of p * wx * wy + 2^13) >> 14 with wx = 128 - f for
// the tap at i and f for the tap at i + 1; a constant-border tap outside the image reads the
// border value.

#include <cstdint>

#include "ocrai/geometry.h"
#include "ocrai/image.h"

namespace ocrai::kernels {

/// Destination index -> source index coordinates, and what lies outside the source.
struct CropMap {
  float m[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
  bool perspective = false;  ///< false: m[6..8] are ignored (W = 1, no division)
  BorderMode border = BorderMode::kReplicate;
  std::uint8_t border_value = 0;
};

namespace scalar {
void crop_rows(const ImageView& src, const MutableImageView& dst, const CropMap& map, int y0,
               int y1);
/// Pixels [x0, x1) of destination row y, by the reference; the SIMD kernels hand it the rare
/// pixels their fast path does not cover (taps outside the image with a constant border,
/// gathers that would read past the end of the source buffer).
void crop_span(const ImageView& src, std::uint8_t* out_row, const CropMap& map, int y, int x0,
               int x1);
}  // namespace scalar

namespace avx2 {
void crop_rows(const ImageView& src, const MutableImageView& dst, const CropMap& map, int y0,
               int y1);
}  // namespace avx2

namespace avx512 {
void crop_rows(const ImageView& src, const MutableImageView& dst, const CropMap& map, int y0,
               int y1);
}  // namespace avx512

}  // namespace ocrai::kernels
