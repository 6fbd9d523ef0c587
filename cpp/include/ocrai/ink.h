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

/// Shapes of ink that lone_text_line takes for one line of text (ink.cc says why each).
inline constexpr int kLoneLineMinHeight = 8;             ///< the ink's height, pixels
inline constexpr double kLoneLineMinAspect = 2.0;        ///< its width over its height
inline constexpr double kLoneLineCoreShare = 0.5;        ///< of the fullest row's ink
inline constexpr double kLoneLineValleyShare = 0.25;     ///< of the fullest row's ink
inline constexpr double kLoneLineMaxCoreRatio = 2.5;     ///< its height over its core's
inline constexpr double kLoneLineMinStroke = 0.4;        ///< tall strokes, in its heights
inline constexpr double kLoneLineMaxRowShare = 0.85;     ///< of its width, in one row
inline constexpr double kLoneLineMaxGap = 1.0;           ///< columns without ink, in heights
inline constexpr double kLoneLineMaxDrift = 0.2;         ///< centre row moved, in heights

/// The ink of `image` when it is one horizontal line of text on a plain background and
/// nothing else; an empty rectangle otherwise (the question the detector would answer). One
/// line: the ink (ink_bounds) keeps a margin on every side; it is at least
/// kLoneLineMinHeight tall and kLoneLineMinAspect times as wide as tall; every row of it has
/// ink; between its first and last row holding at least kLoneLineCoreShare of the fullest
/// row's ink (the core: the letters' bodies) no row holds less than kLoneLineValleyShare of
/// it (two lines have a valley there), and it is at most kLoneLineMaxCoreRatio times as tall
/// as its core (a second line with little ink has no row in the core); its tall strokes
/// (the 90th percentile of each column's longest run of ink) are at least kLoneLineMinStroke
/// of its height (in a block of lines, even skewed ones that leave no row empty, strokes
/// span one line's height); no row has ink in more than kLoneLineMaxRowShare of its columns
/// (a frame, an underline, a rule); no run of columns without ink is wider than
/// kLoneLineMaxGap times its height (fields apart); and its centre row in its left third and
/// in its right third differ by at most kLoneLineMaxDrift times its height (a skewed line,
/// items at different heights). Throws std::invalid_argument when tolerance is outside
/// [0, 255].
PixelRect lone_text_line(const ImageView& image, int tolerance);

}  // namespace ocrai
