// SPDX-License-Identifier: MIT
#pragma once
/// Skew estimation and rotation of page images.
///
/// Angles are in degrees, counter-clockwise positive as the image is displayed (x to the
/// right, y down). `estimate_skew_u8` returns the *correction*: rotating the page by the
/// returned angle with `rotate_u8` makes its text lines horizontal. A page whose text was
/// turned 3 degrees counter-clockwise (lines rising to the right) gives -3.
///
/// The estimate is the angle whose horizontal projection profile of the dark (ink) pixels is
/// sharpest (the sum of the squared profile). The page is thresholded once (Otsu on a sample
/// of rows) and ink is counted once, in cells of f rows by 16 columns (f ~ the long side /
/// 2048; 4 columns on small pages). For each candidate angle the cells' vertical strips are
/// shifted, with 1/64-cell interpolation, instead of the pixels being rotated: a coarse sweep
/// over [-max_angle, max_angle] on cells merged 2 x 2f, in steps that move the page's edge by
/// about one cell row, then a sweep 8 times finer on the fine cells around the best, and a
/// least-squares parabola through the 7 best scores. Everything up to the parabola is
/// integer arithmetic, so every SIMD target gives the same angle to the last bit.

#include "ocrai/color.h"
#include "ocrai/image.h"

namespace ocrai {

/// Options of estimate_skew_u8.
struct SkewOptions {
  /// Search range [-max_angle, max_angle] in degrees; in (0, 45].
  double max_angle = 15.0;
};

/// Result of estimate_skew_u8.
struct SkewEstimate {
  /// Degrees to rotate by (counter-clockwise positive) to make the text horizontal; 0 when no
  /// line structure was found.
  double angle = 0.0;
  /// In [0, 1]: 1 - (sharpness at the worst angle) / (sharpness at the best). Text pages give
  /// about 0.4 to 0.8, pages without lines (noise, photos alone) below 0.2, blank pages 0.
  double confidence = 0.0;
  /// Gray level of the paper: the mean of Otsu's light class, or 255 for an empty image. The
  /// natural border fill when the page is rotated.
  int background = 255;
};

/// Estimates the skew of a page. 3- and 4-channel images are read as gray (BT.601 luma in
/// `order`; alpha ignored); 1-channel images directly. Empty, blank and low-contrast images
/// (ink and paper classes less than 32 gray levels apart) give angle 0, confidence 0. Throws
/// std::invalid_argument for a malformed image or max_angle outside (0, 45].
SkewEstimate estimate_skew_u8(const ImageView& image, ColorOrder order = ColorOrder::kRgb,
                              const SkewOptions& options = {});

/// Width and height of an image.
struct ImageSize {
  int width = 0;
  int height = 0;
};

/// Size of `width` x `height` rotated by `angle_degrees`: unchanged without `expand`, else
/// the smallest canvas that holds the whole rotated image (ceil(W|cos| + H|sin|) by
/// ceil(W|sin| + H|cos|)).
ImageSize rotated_size(int width, int height, double angle_degrees, bool expand);

/// Rotates `src` counter-clockwise by `angle_degrees` about its centre into `dst` (same
/// channels, any size; the centres coincide), with bilinear interpolation; destination pixels
/// that sample outside the source take `border_value` (0..255, every channel). Sampling is
/// 16.16 fixed point with 8-bit weights, identical on every SIMD target (see
/// kernels/deskew_kernels.h). src and dst must not overlap.
void rotate_u8(const ImageView& src, const MutableImageView& dst, double angle_degrees,
               int border_value);

/// As above, into a new image of rotated_size(src, angle_degrees, expand).
Image rotate_u8(const ImageView& src, double angle_degrees, int border_value, bool expand);

/// Options of deskew_u8.
struct DeskewOptions {
  SkewOptions skew;
  /// Border fill 0..255, or -1 for the estimated paper level (SkewEstimate::background).
  int border_value = -1;
  /// Grow the canvas so that no part of the page is cut off.
  bool expand = true;
  /// Below this confidence the page is returned unrotated.
  double min_confidence = 0.0;
};

/// Estimates the skew of `image` and rotates it by the estimate (a copy when the angle is 0
/// or the confidence is below options.min_confidence). Stores the estimate in `*estimate`
/// when given.
Image deskew_u8(const ImageView& image, ColorOrder order, const DeskewOptions& options,
                SkewEstimate* estimate = nullptr);

}  // namespace ocrai
