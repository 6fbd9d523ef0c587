// SPDX-License-Identifier: MIT
#include "ocrai/layout.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace ocrai {
namespace {

constexpr double kPi = 3.14159265358979323846;
/// Boxes narrower than this many line heights are marks (a page number, a tick), not
/// words, when judging whether two parts of a page stand side by side.
constexpr double kMarkWidths = 2.0;

/// A box in the deskewed frame.
struct Box {
  double x0, y0, x1, y1;
  double height() const { return y1 - y0; }
  double width() const { return x1 - x0; }
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

/// A vertical gutter: the line x = at, crossed by `crossers` boxes, with `left` and `right`
/// the boxes entirely on either side.
struct Gutter {
  double at = 0;
  Set left, right, crossers;
};

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
    if (std::optional<Gutter> g = find_gutter(set)) {
      // Boxes across the gutter: an island (a caption between the columns: text above and
      // below it on both sides, covering little of either) joins the side of its centre;
      // anything else (a heading over the columns, a footer, a full-width paragraph) spans.
      const Extent l = extent(g->left), r = extent(g->right);
      Set left = g->left, right = g->right, spanners;
      for (int i : g->crossers) {
        const Box& b = box(i);
        const double cy = 0.5 * (b.y0 + b.y1);
        const bool inside = cy > std::max(l.y0, r.y0) && cy < std::min(l.y1, r.y1);
        const bool narrow = overlap(b, l) < 0.5 * (l.x1 - l.x0) && overlap(b, r) < 0.5 * (r.x1 - r.x0);
        if (inside && narrow) {
          (0.5 * (b.x0 + b.x1) < g->at ? left : right).push_back(i);
        } else {
          spanners.push_back(i);
        }
      }
      if (spanners.empty()) {
        segment(left, leaves);
        segment(right, leaves);
        return;
      }
      // Cut across the page at the spanning boxes: their bands are sections of their own,
      // and the runs of bands between them are column sections.
      std::vector<Set> bands = split_bands(set);
      std::vector<Set> sections;
      bool prev_spans = false;
      for (const Set& band : bands) {
        const bool spans = std::any_of(band.begin(), band.end(), [&](int i) {
          return std::find(spanners.begin(), spanners.end(), i) != spanners.end();
        });
        if (sections.empty() || spans || prev_spans) {
          sections.push_back(band);
        } else {
          sections.back().insert(sections.back().end(), band.begin(), band.end());
        }
        prev_spans = spans;
      }
      if (sections.size() > 1) {
        for (const Set& sec : sections) segment(sec, leaves);
        return;
      }
    }
    // No usable gutter: cut into bands, and group consecutive bands that share a column
    // structure (sections with different columns, one above the other).
    std::vector<Set> bands = split_bands(set);
    if (bands.size() > 1) {
      std::vector<Set> groups;
      std::vector<bool> group_has_columns;
      for (const Set& band : bands) {
        const bool band_cols = has_columns(band);
        if (!groups.empty()) {
          Set joined = groups.back();
          joined.insert(joined.end(), band.begin(), band.end());
          const bool joined_cols = has_columns(joined);
          if (joined_cols || (!group_has_columns.back() && !band_cols)) {
            groups.back() = std::move(joined);
            group_has_columns.back() = joined_cols;
            continue;
          }
        }
        groups.push_back(band);
        group_has_columns.push_back(band_cols);
      }
      if (groups.size() > 1) {
        for (const Set& g : groups) segment(g, leaves);
        return;
      }
    }
    leaves.push_back(bands);
  }

  /// Cuts into bands at gaps between the boxes' (shrunk) vertical extents, top to bottom.
  /// A band that still holds two boxes one above the other (they overlap horizontally, so
  /// they cannot be parts of one line: boxes taller than the line pitch, as on tightly
  /// typed pages) is cut again at gaps between the boxes' middles.
  std::vector<Set> split_bands(const Set& set) const {
    std::vector<Set> bands = split_bands_at(set, 0.25);
    std::vector<Set> out;
    for (Set& band : bands) {
      if (band.size() > 1 && has_stacked_boxes(band)) {
        for (Set& part : split_bands_at(band, kMiddleShrink)) out.push_back(std::move(part));
      } else {
        out.push_back(std::move(band));
      }
    }
    return out;
  }

  const Box& box(int i) const { return boxes_[static_cast<std::size_t>(i)]; }

 private:
  /// A box's middle for the second cut: its vertical extent shrunk by this share of its
  /// height on both sides.
  static constexpr double kMiddleShrink = 0.4;

  /// Bands from the boxes' vertical extents shrunk by `shrink` of their heights each side.
  std::vector<Set> split_bands_at(const Set& set, double shrink) const {
    auto top = [&](int i) { return box(i).y0 + shrink * box(i).height(); };
    auto bottom = [&](int i) { return box(i).y1 - shrink * box(i).height(); };
    Set sorted = set;
    std::sort(sorted.begin(), sorted.end(), [&](int a, int b) {
      return top(a) < top(b) || (top(a) == top(b) && box(a).x0 < box(b).x0);
    });
    std::vector<Set> bands(1);
    double reach = bottom(sorted[0]);
    for (int i : sorted) {
      if (top(i) > reach && !bands.back().empty()) bands.emplace_back();
      bands.back().push_back(i);
      reach = std::max(reach, bottom(i));
    }
    return bands;
  }

  /// Whether two boxes of `band` overlap horizontally by more than half the narrower.
  bool has_stacked_boxes(const Set& band) const {
    for (std::size_t a = 0; a < band.size(); ++a) {
      for (std::size_t b = a + 1; b < band.size(); ++b) {
        const Box& p = box(band[a]);
        const Box& q = box(band[b]);
        const double common = std::min(p.x1, q.x1) - std::max(p.x0, q.x0);
        if (common > 0.5 * std::min(p.width(), q.width())) return true;
      }
    }
    return false;
  }

  struct Extent {
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  };

  Extent extent(const Set& set) const {
    Extent e;
    for (int i : set) {
      e.x0 = std::min(e.x0, box(i).x0);
      e.x1 = std::max(e.x1, box(i).x1);
      e.y0 = std::min(e.y0, box(i).y0);
      e.y1 = std::max(e.y1, box(i).y1);
    }
    return e;
  }

  static double overlap(const Box& b, const Extent& e) {
    return std::max(0.0, std::min(b.x1, e.x1) - std::max(b.x0, e.x0));
  }

  bool has_columns(const Set& set) const {
    std::optional<Gutter> g = find_gutter(set);
    return g && g->crossers.empty();
  }

  /// Whether the two sides of a gutter stand beside each other: the rows their words
  /// cover overlap by at least one line height. Parts one above the other (an address
  /// block over a salutation on the other side of the page, as typewritten letters have)
  /// are not columns: a horizontal cut separates them, and they read top to bottom. On the
  /// development letters (../shared/data/ehri-typewritten) reading such parts as columns
  /// put the address after the recipient's.
  bool side_by_side(const Set& left, const Set& right) const {
    return row_overlap(word_rows(left), word_rows(right)) >= h_;
  }

  /// The rows covered by the boxes of `set` at least kMarkWidths line heights wide (by
  /// all of them when it has none), as sorted disjoint intervals. Rows, not the extent: a
  /// date between a reference number and a salutation on the other side of a letter
  /// stands beside neither. Words, not marks: a page number, a tick or a hole punch beside
  /// an address block does not make it stand beside the text under it. On two EHRI
  /// letters such parts were read as columns (105 and 86 errors; 13 and 56 read top to
  /// bottom; the whole set 4.03 -> 3.89 % CER, every other set the same).
  std::vector<std::pair<double, double>> word_rows(const Set& set) const {
    std::vector<std::pair<double, double>> rows;
    for (int i : set) {
      if (box(i).width() >= kMarkWidths * h_) rows.emplace_back(box(i).y0, box(i).y1);
    }
    if (rows.empty()) {
      for (int i : set) rows.emplace_back(box(i).y0, box(i).y1);
    }
    std::sort(rows.begin(), rows.end());
    std::vector<std::pair<double, double>> merged;
    for (const auto& r : rows) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    return merged;
  }

  /// The total length of the intersection of two sorted sets of disjoint intervals.
  static double row_overlap(const std::vector<std::pair<double, double>>& a,
                            const std::vector<std::pair<double, double>>& b) {
    double total = 0;
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      total += std::max(0.0, std::min(a[i].second, b[j].second) - std::max(a[i].first, b[j].first));
      if (a[i].second < b[j].second) {
        ++i;
      } else {
        ++j;
      }
    }
    return total;
  }

  bool is_prose(const Set& part) const {
    if (part.empty()) return false;
    std::vector<double> widths;
    widths.reserve(part.size());
    for (int i : part) widths.push_back(box(i).width());
    return median(widths) >= options_.column_min_width * h_;
  }

  /// The best vertical gutter of `set`: an x-interval at least `gutter` line heights wide,
  /// inside the text, that at most a tenth of the boxes cross, with prose
  /// entirely on both sides, side by side. Fewest crossers first, then the widest.
  std::optional<Gutter> find_gutter(const Set& set) const {
    if (set.size() < 2) return std::nullopt;
    std::vector<std::pair<double, int>> events;
    events.reserve(2 * set.size());
    for (int i : set) {
      events.emplace_back(box(i).x0, +1);
      events.emplace_back(box(i).x1, -1);
    }
    std::sort(events.begin(), events.end());
    // Coverage between consecutive distinct positions: cover[k] holds on [xs[k], xs[k+1]).
    std::vector<double> xs;
    std::vector<int> cover;
    int c = 0;
    for (std::size_t k = 0; k < events.size();) {
      const double x = events[k].first;
      while (k < events.size() && events[k].first == x) c += events[k++].second;
      xs.push_back(x);
      cover.push_back(c);
    }
    // A tenth of the boxes may cross (a heading, a caption); small sets allow none, or the
    // tolerance would swallow whole columns of one line.
    const int tolerance = static_cast<int>(set.size() / 10);
    // Runs of intervals inside the text where coverage stays at or below the tolerance are
    // candidates; within a run, the gutter line goes through the widest stretch of least
    // coverage.
    std::optional<Gutter> best;
    std::size_t best_cross = SIZE_MAX;
    double best_width = 0;
    const std::size_t last = xs.size() - 1;  // cover[last] is 0: past the last box
    for (std::size_t k = 1; k < last;) {
      if (cover[k] > tolerance) {
        ++k;
        continue;
      }
      std::size_t end = k;
      double low_start = xs[k], low_end = xs[k + 1];
      int low = cover[k];
      while (end < last && cover[end] <= tolerance) {
        const double w = xs[end + 1] - xs[end];
        if (cover[end] < low || (cover[end] == low && w > low_end - low_start)) {
          low = cover[end];
          low_start = xs[end];
          low_end = xs[end + 1];
        }
        ++end;
      }
      const double width = xs[end] - xs[k];
      k = end;
      if (end >= last || width < options_.gutter * h_) continue;  // a margin, or too narrow
      Gutter g;
      g.at = 0.5 * (low_start + low_end);
      for (int i : set) {
        if (box(i).x1 <= g.at) {
          g.left.push_back(i);
        } else if (box(i).x0 >= g.at) {
          g.right.push_back(i);
        } else {
          g.crossers.push_back(i);
        }
      }
      if (!is_prose(g.left) || !is_prose(g.right) || !side_by_side(g.left, g.right)) continue;
      if (g.crossers.size() < best_cross ||
          (g.crossers.size() == best_cross && width > best_width)) {
        best_cross = g.crossers.size();
        best_width = width;
        best = std::move(g);
      }
    }
    return best;
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
  // The median around the mean direction, so that a page read upside down (angles near
  // +-pi) does not average to 0.
  double sx = 0, sy = 0;
  for (double a : angles) {
    sx += std::cos(a);
    sy += std::sin(a);
  }
  const double mean = angles.empty() ? 0.0 : std::atan2(sy, sx);
  for (double& a : angles) a = std::remainder(a - mean, 2 * kPi);
  double angle = angles.empty() ? 0.0 : std::remainder(mean + median(angles), 2 * kPi);
  layout.skew_degrees = angle == 0.0 ? 0.0 : -angle * 180.0 / kPi;
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
