// SPDX-License-Identifier: MIT
#include "ocrai/color.h"

#include <cstring>
#include <stdexcept>

#include "kernels/color_kernels.h"
#include "kernels/simd.h"
#include "ocrai/cpu.h"

namespace ocrai {
namespace {

using GrayRow = void (*)(const std::uint8_t*, std::uint8_t*, int, int, int, int, int);

GrayRow select_gray_row() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512: return kernels::avx512::gray_row;
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2: return kernels::avx2::gray_row;
#endif
    default: return kernels::scalar::gray_row;
  }
}

}  // namespace

void to_gray_u8(const ImageView& src, ColorOrder order, const MutableImageView& dst) {
  validate_image(src, "to_gray_u8 source");
  validate_image(dst, "to_gray_u8 destination");
  if (dst.channels != 1) throw std::invalid_argument("to_gray_u8: destination must have 1 channel");
  if (src.width != dst.width || src.height != dst.height) {
    throw std::invalid_argument("to_gray_u8: source and destination sizes differ");
  }
  if (src.empty()) return;
  if (src.channels == 1) {
    for (int y = 0; y < src.height; ++y) std::memcpy(dst.row(y), src.row(y), src.row_bytes());
    return;
  }
  const bool rgb = order == ColorOrder::kRgb;
  const int w0 = rgb ? kGrayWeightR : kGrayWeightB;
  const int w2 = rgb ? kGrayWeightB : kGrayWeightR;
  const GrayRow row = select_gray_row();
  // Contiguous images are one long row: the vector loop then has a single tail.
  if (ImageView(src).contiguous() && dst.stride == dst.width) {
    const long long pixels = static_cast<long long>(src.width) * src.height;
    constexpr long long kChunk = 1 << 30;  // keeps the pixel count within int
    for (long long done = 0; done < pixels; done += kChunk) {
      const int n = static_cast<int>(pixels - done < kChunk ? pixels - done : kChunk);
      row(src.data + done * src.channels, dst.data + done, n, src.channels, w0, kGrayWeightG, w2);
    }
    return;
  }
  for (int y = 0; y < src.height; ++y) {
    row(src.row(y), dst.row(y), src.width, src.channels, w0, kGrayWeightG, w2);
  }
}

}  // namespace ocrai
