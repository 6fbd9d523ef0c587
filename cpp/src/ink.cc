// SPDX-License-Identifier: MIT
// One pass over plain bytes, bounded by memory rather than arithmetic, and cut short on
// both sides of every row that has ink: there is no SIMD version.
#include "ocrai/ink.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>


namespace ocrai {
namespace {

using Colour = std::array<int, 4>;

/// Calls visit(x, y) once for each pixel of the outermost rows and columns.
template <typename Visit>
void for_each_border_pixel(const ImageView& image, Visit visit) {
  for (int x = 0; x < image.width; ++x) {
    visit(x, 0);
    if (image.height > 1) visit(x, image.height - 1);
  }
  for (int y = 1; y + 1 < image.height; ++y) {
    visit(0, y);
    if (image.width > 1) visit(image.width - 1, y);
  }
}

/// Per-channel median of the outermost rows and columns.
Colour border_median(const ImageView& image, std::size_t* count) {
  const int c = image.channels;
  std::array<std::array<std::uint32_t, 256>, 4> hist{};
  std::size_t n = 0;
  for_each_border_pixel(image, [&](int x, int y) {
    const std::uint8_t* p = image.row(y) + static_cast<std::ptrdiff_t>(x) * c;
    for (int k = 0; k < c; ++k) ++hist[static_cast<std::size_t>(k)][p[k]];
    ++n;
  });
  Colour median{};
  for (int k = 0; k < c; ++k) {
    std::size_t seen = 0;
    int v = 0;
    while (v < 255 && (seen += hist[static_cast<std::size_t>(k)][static_cast<std::size_t>(v)]) <
                          (n + 1) / 2) {
      ++v;
    }
    median[static_cast<std::size_t>(k)] = v;
  }
  *count = n;
  return median;
}

}  // namespace

PixelRect ink_bounds(const ImageView& image, int tolerance, int give_up_height) {
  validate_image(image, "image");
  if (tolerance < 0 || tolerance > 255) {
    throw std::invalid_argument("ink_bounds: tolerance must be in [0, 255], got " +
                                std::to_string(tolerance));
  }
  if (give_up_height < 0) {
    throw std::invalid_argument("ink_bounds: give_up_height must be >= 0, got " +
                                std::to_string(give_up_height));
  }
  const PixelRect whole{0, 0, image.width, image.height};
  if (image.empty()) return {};
  const int c = image.channels;
  std::size_t border = 0;
  const Colour bg = border_median(image, &border);
  auto is_ink = [&](const std::uint8_t* p) {
    for (int k = 0; k < c; ++k) {
      if (std::abs(p[k] - bg[static_cast<std::size_t>(k)]) > tolerance) return true;
    }
    return false;
  };
  // A plain background: nearly all of the border has its colour.
  std::size_t plain = 0;
  for_each_border_pixel(image, [&](int x, int y) {
    plain += is_ink(image.row(y) + static_cast<std::ptrdiff_t>(x) * c) ? 0 : 1;
  });
  if (static_cast<double>(plain) < kPlainBorderShare * static_cast<double>(border)) return whole;

  auto first_ink = [&](int y, int from, int to) {  // first ink column in [from, to), or to
    const std::uint8_t* row = image.row(y);
    for (int x = from; x < to; ++x) {
      if (is_ink(row + static_cast<std::ptrdiff_t>(x) * c)) return x;
    }
    return to;
  };
  auto last_ink = [&](int y, int from, int to) {  // last ink column in [from, to), or from - 1
    const std::uint8_t* row = image.row(y);
    for (int x = to - 1; x >= from; --x) {
      if (is_ink(row + static_cast<std::ptrdiff_t>(x) * c)) return x;
    }
    return from - 1;
  };
  // The first and last rows with ink, then each row between only where it could widen the box.
  int y0 = 0;
  int x0 = image.width;
  while (y0 < image.height && (x0 = first_ink(y0, 0, image.width)) == image.width) ++y0;
  if (y0 == image.height) return {};
  int y1 = image.height - 1;
  int x1 = last_ink(y0, x0, image.width);
  while (y1 > y0 && first_ink(y1, 0, image.width) == image.width) --y1;
  if (give_up_height > 0 && y1 + 1 - y0 >= give_up_height) return whole;
  for (int y = y0 + 1; y <= y1; ++y) {
    x0 = first_ink(y, 0, x0);
    const int right = last_ink(y, x1 + 1, image.width);
    if (right > x1) x1 = right;
  }
  return {x0, y0, x1 + 1, y1 + 1};
}

}  // namespace ocrai
