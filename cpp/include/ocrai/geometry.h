// SPDX-License-Identifier: MIT
#pragma once
/// Plane geometry shared by the kernels and the pipeline: points, quadrilaterals, borders.
///
/// Coordinates are continuous image coordinates in pixels: x to the right, y down, and the
/// pixel (i, j) covers the square [i, i+1) x [j, j+1), so its centre is (i + 0.5, j + 0.5).
/// A quad that outlines a whole W x H image is {(0, 0), (W, 0), (W, H), (0, H)}.

#include <array>

namespace ocrai {

/// A point in continuous image coordinates (see above).
struct Point {
  float x = 0.0f;
  float y = 0.0f;
};

/// Four corners of a text region, clockwise as seen on the image (y down) starting at the
/// top-left of the text: top-left, top-right, bottom-right, bottom-left. Detection boxes use
/// the same type.
using Quad = std::array<Point, 4>;

/// What a sampling kernel reads outside the source image.
enum class BorderMode {
  kReplicate,  ///< the nearest edge pixel (coordinates are clamped into the image)
  kConstant,   ///< a given constant value in every channel
};

/// Twice the signed area of `quad` by the shoelace formula, in pixels squared: positive when
/// the corners run clockwise on the image (y down), negative when counter-clockwise.
double quad_signed_area2(const Quad& quad);

/// Throws std::invalid_argument unless `quad` is usable as a crop region: finite coordinates,
/// clockwise on the image (y down), strictly convex (no three corners collinear, no zero-area
/// or self-intersecting outline). `what` names the argument in the message.
void validate_quad(const Quad& quad, const char* what);

}  // namespace ocrai
