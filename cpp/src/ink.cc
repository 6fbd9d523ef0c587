// SPDX-License-Identifier: MIT
// One pass over plain bytes, bounded by memory rather than arithmetic, and cut short on
// both sides of every row that has ink: there is no SIMD version.
#include "ocrai/ink.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

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

/// Tells ink from background: a pixel is ink when some channel differs from the border's
/// median by more than the tolerance.
class InkTest {
 public:
  InkTest(const ImageView& image, int tolerance)
      : image_(image), tolerance_(tolerance), background_(border_median(image, &border_)) {}

  bool operator()(const std::uint8_t* p) const {
    for (int k = 0; k < image_.channels; ++k) {
      if (std::abs(p[k] - background_[static_cast<std::size_t>(k)]) > tolerance_) return true;
    }
    return false;
  }

  /// A plain background: nearly all of the border has its colour (kPlainBorderShare).
  bool plain() const {
    std::size_t background = 0;
    for_each_border_pixel(image_, [&](int x, int y) {
      const std::uint8_t* p = image_.row(y) + static_cast<std::ptrdiff_t>(x) * image_.channels;
      background += (*this)(p) ? 0 : 1;
    });
    return static_cast<double>(background) >= kPlainBorderShare * static_cast<double>(border_);
  }

 private:
  const ImageView& image_;
  int tolerance_;
  std::size_t border_ = 0;
  Colour background_;
};

void check_tolerance(const char* who, int tolerance) {
  if (tolerance < 0 || tolerance > 255) {
    throw std::invalid_argument(std::string(who) + ": tolerance must be in [0, 255], got " +
                                std::to_string(tolerance));
  }
}

/// The smallest rectangle around the ink of a non-empty image on a plain background (ink_bounds
/// without its checks); the whole image when the ink spans give_up_height rows (0: never).
PixelRect scan_ink(const ImageView& image, const InkTest& is_ink, int give_up_height) {
  const PixelRect whole{0, 0, image.width, image.height};
  const int c = image.channels;

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

}  // namespace

PixelRect ink_bounds(const ImageView& image, int tolerance, int give_up_height) {
  validate_image(image, "image");
  check_tolerance("ink_bounds", tolerance);
  if (give_up_height < 0) {
    throw std::invalid_argument("ink_bounds: give_up_height must be >= 0, got " +
                                std::to_string(give_up_height));
  }
  if (image.empty()) return {};
  const InkTest is_ink(image, tolerance);
  if (!is_ink.plain()) return {0, 0, image.width, image.height};
  return scan_ink(image, is_ink, give_up_height);
}

// lone_text_line's limits were set on rendered lines in the six languages and on lines cut
// out of the development pages (../shared/data: every SROIE, EHRI and FoNDUE page, a third of
// their lines) with a margin of 0.3 of their height: of those 2,757 cut-outs it took 471 as
// one line, and they read about as well without the detector as with it (errors without /
// with: SROIE 965 / 960 on 4,407 characters, EHRI 10 / 11, FoNDUE 3 / 3; with a margin of
// 0.6, 176 taken: SROIE 270 / 296). The rest went to the detector, most for a background that
// is not plain or ink cut at the border (a neighbour's). Each limit sends one kind of image
// the detector must answer (tests/test_ink.py): a block of lines (straight: a valley in the
// core; skewed by 4 degrees, no row empty: short strokes), fields apart, a skewed line, a
// framed or underlined field, a vertical line.
PixelRect lone_text_line(const ImageView& image, int tolerance) {
  validate_image(image, "image");
  check_tolerance("lone_text_line", tolerance);
  if (image.empty()) return {};
  const InkTest is_ink(image, tolerance);
  if (!is_ink.plain()) return {};
  const PixelRect ink = scan_ink(image, is_ink, 0);
  // No margin on some side: the image is cut through its text.
  if (ink.empty() || ink.x0 == 0 || ink.y0 == 0 || ink.x1 == image.width ||
      ink.y1 == image.height) {
    return {};
  }
  const int h = ink.height(), w = ink.width();
  if (h < kLoneLineMinHeight || w < kLoneLineMinAspect * h) return {};

  // One pass over the ink's rectangle: ink per row (all of it, its left and right thirds)
  // and each column's longest vertical run of ink (0: none).
  const int c = image.channels;
  const int third = w / 3;
  const auto wi = static_cast<std::size_t>(w);
  std::vector<int> row_ink(static_cast<std::size_t>(h)), left_ink(row_ink), right_ink(row_ink);
  std::vector<int> run(wi), longest_run(wi);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* row = image.row(ink.y0 + y) + static_cast<std::ptrdiff_t>(ink.x0) * c;
    const auto yi = static_cast<std::size_t>(y);
    for (int x = 0; x < w; ++x) {
      const auto xi = static_cast<std::size_t>(x);
      if (!is_ink(row + static_cast<std::ptrdiff_t>(x) * c)) {
        run[xi] = 0;
        continue;
      }
      longest_run[xi] = std::max(longest_run[xi], ++run[xi]);
      ++row_ink[yi];
      if (x < third) ++left_ink[yi];
      if (x >= w - third) ++right_ink[yi];
    }
  }

  // Every row has ink, none across (nearly) all of it, and the core (from the first to the
  // last full row: the letters' bodies) has no valley, where two lines would meet.
  int fullest = 0;
  for (const int n : row_ink) {
    if (n == 0 || n > kLoneLineMaxRowShare * w) return {};
    fullest = std::max(fullest, n);
  }
  int first = 0, last = h - 1;
  while (row_ink[static_cast<std::size_t>(first)] < kLoneLineCoreShare * fullest) ++first;
  while (row_ink[static_cast<std::size_t>(last)] < kLoneLineCoreShare * fullest) --last;
  for (int y = first; y <= last; ++y) {
    if (row_ink[static_cast<std::size_t>(y)] < kLoneLineValleyShare * fullest) return {};
  }
  if (h > kLoneLineMaxCoreRatio * (last - first + 1)) return {};

  // No gap between its inks wider than the line is tall.
  int gap = 0, widest = 0;
  for (const int longest : longest_run) {
    gap = longest > 0 ? 0 : gap + 1;
    widest = std::max(widest, gap);
  }
  if (widest > kLoneLineMaxGap * h) return {};

  // Strokes as tall as one line is: the 90th percentile of the columns' longest runs.
  std::vector<int> strokes;
  strokes.reserve(wi);
  for (const int longest : longest_run) {
    if (longest > 0) strokes.push_back(longest);
  }
  const auto tall = strokes.begin() + static_cast<std::ptrdiff_t>(strokes.size() * 9 / 10);
  std::nth_element(strokes.begin(), tall, strokes.end());
  if (*tall < kLoneLineMinStroke * h) return {};

  // The same centre row at both ends.
  auto centre_row = [](const std::vector<int>& counts) {
    double n = 0, sum = 0;
    for (std::size_t y = 0; y < counts.size(); ++y) {
      n += counts[y];
      sum += static_cast<double>(y) * counts[y];
    }
    return n > 0 ? sum / n : -1.0;
  };
  const double left = centre_row(left_ink), right = centre_row(right_ink);
  if (left < 0 || right < 0 || std::abs(left - right) > kLoneLineMaxDrift * h) return {};
  return ink;
}

}  // namespace ocrai
