// SPDX-License-Identifier: MIT
#include "ocrai/layout.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace ocrai {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// A box in the deskewed frame.
struct Box {
  double x0, y0, x1, y1;
  double height() const { return y1 - y0; }
  double width() const { return x1 - x0; }
  // Vertical extent used to find bands: shrunk so that touching lines stay apart.
  double core0() const { return y0 + 0.25 * height(); }
  double core1() const { return y1 - 0.25 * height(); }
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
  }
  return m;
}

using Set = std::vector<int>;

class Segmenter {
 public:
  Segmenter(std::vector<Box> boxes, double line_height, const LayoutOptions& options)
      : boxes_(std::move(boxes)), h_(line_height), options_(options) {}

  /// Appends the leaves of `set`, in reading order, to `leaves` (each a list of bands).
  void segment(const Set& set, std::vector<std::vector<Set>>& leaves) const {
    if (set.size() <= 1) {
      leaves.push_back({set});
      return;
    }
    std::vector<Set> columns = split_columns(set);
    if (columns.size() > 1) {
      for (const Set& c : columns) segment(c, leaves);
      return;
    }
    std::vector<Set> bands = split_bands(set);
    if (bands.size() == 1) {
      leaves.push_back(bands);
      return;
    }
    // Group consecutive bands that share a column structure.
    std::vector<Set> groups;
    std::vector<bool> group_has_columns;
    for (const Set& band : bands) {
      const bool band_cols = split_columns(band).size() > 1;
      if (!groups.empty()) {
        Set joined = groups.back();
        joined.insert(joined.end(), band.begin(), band.end());
        const bool joined_cols = split_columns(joined).size() > 1;
        if (joined_cols || (!group_has_columns.back() && !band_cols)) {
          groups.back() = std::move(joined);
          group_has_columns.back() = joined_cols;
          continue;
        }
      }
      groups.push_back(band);
      group_has_columns.push_back(band_cols);
    }
    if (groups.size() == 1) {
      leaves.push_back(bands);
      return;
    }
    for (const Set& g : groups) segment(g, leaves);
  }

  /// Splits at vertical gutters with prose on both sides; one part when there is none.
  std::vector<Set> split_columns(const Set& set) const {
    Set sorted = set;
    std::sort(sorted.begin(), sorted.end(), [&](int a, int b) { return box(a).x0 < box(b).x0; });
    std::vector<Set> parts(1);
    double reach = box(sorted[0]).x1;
    for (int i : sorted) {
      if (box(i).x0 - reach >= options_.gutter * h_ && !parts.back().empty()) parts.emplace_back();
      parts.back().push_back(i);
      reach = std::max(reach, box(i).x1);
    }
    // A part too narrow to be a column joins its left neighbour (the first: its right one).
    for (bool changed = parts.size() > 1; changed && parts.size() > 1;) {
      changed = false;
      for (std::size_t k = 0; k < parts.size(); ++k) {
        if (is_prose(parts[k])) continue;
        const std::size_t into = k == 0 ? 1 : k - 1;
        parts[into].insert(parts[into].end(), parts[k].begin(), parts[k].end());
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(k));
        changed = true;
        break;
      }
    }
    return parts;
  }

  /// Cuts into bands at gaps between the boxes' (shrunk) vertical extents, top to bottom.
  std::vector<Set> split_bands(const Set& set) const {
    Set sorted = set;
    std::sort(sorted.begin(), sorted.end(), [&](int a, int b) {
      return box(a).core0() < box(b).core0() ||
             (box(a).core0() == box(b).core0() && box(a).x0 < box(b).x0);
    });
    std::vector<Set> bands(1);
    double reach = box(sorted[0]).core1();
    for (int i : sorted) {
      if (box(i).core0() > reach && !bands.back().empty()) bands.emplace_back();
      bands.back().push_back(i);
      reach = std::max(reach, box(i).core1());
    }
    return bands;
  }

  const Box& box(int i) const { return boxes_[static_cast<std::size_t>(i)]; }

 private:
  bool is_prose(const Set& part) const {
    std::vector<double> widths;
    widths.reserve(part.size());
    for (int i : part) widths.push_back(box(i).width());
    return median(widths) >= options_.column_min_width * h_;
  }

  std::vector<Box> boxes_;
  double h_;
  LayoutOptions options_;
};

}  // namespace

Layout layout_lines(const std::vector<Quad>& quads, const LayoutOptions& options) {
  if (!(options.gutter > 0) || !(options.column_min_width >= 0) || !(options.paragraph_gap > 0) ||
      !std::isfinite(options.gutter) || !std::isfinite(options.column_min_width) ||
      !std::isfinite(options.paragraph_gap)) {
    throw std::invalid_argument("layout_lines: options must be positive and finite");
  }
  Layout layout;
  const int n = static_cast<int>(quads.size());
  if (n == 0) return layout;

  // Page skew: the median direction of the top edges of boxes at least twice as long as
  // they are high (short boxes say little about direction).
  std::vector<double> angles;
  for (const Quad& q : quads) {
    const double dx = q[1].x - q[0].x, dy = q[1].y - q[0].y;
    const double len = std::hypot(dx, dy);
    const double side = std::hypot(q[3].x - q[0].x, q[3].y - q[0].y);
    if (len > 0 && len >= 2 * side) angles.push_back(std::atan2(dy, dx));
  }
  const double angle = median(angles);  // radians, clockwise on the image (y down)
  layout.skew_degrees = -angle * 180.0 / kPi;
  const double c = std::cos(-angle), s = std::sin(-angle);

  std::vector<Box> boxes(static_cast<std::size_t>(n));
  std::vector<double> heights;
  for (int i = 0; i < n; ++i) {
    Box& b = boxes[static_cast<std::size_t>(i)];
    b.x0 = b.y0 = INFINITY;
    b.x1 = b.y1 = -INFINITY;
    for (const Point& p : quads[static_cast<std::size_t>(i)]) {
      const double x = c * p.x - s * p.y, y = s * p.x + c * p.y;
      b.x0 = std::min(b.x0, x);
      b.x1 = std::max(b.x1, x);
      b.y0 = std::min(b.y0, y);
      b.y1 = std::max(b.y1, y);
    }
    heights.push_back(b.height());
  }
  const double h = std::max(median(heights), 1e-3);

  Segmenter segmenter(boxes, h, options);
  Set all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::vector<Set>> leaves;
  segmenter.segment(all, leaves);

  for (const auto& bands : leaves) {
    double prev_bottom = 0;
    for (std::size_t k = 0; k < bands.size(); ++k) {
      Set band = bands[k];
      std::sort(band.begin(), band.end(),
                [&](int a, int b) { return segmenter.box(a).x0 < segmenter.box(b).x0; });
      double top = INFINITY, bottom = -INFINITY;
      for (int i : band) {
        top = std::min(top, segmenter.box(i).y0);
        bottom = std::max(bottom, segmenter.box(i).y1);
      }
      if (k == 0 || top - prev_bottom > options.paragraph_gap * h) {
        layout.blocks.emplace_back();
      }
      prev_bottom = bottom;
      LayoutBlock& block = layout.blocks.back();
      for (int i : band) {
        block.lines.push_back(static_cast<int>(layout.order.size()));
        layout.order.push_back(i);
        layout.block_of.push_back(static_cast<int>(layout.blocks.size()) - 1);
      }
    }
  }
  for (LayoutBlock& block : layout.blocks) {
    bool first = true;
    for (int pos : block.lines) {
      for (const Point& p : quads[static_cast<std::size_t>(layout.order[static_cast<std::size_t>(pos)])]) {
        if (first) {
          block.x0 = block.x1 = p.x;
          block.y0 = block.y1 = p.y;
          first = false;
        }
        block.x0 = std::min(block.x0, p.x);
        block.x1 = std::max(block.x1, p.x);
        block.y0 = std::min(block.y0, p.y);
        block.y1 = std::max(block.y1, p.y);
      }
    }
  }
  return layout;
}

}  // namespace ocrai
