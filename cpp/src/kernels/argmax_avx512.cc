// SPDX-License-Identifier: MIT
// AVX-512 row argmax: the AVX2 scheme with 16 lanes and mask registers; the tail is a masked
// load filled with -inf, which can never win, so the whole row runs through the vector loop.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include <limits>

#include "kernels/argmax_kernels.h"

namespace ocrai::kernels::avx512 {

OCRAI_TARGET_AVX512 std::int32_t argmax_row(const float* row, int n, float* best) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const __m512 fill = _mm512_set1_ps(neg_inf);
  __m512 max0 = fill, max1 = fill;
  __m512i idx0 = _mm512_setzero_si512(), idx1 = idx0;
  __m512i cur0 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i cur1 = _mm512_add_epi32(cur0, _mm512_set1_epi32(16));
  const __m512i step = _mm512_set1_epi32(32);
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 v0 = _mm512_loadu_ps(row + i);
    const __m512 v1 = _mm512_loadu_ps(row + i + 16);
    const __mmask16 gt0 = _mm512_cmp_ps_mask(v0, max0, _CMP_GT_OQ);
    const __mmask16 gt1 = _mm512_cmp_ps_mask(v1, max1, _CMP_GT_OQ);
    max0 = _mm512_mask_mov_ps(max0, gt0, v0);
    max1 = _mm512_mask_mov_ps(max1, gt1, v1);
    idx0 = _mm512_mask_mov_epi32(idx0, gt0, cur0);
    idx1 = _mm512_mask_mov_epi32(idx1, gt1, cur1);
    cur0 = _mm512_add_epi32(cur0, step);
    cur1 = _mm512_add_epi32(cur1, step);
  }
  for (; i < n; i += 16) {
    const int left = n - i;
    const __mmask16 load = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 v0 = _mm512_mask_loadu_ps(fill, load, row + i);
    const __mmask16 gt0 = _mm512_cmp_ps_mask(v0, max0, _CMP_GT_OQ);
    max0 = _mm512_mask_mov_ps(max0, gt0, v0);
    idx0 = _mm512_mask_mov_epi32(idx0, gt0, cur0);
    cur0 = _mm512_add_epi32(cur0, _mm512_set1_epi32(16));
  }
  // Merge the lanes of both accumulators: the largest value, the smallest index among equal
  // ones. (Stored and scanned: GCC 12's reduce intrinsics warn about uninitialised lanes.)
  alignas(64) float mv[32];
  alignas(64) std::int32_t iv[32];
  _mm512_store_ps(mv, max0);
  _mm512_store_ps(mv + 16, max1);
  _mm512_store_si512(iv, idx0);
  _mm512_store_si512(iv + 16, idx1);
  float m = neg_inf;
  std::int32_t at = 0;
  for (int k = 0; k < 32; ++k) {
    if (mv[k] > m || (mv[k] == m && iv[k] < at)) {
      m = mv[k];
      at = iv[k];
    }
  }
  *best = m;
  return at;
}

}  // namespace ocrai::kernels::avx512
#endif
