// SPDX-License-Identifier: MIT
#include "ocrai/resize.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/resize_kernels.h"
#include "kernels/simd.h"
#include "ocrai/cpu.h"

namespace ocrai {
namespace {

using kernels::AxisTaps;

// Sizes up to 2^24 keep every intermediate below in int64 (products stay under 2^63).
constexpr int kMaxSide = 1 << 24;

using ResizeRows = void (*)(const ImageView&, const MutableImageView&, const AxisTaps&,
                            const AxisTaps&, int, int);

ResizeRows select_resize_rows() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512: return kernels::avx512::resize_rows;
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2: return kernels::avx2::resize_rows;
#endif
    default: return kernels::scalar::resize_rows;
  }
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {  // b > 0
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Bilinear taps along one axis. The centre of output i maps to source position
// ((2i + 1) * src - dst) / (2 * dst), rounded to the nearest 1/2^bits (halves up) with exact
// integer arithmetic, then clamped into [0, src - 1]. The two taps are floor(pos) and the next
// pixel; at the last pixel the pair is moved one to the left with the whole weight on the
// right tap, so both taps are always inside the image (SIMD code may load them as a pair).
AxisTaps bilinear_taps(int src, int dst, int bits) {
  const std::int64_t one = std::int64_t{1} << bits;
  AxisTaps t;
  t.taps = src > 1 ? 2 : 1;
  t.start.resize(static_cast<std::size_t>(dst));
  t.weight.resize(static_cast<std::size_t>(dst) * static_cast<std::size_t>(t.taps));
  for (int i = 0; i < dst; ++i) {
    if (src == 1) {
      t.start[static_cast<std::size_t>(i)] = 0;
      t.weight[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(one);
      continue;
    }
    // pos = floor((q * one + dst) / (2 * dst)) with q = (2i + 1) * src - dst, split as
    // q = a * 2dst + r so that no product exceeds int64.
    const std::int64_t q = (2 * std::int64_t{i} + 1) * src - dst;
    const std::int64_t a = floor_div(q, 2 * std::int64_t{dst});
    const std::int64_t r = q - a * 2 * dst;
    std::int64_t pos = a * one + floor_div(r * one + dst, 2 * std::int64_t{dst});
    pos = std::clamp<std::int64_t>(pos, 0, (src - 1) * one);
    const std::int64_t i0 = std::min<std::int64_t>(pos >> bits, src - 2);
    const std::int64_t f = pos - i0 * one;
    t.start[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i0);
    t.weight[2 * static_cast<std::size_t>(i)] = static_cast<std::int32_t>(one - f);
    t.weight[2 * static_cast<std::size_t>(i) + 1] = static_cast<std::int32_t>(f);
  }
  return t;
}

// Area taps along one axis. In units of 1/dst source pixels, output i covers
// [i * src, (i + 1) * src) and source pixel j covers [j * dst, (j + 1) * dst), so every
// overlap is an exact integer and the exact weight of pixel j is overlap * 2^bits / src.
// Weights are rounded by largest remainder: each one is the floor of its exact value, and the
// units still missing from 2^bits go one each to the largest remainders (ties to the left).
// The sum is exactly 2^bits and no weight is off by a whole unit, even when shrinking so much
// that every exact weight is below one unit.
AxisTaps area_taps(int src, int dst, int bits) {
  const std::int64_t one = std::int64_t{1} << bits;
  AxisTaps t;
  int taps = 1;
  for (int i = 0; i < dst; ++i) {
    const std::int64_t lo = std::int64_t{i} * src;
    const std::int64_t hi = lo + src;
    const auto count = static_cast<int>((hi - 1) / dst - lo / dst + 1);
    taps = std::max(taps, count);
  }
  t.taps = taps;
  t.start.resize(static_cast<std::size_t>(dst));
  t.weight.assign(static_cast<std::size_t>(dst) * static_cast<std::size_t>(taps), 0);
  std::vector<std::int64_t> remainder(static_cast<std::size_t>(taps));
  std::vector<int> order(static_cast<std::size_t>(taps));
  for (int i = 0; i < dst; ++i) {
    const std::int64_t lo = std::int64_t{i} * src;
    const std::int64_t hi = lo + src;
    const std::int64_t j0 = lo / dst;
    const std::int64_t j1 = (hi - 1) / dst;
    // Keep all `taps` positions inside the image: near the right edge the window starts
    // earlier and its first weights are zero.
    const std::int64_t start = std::min<std::int64_t>(j0, src - taps);
    std::int32_t* w = &t.weight[static_cast<std::size_t>(i) * static_cast<std::size_t>(taps)];
    std::int64_t sum = 0;
    std::fill(remainder.begin(), remainder.end(), -1);  // below any real remainder
    for (std::int64_t j = j0; j <= j1; ++j) {
      const std::int64_t overlap = std::min(hi, (j + 1) * dst) - std::max(lo, j * dst);
      const auto slot = static_cast<std::size_t>(j - start);
      w[slot] = static_cast<std::int32_t>(overlap * one / src);
      remainder[slot] = overlap * one % src;
      sum += w[slot];
    }
    for (int k = 0; k < taps; ++k) order[static_cast<std::size_t>(k)] = k;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return remainder[static_cast<std::size_t>(a)] > remainder[static_cast<std::size_t>(b)];
    });
    for (std::int64_t k = 0; k < one - sum; ++k) ++w[order[static_cast<std::size_t>(k)]];
    t.start[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(start);
  }
  return t;
}

void check_resize(const ImageView& src, const MutableImageView& dst, const char* name) {
  validate_image(src, (std::string(name) + " source").c_str());
  validate_image(dst, (std::string(name) + " destination").c_str());
  if (src.channels != dst.channels) {
    throw std::invalid_argument(std::string(name) + ": source has " +
                                std::to_string(src.channels) + " channels, destination " +
                                std::to_string(dst.channels));
  }
  if (src.empty() && !dst.empty()) {
    throw std::invalid_argument(std::string(name) + ": cannot resize an empty " +
                                std::to_string(src.width) + "x" + std::to_string(src.height) +
                                " image to " + std::to_string(dst.width) + "x" +
                                std::to_string(dst.height));
  }
  if (src.width > kMaxSide || src.height > kMaxSide || dst.width > kMaxSide ||
      dst.height > kMaxSide) {
    throw std::invalid_argument(std::string(name) + ": sides above " + std::to_string(kMaxSide) +
                                " pixels are not supported");
  }
}

// Equal sizes: every weight is a whole 2^bits on one pixel, so the filters are exact copies.
bool copy_if_same_size(const ImageView& src, const MutableImageView& dst) {
  if (src.width != dst.width || src.height != dst.height) return false;
  for (int y = 0; y < src.height; ++y) std::memcpy(dst.row(y), src.row(y), src.row_bytes());
  return true;
}

void run(const ImageView& src, const MutableImageView& dst, const AxisTaps& xt,
         const AxisTaps& yt) {
  select_resize_rows()(src, dst, xt, yt, 0, dst.height);
}

}  // namespace

void resize_bilinear_u8(const ImageView& src, const MutableImageView& dst) {
  check_resize(src, dst, "resize_bilinear_u8");
  if (dst.empty() || copy_if_same_size(src, dst)) return;
  run(src, dst, bilinear_taps(src.width, dst.width, kResizeBitsX),
      bilinear_taps(src.height, dst.height, kResizeBitsY));
}

void resize_area_u8(const ImageView& src, const MutableImageView& dst) {
  check_resize(src, dst, "resize_area_u8");
  if (dst.empty() || copy_if_same_size(src, dst)) return;
  run(src, dst, area_taps(src.width, dst.width, kResizeBitsX),
      area_taps(src.height, dst.height, kResizeBitsY));
}

void resize_u8(const ImageView& src, const MutableImageView& dst, ResizeMode mode) {
  if (mode == ResizeMode::kAuto) {
    const bool shrinks = dst.width <= src.width && dst.height <= src.height &&
                         (dst.width < src.width || dst.height < src.height);
    mode = shrinks ? ResizeMode::kArea : ResizeMode::kBilinear;
  }
  if (mode == ResizeMode::kArea) {
    resize_area_u8(src, dst);
  } else {
    resize_bilinear_u8(src, dst);
  }
}

}  // namespace ocrai
