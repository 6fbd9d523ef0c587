// SPDX-License-Identifier: MIT
#pragma once
/// Colour conversion.

#include "ocrai/image.h"

namespace ocrai {

/// Channel order of a 3- or 4-channel image.
enum class ColorOrder {
  kRgb,  ///< red first (PIL, most decoders); the 4th channel, if any, is alpha
  kBgr,  ///< blue first (OpenCV); the 4th channel, if any, is alpha
};

/// Luma weights in 1/2^14 units (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B); they sum to 2^14.
inline constexpr int kGrayWeightR = 4899;
inline constexpr int kGrayWeightG = 9617;
inline constexpr int kGrayWeightB = 1868;

/// Gray value of one pixel, the definition every SIMD version reproduces exactly:
/// (wr*R + wg*G + wb*B + 2^13) >> 14. Alpha is ignored.
inline std::uint8_t gray_of(int r, int g, int b) {
  return static_cast<std::uint8_t>(
      (kGrayWeightR * r + kGrayWeightG * g + kGrayWeightB * b + (1 << 13)) >> 14);
}

/// Converts `src` (1, 3 or 4 channels) to one gray channel in `dst` (same width and height,
/// 1 channel). A 1-channel source is copied. Throws std::invalid_argument on mismatched
/// shapes.
void to_gray_u8(const ImageView& src, ColorOrder order, const MutableImageView& dst);

}  // namespace ocrai
