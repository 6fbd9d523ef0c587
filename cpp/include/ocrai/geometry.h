// SPDX-License-Identifier: MIT
#pragma once
/// TEMPORARY stand-in with the types of the kernels-b branch's geometry.h (same names and
/// meaning) until that branch is on main; replaced by it at the merge.

#include <array>

namespace ocrai {

/// A point in continuous image coordinates: pixel (i, j) covers [i, i+1) x [j, j+1).
struct Point {
  float x = 0.0f;
  float y = 0.0f;
};

/// Four corners of a text region, clockwise on the image (y down) from the text's top-left.
using Quad = std::array<Point, 4>;

}  // namespace ocrai
