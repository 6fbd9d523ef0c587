// SPDX-License-Identifier: MIT
#include "ocrai/crop.h"

#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/crop_kernels.h"
#include "kernels/simd.h"
#include "ocrai/cpu.h"

namespace ocrai {
namespace {

using kernels::CropMap;

// Keeps (side - 1) * 128 and every fixed-point position within int.
constexpr int kMaxSide = (1 << 23) - 1;

using CropRows = void (*)(const ImageView&, const MutableImageView&, const CropMap&, int, int);

CropRows select_crop_rows() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512: return kernels::avx512::crop_rows;
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2: return kernels::avx2::crop_rows;
#endif
    default: return kernels::scalar::crop_rows;
  }
}

double length(const Point& a, const Point& b) {
  return std::hypot(static_cast<double>(b.x) - a.x, static_cast<double>(b.y) - a.y);
}

// The map from destination indices (x, y) to source index coordinates. The unit square maps
// to the quad by the projective transform through its corners (the classic closed form:
// affine when the quad is a parallelogram, otherwise with the denominator g u + h v + 1).
// Destination index x has its centre at u = (x + 0.5) / width and a source position X has
// index coordinate X - 0.5; both offsets are folded into the coefficients in double.
CropMap make_map(const Quad& q, int width, int height) {
  const double x0 = q[0].x, y0 = q[0].y, x1 = q[1].x, y1 = q[1].y;
  const double x2 = q[2].x, y2 = q[2].y, x3 = q[3].x, y3 = q[3].y;
  const double sx = x0 - x1 + x2 - x3;
  const double sy = y0 - y1 + y2 - y3;
  double a, b, c = x0, d, e, f = y0, g = 0.0, h = 0.0;
  // Detected boxes are mostly rotated rectangles whose float corners miss a parallelogram by
  // rounding only; the affine map then saves a division per pixel and is as exact.
  const bool affine = std::abs(sx) <= 1e-3 && std::abs(sy) <= 1e-3;
  if (affine) {
    a = x1 - x0;
    b = x3 - x0;
    d = y1 - y0;
    e = y3 - y0;
  } else {
    const double dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
    const double den = dx1 * dy2 - dx2 * dy1;  // non-zero for a strictly convex quad
    g = (sx * dy2 - dx2 * sy) / den;
    h = (dx1 * sy - sx * dy1) / den;
    a = x1 - x0 + g * x1;
    b = x3 - x0 + h * x3;
    d = y1 - y0 + g * y1;
    e = y3 - y0 + h * y3;
  }
  // Source index coordinates over the denominator: (X - 0.5 W, Y - 0.5 W, W).
  const double rows[3][3] = {{a - 0.5 * g, b - 0.5 * h, c - 0.5},
                             {d - 0.5 * g, e - 0.5 * h, f - 0.5},
                             {g, h, 1.0}};
  CropMap map;
  for (int r = 0; r < 3; ++r) {
    const double cu = rows[r][0] / width;   // per destination index x
    const double cv = rows[r][1] / height;  // per destination index y
    map.m[3 * r + 0] = static_cast<float>(cu);
    map.m[3 * r + 1] = static_cast<float>(cv);
    map.m[3 * r + 2] = static_cast<float>(rows[r][2] + 0.5 * cu + 0.5 * cv);
  }
  map.perspective = !affine;
  return map;
}

}  // namespace

int rectified_width(const Quad& quad, int height, int max_width) {
  validate_quad(quad, "rectified_width");
  if (height < 1) {
    throw std::invalid_argument("rectified_width: height must be at least 1, got " +
                                std::to_string(height));
  }
  const double along = length(quad[0], quad[1]) + length(quad[3], quad[2]);
  const double across = length(quad[0], quad[3]) + length(quad[1], quad[2]);
  double width = std::round(height * along / across);
  if (max_width > 0 && width > max_width) width = max_width;
  if (width < 1.0) width = 1.0;
  if (width > INT_MAX) {
    throw std::invalid_argument("rectified_width: the width for height " +
                                std::to_string(height) + " exceeds int; pass max_width");
  }
  return static_cast<int>(width);
}

void crop_quad_u8(const ImageView& src, const Quad& quad, const MutableImageView& dst,
                  BorderMode border, std::uint8_t border_value) {
  validate_image(src, "crop_quad_u8 source");
  validate_image(dst, "crop_quad_u8 destination");
  validate_quad(quad, "crop_quad_u8");
  if (src.channels != dst.channels) {
    throw std::invalid_argument("crop_quad_u8: source has " + std::to_string(src.channels) +
                                " channels, destination " + std::to_string(dst.channels));
  }
  if (dst.empty()) return;
  if (src.empty()) {
    throw std::invalid_argument("crop_quad_u8: cannot crop from an empty " +
                                std::to_string(src.width) + "x" + std::to_string(src.height) +
                                " image");
  }
  if (src.width > kMaxSide || src.height > kMaxSide) {
    throw std::invalid_argument("crop_quad_u8: source sides above " + std::to_string(kMaxSide) +
                                " pixels are not supported");
  }
  CropMap map = make_map(quad, dst.width, dst.height);
  map.border = border;
  map.border_value = border_value;
  select_crop_rows()(src, dst, map, 0, dst.height);
}

}  // namespace ocrai
