// SPDX-License-Identifier: MIT
// Scalar reference for colour-to-gray: the definition of the result.
#include "kernels/color_kernels.h"

namespace ocrai::kernels::scalar {

void gray_row(const std::uint8_t* src, std::uint8_t* dst, int width, int channels, int w0, int w1,
              int w2) {
  for (int x = 0; x < width; ++x, src += channels) {
    dst[x] = static_cast<std::uint8_t>((w0 * src[0] + w1 * src[1] + w2 * src[2] + (1 << 13)) >> 14);
  }
}

}  // namespace ocrai::kernels::scalar
