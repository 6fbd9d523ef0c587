// SPDX-License-Identifier: MIT
// AVX-512 tensor packing: 16 pixels a step. A dword permute gives each 128-bit lane the bytes
// of 4 pixels, one byte shuffle per output plane zero-extends that plane's channel to int32,
// and the float conversion, multiply and add (not fused, as the scalar reference) follow.
// Each plane is written in its own pass over the row (the row stays in L1), so that with
// cache-bypassing stores every plane can align its own stores.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include <cstdint>

#include "kernels/tensor_kernels.h"

namespace ocrai::kernels::avx512 {
namespace {

// Byte shuffle taking channel `ch` of the 4 pixels in a lane (pixel i at byte i * channels)
// into the low byte of dword i, zeros elsewhere.
OCRAI_TARGET_AVX512 inline __m512i channel_mask(int channels, int ch) {
  alignas(64) std::int8_t m[64];
  for (int lane = 0; lane < 4; ++lane) {
    for (int i = 0; i < 4; ++i) {
      std::int8_t* d = m + lane * 16 + i * 4;
      d[0] = static_cast<std::int8_t>(i * channels + ch);
      d[1] = d[2] = d[3] = -1;
    }
  }
  return _mm512_load_si512(m);
}

// Floats needed before `p` reaches a 64-byte boundary (0 if it is not even float-aligned,
// in which case nothing is streamed).
inline std::size_t floats_to_alignment(const float* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  if (a % 4 != 0) return 0;
  return ((64 - a % 64) % 64) / 4;
}

inline bool can_stream(const float* p) { return reinterpret_cast<std::uintptr_t>(p) % 4 == 0; }

struct PlaneConverter {
  __m512i spread;
  __m512i shuffle;
  __m512 scale;
  __m512 bias;
  int channels;

  // Up to 16 pixels starting at `in` (n of them) to floats. Whole steps use plain loads of
  // exactly the step's bytes: masked loads of data streaming in from memory ran slower here.
  OCRAI_TARGET_AVX512 inline __m512 convert(const std::uint8_t* in, int n) const {
    __m512i v;
    if (n == 16) {
      __m512i raw;
      if (channels == 1) {
        v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
      } else {
        if (channels == 4) {
          raw = _mm512_loadu_si512(in);
        } else {
          raw = _mm512_inserti32x4(
              _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in))),
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 32)), 2);
        }
        v = _mm512_shuffle_epi8(_mm512_permutexvar_epi32(spread, raw), shuffle);
      }
    } else if (channels == 1) {
      const __mmask16 m = n >= 16 ? static_cast<__mmask16>(0xFFFF)
                                  : static_cast<__mmask16>((1u << n) - 1);
      v = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, in));
    } else {
      const int bytes = n * channels;
      const __mmask64 m = bytes >= 64 ? ~__mmask64{0} : ((__mmask64{1} << bytes) - 1);
      v = _mm512_shuffle_epi8(_mm512_permutexvar_epi32(spread, _mm512_maskz_loadu_epi8(m, in)),
                              shuffle);
    }
    return _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(v), scale), bias);
  }
};

template <bool kStream>
OCRAI_TARGET_AVX512 inline void store16(float* p, __m512 v) {
  if constexpr (kStream) {
    _mm512_stream_ps(p, v);
  } else {
    _mm512_storeu_ps(p, v);
  }
}

template <bool kStream>
OCRAI_TARGET_AVX512 void fill_impl(float* out, std::size_t n, float value) {
  const __m512 v = _mm512_set1_ps(value);
  std::size_t i = 0;
  if (kStream) {
    const std::size_t head = floats_to_alignment(out) < n ? floats_to_alignment(out) : n;
    if (head > 0) _mm512_mask_storeu_ps(out, static_cast<__mmask16>((1u << head) - 1), v);
    i = head;
  }
  for (; i + 64 <= n; i += 64) {
    store16<kStream>(out + i, v);
    store16<kStream>(out + i + 16, v);
    store16<kStream>(out + i + 32, v);
    store16<kStream>(out + i + 48, v);
  }
  for (; i + 16 <= n; i += 16) store16<kStream>(out + i, v);
  if (i < n) _mm512_mask_storeu_ps(out + i, static_cast<__mmask16>((1u << (n - i)) - 1), v);
}

template <bool kStream>
OCRAI_TARGET_AVX512 void plane_row(const PlaneConverter& cv, const std::uint8_t* in, float* out,
                                   int width, int out_width, float pad) {
  int x = 0;
  if (kStream) {
    // Unaligned head with a masked store, then aligned streaming stores.
    const auto head = static_cast<int>(floats_to_alignment(out));
    const int n = head < width ? head : width;
    if (n > 0) {
      _mm512_mask_storeu_ps(out, static_cast<__mmask16>((1u << n) - 1), cv.convert(in, n));
      x = n;
    }
  }
  const int channels = cv.channels;
  for (; x + 16 <= width; x += 16) {
    store16<kStream>(out + x, cv.convert(in + static_cast<std::ptrdiff_t>(x) * channels, 16));
  }
  if (x < width) {
    const int n = width - x;
    _mm512_mask_storeu_ps(out + x, static_cast<__mmask16>((1u << n) - 1),
                          cv.convert(in + static_cast<std::ptrdiff_t>(x) * channels, n));
  }
  if (out_width > width) {
    fill_impl<kStream>(out + width, static_cast<std::size_t>(out_width - width), pad);
  }
}

}  // namespace

OCRAI_TARGET_AVX512 void pack_rows(const ImageView& src, const PackRowsArgs& args, int y0,
                                   int y1) {
  const int channels = src.channels;
  const __m512i spread = channels == 3
                             ? _mm512_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0)
                             : _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                 14, 15);
  const bool stream = args.stream && can_stream(args.out);
  for (int k = 0; k < args.planes; ++k) {
    const PlaneConverter cv{spread, channel_mask(channels, args.channel[k]),
                            _mm512_set1_ps(args.scale[k]), _mm512_set1_ps(args.bias[k]),
                            channels};
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* in = src.row(y);  // the shuffle selects the channel
      float* out = args.out + static_cast<std::size_t>(k) * args.plane_size +
                   static_cast<std::size_t>(y) * static_cast<std::size_t>(args.out_width);
      if (stream) {
        plane_row<true>(cv, in, out, src.width, args.out_width, args.pad);
      } else {
        plane_row<false>(cv, in, out, src.width, args.out_width, args.pad);
      }
    }
  }
  if (stream) _mm_sfence();  // order the streamed stores before anything that follows
}

OCRAI_TARGET_AVX512 void fill_f32(float* out, std::size_t n, float value, bool stream) {
  if (stream && can_stream(out)) {
    fill_impl<true>(out, n, value);
    _mm_sfence();
  } else {
    fill_impl<false>(out, n, value);
  }
}

}  // namespace ocrai::kernels::avx512
#endif
