// SPDX-License-Identifier: MIT
#pragma once
/// Where the ink is: the part of an image that differs from its plain background.
///
/// The pipeline runs the text detector on that part only. A 1000x300 line image is mostly
/// margin; the detector's cost is linear in its input's area, and outside the ink there is
/// nothing it could find.

#include "ocrai/image.h"

namespace ocrai {

/// A rectangle of pixels: columns [x0, x1), rows [y0, y1).
struct PixelRect {
  int x0 = 0;
  int y0 = 0;
  int x1 = 0;
  int y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool empty() const { return x1 <= x0 || y1 <= y0; }
};

/// Share of the border pixels that must lie within the tolerance of the border's colour for
/// the image to have a plain background at all.
inline constexpr double kPlainBorderShare = 0.95;

/// The smallest rectangle holding every pixel that differs from the background by more than
/// `tolerance` in some channel. The background is the per-channel median of the image's
/// outermost rows and columns; when fewer than kPlainBorderShare of those pixels lie within
/// `tolerance` of it (a photo, a coloured frame), nothing is known to be background and the
/// whole image is returned. An image that holds no ink gives an empty rectangle.
///
/// `give_up_height`: once the rows between the first and the last row with ink reach this
/// many, the whole image is returned without scanning the rows in between (a caller that
/// only uses a rectangle well inside the image saves the scan of a full page). 0: never.
/// Throws std::invalid_argument when tolerance is outside [0, 255] or give_up_height < 0.
PixelRect ink_bounds(const ImageView& image, int tolerance, int give_up_height = 0);

}  // namespace ocrai
