// SPDX-License-Identifier: MIT
// AVX2 tensor packing: 8 pixels a step, the AVX-512 scheme on two 128-bit lanes (a dword
// permute gives each lane 4 pixels, a byte shuffle per plane zero-extends its channel).
// Loads touch only the bytes of the pixels converted; the last partial step of a row goes
// through the scalar reference.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include <cstdint>

#include "kernels/tensor_kernels.h"

namespace ocrai::kernels::avx2 {
namespace {

OCRAI_TARGET_AVX2 inline __m256i channel_mask(int channels, int ch) {
  alignas(32) std::int8_t m[32];
  for (int lane = 0; lane < 2; ++lane) {
    for (int i = 0; i < 4; ++i) {
      std::int8_t* d = m + lane * 16 + i * 4;
      d[0] = static_cast<std::int8_t>(i * channels + ch);
      d[1] = d[2] = d[3] = -1;
    }
  }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
}

inline std::size_t floats_to_alignment(const float* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return ((32 - a % 32) % 32) / 4;
}

inline bool can_stream(const float* p) { return reinterpret_cast<std::uintptr_t>(p) % 4 == 0; }

// 8 pixels: lane 0 gets pixels 0-3, lane 1 pixels 4-7, each from its byte 0.
OCRAI_TARGET_AVX2 inline __m256i load8(const std::uint8_t* p, int channels) {
  if (channels == 4) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  // Bytes 0-11 to lane 0 and 12-23 to lane 1 with two plain loads of exactly 24 bytes
  // (a masked load here ran 3x slower on pages streamed from memory).
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 16));
  // lane 1 must start at byte 12: bytes 12-15 of lo, then bytes 16-23 from hi.
  const __m128i upper = _mm_alignr_epi8(hi, lo, 12);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), upper, 1);
}

struct PlaneConverter {
  __m256i shuffle;
  __m256 scale;
  __m256 bias;
  int channels;

  OCRAI_TARGET_AVX2 inline __m256 convert8(const std::uint8_t* in) const {
    __m256i v;
    if (channels == 1) {
      v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in)));
    } else {
      v = _mm256_shuffle_epi8(load8(in, channels), shuffle);
    }
    return _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), scale), bias);
  }
};

template <bool kStream>
OCRAI_TARGET_AVX2 inline void store8(float* p, __m256 v) {
  if constexpr (kStream) {
    _mm256_stream_ps(p, v);
  } else {
    _mm256_storeu_ps(p, v);
  }
}

template <bool kStream>
OCRAI_TARGET_AVX2 void fill_impl(float* out, std::size_t n, float value) {
  const __m256 v = _mm256_set1_ps(value);
  std::size_t i = 0;
  if (kStream) {
    const std::size_t head = floats_to_alignment(out);
    for (; i < head && i < n; ++i) out[i] = value;
  }
  for (; i + 32 <= n; i += 32) {
    store8<kStream>(out + i, v);
    store8<kStream>(out + i + 8, v);
    store8<kStream>(out + i + 16, v);
    store8<kStream>(out + i + 24, v);
  }
  for (; i + 8 <= n; i += 8) store8<kStream>(out + i, v);
  for (; i < n; ++i) out[i] = value;
}

// One plane of one row: pixel x starts at row + x * channels; the vector steps pick channel
// `ch` by their shuffle, the scalar head and tail read row[x * channels + ch].
template <bool kStream>
OCRAI_TARGET_AVX2 void plane_row(const PlaneConverter& cv, const std::uint8_t* row, int ch,
                                 float* out, int width, int out_width, float pad, float scale,
                                 float bias) {
  const int channels = cv.channels;
  int x = 0;
  if (kStream) {
    const auto head = static_cast<int>(floats_to_alignment(out));
    for (; x < head && x < width; ++x) {
      out[x] = scale * static_cast<float>(row[static_cast<std::ptrdiff_t>(x) * channels + ch]) +
               bias;
    }
  }
  for (; x + 8 <= width; x += 8) {
    store8<kStream>(out + x, cv.convert8(row + static_cast<std::ptrdiff_t>(x) * channels));
  }
  for (; x < width; ++x) {
    out[x] =
        scale * static_cast<float>(row[static_cast<std::ptrdiff_t>(x) * channels + ch]) + bias;
  }
  if (out_width > width) {
    fill_impl<kStream>(out + width, static_cast<std::size_t>(out_width - width), pad);
  }
}

}  // namespace

OCRAI_TARGET_AVX2 void pack_rows(const ImageView& src, const PackRowsArgs& args, int y0, int y1) {
  const int channels = src.channels;
  const bool stream = args.stream && can_stream(args.out);
  for (int k = 0; k < args.planes; ++k) {
    const PlaneConverter cv{channel_mask(channels, args.channel[k]),
                            _mm256_set1_ps(args.scale[k]), _mm256_set1_ps(args.bias[k]),
                            channels};
    const int ch = channels == 1 ? 0 : args.channel[k];
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* row = src.row(y);
      float* out = args.out + static_cast<std::size_t>(k) * args.plane_size +
                   static_cast<std::size_t>(y) * static_cast<std::size_t>(args.out_width);
      if (stream) {
        plane_row<true>(cv, row, ch, out, src.width, args.out_width, args.pad, args.scale[k],
                        args.bias[k]);
      } else {
        plane_row<false>(cv, row, ch, out, src.width, args.out_width, args.pad, args.scale[k],
                         args.bias[k]);
      }
    }
  }
  if (stream) _mm_sfence();
}

OCRAI_TARGET_AVX2 void fill_f32(float* out, std::size_t n, float value, bool stream) {
  if (stream && can_stream(out)) {
    fill_impl<true>(out, n, value);
    _mm_sfence();
  } else {
    fill_impl<false>(out, n, value);
  }
}

}  // namespace ocrai::kernels::avx2
#endif
