// SPDX-License-Identifier: MIT
// AVX2 binarization. Window statistics are exact 32-bit integers (modulo 2^32, see
// binarize.h); Sauvola's float32 formula runs in the same operation order as the scalar
// reference, and every float operation used (convert, mul, sub, max, sqrt, compare) is
// correctly rounded in both, so the outputs are identical.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include <cstring>

#include "kernels/binarize_kernels.h"

namespace ocrai::kernels::avx2 {
namespace {

// Inclusive prefix sum of the 8 lanes plus `carry` (all lanes equal); returns the sums and
// leaves the last one, broadcast, in `carry`.
OCRAI_TARGET_AVX2 inline __m256i scan8(__m256i v, __m256i& carry) {
  v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));  // within each 128-bit half
  v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
  const __m256i low_total = _mm256_shuffle_epi32(v, 0xFF);  // lane 3 of each half
  v = _mm256_add_epi32(v, _mm256_permute2x128_si256(low_total, low_total, 0x08));  // 0 | low
  v = _mm256_add_epi32(v, carry);
  carry = _mm256_permutevar8x32_epi32(v, _mm256_set1_epi32(7));
  return v;
}

// Exactly rounded uint32 -> float (AVX2 only converts signed lanes): both halves convert
// exactly, and their sum is rounded once, as a scalar (float)uint32_t is.
OCRAI_TARGET_AVX2 inline __m256 u32_to_float(__m256i v) {
  const __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 16));
  const __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(0xFFFF)));
  return _mm256_add_ps(_mm256_mul_ps(hi, _mm256_set1_ps(65536.0f)), lo);
}

// 8 int32 lanes holding 0 or -1 -> 8 bytes holding 0 or 255.
OCRAI_TARGET_AVX2 inline void store_mask8(std::uint8_t* dst, __m256i mask) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(mask),
                                        _mm256_extracti128_si256(mask, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packs_epi16(words, words));
}

OCRAI_TARGET_AVX2 inline __m256i load8_u32(const std::uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

}  // namespace

// Byte histograms have no useful vector form (increments scatter); what limits the plain loop
// is that equal neighbouring bytes, as on flat paper, chain every increment through one
// counter. Eight interleaved tables break those chains.
OCRAI_TARGET_AVX2 void histogram(const std::uint8_t* src, std::ptrdiff_t stride, int width,
                                 int height, std::uint64_t* hist) {
  alignas(64) std::uint32_t t[8][256];
  std::memset(t, 0, sizeof(t));
  std::uint64_t pending = 0;  // bytes counted since the last flush; kept below 2^32 per table
  auto flush = [&] {
    for (int v = 0; v < 256; ++v) {
      std::uint64_t sum = 0;
      for (auto& table : t) sum += table[v];
      hist[v] += sum;
    }
    std::memset(t, 0, sizeof(t));
    pending = 0;
  };
  for (int y = 0; y < height; ++y, src += stride) {
    if (pending + static_cast<std::uint64_t>(width) >= (std::uint64_t{1} << 31)) flush();
    pending += static_cast<std::uint64_t>(width);
    int x = 0;
    for (; x + 8 <= width; x += 8) {
      std::uint64_t v;
      std::memcpy(&v, src + x, 8);
      ++t[0][v & 0xFF];
      ++t[1][(v >> 8) & 0xFF];
      ++t[2][(v >> 16) & 0xFF];
      ++t[3][(v >> 24) & 0xFF];
      ++t[4][(v >> 32) & 0xFF];
      ++t[5][(v >> 40) & 0xFF];
      ++t[6][(v >> 48) & 0xFF];
      ++t[7][v >> 56];
    }
    for (; x < width; ++x) ++t[0][src[x]];
  }
  flush();
}

OCRAI_TARGET_AVX2 void threshold_row(const std::uint8_t* src, std::uint8_t* dst, int n,
                                     int threshold, bool invert) {
  if (threshold >= 255) {  // nothing is brighter than 255; t + 1 below would wrap
    std::memset(dst, invert ? 255 : 0, static_cast<std::size_t>(n));
    return;
  }
  // v > t  <=>  max(v, t + 1) == v, the unsigned byte compare AVX2 lacks.
  const __m256i t1 = _mm256_set1_epi8(static_cast<char>(threshold + 1));
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(invert ? -1 : 0));
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    const __m256i gt = _mm256_cmpeq_epi8(_mm256_max_epu8(v, t1), v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(gt, flip));
  }
  if (i < n) scalar::threshold_row(src + i, dst + i, n - i, threshold, invert);
}

OCRAI_TARGET_AVX2 void window_step(const std::uint8_t* add, const std::uint8_t* sub,
                                   std::uint32_t* col_s, std::uint32_t* col_q,
                                   std::uint32_t* pre_s, std::uint32_t* pre_q, int width) {
  __m256i carry_s = _mm256_setzero_si256();
  __m256i carry_q = _mm256_setzero_si256();
  pre_s[0] = 0;
  if (pre_q != nullptr) pre_q[0] = 0;
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const __m256i a = load8_u32(add + x);
    const __m256i d = load8_u32(sub + x);
    __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_s + x));
    s = _mm256_add_epi32(s, _mm256_sub_epi32(a, d));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(col_s + x), s);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre_s + x + 1), scan8(s, carry_s));
    if (col_q != nullptr) {
      // The high 16 bits of each lane are zero, so madd(v, v) is v * v.
      const __m256i dq = _mm256_sub_epi32(_mm256_madd_epi16(a, a), _mm256_madd_epi16(d, d));
      __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_q + x));
      q = _mm256_add_epi32(q, dq);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(col_q + x), q);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(pre_q + x + 1), scan8(q, carry_q));
    }
  }
  // Tail: the same updates one column at a time, continuing the running sums.
  std::uint32_t s_run = pre_s[x];
  std::uint32_t q_run = pre_q != nullptr ? pre_q[x] : 0u;
  for (; x < width; ++x) {
    const std::uint32_t a = add[x];
    const std::uint32_t d = sub[x];
    col_s[x] += a - d;
    s_run += col_s[x];
    pre_s[x + 1] = s_run;
    if (col_q != nullptr) {
      col_q[x] += a * a - d * d;
      q_run += col_q[x];
      pre_q[x + 1] = q_run;
    }
  }
}

OCRAI_TARGET_AVX2 void sauvola_row(const std::uint8_t* src, std::uint8_t* dst,
                                   const std::uint32_t* pre_s, const std::uint32_t* pre_q,
                                   int width, int radius, int rows, float a, float b) {
  // Interior columns see the whole window width; the clipped ones go through the reference.
  int lo = 0;
  int hi = 0;
  interior_columns(width, radius, lo, hi);
  sauvola_span(src, dst, pre_s, pre_q, width, radius, rows, a, b, 0, lo);
  const int n = (2 * radius + 1) * rows;
  const __m256 inv = _mm256_set1_ps(1.0f / static_cast<float>(n));
  const __m256 va = _mm256_set1_ps(a);
  const __m256 vb = _mm256_set1_ps(b);
  const __m256 zero = _mm256_setzero_ps();
  int x = lo;
  for (; x + 8 <= hi; x += 8) {
    const __m256i s1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pre_s + x + radius + 1));
    const __m256i s0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pre_s + x - radius));
    const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pre_q + x + radius + 1));
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pre_q + x - radius));
    // Window sums are below 2^24 (exact in float); sums of squares need the unsigned path.
    const __m256 mean = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(s1, s0)), inv);
    __m256 var = _mm256_sub_ps(_mm256_mul_ps(u32_to_float(_mm256_sub_epi32(q1, q0)), inv),
                               _mm256_mul_ps(mean, mean));
    var = _mm256_max_ps(var, zero);
    const __m256 t = _mm256_mul_ps(mean, _mm256_add_ps(va, _mm256_mul_ps(vb, _mm256_sqrt_ps(var))));
    const __m256 v = _mm256_cvtepi32_ps(load8_u32(src + x));
    store_mask8(dst + x, _mm256_castps_si256(_mm256_cmp_ps(v, t, _CMP_GT_OQ)));
  }
  sauvola_span(src, dst, pre_s, pre_q, width, radius, rows, a, b, x, width);
}

OCRAI_TARGET_AVX2 void adaptive_mean_row(const std::uint8_t* src, std::uint8_t* dst,
                                         const std::uint32_t* pre_s, int width, int radius,
                                         int rows, int c) {
  int lo = 0;
  int hi = 0;
  interior_columns(width, radius, lo, hi);
  adaptive_mean_span(src, dst, pre_s, width, radius, rows, c, 0, lo);
  const __m256i n = _mm256_set1_epi32((2 * radius + 1) * rows);
  const __m256i vc = _mm256_set1_epi32(c);
  int x = lo;
  for (; x + 8 <= hi; x += 8) {
    const __m256i s1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pre_s + x + radius + 1));
    const __m256i s0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pre_s + x - radius));
    const __m256i lhs = _mm256_mullo_epi32(n, _mm256_add_epi32(load8_u32(src + x), vc));
    store_mask8(dst + x, _mm256_cmpgt_epi32(lhs, _mm256_sub_epi32(s1, s0)));
  }
  adaptive_mean_span(src, dst, pre_s, width, radius, rows, c, x, width);
}

}  // namespace ocrai::kernels::avx2
#endif
