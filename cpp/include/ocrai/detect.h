// SPDX-License-Identifier: MIT
#pragma once
/// Text detection post-processing (DB, "differentiable binarization"): a text probability
/// map becomes oriented text boxes in page coordinates. Reading order is layout.h's job.
///
/// Coordinates are continuous (geometry.h): map pixel (i, j) covers [i, i+1) x [j, j+1), so
/// a region of whole pixels has corners on integer coordinates.

#include <cstddef>
#include <vector>

#include "ocrai/geometry.h"

namespace ocrai {

/// The largest unclip_ratio db_postprocess accepts (boxes grown by more are meaningless).
inline constexpr float kMaxUnclipRatio = 100.0f;

/// DB post-processing parameters. The defaults are those the PP-OCRv6 detectors ship with.
struct DbOptions {
  float thresh = 0.2f;        ///< a map pixel is text when its probability is above this
  float box_thresh = 0.45f;   ///< boxes whose mean probability is below this are dropped
  float unclip_ratio = 1.4f;  ///< the box grows by area * ratio / perimeter on every side
  float min_size = 3.0f;      ///< boxes narrower than this (map pixels) are dropped
  int max_candidates = 3000;  ///< at most this many regions (the largest) are considered
  /// Cut a region where its rows fall nearly empty between two text lines, and leave out
  /// a thin stroke at least half a line tall above or below its lines (lines joined by a
  /// mark, a stroke hanging from a line; see split_joined_lines in detect.cc). Off in the
  /// models' own post-processing; the pipeline turns it on.
  bool split_joined_lines = false;
};

/// A rectangle of any orientation: centre, unit axis `u` along `width`, and the
/// perpendicular v = (-u.y, u.x) along `height`.
struct RotatedRect {
  double cx = 0, cy = 0;
  double ux = 1, uy = 0;
  double width = 0, height = 0;
  /// The corners c -/+ u w/2 -/+ v h/2, in no particular order.
  Quad corners() const;
};

/// What `db_postprocess` saw, for callers that judge the detector's input size.
struct DbStats {
  int regions = 0;  ///< connected regions of text pixels
  int dropped = 0;  ///< regions dropped as too thin or too faint (before max_candidates)
};

/// One detected text region.
struct TextBox {
  Quad quad;          ///< in page coordinates, clockwise from the text's top-left
  float score = 0.f;  ///< mean map probability inside the region before unclipping
};

/// Convex hull of `points` (Andrew's monotone chain): the extreme points only (collinear
/// ones dropped), clockwise on the image (y down), starting at the smallest (x, y).
std::vector<Point> convex_hull(std::vector<Point> points);

/// The rectangle of least area that contains the convex polygon `hull` (at least one point).
/// One of its sides lies along an edge of the hull; among equal areas the first edge wins.
RotatedRect min_area_rect(const std::vector<Point>& hull);

/// Orders four corners of a convex quadrilateral clockwise on the image, starting at the
/// corner whose outgoing edge points most nearly to +x (the top-left of horizontal text; on
/// a tie, the longer edge first).
Quad order_quad(const Quad& corners);

/// DB post-processing of one probability map.
///
/// `prob` holds `height` rows of `width` floats, row r at prob + r * stride. Only the
/// top-left `valid_width` x `valid_height` part is read: it is the page (the rest pads the
/// detector input) and maps onto `page_width` x `page_height` page pixels.
/// Steps: threshold (prob > thresh) -> 8-connected regions (split_joined_lines: cut into
/// the lines they hold, without tall strokes above or below them) -> the minimum-area
/// rectangle of each region's pixel squares -> drop those thinner than min_size -> score = mean
/// probability of the map pixels whose centres lie in the rectangle -> drop below box_thresh
/// -> unclip: widen and heighten by 2 * area * unclip_ratio / perimeter -> drop those
/// thinner than min_size + 2 -> scale to page coordinates, clip to the page, order corners.
/// Boxes come in the order of their regions' first pixel (top to bottom, left to right).
/// Throws std::invalid_argument on inconsistent sizes or options. `stats`, when given,
/// receives the region counts.
std::vector<TextBox> db_postprocess(const float* prob, int width, int height,
                                    std::ptrdiff_t stride, int valid_width, int valid_height,
                                    int page_width, int page_height, const DbOptions& options,
                                    DbStats* stats = nullptr);

}  // namespace ocrai
