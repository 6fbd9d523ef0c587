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
// Fine sweep: steps of 1/kFineDivisions coarse step, kFineHalf of them on each side, and a
// least-squares parabola through the 2 * kFit + 1 scores around the best (a 3-point parabola
// follows the small ripples the cell grid leaves on the score).
constexpr int kFineDivisions = 8;
constexpr int kFineHalf = 10;
constexpr int kFit = 3;

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
  int rows = 0;                       // cells per strip
  std::ptrdiff_t lead = 0;            // words before a strip's first cell
  std::ptrdiff_t stride = 0;          // words per strip
  std::vector<std::uint32_t> pairs;   // count * stride
  std::vector<double> centre;         // strip centre relative to the page centre, pixels
  std::vector<std::int32_t> dither;   // constant extra shift, 1/64 cell row
  std::uint32_t max_cell_sum = 0;     // bound on one profile bin / 64

  std::uint32_t* column(int k) { return pairs.data() + k * stride + lead; }
  const std::uint32_t* column(int k) const { return pairs.data() + k * stride + lead; }
};

// A Strips with room for `count` strips of `rows` cells and shifts up to `pad` cell rows.
// Pairs index for bin b of a strip shifted by ipn whole cells is b + pad + 2 + ipn, with
// |ipn| <= pad + 1 (see ProfileScorer): room for pad + 2 cells before the data and after it.
Strips empty_strips(int count, int rows, int pad) {
  Strips s;
  s.count = count;
  s.lead = 2 * static_cast<std::ptrdiff_t>(pad) + 2;
  s.rows = rows;
  s.stride = (s.lead + rows + 2 * pad + 4 + 15) / 16 * 16;
  s.pairs.assign(static_cast<std::size_t>(count * s.stride), 0u);
  s.centre.resize(static_cast<std::size_t>(count));
  s.dither.resize(static_cast<std::size_t>(count));
  return s;
}

// Once the low halves hold the cell counts: makes each word the pair (cell i, cell i + 1),
// and sets the strip centres (strip k covers columns [k * columns, (k + 1) * columns)) and
// the score bound.
void finish_strips(Strips& s, int columns, int width) {
  for (int k = 0; k < s.count; ++k) {
    std::uint32_t* out = s.column(k);
    std::uint32_t top = 0;
    for (int i = -1; i < s.rows; ++i) {
      out[i] |= out[i + 1] << 16;  // the word before the first holds (0, cell 0)
      top = std::max(top, out[i + 1]);
    }
    s.max_cell_sum += top;
    const double x0 = static_cast<double>(columns) * k;
    const double x1 = std::min(static_cast<double>(columns) * (k + 1), static_cast<double>(width));
    s.centre[static_cast<std::size_t>(k)] = 0.5 * (x0 + x1) - 0.5 * width;
    // A fixed sub-cell offset per strip (golden-ratio sequence). Without it, at exactly 0
    // degrees every strip sits on whole cells and the profile is sharper than at any nearby
    // angle, where the interpolation blurs it: a false peak at 0. With it the blur is the
    // same at every angle.
    const double golden = 0.6180339887498949 * k;
    s.dither[static_cast<std::size_t>(k)] =
        static_cast<std::int32_t>((golden - std::floor(golden)) * kShiftOne);
  }
}

// One strip per column group: cells[b * groups + j] (ink in band b, group j) transposed into
// strip-major columns, a block of bands at a time so that reads and writes stay in cache.
Strips group_strips(const std::vector<std::uint16_t>& cells, int bands, int groups, int group,
                    int width, int pad) {
  Strips s = empty_strips(groups, bands, pad);
  constexpr int kBlock = 16;
  for (int b0 = 0; b0 < bands; b0 += kBlock) {
    const int b1 = std::min(bands, b0 + kBlock);
    for (int k = 0; k < groups; ++k) {
      std::uint32_t* out = s.column(k);
      for (int b = b0; b < b1; ++b) out[b] = cells[static_cast<std::size_t>(b) * groups + k];
    }
  }
  finish_strips(s, group, width);
  return s;
}

// Merges `across` neighbouring strips of `fine` and pairs of its cell rows into coarser strips.
Strips merged_strips(const Strips& fine, int across, int columns, int width, int pad) {
  Strips s = empty_strips((fine.count + across - 1) / across, (fine.rows + 1) / 2, pad);
  for (int k = 0; k < fine.count; ++k) {
    const std::uint32_t* in = fine.column(k);
    std::uint32_t* out = s.column(k / across);
    // Low halves are the cells; the high half of word i is cell i + 1 (0 past the last).
    for (int i = 0; i < s.rows; ++i) out[i] += (in[2 * i] & 0xFFFF) + (in[2 * i] >> 16);
  }
  finish_strips(s, columns, width);
  return s;
}

class ProfileScorer {
 public:
  ProfileScorer(const DeskewKernels& kern, const Strips& strips, int rows, int cell_rows, int pad)
      : kern_(kern),
        strips_(strips),
        cell_rows_(cell_rows),
        pad_(pad),
        length_(rows + 2 * pad),
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

// Vertex of the least-squares parabola through (x, y[x + kFit]) for x in [-kFit, kFit], in
// [-kFit, kFit]; 0 when the fit is not a maximum.
double fitted_vertex(const double* y) {
  double sy = 0.0;
  double sxy = 0.0;
  double sx2y = 0.0;
  double sx2 = 0.0;
  double sx4 = 0.0;
  for (int x = -kFit; x <= kFit; ++x) {
    const double v = y[x + kFit];
    sy += v;
    sxy += x * v;
    sx2y += x * x * v;
    sx2 += x * x;
    sx4 += x * x * x * x;
  }
  const double n = 2 * kFit + 1;
  const double b = sxy / sx2;
  const double a = (n * sx2y - sx2 * sy) / (n * sx4 - sx2 * sx2);
  if (!(a < 0.0)) return 0.0;
  return std::clamp(-b / (2.0 * a), static_cast<double>(-kFit), static_cast<double>(kFit));
}

// Interleaved pixels -> channel planes `plane` bytes apart, and back; C known at compile time
// so that the loops vectorise.
template <int C>
void split_row(const std::uint8_t* __restrict in, std::uint8_t* __restrict out,
               std::ptrdiff_t plane, int n) {
  for (int ch = 0; ch < C; ++ch) {
    std::uint8_t* __restrict o = out + ch * plane;
    for (int x = 0; x < n; ++x) o[x] = in[x * C + ch];
  }
}

template <int C>
void join_row(const std::uint8_t* __restrict in, std::ptrdiff_t plane,
              std::uint8_t* __restrict out, int n) {
  for (int x = 0; x < n; ++x) {
    for (int ch = 0; ch < C; ++ch) out[x * C + ch] = in[ch * plane + x];
  }
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
  // Cells: the fine sweep counts ink in bands of f rows (about 2048 bands on the long side:
  // 0.002-degree precision on an A4 page) and groups of 16 columns; the coarse sweep merges
  // them into cells of 2f rows and 32f columns, cheap to sweep over the whole range.
  const int f = std::clamp(static_cast<int>(std::lround(std::max(width, height) / 2048.0)), 1,
                           kernels::kMaxBandRows);
  const int coarse_rows = 2 * f;

  const Threshold th = page_threshold(image, order, 2 * coarse_rows);
  result.background = th.background;
  if (!th.usable) return result;

  const DeskewKernels kern = select_kernels();
  const int bands = (height + f - 1) / f;
  // Small pages (f = 1) count ink in groups of 4 columns, larger ones in groups of 16.
  const int group = f == 1 ? 4 : 16;
  const int groups = (width + group - 1) / group;
  std::vector<std::uint16_t> cells(static_cast<std::size_t>(bands) * groups);
  GrayRows gray(image, order, f);
  std::uint64_t ink = 0;
  for (int b = 0; b < bands; ++b) {
    const int y0 = b * f;
    const int y1 = std::min(height, y0 + f);
    const ImageView rows = gray.rows(y0, y1);
    std::uint16_t* out = cells.data() + static_cast<std::ptrdiff_t>(b) * groups;
    kern.ink_counts(rows.data, rows.stride, width, y1 - y0, th.t, group, out);
    for (int j = 0; j < groups; ++j) ink += out[j];
  }
  if (ink < kMinInk) return result;

  // Coarse step: the page's outermost column moves by one coarse cell row (1 degree at most).
  const double edge_step =
      std::atan(coarse_rows / std::max(0.5 * width, 1.0)) / kRadians;
  const int half_steps = std::clamp(
      static_cast<int>(std::ceil(options.max_angle / std::min(1.0, edge_step))), 1, 2000);
  const double step = options.max_angle / half_steps;
  const double reach = options.max_angle + 2.0 * step;  // the fine sweep may look a bit past
  const auto pad_for = [&](int cell_rows) {
    return static_cast<int>(std::ceil(0.5 * width * std::tan(reach * kRadians) / cell_rows)) + 2;
  };
  // Fine strips are one group (4 columns on small pages, 16 on larger ones): narrow enough
  // that a strip's own width blurs its cells by a few cell rows at most at the largest
  // angles. Coarse strips are 32f columns wide and 2 bands tall.
  const int coarse_pad = pad_for(coarse_rows);
  const int fine_pad = pad_for(f);
  const Strips fine = group_strips(cells, bands, groups, group, width, fine_pad);
  const Strips coarse = merged_strips(fine, 32 * f / group, 32 * f, width, coarse_pad);
  ProfileScorer coarse_score(kern, coarse, (bands + 1) / 2, coarse_rows, coarse_pad);
  ProfileScorer fine_score(kern, fine, bands, f, fine_pad);

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

  // Fine sweep around the coarse best; slide the window while its best is near an edge.
  const double fine_step = step / kFineDivisions;
  double centre = best_i * step;
  double scores[2 * kFineHalf + 1];
  int j_best = 0;
  for (int slide = 0; slide < 4; ++slide) {
    for (int j = -kFineHalf; j <= kFineHalf; ++j) {
      scores[j + kFineHalf] = static_cast<double>(fine_score(centre + j * fine_step));
    }
    j_best = static_cast<int>(std::max_element(scores, scores + 2 * kFineHalf + 1) - scores) -
             kFineHalf;
    if (std::abs(j_best) <= kFineHalf - kFit) break;
    const double next = centre + j_best * fine_step;
    if (std::abs(next) > options.max_angle) break;
    centre = next;
  }
  j_best = std::clamp(j_best, kFit - kFineHalf, kFineHalf - kFit);
  double alpha = centre + (j_best + fitted_vertex(scores + kFineHalf + j_best - kFit)) * fine_step;
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
  // Rounded half away from zero (as llround, without the library call per segment).
  const auto fixed = [&](double v) {
    const double w = std::clamp(v * kOne, -kLimit, kLimit);
    return w >= 0.0 ? static_cast<std::int32_t>(w + 0.5) : -static_cast<std::int32_t>(0.5 - w);
  };
  const std::int32_t ax = fixed(c);
  const std::int32_t ay = fixed(s);
  const int segments = (dst.width + kernels::kSegment - 1) / kernels::kSegment;
  std::vector<std::int32_t> ox(static_cast<std::size_t>(segments));
  std::vector<std::int32_t> oy(static_cast<std::size_t>(segments));
  // Destination (x, y) samples the source at centre_s + R(-angle) (x - cxd, y - cyd): the
  // inverse of a counter-clockwise turn on a y-down grid.
  const auto origins = [&](int y) {
    const double dy = y - cyd;
    for (int g = 0; g < segments; ++g) {
      const double dx = g * kernels::kSegment - cxd;
      ox[static_cast<std::size_t>(g)] = fixed(cxs + c * dx - s * dy);
      oy[static_cast<std::size_t>(g)] = fixed(cys + s * dx + c * dy);
    }
  };
  const DeskewKernels kern = select_kernels();
  const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(src.width) * src.height;
  // Gathers address a (plane of the) source with 32-bit offsets.
  const bool addressable = static_cast<double>(plane) + 4.0 < 2147483647.0;
  // Gray, and 4-channel pixels on AVX-512 (one pixel per 32-bit lane), run directly.
  const bool direct = src.channels == 1 ||
                      (src.channels == 4 && active_target() == SimdTarget::kAvx512);
  if (direct || kern.rotate_row == kernels::scalar::rotate_row || !addressable) {
    const double span = static_cast<double>(src.height - 1) * static_cast<double>(src.stride) +
                        static_cast<double>(src.row_bytes()) + 4.0;
    const auto row_fn = span < 2147483647.0 ? kern.rotate_row : kernels::scalar::rotate_row;
    for (int y = 0; y < dst.height; ++y) {
      origins(y);
      row_fn(src.data, src.stride, src.width, src.height, src.channels, dst.row(y), dst.width,
             ox.data(), oy.data(), ax, ay, border_value);
    }
    return;
  }
  // Colour: every channel is sampled with the same weights, so rotate channel planes with the
  // gray kernel and interleave the rows it produces (exactly the per-pixel reference).
  const int channels = src.channels;
  std::vector<std::uint8_t> planes(static_cast<std::size_t>(plane * channels));
  for (int y = 0; y < src.height; ++y) {
    std::uint8_t* out = planes.data() + static_cast<std::ptrdiff_t>(y) * src.width;
    if (channels == 3) {
      split_row<3>(src.row(y), out, plane, src.width);
    } else {
      split_row<4>(src.row(y), out, plane, src.width);
    }
  }
  std::vector<std::uint8_t> rows(static_cast<std::size_t>(dst.width) * channels);
  for (int y = 0; y < dst.height; ++y) {
    origins(y);
    for (int ch = 0; ch < channels; ++ch) {
      kern.rotate_row(planes.data() + ch * plane, src.width, src.width, src.height, 1,
                      rows.data() + static_cast<std::ptrdiff_t>(ch) * dst.width, dst.width,
                      ox.data(), oy.data(), ax, ay, border_value);
    }
    if (channels == 3) {
      join_row<3>(rows.data(), dst.width, dst.row(y), dst.width);
    } else {
      join_row<4>(rows.data(), dst.width, dst.row(y), dst.width);
    }
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
