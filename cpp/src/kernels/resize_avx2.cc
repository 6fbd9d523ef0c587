// SPDX-License-Identifier: MIT
// AVX2 resize: the AVX-512 vertical pass on 16 columns a step; the horizontal pass gathers
// the taps of 8 output elements with vpgatherdd (AVX2 has no cross-lane word permute), one
// gather per tap pair for gray images (the pair is adjacent) and two otherwise.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "kernels/resize_kernels.h"
#include "kernels/resize_plan.h"

namespace ocrai::kernels::avx2 {
namespace {

constexpr int kLanes = 8;

// Rows [sy, sy + taps) of `src`, weighted, summed in wrapping 16-bit lanes (exact), biased.
OCRAI_TARGET_AVX2 void vertical(const ImageView& src, const AxisTaps& yt, int y,
                                std::int16_t* out) {
  const int n = src.width * src.channels;
  const std::int32_t* wy = &yt.weight[static_cast<std::size_t>(y) * yt.taps];
  const int sy = yt.start[static_cast<std::size_t>(y)];
  const __m256i bias = _mm256_set1_epi16(static_cast<std::int16_t>(-32768));
  // Rows with a zero weight add nothing: skipping them is exact. Long filters run in groups
  // of 32 rows, accumulating in `out` between groups.
  for (int t0 = 0; t0 < yt.taps; t0 += 32) {
    const std::uint8_t* rows[32];
    __m256i weights[32];
    int taps = 0;
    for (int t = t0; t < yt.taps && t < t0 + 32; ++t) {
      if (wy[t] == 0) continue;
      rows[taps] = src.row(sy + t);
      weights[taps] = _mm256_set1_epi16(static_cast<std::int16_t>(wy[t]));
      ++taps;
    }
    const bool first = t0 == 0;
    const bool last = t0 + 32 >= yt.taps;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      __m256i acc = first ? _mm256_setzero_si256()
                          : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out + i));
      for (int t = 0; t < taps; ++t) {
        const __m256i px = _mm256_cvtepu8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[t] + i)));
        acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(px, weights[t]));
      }
      if (last) acc = _mm256_xor_si256(acc, bias);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), acc);
    }
    for (; i < n; ++i) {
      std::uint32_t acc = first ? 0u : static_cast<std::uint16_t>(out[i]);
      for (int t = t0; t < yt.taps && t < t0 + 32; ++t) {
        acc += static_cast<std::uint32_t>(wy[t]) * src.row(sy + t)[i];
      }
      if (last) acc ^= 0x8000u;
      out[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(acc));
    }
  }
}

OCRAI_TARGET_AVX2 void horizontal_gather(const HPlan& plan, const std::int16_t* v,
                                         std::uint8_t* out, int n) {
  const __m256i offset = _mm256_set1_epi32(kResizeOffset);
  const int channels = plan.channels;
  const __m256i low = _mm256_set1_epi32(0xFFFF);
  const auto* base = reinterpret_cast<const int*>(v);
  for (int b = 0; b < plan.blocks; ++b) {
    const __m256i words = _mm256_add_epi32(
        _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(&plan.offset[static_cast<std::size_t>(b) * kLanes])),
        _mm256_set1_epi32(plan.base[static_cast<std::size_t>(b)]));
    const std::int32_t* w = &plan.weight[static_cast<std::size_t>(b) * plan.pairs * kLanes];
    __m256i acc = offset;
    for (int p = 0; p < plan.pairs; ++p, w += kLanes) {
      const __m256i at = _mm256_add_epi32(words, _mm256_set1_epi32(2 * p * channels));
      __m256i taps = _mm256_i32gather_epi32(base, at, 2);
      if (channels != 1) {
        const __m256i next =
            _mm256_i32gather_epi32(base, _mm256_add_epi32(at, _mm256_set1_epi32(channels)), 2);
        taps = _mm256_or_si256(_mm256_and_si256(taps, low), _mm256_slli_epi32(next, 16));
      }
      acc = _mm256_add_epi32(
          acc, _mm256_madd_epi16(taps, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
    }
    // 8 int32 results (each <= 255 after the shift) to 8 bytes.
    const __m256i r = _mm256_srli_epi32(acc, kResizeShift);
    const __m128i words16 = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    const __m128i bytes = _mm_packus_epi16(words16, words16);
    const int remaining = n - b * kLanes;
    std::uint8_t* o = out + b * kLanes;
    if (remaining >= kLanes) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(o), bytes);
    } else {
      alignas(16) std::uint8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
      for (int k = 0; k < remaining; ++k) o[k] = tmp[k];
    }
  }
}

}  // namespace

OCRAI_TARGET_AVX2 void resize_rows(const ImageView& src, const MutableImageView& dst,
                                   const AxisTaps& xt, const AxisTaps& yt, int y0, int y1) {
  const int channels = src.channels;
  const HPlan plan = make_hplan(xt, dst.width, channels, kLanes);
  std::vector<std::int16_t> sums(static_cast<std::size_t>(src.width) * channels +
                                 resize_row_padding(xt, channels));
  const int n = dst.width * channels;
  for (int y = y0; y < y1; ++y) {
    vertical(src, yt, y, sums.data());
    horizontal_gather(plan, sums.data(), dst.row(y), n);
  }
}

}  // namespace ocrai::kernels::avx2
#endif
