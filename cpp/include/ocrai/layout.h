// SPDX-License-Identifier: MIT
#pragma once
/// Reading order: text line boxes -> blocks (columns, paragraphs) -> the order a person reads
/// them in.
///
/// The page is segmented by a recursive cut on whitespace, in a frame rotated by the page's
/// skew (the median direction of the long boxes), so that skewed lines keep their own band:
///  - a region whose boxes leave a vertical gutter (a gap at least `gutter` line heights wide
///    between the boxes' horizontal extents) with prose on both sides (boxes whose median
///    width is at least `column_min_width` line heights), side by side (the two sides'
///    vertical extents overlap by a line height), is split into columns, read left to
///    right; narrow sides (a column of prices, a table's cells) stay with their rows;
///  - otherwise it is cut into horizontal bands (gaps between the boxes' vertical extents,
///    each box's extent shrunk by a quarter of its height on both sides so that touching
///    lines do not merge; a band still holding boxes one above the other is cut again at
///    their middles). Consecutive bands are grouped while they share the same column
///    structure: a page-wide header is its own group above the columns under it. Groups are
///    read top to bottom and segmented again;
///  - a region with no further cut is read band by band, each band left to right, and split
///    into paragraph blocks where the gap between bands exceeds `paragraph_gap` line heights.

#include <vector>

#include "ocrai/geometry.h"

namespace ocrai {

/// Tuning of `layout_lines`; lengths are in multiples of the page's median box height.
struct LayoutOptions {
  float gutter = 0.1f;            ///< narrowest vertical gap that may separate columns
  float column_min_width = 4.0f;  ///< median box width each column needs
  float paragraph_gap = 0.9f;     ///< a larger gap between bands starts a new block
};

/// A block of lines in reading order.
struct LayoutBlock {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  ///< page-coordinate bounds of its boxes
  std::vector<int> lines;                ///< reading positions (indices into Layout::order)
};

/// The reading order of a page's boxes.
struct Layout {
  std::vector<int> order;          ///< order[k]: the input box read k-th
  std::vector<int> block_of;       ///< block_of[k]: the block of the box read k-th
  std::vector<LayoutBlock> blocks; ///< in reading order
  double skew_degrees = 0.0;       ///< the page skew measured from the boxes, CCW positive
};

/// Orders `boxes` (page coordinates, each clockwise from its text's top-left) for reading.
/// Throws std::invalid_argument on non-positive or non-finite options.
Layout layout_lines(const std::vector<Quad>& boxes, const LayoutOptions& options = {});

}  // namespace ocrai
