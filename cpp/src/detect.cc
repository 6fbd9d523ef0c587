// SPDX-License-Identifier: MIT
#include "ocrai/detect.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ocrai {
namespace {

double cross(const Point& o, const Point& a, const Point& b) {
  return (static_cast<double>(a.x) - o.x) * (static_cast<double>(b.y) - o.y) -
         (static_cast<double>(a.y) - o.y) * (static_cast<double>(b.x) - o.x);
}

/// Union-find over region labels, with path halving.
struct DisjointSets {
  std::vector<int> parent;
  int add() {
    parent.push_back(static_cast<int>(parent.size()));
    return parent.back();
  }
  int find(int a) {
    while (parent[static_cast<std::size_t>(a)] != a) {
      auto& p = parent[static_cast<std::size_t>(a)];
      p = parent[static_cast<std::size_t>(p)];
      a = p;
    }
    return a;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    // The smaller label is the root, so a region's root is its first run in scan order.
    if (a < b) std::swap(a, b);
    parent[static_cast<std::size_t>(a)] = b;
  }
};

/// A horizontal run of text pixels [x0, x1] in row y.
struct Run {
  int y, x0, x1, label;
};

/// split_joined_lines: a row is empty when it holds at most this share of the fuller of
/// the two lines beside it (their fullest rows). On EHRI's EN_03 page the rows where margin
/// handwriting joined two typed lines held 1-2 % of the lines' rows, and a stroke hanging
/// from a line held 1-2 % of it too; the first and last rows of a line's kernel held 25 %
/// or more. The lines' fullest rows must be at least kJoinedLineShare of the region's
/// fullest (a short last line of a paragraph counts; a speck does not).
constexpr double kEmptyRowShare = 0.1;
constexpr double kJoinedLineShare = 0.25;
/// A piece is a line when its rows at least half as full as its fullest row are at least
/// this many, and its fullest row is longer than three times their number (a column of
/// vertical text is not; it is never cut).
constexpr int kMinLineRows = 3;

/// How many of rows [begin, end) of a region's row profile are at least half as full as the
/// fullest of them (a line's height in rows), and that fullest row's length.
std::pair<int, std::int64_t> full_rows(const std::vector<std::int64_t>& count, int begin,
                                       int end) {
  const std::int64_t fullest = *std::max_element(count.begin() + begin, count.begin() + end);
  const auto full = std::count_if(count.begin() + begin, count.begin() + end,
                                  [&](std::int64_t c) { return 2 * c >= fullest; });
  return {static_cast<int>(full), fullest};
}

/// Whether rows [begin, end) of a region's row profile look like one horizontal line.
bool line_like_rows(const std::vector<std::int64_t>& count, int begin, int end) {
  const auto [full, fullest] = full_rows(count, begin, end);
  return full >= kMinLineRows && fullest > 3 * full;
}

/// The ends of the lines in rows [first, last] of a region's row profile (`peak`: its
/// fullest row): for each gap between two lines (rows at most kEmptyRowShare of the lines
/// beside them, lines at least kJoinedLineShare of the peak), the row after its emptiest
/// row. The last line's end (last + 1) is not among them.
std::vector<int> gap_ends(const std::vector<std::int64_t>& count, int first, int last,
                          double peak) {
  auto at = [&](int y) { return static_cast<double>(count[static_cast<std::size_t>(y)]); };
  // above[y]: the fullest row from `first` to before y; below[y]: after y up to `last`.
  std::vector<double> above(count.size(), 0), below(count.size(), 0);
  for (int y = first + 1; y <= last; ++y) {
    const auto u = static_cast<std::size_t>(y);
    above[u] = std::max(above[u - 1], at(y - 1));
  }
  for (int y = last - 1; y >= first; --y) {
    const auto u = static_cast<std::size_t>(y);
    below[u] = std::max(below[u + 1], at(y + 1));
  }
  auto empty = [&](int y) {
    const auto u = static_cast<std::size_t>(y);
    const double sides = std::min(above[u], below[u]);
    return sides >= kJoinedLineShare * peak && at(y) <= kEmptyRowShare * sides;
  };
  std::vector<int> ends;
  for (int y = first; y <= last;) {
    if (!empty(y)) {
      ++y;
      continue;
    }
    int cut = y;
    for (; y <= last && empty(y); ++y) {
      if (at(y) < at(cut)) cut = y;
    }
    ends.push_back(cut + 1);
  }
  return ends;
}

/// How many pixels of each row of `region` (indices into `runs`, in row order) are text,
/// from its first row on.
std::vector<std::int64_t> row_profile(const std::vector<Run>& runs,
                                      const std::vector<std::size_t>& region) {
  const int y0 = runs[region.front()].y;
  std::vector<std::int64_t> count(static_cast<std::size_t>(runs[region.back()].y - y0 + 1), 0);
  for (std::size_t i : region) {
    count[static_cast<std::size_t>(runs[i].y - y0)] += runs[i].x1 - runs[i].x0 + 1;
  }
  return count;
}

/// The rows of a region's lines, as split_joined_lines finds them: rows [first, last] hold
/// the lines, and line k ends before ends[k] (the last end is last + 1).
struct LineRows {
  int first = 0, last = 0;
  std::vector<int> ends;
};

/// Rows [first, last] of the profile without its empty leading and trailing rows (at most
/// kEmptyRowShare of the fullest row), cut into lines at the gaps between them (gap_ends).
LineRows find_line_rows(const std::vector<std::int64_t>& count) {
  const auto peak = static_cast<double>(*std::max_element(count.begin(), count.end()));
  auto at = [&](int y) { return static_cast<double>(count[static_cast<std::size_t>(y)]); };
  LineRows lines;
  lines.last = static_cast<int>(count.size()) - 1;
  while (at(lines.first) <= kEmptyRowShare * peak) ++lines.first;
  while (at(lines.last) <= kEmptyRowShare * peak) --lines.last;
  lines.ends = gap_ends(count, lines.first, lines.last, peak);
  lines.ends.push_back(lines.last + 1);
  return lines;
}

/// Gives the first and last lines back their thin outer rows, unless those rows are a
/// stroke at least half as tall as the line (and kMinLineRows): the thin rows of a line's
/// own ascenders and descenders stay (leaving them out too changed half the boxes of a
/// tesseract page in fast mode, and its reading order).
void keep_all_but_strokes(const std::vector<std::int64_t>& count, LineRows& lines) {
  const int rows = static_cast<int>(count.size());
  auto stroke = [&](int tail_rows, int line_begin, int line_end) {
    const int line_rows = full_rows(count, line_begin, line_end).first;
    return tail_rows >= std::max(kMinLineRows, (line_rows + 1) / 2);
  };
  std::vector<int>& ends = lines.ends;
  if (!stroke(lines.first, lines.first, ends.front())) lines.first = 0;
  const int last_begin = ends.size() > 1 ? ends[ends.size() - 2] : lines.first;
  if (!stroke(rows - 1 - lines.last, last_begin, lines.last + 1)) {
    lines.last = rows - 1;
    ends.back() = rows;
  }
}

/// `region` (indices into `runs`, in row order) as the lines it holds. A mark touching a
/// line makes one region of what the threshold sees, and one box whose least-area
/// rectangle leans to take the mark in:
/// - two lines joined by a mark (handwriting in the margin, a stroke across the gap) are
///   cut at the emptiest row between them; read as one box, one of them was lost;
/// - the rows of a stroke hanging from a line (or standing on it), at least half as tall
///   as the line, are left out; on EHRI's EN_03 page one tilted a line's rectangle until
///   its mean probability fell under box_thresh, and the line (66 characters) was lost.
/// Rows count as empty by kEmptyRowShare. The region stays whole unless every piece looks
/// like a line (line_like_rows), so a column of vertical text or a tall heading is never
/// cut.
std::vector<std::vector<std::size_t>> split_joined_lines(const std::vector<Run>& runs,
                                                         const std::vector<std::size_t>& region) {
  const std::vector<std::int64_t> count = row_profile(runs, region);
  const int rows = static_cast<int>(count.size());
  if (rows < kMinLineRows + 1) return {region};
  LineRows lines = find_line_rows(count);
  int begin = lines.first;
  for (int end : lines.ends) {
    if (!line_like_rows(count, begin, end)) return {region};
    begin = end;
  }
  keep_all_but_strokes(count, lines);
  if (lines.ends.size() == 1 && lines.first == 0 && lines.last == rows - 1) return {region};
  const int y0 = runs[region.front()].y;
  std::vector<std::vector<std::size_t>> pieces(lines.ends.size());
  std::size_t piece = 0;
  for (std::size_t i : region) {
    const int y = runs[i].y - y0;
    if (y < lines.first || y > lines.last) continue;
    while (y >= lines.ends[piece]) ++piece;
    pieces[piece].push_back(i);
  }
  return pieces;
}

/// Mean of the map over the pixels whose centres lie in `r` (within the valid region).
double box_score(const float* prob, std::ptrdiff_t stride, int valid_w, int valid_h,
                 const RotatedRect& r) {
  const Quad c = r.corners();
  double minx = c[0].x, maxx = c[0].x, miny = c[0].y, maxy = c[0].y;
  for (const Point& p : c) {
    minx = std::min<double>(minx, p.x);
    maxx = std::max<double>(maxx, p.x);
    miny = std::min<double>(miny, p.y);
    maxy = std::max<double>(maxy, p.y);
  }
  // Pixel i's centre i + 0.5 lies in [minx, maxx] for i in [ceil(minx - 0.5), floor(maxx - 0.5)].
  const int x0 = std::max(0, static_cast<int>(std::ceil(minx - 0.5)));
  const int x1 = std::min(valid_w - 1, static_cast<int>(std::floor(maxx - 0.5)));
  const int y0 = std::max(0, static_cast<int>(std::ceil(miny - 0.5)));
  const int y1 = std::min(valid_h - 1, static_cast<int>(std::floor(maxy - 0.5)));
  const double hw = 0.5 * r.width + 1e-6, hh = 0.5 * r.height + 1e-6;
  const double vx = -r.uy, vy = r.ux;
  double sum = 0.0;
  std::int64_t count = 0;
  for (int y = y0; y <= y1; ++y) {
    const float* row = prob + static_cast<std::ptrdiff_t>(y) * stride;
    const double dy = y + 0.5 - r.cy;
    for (int x = x0; x <= x1; ++x) {
      const double dx = x + 0.5 - r.cx;
      if (std::abs(dx * r.ux + dy * r.uy) <= hw && std::abs(dx * vx + dy * vy) <= hh) {
        sum += row[x];
        ++count;
      }
    }
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

}  // namespace

Quad RotatedRect::corners() const {
  const double vx = -uy, vy = ux;
  const double a = 0.5 * width, b = 0.5 * height;
  auto pt = [&](double su, double sv) {
    return Point{static_cast<float>(cx + su * a * ux + sv * b * vx),
                 static_cast<float>(cy + su * a * uy + sv * b * vy)};
  };
  return {pt(-1, -1), pt(1, -1), pt(1, 1), pt(-1, 1)};
}

std::vector<Point> convex_hull(std::vector<Point> points) {
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return a.x < b.x || (a.x == b.x && a.y < b.y);
  });
  points.erase(std::unique(points.begin(), points.end(),
                           [](const Point& a, const Point& b) { return a.x == b.x && a.y == b.y; }),
               points.end());
  if (points.size() < 3) return points;
  // With y down, keeping strict left turns (cross > 0) in the y-up sense walks clockwise on
  // the image: lower chain (small y first... as seen with y up), then the upper chain back.
  std::vector<Point> hull(2 * points.size());
  std::size_t k = 0;
  for (const Point& p : points) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], p) <= 0) --k;
    hull[k++] = p;
  }
  for (std::size_t i = points.size() - 1, lower = k + 1; i-- > 0;) {
    const Point& p = points[i];
    while (k >= lower && cross(hull[k - 2], hull[k - 1], p) <= 0) --k;
    hull[k++] = p;
  }
  hull.resize(k - 1);
  return hull;
}

RotatedRect min_area_rect(const std::vector<Point>& hull) {
  if (hull.empty()) throw std::invalid_argument("min_area_rect: no point");
  RotatedRect best;
  best.cx = hull[0].x;
  best.cy = hull[0].y;
  if (hull.size() == 1) return best;
  double best_area = -1.0;
  const std::size_t n = hull.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Point& a = hull[i];
    const Point& b = hull[(i + 1) % n];
    double ux = static_cast<double>(b.x) - a.x, uy = static_cast<double>(b.y) - a.y;
    const double len = std::hypot(ux, uy);
    if (len == 0.0) continue;
    ux /= len;
    uy /= len;
    const double vx = -uy, vy = ux;
    double umin = 0, umax = 0, vmin = 0, vmax = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double dx = static_cast<double>(hull[j].x) - a.x;
      const double dy = static_cast<double>(hull[j].y) - a.y;
      const double pu = dx * ux + dy * uy, pv = dx * vx + dy * vy;
      umin = std::min(umin, pu);
      umax = std::max(umax, pu);
      vmin = std::min(vmin, pv);
      vmax = std::max(vmax, pv);
    }
    const double area = (umax - umin) * (vmax - vmin);
    if (best_area < 0 || area < best_area * (1.0 - 1e-9)) {
      best_area = area;
      const double mu = 0.5 * (umin + umax), mv = 0.5 * (vmin + vmax);
      best.cx = a.x + mu * ux + mv * vx;
      best.cy = a.y + mu * uy + mv * vy;
      best.ux = ux;
      best.uy = uy;
      best.width = umax - umin;
      best.height = vmax - vmin;
    }
  }
  return best;
}

Quad order_quad(const Quad& corners) {
  double cx = 0, cy = 0;
  for (const Point& p : corners) {
    cx += p.x;
    cy += p.y;
  }
  cx /= 4;
  cy /= 4;
  std::array<int, 4> idx{0, 1, 2, 3};
  // With y down, increasing atan2(dy, dx) turns clockwise on the image.
  std::array<double, 4> angle{};
  for (int i = 0; i < 4; ++i) {
    angle[static_cast<std::size_t>(i)] =
        std::atan2(corners[static_cast<std::size_t>(i)].y - cy,
                   corners[static_cast<std::size_t>(i)].x - cx);
  }
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    return angle[static_cast<std::size_t>(a)] < angle[static_cast<std::size_t>(b)];
  });
  Quad ordered;
  for (std::size_t i = 0; i < 4; ++i) ordered[i] = corners[static_cast<std::size_t>(idx[i])];
  // Start at the corner whose outgoing edge points most nearly to +x.
  std::size_t start = 0;
  double best_dir = -2.0, best_len = -1.0;
  for (std::size_t i = 0; i < 4; ++i) {
    const Point& a = ordered[i];
    const Point& b = ordered[(i + 1) % 4];
    const double dx = static_cast<double>(b.x) - a.x, dy = static_cast<double>(b.y) - a.y;
    const double len = std::hypot(dx, dy);
    const double dir = len > 0 ? dx / len : -2.0;
    if (dir > best_dir + 1e-9 || (std::abs(dir - best_dir) <= 1e-9 && len > best_len)) {
      best_dir = dir;
      best_len = len;
      start = i;
    }
  }
  Quad out;
  for (std::size_t i = 0; i < 4; ++i) out[i] = ordered[(start + i) % 4];
  return out;
}

std::vector<TextBox> db_postprocess(const float* prob, int width, int height,
                                    std::ptrdiff_t stride, int valid_width, int valid_height,
                                    int page_width, int page_height, const DbOptions& options,
                                    DbStats* stats) {
  if (width < 0 || height < 0 || stride < width || valid_width < 0 || valid_height < 0 ||
      valid_width > width || valid_height > height) {
    throw std::invalid_argument("db_postprocess: the valid region must lie in the map (map " +
                                std::to_string(width) + "x" + std::to_string(height) +
                                ", valid " + std::to_string(valid_width) + "x" +
                                std::to_string(valid_height) + ")");
  }
  if (valid_width > 0 && valid_height > 0 && (page_width < 1 || page_height < 1)) {
    throw std::invalid_argument("db_postprocess: the page must have at least one pixel");
  }
  // unclip_ratio is bounded: a huge one grows boxes past what a double holds (NaN corners).
  if (!(options.thresh >= 0 && options.thresh < 1) || !(options.box_thresh >= 0) ||
      !(options.unclip_ratio >= 0 && options.unclip_ratio <= kMaxUnclipRatio) ||
      !(options.min_size >= 0) || options.max_candidates < 1) {
    throw std::invalid_argument("db_postprocess: thresh must be in [0, 1), unclip_ratio in "
                                "[0, 100], box_thresh and min_size >= 0, max_candidates >= 1");
  }
  if (stats != nullptr) *stats = DbStats{};
  std::vector<TextBox> boxes;
  if (valid_width == 0 || valid_height == 0) return boxes;
  if (prob == nullptr) throw std::invalid_argument("db_postprocess: null map");

  // 1. Runs of text pixels, joined into 8-connected regions.
  std::vector<Run> runs;
  DisjointSets sets;
  std::size_t prev_begin = 0, prev_end = 0;  // the previous row's runs
  for (int y = 0; y < valid_height; ++y) {
    const float* row = prob + static_cast<std::ptrdiff_t>(y) * stride;
    const std::size_t row_begin = runs.size();
    std::size_t p = prev_begin;
    for (int x = 0; x < valid_width;) {
      if (!(row[x] > options.thresh)) {
        ++x;
        continue;
      }
      const int x0 = x;
      while (x < valid_width && row[x] > options.thresh) ++x;
      Run run{y, x0, x - 1, -1};
      // Runs of the previous row touching [x0 - 1, x1 + 1] (8-connectivity).
      while (p < prev_end && runs[p].x1 < x0 - 1) ++p;
      for (std::size_t q = p; q < prev_end && runs[q].x0 <= run.x1 + 1; ++q) {
        if (run.label < 0) {
          run.label = sets.find(runs[q].label);
        } else {
          sets.unite(run.label, runs[q].label);
        }
      }
      if (run.label < 0) run.label = sets.add();
      runs.push_back(run);
    }
    prev_begin = row_begin;
    prev_end = runs.size();
  }

  // 2. Group the runs by region; regions are numbered by their first run.
  std::vector<int> region_of(sets.parent.size(), -1);
  std::vector<std::vector<std::size_t>> regions;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const int root = sets.find(runs[i].label);
    int& r = region_of[static_cast<std::size_t>(root)];
    if (r < 0) {
      r = static_cast<int>(regions.size());
      regions.emplace_back();
    }
    regions[static_cast<std::size_t>(r)].push_back(i);
  }
  if (options.split_joined_lines) {
    std::vector<std::vector<std::size_t>> pieces;
    for (const auto& region : regions) {
      for (auto& piece : split_joined_lines(runs, region)) pieces.push_back(std::move(piece));
    }
    regions = std::move(pieces);
  }
  std::vector<std::size_t> keep(regions.size());
  std::iota(keep.begin(), keep.end(), std::size_t{0});
  if (regions.size() > static_cast<std::size_t>(options.max_candidates)) {
    std::vector<std::int64_t> area(regions.size(), 0);
    for (std::size_t r = 0; r < regions.size(); ++r) {
      for (std::size_t i : regions[r]) area[r] += runs[i].x1 - runs[i].x0 + 1;
    }
    std::stable_sort(keep.begin(), keep.end(),
                     [&](std::size_t a, std::size_t b) { return area[a] > area[b]; });
    keep.resize(static_cast<std::size_t>(options.max_candidates));
    std::sort(keep.begin(), keep.end());
  }

  if (stats != nullptr) stats->regions = static_cast<int>(regions.size());
  int dropped = 0;
  const double sx = static_cast<double>(page_width) / valid_width;
  const double sy = static_cast<double>(page_height) / valid_height;
  std::vector<Point> points;
  for (std::size_t r : keep) {
    // 3. The hull of the region's pixel squares: the outer corners of each run suffice.
    points.clear();
    for (std::size_t i : regions[r]) {
      const Run& run = runs[i];
      const auto xa = static_cast<float>(run.x0), xb = static_cast<float>(run.x1 + 1);
      const auto ya = static_cast<float>(run.y), yb = static_cast<float>(run.y + 1);
      points.insert(points.end(), {{xa, ya}, {xb, ya}, {xa, yb}, {xb, yb}});
    }
    const RotatedRect rect = min_area_rect(convex_hull(points));
    if (std::min(rect.width, rect.height) < options.min_size) {
      ++dropped;
      continue;
    }
    const double score = box_score(prob, stride, valid_width, valid_height, rect);
    if (score < options.box_thresh) {
      ++dropped;
      continue;
    }
    // 4. Unclip. Offsetting a rectangle by d and taking the least-area rectangle around the
    // rounded result gives the rectangle grown by d on every side.
    RotatedRect grown = rect;
    const double perimeter = 2.0 * (rect.width + rect.height);
    const double d = rect.width * rect.height * options.unclip_ratio / perimeter;
    grown.width += 2 * d;
    grown.height += 2 * d;
    if (std::min(grown.width, grown.height) < options.min_size + 2) {
      ++dropped;
      continue;
    }
    // 5. Page coordinates.
    Quad q = grown.corners();
    for (Point& p : q) {
      p.x = static_cast<float>(std::clamp(p.x * sx, 0.0, static_cast<double>(page_width)));
      p.y = static_cast<float>(std::clamp(p.y * sy, 0.0, static_cast<double>(page_height)));
    }
    boxes.push_back({order_quad(q), static_cast<float>(score)});
  }
  if (stats != nullptr) stats->dropped = dropped;
  return boxes;
}

}  // namespace ocrai
