// SPDX-License-Identifier: MIT
#pragma once
// Internal: u8 image -> float32 planes, one set per SIMD target.
//
// pack_rows converts rows [y0, y1) of `src` into `planes` planes of the output: plane k,
// row y starts at out + k * plane_size + y * out_width and receives
//     scale[k] * float(src(x, y, channel[k])) + bias[k]     for x < src.width
// (a multiply then an add, never fused) and `pad` for src.width <= x < out_width.
// fill_f32 writes n copies of a value. `stream` asks for stores that bypass the caches, for
// outputs much larger than the last-level cache; it changes speed only, never values.

#include <cstddef>
#include <cstdint>

#include "ocrai/image.h"

namespace ocrai::kernels {

struct PackRowsArgs {
  int planes = 0;
  int channel[3] = {0, 0, 0};  ///< source channel read by each plane
  float scale[3] = {1, 1, 1};
  float bias[3] = {0, 0, 0};
  float pad = 0.0f;
  float* out = nullptr;
  std::size_t plane_size = 0;  ///< floats from one plane to the next
  int out_width = 0;
  bool stream = false;
};

namespace scalar {
void pack_rows(const ImageView& src, const PackRowsArgs& args, int y0, int y1);
void fill_f32(float* out, std::size_t n, float value, bool stream);
}  // namespace scalar

namespace avx2 {
void pack_rows(const ImageView& src, const PackRowsArgs& args, int y0, int y1);
void fill_f32(float* out, std::size_t n, float value, bool stream);
}  // namespace avx2

namespace avx512 {
void pack_rows(const ImageView& src, const PackRowsArgs& args, int y0, int y1);
void fill_f32(float* out, std::size_t n, float value, bool stream);
}  // namespace avx512

}  // namespace ocrai::kernels
