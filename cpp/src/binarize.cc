// SPDX-License-Identifier: MIT
#include "ocrai/binarize.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/binarize_kernels.h"
#include "kernels/simd.h"
#include "ocrai/cpu.h"

namespace ocrai {
namespace {

struct BinarizeKernels {
  decltype(&kernels::scalar::histogram) histogram;
  decltype(&kernels::scalar::threshold_row) threshold_row;
  decltype(&kernels::scalar::window_step) window_step;
  decltype(&kernels::scalar::sauvola_row) sauvola_row;
  decltype(&kernels::scalar::adaptive_mean_row) adaptive_mean_row;
};

BinarizeKernels select_kernels() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512:
      return {kernels::avx512::histogram, kernels::avx512::threshold_row,
              kernels::avx512::window_step, kernels::avx512::sauvola_row,
              kernels::avx512::adaptive_mean_row};
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2:
      return {kernels::avx2::histogram, kernels::avx2::threshold_row, kernels::avx2::window_step,
              kernels::avx2::sauvola_row, kernels::avx2::adaptive_mean_row};
#endif
    default:
      return {kernels::scalar::histogram, kernels::scalar::threshold_row,
              kernels::scalar::window_step, kernels::scalar::sauvola_row,
              kernels::scalar::adaptive_mean_row};
  }
}

void require_gray(const ImageView& view, const char* fn, const char* what) {
  validate_image(view, (std::string(fn) + " " + what).c_str());
  if (view.channels != 1) {
    throw std::invalid_argument(std::string(fn) + ": " + what +
                                " must be a 1-channel (gray) image, got " +
                                std::to_string(view.channels) +
                                " channels; convert colour images to gray first");
  }
}

void require_same_size(const ImageView& src, const ImageView& dst, const char* fn) {
  if (src.width != dst.width || src.height != dst.height) {
    throw std::invalid_argument(std::string(fn) + ": source is " + std::to_string(src.width) +
                                "x" + std::to_string(src.height) + " but destination is " +
                                std::to_string(dst.width) + "x" + std::to_string(dst.height));
  }
}

bool overlaps(const ImageView& a, const ImageView& b) {
  if (a.empty() || b.empty()) return false;
  const std::uint8_t* a_end = a.row(a.height - 1) + a.row_bytes();
  const std::uint8_t* b_end = b.row(b.height - 1) + b.row_bytes();
  return a.data < b_end && b.data < a_end;
}

void check_window(int window, const char* fn) {
  if (window < 3 || window > kMaxWindow || window % 2 == 0) {
    throw std::invalid_argument(std::string(fn) + ": window must be an odd number in [3, " +
                                std::to_string(kMaxWindow) + "], got " + std::to_string(window));
  }
}

// Runs `row_fn(y, rows, pre_s, pre_q)` for every output row y, with the prefix sums (along
// the row) of the column sums over the window's rows [max(y - r, 0), min(y + r, H - 1)]:
// the integral image of the window band, one row at a time. Column sums move down by adding
// the row entering the window and subtracting the row leaving it, so each source row is read
// twice in all, whatever the window.
template <typename RowFn>
void for_each_window_row(const BinarizeKernels& k, const ImageView& src, int window, bool squares,
                         RowFn&& row_fn) {
  const int width = src.width;
  const int height = src.height;
  const int r = window / 2;
  const auto w = static_cast<std::size_t>(width);
  const std::vector<std::uint8_t> zeros(w, 0);  // "no row": entering or leaving outside the image
  std::vector<std::uint32_t> col_s(w, 0);
  std::vector<std::uint32_t> pre_s(w + 1, 0);
  std::vector<std::uint32_t> col_q(squares ? w : 0, 0);
  std::vector<std::uint32_t> pre_q(squares ? w + 1 : 0, 0);
  std::uint32_t* cq = squares ? col_q.data() : nullptr;
  std::uint32_t* pq = squares ? pre_q.data() : nullptr;
  for (int y = 0; y < r && y < height; ++y) {  // rows [0, r): in the window of row 0
    k.window_step(src.row(y), zeros.data(), col_s.data(), cq, pre_s.data(), pq, width);
  }
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* add = y + r < height ? src.row(y + r) : zeros.data();
    const std::uint8_t* sub = y - r - 1 >= 0 ? src.row(y - r - 1) : zeros.data();
    k.window_step(add, sub, col_s.data(), cq, pre_s.data(), pq, width);
    const int top = y - r > 0 ? y - r : 0;
    const int bottom = y + r < height - 1 ? y + r : height - 1;
    row_fn(y, bottom - top + 1, pre_s.data(), pq);
  }
}

void check_local(const ImageView& src, const MutableImageView& dst, int window, const char* fn) {
  require_gray(src, fn, "source");
  require_gray(dst, fn, "destination");
  require_same_size(src, dst, fn);
  check_window(window, fn);
  if (overlaps(src, dst)) {
    // Rows below the current one are still read after it has been written.
    throw std::invalid_argument(std::string(fn) +
                                ": destination overlaps the source; local thresholds cannot "
                                "run in place");
  }
}

}  // namespace

Histogram histogram_u8(const ImageView& gray) {
  require_gray(gray, "histogram_u8", "image");
  Histogram h{};
  if (gray.empty()) return h;
  select_kernels().histogram(gray.data, gray.stride, gray.width, gray.height, h.data());
  return h;
}

int otsu_threshold(const Histogram& histogram) {
  std::uint64_t total = 0;
  std::uint64_t sum = 0;
  for (int v = 0; v < 256; ++v) {
    total += histogram[v];
    sum += static_cast<std::uint64_t>(v) * histogram[v];
  }
  std::uint64_t n0 = 0;
  std::uint64_t s0 = 0;
  double best = -1.0;
  int best_t = 0;  // fewer than two levels: nothing splits, keep all but black as paper
  for (int t = 0; t < 255; ++t) {
    n0 += histogram[t];
    s0 += static_cast<std::uint64_t>(t) * histogram[t];
    if (n0 == 0) continue;
    const std::uint64_t n1 = total - n0;
    if (n1 == 0) break;
    const double m0 = static_cast<double>(s0) / static_cast<double>(n0);
    const double m1 = static_cast<double>(sum - s0) / static_cast<double>(n1);
    // Between-class variance times total^2; the same for every t of a gap between levels,
    // so the first t of a gap (the last level of the dark class) wins.
    const double between =
        static_cast<double>(n0) * static_cast<double>(n1) * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      best_t = t;
    }
  }
  return best_t;
}

int otsu_threshold_u8(const ImageView& gray) { return otsu_threshold(histogram_u8(gray)); }

void binarize_u8(const ImageView& src, const MutableImageView& dst, int threshold, bool invert) {
  require_gray(src, "binarize_u8", "source");
  require_gray(dst, "binarize_u8", "destination");
  require_same_size(src, dst, "binarize_u8");
  if (threshold < 0 || threshold > 255) {
    throw std::invalid_argument("binarize_u8: threshold must be in [0, 255], got " +
                                std::to_string(threshold));
  }
  if (src.empty()) return;
  const auto row = select_kernels().threshold_row;
  // Contiguous images are one long row: the vector loop then has a single tail.
  if (src.contiguous() && dst.stride == dst.width) {
    const long long pixels = static_cast<long long>(src.width) * src.height;
    constexpr long long kChunk = 1 << 30;  // keeps the pixel count within int
    for (long long done = 0; done < pixels; done += kChunk) {
      const int n = static_cast<int>(pixels - done < kChunk ? pixels - done : kChunk);
      row(src.data + done, dst.data + done, n, threshold, invert);
    }
    return;
  }
  for (int y = 0; y < src.height; ++y) row(src.row(y), dst.row(y), src.width, threshold, invert);
}

void sauvola_u8(const ImageView& src, const MutableImageView& dst, int window, double k,
                double r) {
  check_local(src, dst, window, "sauvola_u8");
  if (!std::isfinite(k)) {
    throw std::invalid_argument("sauvola_u8: k must be finite, got " + std::to_string(k));
  }
  if (!(r > 0.0) || !std::isfinite(r)) {
    throw std::invalid_argument("sauvola_u8: R must be a positive finite number, got " +
                                std::to_string(r));
  }
  if (src.empty()) return;
  const float a = static_cast<float>(1.0 - k);
  const float b = static_cast<float>(k / r);
  const BinarizeKernels kern = select_kernels();
  const int radius = window / 2;
  for_each_window_row(kern, src, window, true,
                      [&](int y, int rows, const std::uint32_t* pre_s, const std::uint32_t* pre_q) {
                        kern.sauvola_row(src.row(y), dst.row(y), pre_s, pre_q, src.width, radius,
                                         rows, a, b);
                      });
}

void adaptive_mean_u8(const ImageView& src, const MutableImageView& dst, int window, int c) {
  check_local(src, dst, window, "adaptive_mean_u8");
  if (c < -255 || c > 255) {
    throw std::invalid_argument("adaptive_mean_u8: C must be in [-255, 255], got " +
                                std::to_string(c));
  }
  if (src.empty()) return;
  const BinarizeKernels kern = select_kernels();
  const int radius = window / 2;
  for_each_window_row(kern, src, window, false,
                      [&](int y, int rows, const std::uint32_t* pre_s, const std::uint32_t*) {
                        kern.adaptive_mean_row(src.row(y), dst.row(y), pre_s, src.width, radius,
                                               rows, c);
                      });
}

}  // namespace ocrai
