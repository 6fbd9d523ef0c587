// SPDX-License-Identifier: MIT
#pragma once
/// Cropping and rectifying quadrilateral regions (text lines) out of an 8-bit image.

#include <cstdint>

#include "ocrai/geometry.h"
#include "ocrai/image.h"

namespace ocrai {

/// Width for a crop of `quad` at `height` pixels that keeps the region's aspect ratio: the
/// mean length of the top and bottom edges over the mean length of the left and right edges,
/// times `height`, rounded to the nearest integer and clamped to [1, max_width] (no upper
/// clamp when max_width <= 0). Throws std::invalid_argument when `quad` fails validate_quad
/// or height < 1.
int rectified_width(const Quad& quad, int height, int max_width = 0);

/// Samples the region `quad` of `src` into the whole of `dst` (same channels), rectified:
/// the corners of `dst` map to quad[0] (top-left), quad[1] (top-right), quad[2]
/// (bottom-right), quad[3] (bottom-left) by the perspective transform through the four
/// points, in the continuous coordinates of geometry.h (pixel centres map to pixel centres,
/// so the quad of a whole image crops it unchanged). When the quad is a parallelogram within
/// 1e-3 pixel the map is the affine one through quad[0], quad[1] and quad[3].
///
/// Each output pixel is the bilinear blend of the 4 source pixels around its mapped centre,
/// with the position in 1/128 pixel: (sum w * p + 2^13) >> 14, the weights being products of
/// (128 - f) and f per axis. The mapped position is computed in float with a fixed order of
/// operations (see crop.cc), so every SIMD target returns the same bytes.
/// Outside the image, `border` decides: kReplicate clamps to the edge pixels, kConstant reads
/// `border_value` in every channel.
/// Throws std::invalid_argument when `quad` fails validate_quad, on a channel mismatch, or
/// when `src` is empty and `dst` is not.
void crop_quad_u8(const ImageView& src, const Quad& quad, const MutableImageView& dst,
                  BorderMode border = BorderMode::kReplicate, std::uint8_t border_value = 0);

}  // namespace ocrai
