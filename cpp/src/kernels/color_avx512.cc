// SPDX-License-Identifier: MIT
// AVX-512 colour-to-gray: the AVX2 scheme on four 128-bit lanes (16 pixels a vector), with
// byte-masked loads so that the tail runs through the same code without reading past the row.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include "kernels/color_kernels.h"

namespace ocrai::kernels::avx512 {
namespace {

OCRAI_TARGET_AVX512 inline __m512i lane_mask(int channels, bool pair01) {
  alignas(64) char m[64];
  for (int lane = 0; lane < 4; ++lane) {
    for (int i = 0; i < 4; ++i) {
      char* w = m + lane * 16 + i * 4;
      const int base = i * channels;
      if (pair01) {
        w[0] = static_cast<char>(base);
        w[1] = -1;
        w[2] = static_cast<char>(base + 1);
        w[3] = -1;
      } else {
        w[0] = static_cast<char>(base + 2);
        w[1] = w[2] = w[3] = -1;
      }
    }
  }
  return _mm512_load_si512(m);
}

}  // namespace

OCRAI_TARGET_AVX512 void gray_row(const std::uint8_t* src, std::uint8_t* dst, int width,
                                  int channels, int w0, int w1, int w2) {
  const __m512i m01 = lane_mask(channels, true);
  const __m512i m2 = lane_mask(channels, false);
  const __m512i w01 = _mm512_set1_epi32((w1 << 16) | w0);
  const __m512i w2v = _mm512_set1_epi32(w2);
  const __m512i round = _mm512_set1_epi32(1 << 13);
  // Lane k takes the 4 pixels starting at dword 3k (3 channels) or 4k (4 channels).
  const __m512i spread = channels == 3
                             ? _mm512_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0)
                             : _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                 14, 15);
  for (int x = 0; x < width; x += 16) {
    const int n = width - x < 16 ? width - x : 16;
    const int bytes = n * channels;
    const __mmask64 load_mask = bytes >= 64 ? ~__mmask64{0} : ((__mmask64{1} << bytes) - 1);
    const __m512i raw =
        _mm512_maskz_loadu_epi8(load_mask, src + static_cast<std::ptrdiff_t>(x) * channels);
    const __m512i px = _mm512_permutexvar_epi32(spread, raw);
    const __m512i a = _mm512_madd_epi16(_mm512_shuffle_epi8(px, m01), w01);
    const __m512i b = _mm512_madd_epi16(_mm512_shuffle_epi8(px, m2), w2v);
    const __m512i g = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(a, b), round), 14);
    _mm_mask_storeu_epi8(dst + x, static_cast<__mmask16>((1u << n) - 1), _mm512_cvtepi32_epi8(g));
  }
}

}  // namespace ocrai::kernels::avx512
#endif
