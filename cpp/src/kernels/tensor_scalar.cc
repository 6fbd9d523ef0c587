// SPDX-License-Identifier: MIT
// Scalar reference for tensor packing: the definition of the result.
#include "kernels/tensor_kernels.h"

namespace ocrai::kernels::scalar {

void pack_rows(const ImageView& src, const PackRowsArgs& args, int y0, int y1) {
  const int channels = src.channels;
  for (int k = 0; k < args.planes; ++k) {
    const float scale = args.scale[k];
    const float bias = args.bias[k];
    const int ch = args.channel[k];
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* in = src.row(y) + ch;
      float* out = args.out + static_cast<std::size_t>(k) * args.plane_size +
                   static_cast<std::size_t>(y) * static_cast<std::size_t>(args.out_width);
      for (int x = 0; x < src.width; ++x) {
        out[x] = scale * static_cast<float>(in[static_cast<std::ptrdiff_t>(x) * channels]) + bias;
      }
      for (int x = src.width; x < args.out_width; ++x) out[x] = args.pad;
    }
  }
}

void fill_f32(float* out, std::size_t n, float value, bool /*stream*/) {
  for (std::size_t i = 0; i < n; ++i) out[i] = value;
}

}  // namespace ocrai::kernels::scalar
