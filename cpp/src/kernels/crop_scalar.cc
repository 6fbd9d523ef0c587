// SPDX-License-Identifier: MIT
// Scalar reference for quad cropping: the definition of the result (see crop_kernels.h).
#include <cmath>

#include "kernels/crop_kernels.h"

namespace ocrai::kernels::scalar {
namespace {

// SSE semantics: the second operand when either is NaN.
inline float min_ps(float a, float b) { return a < b ? a : b; }
inline float max_ps(float a, float b) { return a > b ? a : b; }

struct Tap {
  int i;  // first source index (the second is i + 1 unless `single`)
  int f;  // weight of the second tap, in 1/128
};

inline Tap replicate_tap(float coord, int size) {
  const float t = min_ps(max_ps(coord * 128.0f, 0.0f), static_cast<float>((size - 1) * 128));
  const int q = static_cast<int>(t);
  if (size == 1) return {0, 0};
  const int i = (q >> 7) < size - 2 ? (q >> 7) : size - 2;
  return {i, q - 128 * i};
}

inline Tap constant_tap(float coord, int size) {
  const float t = min_ps(max_ps(coord * 128.0f, -128.0f), static_cast<float>(size * 128));
  const int q = static_cast<int>(std::floor(t));
  return {q >> 7, q & 127};
}

}  // namespace

void crop_span(const ImageView& src, std::uint8_t* out, const CropMap& map, int y, int x0,
               int x1) {
  const float* m = map.m;
  const int channels = src.channels;
  const bool replicate = map.border == BorderMode::kReplicate;
  const int border = map.border_value;
  const float yf = static_cast<float>(y);
  const float row_x = m[1] * yf + m[2];
  const float row_y = m[4] * yf + m[5];
  const float row_w = m[7] * yf + m[8];
  for (int x = x0; x < x1; ++x) {
    const float xf = static_cast<float>(x);
    float sx = m[0] * xf + row_x;
    float sy = m[3] * xf + row_y;
    if (map.perspective) {
      const float w = m[6] * xf + row_w;
      sx = sx / w;
      sy = sy / w;
    }
    const Tap tx = replicate ? replicate_tap(sx, src.width) : constant_tap(sx, src.width);
    const Tap ty = replicate ? replicate_tap(sy, src.height) : constant_tap(sy, src.height);
    const int wx[2] = {128 - tx.f, tx.f};
    const int wy[2] = {128 - ty.f, ty.f};
    for (int c = 0; c < channels; ++c) {
      int acc = 1 << 13;
      for (int dy = 0; dy < 2; ++dy) {
        const int yy = ty.i + dy;
        for (int dx = 0; dx < 2; ++dx) {
          const int xx = tx.i + dx;
          int p;
          if (replicate) {
            // A single-pixel side has one tap; its missing neighbour carries weight 0.
            const int cy = yy < src.height ? yy : src.height - 1;
            const int cx = xx < src.width ? xx : src.width - 1;
            p = src.row(cy)[cx * channels + c];
          } else {
            const bool inside = xx >= 0 && xx < src.width && yy >= 0 && yy < src.height;
            p = inside ? src.row(yy)[xx * channels + c] : border;
          }
          acc += p * wx[dx] * wy[dy];
        }
      }
      out[x * channels + c] = static_cast<std::uint8_t>(acc >> 14);
    }
  }
}

void crop_rows(const ImageView& src, const MutableImageView& dst, const CropMap& map, int y0,
               int y1) {
  for (int y = y0; y < y1; ++y) crop_span(src, dst.row(y), map, y, 0, dst.width);
}

}  // namespace ocrai::kernels::scalar
