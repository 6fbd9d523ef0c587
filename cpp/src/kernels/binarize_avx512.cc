// SPDX-License-Identifier: MIT
// AVX-512 binarization: the AVX2 scheme on 16 lanes, with masked loads and stores so that
// row tails run through the vector code. Same operation order as the scalar reference (see
// binarize_avx2.cc on why the float results are identical).
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include "kernels/binarize_kernels.h"

namespace ocrai::kernels::avx512 {
namespace {

// Inclusive prefix sum of the 16 lanes plus `carry`; the last sum, broadcast, goes to `carry`.
OCRAI_TARGET_AVX512 inline __m512i scan16(__m512i v, __m512i& carry) {
  const __m512i zero = _mm512_setzero_si512();
  v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 15));  // lanes shifted up by 1
  v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 14));  // by 2
  v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 12));  // by 4
  v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 8));   // by 8
  v = _mm512_add_epi32(v, carry);
  carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), v);
  return v;
}

OCRAI_TARGET_AVX512 inline __mmask16 first_n(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

OCRAI_TARGET_AVX512 inline __m512i load16_u32(const std::uint8_t* p, __mmask16 m) {
  return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p));
}

}  // namespace

// Byte histograms do not vectorise (see binarize_avx2.cc); wider vectors change nothing.
OCRAI_TARGET_AVX512 void histogram(const std::uint8_t* src, std::ptrdiff_t stride, int width,
                                   int height, std::uint64_t* hist) {
  avx2::histogram(src, stride, width, height, hist);
}

OCRAI_TARGET_AVX512 void threshold_row(const std::uint8_t* src, std::uint8_t* dst, int n,
                                       int threshold, bool invert) {
  const __m512i t = _mm512_set1_epi8(static_cast<char>(threshold));
  const __m512i lo = _mm512_set1_epi8(static_cast<char>(invert ? -1 : 0));
  const __m512i hi = _mm512_set1_epi8(static_cast<char>(invert ? 0 : -1));
  int i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(src + i);
    _mm512_storeu_si512(dst + i, _mm512_mask_blend_epi8(_mm512_cmpgt_epu8_mask(v, t), lo, hi));
  }
  if (i < n) {
    const __mmask64 m = (~__mmask64{0}) >> (64 - (n - i));
    const __m512i v = _mm512_maskz_loadu_epi8(m, src + i);
    _mm512_mask_storeu_epi8(dst + i, m,
                            _mm512_mask_blend_epi8(_mm512_cmpgt_epu8_mask(v, t), lo, hi));
  }
}

OCRAI_TARGET_AVX512 void window_step(const std::uint8_t* add, const std::uint8_t* sub,
                                     std::uint32_t* col_s, std::uint32_t* col_q,
                                     std::uint32_t* pre_s, std::uint32_t* pre_q, int width) {
  __m512i carry_s = _mm512_setzero_si512();
  __m512i carry_q = _mm512_setzero_si512();
  pre_s[0] = 0;
  if (pre_q != nullptr) pre_q[0] = 0;
  // Lanes past the row load as zeros and are never stored, so the tail needs no other code.
  for (int x = 0; x < width; x += 16) {
    const __mmask16 m = first_n(width - x);
    const __m512i a = load16_u32(add + x, m);
    const __m512i d = load16_u32(sub + x, m);
    __m512i s = _mm512_maskz_loadu_epi32(m, col_s + x);
    s = _mm512_add_epi32(s, _mm512_sub_epi32(a, d));
    _mm512_mask_storeu_epi32(col_s + x, m, s);
    _mm512_mask_storeu_epi32(pre_s + x + 1, m, scan16(s, carry_s));
    if (col_q != nullptr) {
      // The high 16 bits of each lane are zero, so madd(v, v) is v * v.
      const __m512i dq = _mm512_sub_epi32(_mm512_madd_epi16(a, a), _mm512_madd_epi16(d, d));
      __m512i q = _mm512_maskz_loadu_epi32(m, col_q + x);
      q = _mm512_add_epi32(q, dq);
      _mm512_mask_storeu_epi32(col_q + x, m, q);
      _mm512_mask_storeu_epi32(pre_q + x + 1, m, scan16(q, carry_q));
    }
  }
}

OCRAI_TARGET_AVX512 void sauvola_row(const std::uint8_t* src, std::uint8_t* dst,
                                     const std::uint32_t* pre_s, const std::uint32_t* pre_q,
                                     int width, int radius, int rows, float a, float b) {
  int lo = 0;
  int hi = 0;
  interior_columns(width, radius, lo, hi);
  sauvola_span(src, dst, pre_s, pre_q, width, radius, rows, a, b, 0, lo);
  const int n = (2 * radius + 1) * rows;
  const __m512 inv = _mm512_set1_ps(1.0f / static_cast<float>(n));
  const __m512 va = _mm512_set1_ps(a);
  const __m512 vb = _mm512_set1_ps(b);
  const __m512 zero = _mm512_setzero_ps();
  for (int x = lo; x < hi; x += 16) {
    const __mmask16 m = first_n(hi - x);
    const __m512i s1 = _mm512_maskz_loadu_epi32(m, pre_s + x + radius + 1);
    const __m512i s0 = _mm512_maskz_loadu_epi32(m, pre_s + x - radius);
    const __m512i q1 = _mm512_maskz_loadu_epi32(m, pre_q + x + radius + 1);
    const __m512i q0 = _mm512_maskz_loadu_epi32(m, pre_q + x - radius);
    const __m512 mean = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s1, s0)), inv);
    __m512 var = _mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepu32_ps(_mm512_sub_epi32(q1, q0)), inv),
                               _mm512_mul_ps(mean, mean));
    var = _mm512_max_ps(var, zero);
    const __m512 t = _mm512_mul_ps(mean, _mm512_add_ps(va, _mm512_mul_ps(vb, _mm512_sqrt_ps(var))));
    const __m512 v = _mm512_cvtepi32_ps(load16_u32(src + x, m));
    _mm_mask_storeu_epi8(dst + x, m, _mm_movm_epi8(_mm512_cmp_ps_mask(v, t, _CMP_GT_OQ)));
  }
  sauvola_span(src, dst, pre_s, pre_q, width, radius, rows, a, b, hi, width);
}

OCRAI_TARGET_AVX512 void adaptive_mean_row(const std::uint8_t* src, std::uint8_t* dst,
                                           const std::uint32_t* pre_s, int width, int radius,
                                           int rows, int c) {
  int lo = 0;
  int hi = 0;
  interior_columns(width, radius, lo, hi);
  adaptive_mean_span(src, dst, pre_s, width, radius, rows, c, 0, lo);
  const __m512i n = _mm512_set1_epi32((2 * radius + 1) * rows);
  const __m512i vc = _mm512_set1_epi32(c);
  for (int x = lo; x < hi; x += 16) {
    const __mmask16 m = first_n(hi - x);
    const __m512i s1 = _mm512_maskz_loadu_epi32(m, pre_s + x + radius + 1);
    const __m512i s0 = _mm512_maskz_loadu_epi32(m, pre_s + x - radius);
    const __m512i lhs = _mm512_mullo_epi32(n, _mm512_add_epi32(load16_u32(src + x, m), vc));
    const __mmask16 gt = _mm512_cmpgt_epi32_mask(lhs, _mm512_sub_epi32(s1, s0));
    _mm_mask_storeu_epi8(dst + x, m, _mm_movm_epi8(gt));
  }
  adaptive_mean_span(src, dst, pre_s, width, radius, rows, c, hi, width);
}

}  // namespace ocrai::kernels::avx512
#endif
