// SPDX-License-Identifier: MIT
#pragma once
/// Resizing 8-bit images.
///
/// Both filters are separable with integer weights and one rounding at the end, so every SIMD
/// target reproduces the scalar reference bit for bit whatever order it sums in: along y the
/// weights of an output row are integers summing to 2^kResizeBitsY, along x integers summing
/// to 2^kResizeBitsX, and an output value is
///     (sum_y sum_x wy * wx * src + 2^(bits - 1)) >> bits,   bits = kResizeBitsY + kResizeBitsX.
/// Source and destination have the same number of channels (1, 3 or 4); channels are filtered
/// independently (alpha is not premultiplied).

#include "ocrai/image.h"

namespace ocrai {

/// Fractional bits of the vertical weights (they sum to 256).
inline constexpr int kResizeBitsY = 8;
/// Fractional bits of the horizontal weights (they sum to 16384).
inline constexpr int kResizeBitsX = 14;

/// Which filter `resize_u8` applies.
enum class ResizeMode {
  kAuto,      ///< area when shrinking along both axes, bilinear otherwise
  kBilinear,  ///< see resize_bilinear_u8
  kArea,      ///< see resize_area_u8
};

/// Bilinear resize of `src` to the size of `dst`, any scale. Pixel centres are aligned (the
/// centre of output pixel x maps to source x' = (x + 0.5) * src_w / dst_w - 0.5, as OpenCV's
/// INTER_LINEAR); positions outside the image are clamped to the edge. The sub-pixel position
/// is rounded to 1/2^kResizeBitsY of a pixel along y and 1/2^kResizeBitsX along x. Shrinking by
/// more than 2x skips source pixels (aliasing): use resize_area_u8 for that.
/// Throws std::invalid_argument on a channel mismatch or an empty source with a non-empty
/// destination.
void resize_bilinear_u8(const ImageView& src, const MutableImageView& dst);

/// Area (box filter) resize of `src` to the size of `dst`: output pixel x covers the source
/// interval [x * s, (x + 1) * s), s = src_w / dst_w, and averages the source pixels weighted by
/// their exact fractional coverage (likewise along y), which antialiases when shrinking.
/// The coverage weights are rounded to integers with the sums above by largest remainder
/// (each is the floor or the ceiling of its exact value). When enlarging, an output pixel
/// lies within one or two source pixels and is their coverage-weighted mean (sharp, nearly
/// nearest-neighbour; OpenCV's INTER_AREA switches to bilinear there instead). Throws as
/// resize_bilinear_u8.
void resize_area_u8(const ImageView& src, const MutableImageView& dst);

/// Resizes with the filter `mode` names; kAuto picks area when the destination is smaller
/// than the source along both axes (or equal along one and smaller along the other), bilinear
/// otherwise.
void resize_u8(const ImageView& src, const MutableImageView& dst,
               ResizeMode mode = ResizeMode::kAuto);

}  // namespace ocrai
