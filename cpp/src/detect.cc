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
  if (!(options.thresh >= 0 && options.thresh < 1) || !(options.box_thresh >= 0) ||
      !(options.unclip_ratio >= 0) || !(options.min_size >= 0) || options.max_candidates < 1) {
    throw std::invalid_argument("db_postprocess: thresh must be in [0, 1), box_thresh, "
                                "unclip_ratio and min_size >= 0, max_candidates >= 1");
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
