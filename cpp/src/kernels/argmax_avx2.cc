// SPDX-License-Identifier: MIT
// AVX2 row argmax: per-lane running maxima and indices (strict greater-than keeps each lane's
// first index), then the lanes holding the overall maximum give up their smallest index.
// Lanes see indices in increasing order, so the result is the first maximum, as in the scalar
// scan. The tail goes through the scalar comparison, after every vector index.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include <limits>

#include "kernels/argmax_kernels.h"

namespace ocrai::kernels::avx2 {

OCRAI_TARGET_AVX2 std::int32_t argmax_row(const float* row, int n, float* best) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  float m = neg_inf;
  std::int32_t at = 0;
  int i = 0;
  if (n >= 16) {
    // Two accumulators hide the compare latency; lane k of acc b covers indices 16j + 8b + k.
    __m256 max0 = _mm256_set1_ps(neg_inf), max1 = max0;
    __m256i idx0 = _mm256_setzero_si256(), idx1 = idx0;
    __m256i cur0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i cur1 = _mm256_add_epi32(cur0, _mm256_set1_epi32(8));
    const __m256i step = _mm256_set1_epi32(16);
    for (; i + 16 <= n; i += 16) {
      const __m256 v0 = _mm256_loadu_ps(row + i);
      const __m256 v1 = _mm256_loadu_ps(row + i + 8);
      const __m256 gt0 = _mm256_cmp_ps(v0, max0, _CMP_GT_OQ);
      const __m256 gt1 = _mm256_cmp_ps(v1, max1, _CMP_GT_OQ);
      max0 = _mm256_blendv_ps(max0, v0, gt0);
      max1 = _mm256_blendv_ps(max1, v1, gt1);
      idx0 = _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(idx0), _mm256_castsi256_ps(cur0), gt0));
      idx1 = _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(idx1), _mm256_castsi256_ps(cur1), gt1));
      cur0 = _mm256_add_epi32(cur0, step);
      cur1 = _mm256_add_epi32(cur1, step);
    }
    alignas(32) float mv[16];
    alignas(32) std::int32_t iv[16];
    _mm256_store_ps(mv, max0);
    _mm256_store_ps(mv + 8, max1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(iv), idx0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(iv + 8), idx1);
    for (int k = 0; k < 16; ++k) {
      if (mv[k] > m || (mv[k] == m && iv[k] < at)) {
        m = mv[k];
        at = iv[k];
      }
    }
  }
  for (; i < n; ++i) {
    if (row[i] > m) {
      m = row[i];
      at = i;
    }
  }
  *best = m;
  return at;
}

}  // namespace ocrai::kernels::avx2
#endif
