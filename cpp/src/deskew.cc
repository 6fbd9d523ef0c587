// SPDX-License-Identifier: MIT
#include "ocrai/deskew.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/deskew_kernels.h"
#include "kernels/simd.h"
#include "ocrai/binarize.h"
#include "ocrai/cpu.h"

namespace ocrai {
namespace {

struct DeskewKernels {
  decltype(&kernels::scalar::rotate_row) rotate_row;
  decltype(&kernels::scalar::ink_counts) ink_counts;
  decltype(&kernels::scalar::profile_score) profile_score;
};

DeskewKernels select_kernels() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512:
      return {kernels::avx512::rotate_row, kernels::avx512::ink_counts,
              kernels::avx512::profile_score};
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2:
      return {kernels::avx2::rotate_row, kernels::avx2::ink_counts, kernels::avx2::profile_score};
#endif
    default:
      return {kernels::scalar::rotate_row, kernels::scalar::ink_counts,
              kernels::scalar::profile_score};
  }
}

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadians = kPi / 180.0;
// Ink and paper class means closer than this are no text: blank paper, noise, a flat photo.
constexpr double kMinContrast = 32.0;
// Fewer ink pixels than this (in the whole page) carry no line structure.
constexpr std::uint64_t kMinInk = 32;
// Subpixel shifts are counted in 1/64 of a cell row.
constexpr int kShiftBits = 6;
constexpr int kShiftOne = 1 << kShiftBits;
// Fine sweep: kFineSteps per coarse step on each side of the coarse best.
constexpr int kFineSteps = 8;

// Gray rows of the page: the image itself, or colour rows converted a band at a time.
class GrayRows {
 public:
  GrayRows(const ImageView& image, ColorOrder order, int band)
      : image_(image), order_(order) {
    if (image.channels != 1) buffer_ = Image(image.width, band, 1);
  }
  // Rows [y0, y1) as a gray view, valid until the next call.
  ImageView rows(int y0, int y1) {
    if (image_.channels == 1) return image_.rows(y0, y1);
    const MutableImageView out = buffer_.mutable_view().rows(0, y1 - y0);
    to_gray_u8(image_.rows(y0, y1), order_, out);
    return out;
  }

 private:
  ImageView image_;
  ColorOrder order_;
  Image buffer_;
};

// Ink counts of a page in cells, grouped into vertical strips, stored the way profile_score
// reads them: for each strip, a zero-padded column of cell counts c, as 32-bit words holding
// the 16-bit pair (c[j], c[j + 1]) so that one madd interpolates between two cells.
struct Strips {
  int count = 0;
  std::ptrdiff_t stride = 0;          // words per strip
  std::vector<std::uint32_t> pairs;   // count * stride
  std::vector<double> centre;         // strip centre relative to the page centre, pixels
  std::vector<std::int32_t> dither;   // constant extra shift, 1/64 cell row
  std::uint32_t max_cell_sum = 0;     // bound on one profile bin / 64
};

// cells[b * quads + j]: ink in band b, columns [4j, 4j + 4). Strips are `per_strip` quads wide.
Strips make_strips(const std::vector<std::uint16_t>& cells, int bands, int quads, int width,
                   int per_strip, int pad) {
  Strips s;
  s.count = (quads + per_strip - 1) / per_strip;
  // Pairs index for bin b of a strip shifted by ipn whole cells is b + pad + 2 + ipn, with
  // |ipn| <= pad + 1 (see score_at): room for pad + 2 cells before the data and after it.
  const std::ptrdiff_t lead = 2 * static_cast<std::ptrdiff_t>(pad) + 2;
  s.stride = (lead + bands + 2 * pad + 4 + 15) / 16 * 16;
  s.pairs.assign(static_cast<std::size_t>(s.count * s.stride), 0u);
  s.centre.resize(static_cast<std::size_t>(s.count));
  s.dither.resize(static_cast<std::size_t>(s.count));
  std::vector<std::uint32_t> column(static_cast<std::size_t>(bands) + 1, 0u);
  for (int k = 0; k < s.count; ++k) {
    const int j0 = k * per_strip;
    const int j1 = std::min(quads, j0 + per_strip);
    std::uint32_t strip_max = 0;
    for (int b = 0; b < bands; ++b) {
      std::uint32_t c = 0;
      const std::uint16_t* row = cells.data() + static_cast<std::ptrdiff_t>(b) * quads;
      for (int j = j0; j < j1; ++j) c += row[j];
      column[static_cast<std::size_t>(b)] = c;
      strip_max = std::max(strip_max, c);
    }
    column[static_cast<std::size_t>(bands)] = 0;
    std::uint32_t* out = s.pairs.data() + k * s.stride + lead;
    out[-1] = column[0] << 16;  // the pair that ends with the first cell
    for (int b = 0; b < bands; ++b) {
      out[b] = column[static_cast<std::size_t>(b)] |
               (column[static_cast<std::size_t>(b) + 1] << 16);
    }
    s.max_cell_sum += strip_max;
    const double x0 = 4.0 * j0;
    const double x1 = std::min(4.0 * j1, static_cast<double>(width));
    s.centre[static_cast<std::size_t>(k)] = 0.5 * (x0 + x1) - 0.5 * width;
    // A fixed sub-cell offset per strip (golden-ratio sequence). Without it, at exactly 0
    // degrees every strip sits on whole cells and the profile is sharper than at any nearby
    // angle, where the interpolation blurs it: a false peak at 0. With it the blur is the
    // same at every angle.
    const double golden = 0.6180339887498949 * k;
    s.dither[static_cast<std::size_t>(k)] =
        static_cast<std::int32_t>((golden - std::floor(golden)) * kShiftOne);
  }
  return s;
}

class ProfileScorer {
 public:
  ProfileScorer(const DeskewKernels& kern, const Strips& strips, int bands, int cell_rows, int pad)
      : kern_(kern),
        strips_(strips),
        cell_rows_(cell_rows),
        pad_(pad),
        length_(bands + 2 * pad),
        offsets_(static_cast<std::size_t>(strips.count)),
        weights_(static_cast<std::size_t>(strips.count)) {
    // profile values are at most 64 * max_cell_sum; shift them so that length * value^2 fits
    // in 64 bits (exactly the same integers on every target).
    const double top = 64.0 * strips.max_cell_sum;
    while (static_cast<double>(length_) * std::ldexp(top, -shift_) * std::ldexp(top, -shift_) >=
           9.0e18) {
      ++shift_;
    }
  }

  // Sharpness of the projection at `degrees` (text rotated by `degrees` counter-clockwise
  // would be horizontal in it).
  std::uint64_t operator()(double degrees) {
    const double slope = std::tan(degrees * kRadians) / cell_rows_;  // cell rows per pixel
    for (int k = 0; k < strips_.count; ++k) {
      const auto i = static_cast<std::size_t>(k);
      // This strip's cells land `shift` cell rows lower; bin b reads cell b - pad - shift.
      const std::int64_t q =
          std::llround(strips_.centre[i] * slope * kShiftOne) + strips_.dither[i];
      const std::int64_t ipn = (-q) >> kShiftBits;  // floor(-shift)
      const auto fr = static_cast<std::uint32_t>((-q) & (kShiftOne - 1));
      offsets_[i] = static_cast<std::int32_t>(pad_ + 2 + ipn);
      weights_[i] = (kShiftOne - fr) | (fr << 16);
    }
    return kern_.profile_score(strips_.pairs.data(), strips_.stride, strips_.count,
                               offsets_.data(), weights_.data(), length_, shift_);
  }

 private:
  const DeskewKernels& kern_;
  const Strips& strips_;
  int cell_rows_;
  int pad_;
  int length_;
  int shift_ = 0;
  std::vector<std::int32_t> offsets_;
  std::vector<std::uint32_t> weights_;
};

struct Threshold {
  int t = 0;
  double contrast = 0.0;
  int background = 255;
  bool usable = false;
};

// Otsu's threshold of a sample of rows (every `step`-th), with the class means.
Threshold page_threshold(const ImageView& image, ColorOrder order, int step) {
  const int rows = (image.height + step - 1) / step;
  const ImageView sampled{image.data, image.width, rows, image.channels, image.stride * step};
  Histogram h{};
  if (image.channels == 1) {
    h = histogram_u8(sampled);
  } else {
    Image gray(image.width, rows, 1);
    to_gray_u8(sampled, order, gray.mutable_view());
    h = histogram_u8(gray.view());
  }
  Threshold r;
  r.t = otsu_threshold(h);
  std::uint64_t n0 = 0;
  std::uint64_t n1 = 0;
  double s0 = 0.0;
  double s1 = 0.0;
  for (int v = 0; v < 256; ++v) {
    const auto c = static_cast<double>(h[static_cast<std::size_t>(v)]);
    if (v <= r.t) {
      n0 += h[static_cast<std::size_t>(v)];
      s0 += v * c;
    } else {
      n1 += h[static_cast<std::size_t>(v)];
      s1 += v * c;
    }
  }
  const double m0 = n0 > 0 ? s0 / static_cast<double>(n0) : 0.0;
  const double m1 = n1 > 0 ? s1 / static_cast<double>(n1) : m0;
  r.background = static_cast<int>(std::lround(n1 > 0 ? m1 : m0));
  r.contrast = m1 - m0;
  r.usable = n0 > 0 && n1 > 0 && r.contrast >= kMinContrast;
  return r;
}

// Parabola vertex through (-1, a), (0, b), (1, c) when b is a strict local maximum, in [-0.5, 0.5].
double vertex(double a, double b, double c) {
  const double den = a - 2.0 * b + c;
  if (!(den < 0.0)) return 0.0;
  return std::clamp(0.5 * (a - c) / den, -0.5, 0.5);
}

}  // namespace

SkewEstimate estimate_skew_u8(const ImageView& image, ColorOrder order,
                              const SkewOptions& options) {
  validate_image(image, "estimate_skew_u8 image");
  if (!(options.max_angle > 0.0 && options.max_angle <= 45.0)) {
    throw std::invalid_argument("estimate_skew_u8: max_angle must be in (0, 45] degrees, got " +
                                std::to_string(options.max_angle));
  }
  SkewEstimate result;
  if (image.empty()) return result;
  const int width = image.width;
  const int height = image.height;
  // Cell rows: about 1024 bands on the long side, enough for 0.1 degree on an A4 page and
  // cheap to sweep; counts per cell stay small enough for 16-bit pairs (16 f^2 < 2^15).
  const int f = std::clamp(static_cast<int>(std::lround(std::max(width, height) / 1024.0)), 1, 32);

  const Threshold th = page_threshold(image, order, 2 * f);
  result.background = th.background;
  if (!th.usable) return result;

  const DeskewKernels kern = select_kernels();
  const int bands = (height + f - 1) / f;
  const int quads = (width + 3) / 4;
  std::vector<std::uint16_t> cells(static_cast<std::size_t>(bands) * quads);
  GrayRows gray(image, order, f);
  std::uint64_t ink = 0;
  for (int b = 0; b < bands; ++b) {
    const int y0 = b * f;
    const int y1 = std::min(height, y0 + f);
    const ImageView rows = gray.rows(y0, y1);
    std::uint16_t* out = cells.data() + static_cast<std::ptrdiff_t>(b) * quads;
    kern.ink_counts(rows.data, rows.stride, width, y1 - y0, th.t, out);
    for (int j = 0; j < quads; ++j) ink += out[j];
  }
  if (ink < kMinInk) return result;

  // Coarse step: the page's outermost column moves by one cell row (or 1 degree at most).
  const double edge_step = std::atan(f / std::max(0.5 * width, 1.0)) / kRadians;
  const int half_steps =
      std::clamp(static_cast<int>(std::ceil(options.max_angle / std::min(1.0, edge_step))), 1, 2000);
  const double step = options.max_angle / half_steps;
  const double reach = options.max_angle + 2.0 * step;  // the fine sweep may look a bit past
  const int pad =
      static_cast<int>(std::ceil(0.5 * width * std::tan(reach * kRadians) / f)) + 2;

  // Coarse strips 16f pixels wide; fine strips 4f pixels wide, where the blur from a strip's
  // own width (4f tan(angle)) stays under a cell row.
  const Strips coarse = make_strips(cells, bands, quads, width, 4 * f, pad);
  const Strips fine = make_strips(cells, bands, quads, width, f, pad);
  ProfileScorer coarse_score(kern, coarse, bands, f, pad);
  ProfileScorer fine_score(kern, fine, bands, f, pad);

  std::uint64_t best = 0;
  std::uint64_t worst = std::numeric_limits<std::uint64_t>::max();
  int best_i = -half_steps;
  for (int i = -half_steps; i <= half_steps; ++i) {
    const std::uint64_t s = coarse_score(i * step);
    if (s > best) {
      best = s;
      best_i = i;
    }
    worst = std::min(worst, s);
  }
  if (best == 0 || best == worst) return result;  // no angle stands out
  result.confidence = 1.0 - static_cast<double>(worst) / static_cast<double>(best);

  // Fine sweep around the coarse best; slide the window if its best lands on an edge.
  const double fine_step = step / kFineSteps;
  double centre = best_i * step;
  std::uint64_t scores[2 * kFineSteps + 1];
  int j_best = 0;
  for (int slide = 0; slide < 4; ++slide) {
    for (int j = -kFineSteps; j <= kFineSteps; ++j) {
      scores[j + kFineSteps] = fine_score(centre + j * fine_step);
    }
    j_best = static_cast<int>(std::max_element(scores, scores + 2 * kFineSteps + 1) - scores) -
             kFineSteps;
    if (std::abs(j_best) < kFineSteps) break;
    const double next = centre + j_best * fine_step;
    if (std::abs(next) > options.max_angle) break;
    centre = next;
  }
  double alpha = centre + j_best * fine_step;
  if (std::abs(j_best) < kFineSteps) {
    const auto at = [&](int j) { return static_cast<double>(scores[j + kFineSteps]); };
    alpha += vertex(at(j_best - 1), at(j_best), at(j_best + 1)) * fine_step;
  }
  alpha = std::clamp(alpha, -options.max_angle, options.max_angle);
  // The sweep finds how far the text is turned; the correction turns it back.
  result.angle = 0.0 - alpha;
  return result;
}

ImageSize rotated_size(int width, int height, double angle_degrees, bool expand) {
  if (width < 0 || height < 0) {
    throw std::invalid_argument("rotated_size: negative size " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
  if (!std::isfinite(angle_degrees)) {
    throw std::invalid_argument("rotated_size: angle must be finite");
  }
  if (!expand || width == 0 || height == 0) return {width, height};
  const double c = std::abs(std::cos(angle_degrees * kRadians));
  const double s = std::abs(std::sin(angle_degrees * kRadians));
  // The small slack keeps 90-degree turns and round-off from growing the canvas by a pixel.
  const double w = std::ceil(width * c + height * s - 1e-6);
  const double h = std::ceil(width * s + height * c - 1e-6);
  if (w > (1 << 28) || h > (1 << 28)) {
    throw std::invalid_argument("rotated_size: rotated image too large");
  }
  return {std::max(1, static_cast<int>(w)), std::max(1, static_cast<int>(h))};
}

void rotate_u8(const ImageView& src, const MutableImageView& dst, double angle_degrees,
               int border_value) {
  validate_image(src, "rotate_u8 source");
  validate_image(dst, "rotate_u8 destination");
  if (src.channels != dst.channels) {
    throw std::invalid_argument("rotate_u8: source has " + std::to_string(src.channels) +
                                " channels but destination has " + std::to_string(dst.channels));
  }
  if (!std::isfinite(angle_degrees)) {
    throw std::invalid_argument("rotate_u8: angle must be finite");
  }
  if (border_value < 0 || border_value > 255) {
    throw std::invalid_argument("rotate_u8: border value must be in [0, 255], got " +
                                std::to_string(border_value));
  }
  if (dst.empty()) return;
  if (!src.empty()) {
    const std::uint8_t* s_end = src.row(src.height - 1) + src.row_bytes();
    const std::uint8_t* d_end = dst.row(dst.height - 1) + dst.row_bytes();
    if (src.data < d_end && dst.data < s_end) {
      throw std::invalid_argument("rotate_u8: destination overlaps the source");
    }
  }
  if (src.empty()) {
    for (int y = 0; y < dst.height; ++y) std::memset(dst.row(y), border_value, dst.row_bytes());
    return;
  }
  const double c = std::cos(angle_degrees * kRadians);
  const double s = std::sin(angle_degrees * kRadians);
  const double cxs = 0.5 * (src.width - 1);
  const double cys = 0.5 * (src.height - 1);
  const double cxd = 0.5 * (dst.width - 1);
  const double cyd = 0.5 * (dst.height - 1);
  constexpr double kOne = 1 << kernels::kCoordBits;
  constexpr double kLimit = 1 << 30;  // far outside any source; keeps origin + 63 steps in int32
  const auto fixed = [&](double v) {
    return static_cast<std::int32_t>(std::llround(std::clamp(v * kOne, -kLimit, kLimit)));
  };
  const std::int32_t ax = fixed(c);
  const std::int32_t ay = fixed(s);
  // Gathers address the source with 32-bit offsets; larger sources use the scalar reference.
  const double span = static_cast<double>(src.height - 1) * static_cast<double>(src.stride) +
                      static_cast<double>(src.row_bytes()) + 4.0;
  const auto row_fn = span < 2147483647.0 ? select_kernels().rotate_row : kernels::scalar::rotate_row;
  const int segments = (dst.width + kernels::kSegment - 1) / kernels::kSegment;
  std::vector<std::int32_t> ox(static_cast<std::size_t>(segments));
  std::vector<std::int32_t> oy(static_cast<std::size_t>(segments));
  for (int y = 0; y < dst.height; ++y) {
    // Destination (x, y) samples the source at centre_s + R(-angle) (x - cxd, y - cyd): the
    // inverse of a counter-clockwise turn on a y-down grid.
    const double dy = y - cyd;
    for (int g = 0; g < segments; ++g) {
      const double dx = g * kernels::kSegment - cxd;
      ox[static_cast<std::size_t>(g)] = fixed(cxs + c * dx - s * dy);
      oy[static_cast<std::size_t>(g)] = fixed(cys + s * dx + c * dy);
    }
    row_fn(src.data, src.stride, src.width, src.height, src.channels, dst.row(y), dst.width,
           ox.data(), oy.data(), ax, ay, border_value);
  }
}

Image rotate_u8(const ImageView& src, double angle_degrees, int border_value, bool expand) {
  validate_image(src, "rotate_u8 source");
  const ImageSize size = rotated_size(src.width, src.height, angle_degrees, expand);
  Image out(size.width, size.height, src.channels);
  rotate_u8(src, out.mutable_view(), angle_degrees, border_value);
  return out;
}

Image deskew_u8(const ImageView& image, ColorOrder order, const DeskewOptions& options,
                SkewEstimate* estimate) {
  if (options.border_value < -1 || options.border_value > 255) {
    throw std::invalid_argument("deskew_u8: border value must be in [0, 255] or -1 (paper), got " +
                                std::to_string(options.border_value));
  }
  const SkewEstimate e = estimate_skew_u8(image, order, options.skew);
  if (estimate != nullptr) *estimate = e;
  const bool turn = e.angle != 0.0 && e.confidence >= options.min_confidence;
  const double angle = turn ? e.angle : 0.0;
  const int border = options.border_value >= 0 ? options.border_value : e.background;
  return rotate_u8(image, angle, border, options.expand && turn);
}

}  // namespace ocrai
