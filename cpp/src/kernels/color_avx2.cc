// SPDX-License-Identifier: MIT
// AVX2 colour-to-gray. Each 128-bit lane holds 4 pixels; a byte shuffle spreads them into
// 16-bit (c0, c1) and (c2, 0) pairs so that one madd per pair gives exact 32-bit sums, the
// same integer arithmetic as the scalar reference.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include "kernels/color_kernels.h"

namespace ocrai::kernels::avx2 {
namespace {

// Shuffle masks: per lane, pixel i starts at byte i*channels. -1 (0x80) writes zero.
OCRAI_TARGET_AVX2 inline __m256i pair01_mask(int channels) {
  const char s = static_cast<char>(channels);
  return _mm256_setr_epi8(0, -1, 1, -1, static_cast<char>(s), -1, static_cast<char>(s + 1), -1,
                          static_cast<char>(2 * s), -1, static_cast<char>(2 * s + 1), -1,
                          static_cast<char>(3 * s), -1, static_cast<char>(3 * s + 1), -1,  //
                          0, -1, 1, -1, static_cast<char>(s), -1, static_cast<char>(s + 1), -1,
                          static_cast<char>(2 * s), -1, static_cast<char>(2 * s + 1), -1,
                          static_cast<char>(3 * s), -1, static_cast<char>(3 * s + 1), -1);
}

OCRAI_TARGET_AVX2 inline __m256i pair2_mask(int channels) {
  const char s = static_cast<char>(channels);
  return _mm256_setr_epi8(2, -1, -1, -1, static_cast<char>(s + 2), -1, -1, -1,
                          static_cast<char>(2 * s + 2), -1, -1, -1, static_cast<char>(3 * s + 2), -1,
                          -1, -1,  //
                          2, -1, -1, -1, static_cast<char>(s + 2), -1, -1, -1,
                          static_cast<char>(2 * s + 2), -1, -1, -1, static_cast<char>(3 * s + 2), -1,
                          -1, -1);
}

// Loads 8 pixels so that lane 0 holds pixels 0-3 and lane 1 pixels 4-7, each from its byte 0.
// Three-channel pixels take exactly 24 bytes, read as 16 + 8 so that no load runs past the
// row (masked loads would too, but they are several times slower from memory on AMD cores).
OCRAI_TARGET_AVX2 inline __m256i load8(const std::uint8_t* p, int channels) {
  if (channels == 4) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m128i first16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i last8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 16));
  const __m256i raw = _mm256_set_m128i(last8, first16);
  return _mm256_permutevar8x32_epi32(raw, _mm256_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0));
}

OCRAI_TARGET_AVX2 inline __m256i gray8(__m256i px, __m256i m01, __m256i m2, __m256i w01, __m256i w2,
                                       __m256i round) {
  const __m256i a = _mm256_madd_epi16(_mm256_shuffle_epi8(px, m01), w01);
  const __m256i b = _mm256_madd_epi16(_mm256_shuffle_epi8(px, m2), w2);
  return _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(a, b), round), 14);
}

}  // namespace

OCRAI_TARGET_AVX2 void gray_row(const std::uint8_t* src, std::uint8_t* dst, int width, int channels,
                                int w0, int w1, int w2) {
  const __m256i m01 = pair01_mask(channels);
  const __m256i m2 = pair2_mask(channels);
  const __m256i w01 = _mm256_set1_epi32((w1 << 16) | w0);
  const __m256i w2v = _mm256_set1_epi32(w2);
  const __m256i round = _mm256_set1_epi32(1 << 13);
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    const std::uint8_t* p = src + static_cast<std::ptrdiff_t>(x) * channels;
    const __m256i lo = gray8(load8(p, channels), m01, m2, w01, w2v, round);
    const __m256i hi = gray8(load8(p + 8 * channels, channels), m01, m2, w01, w2v, round);
    // lo = [px0-3 | px4-7], hi = [px8-11 | px12-15] as int32; pack to 16 bytes in order.
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words),
                                           _mm256_extracti128_si256(words, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + x), bytes);
  }
  if (x < width) {
    scalar::gray_row(src + static_cast<std::ptrdiff_t>(x) * channels, dst + x, width - x, channels,
                     w0, w1, w2);
  }
}

}  // namespace ocrai::kernels::avx2
#endif
