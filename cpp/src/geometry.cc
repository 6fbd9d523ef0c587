// SPDX-License-Identifier: MIT
#include "ocrai/geometry.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace ocrai {
namespace {

std::string describe(const Quad& q) {
  std::string s = "[";
  for (int k = 0; k < 4; ++k) {
    s += "(" + std::to_string(q[static_cast<std::size_t>(k)].x) + ", " +
         std::to_string(q[static_cast<std::size_t>(k)].y) + ")";
    if (k < 3) s += ", ";
  }
  return s + "]";
}

}  // namespace

double quad_signed_area2(const Quad& quad) {
  double sum = 0.0;
  for (std::size_t k = 0; k < 4; ++k) {
    const Point& a = quad[k];
    const Point& b = quad[(k + 1) % 4];
    sum += static_cast<double>(a.x) * b.y - static_cast<double>(b.x) * a.y;
  }
  return sum;
}

void validate_quad(const Quad& quad, const char* what) {
  for (const Point& p : quad) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      throw std::invalid_argument(std::string(what) + ": non-finite coordinate in " +
                                  describe(quad));
    }
  }
  // Turn at each corner: the cross product of the edges into and out of it. Clockwise on the
  // image (y down) makes every turn positive; a zero turn means three collinear corners or a
  // repeated corner, and mixed signs a concave or self-intersecting outline. The tolerance is
  // relative (sine of the turn angle), so it does not depend on the quad's size.
  int positive = 0;
  int negative = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const Point& a = quad[k];
    const Point& b = quad[(k + 1) % 4];
    const Point& c = quad[(k + 2) % 4];
    const double ex = static_cast<double>(b.x) - a.x, ey = static_cast<double>(b.y) - a.y;
    const double fx = static_cast<double>(c.x) - b.x, fy = static_cast<double>(c.y) - b.y;
    const double cross = ex * fy - ey * fx;
    const double scale = std::hypot(ex, ey) * std::hypot(fx, fy);
    if (!(std::abs(cross) > 1e-6 * scale)) {
      throw std::invalid_argument(std::string(what) + ": degenerate quad " + describe(quad) +
                                  " (repeated or collinear corners, zero area)");
    }
    (cross > 0 ? positive : negative)++;
  }
  if (negative == 4) {
    throw std::invalid_argument(std::string(what) + ": quad " + describe(quad) +
                                " runs counter-clockwise; give the corners clockwise on the image "
                                "(y down) from the top-left: top-left, top-right, bottom-right, "
                                "bottom-left");
  }
  if (negative != 0) {
    throw std::invalid_argument(std::string(what) + ": quad " + describe(quad) +
                                " is not convex (concave or self-intersecting)");
  }
}

}  // namespace ocrai
