// SPDX-License-Identifier: MIT
// AVX-512 resize. Vertical pass: 32 columns a step, u8 widened to 16 bits, multiplied by the
// row weights and summed with wrapping 16-bit adds (exact: the true sums stay below 2^16),
// stored with the bias of resize_plan.h. Horizontal pass, 16 output bytes a step: when the
// taps of 16 consecutive output elements fit a 64-word window (shrinking up to about 3.7x with
// 3 channels, 4x gray, and any enlargement), one vpermt2w per tap pair gathers them from two
// loads and vpmaddwd applies the weights; otherwise hardware gathers fetch each tap.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "kernels/resize_kernels.h"
#include "kernels/resize_plan.h"

namespace ocrai::kernels::avx512 {
namespace {

constexpr int kLanes = 16;

OCRAI_TARGET_AVX512 void vertical(const ImageView& src, const AxisTaps& yt, int y,
                                  std::int16_t* out) {
  const int n = src.width * src.channels;
  const std::int32_t* wy = &yt.weight[static_cast<std::size_t>(y) * yt.taps];
  const int sy = yt.start[static_cast<std::size_t>(y)];
  // Rows with a zero weight add nothing: skipping them is exact. At most 64 taps (the caller
  // sends longer filters to vertical_many).
  const std::uint8_t* rows[64];
  __m512i weights[64];
  int taps = 0;
  for (int t = 0; t < yt.taps; ++t) {
    if (wy[t] == 0) continue;
    rows[taps] = src.row(sy + t);
    weights[taps] = _mm512_set1_epi16(static_cast<std::int16_t>(wy[t]));
    ++taps;
  }
  const __m512i bias = _mm512_set1_epi16(static_cast<std::int16_t>(-32768));
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i acc = _mm512_setzero_si512();
    for (int t = 0; t < taps; ++t) {
      const __m512i px =
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[t] + i)));
      acc = _mm512_add_epi16(acc, _mm512_mullo_epi16(px, weights[t]));
    }
    _mm512_storeu_si512(out + i, _mm512_xor_si512(acc, bias));
  }
  if (i < n) {
    const auto mask = static_cast<__mmask32>((std::uint64_t{1} << (n - i)) - 1);
    __m512i acc = _mm512_setzero_si512();
    for (int t = 0; t < taps; ++t) {
      const __m512i px = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, rows[t] + i));
      acc = _mm512_add_epi16(acc, _mm512_mullo_epi16(px, weights[t]));
    }
    _mm512_mask_storeu_epi16(out + i, mask, _mm512_xor_si512(acc, bias));
  }
}

// Many-tap rows (shrinking by 64x or more): the same sums in 16-bit steps of up to 64 taps,
// accumulated in the output buffer.
OCRAI_TARGET_AVX512 void vertical_many(const ImageView& src, const AxisTaps& yt, int y,
                                       std::int16_t* out) {
  const int n = src.width * src.channels;
  const std::int32_t* wy = &yt.weight[static_cast<std::size_t>(y) * yt.taps];
  const int sy = yt.start[static_cast<std::size_t>(y)];
  std::vector<std::uint16_t> acc(static_cast<std::size_t>(n), 0);
  for (int t = 0; t < yt.taps; ++t) {
    if (wy[t] == 0) continue;
    const std::uint8_t* row = src.row(sy + t);
    const __m512i w = _mm512_set1_epi16(static_cast<std::int16_t>(wy[t]));
    int i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m512i px =
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + i)));
      __m512i a = _mm512_loadu_si512(acc.data() + i);
      _mm512_storeu_si512(acc.data() + i, _mm512_add_epi16(a, _mm512_mullo_epi16(px, w)));
    }
    for (; i < n; ++i) {
      acc[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(
          acc[static_cast<std::size_t>(i)] + static_cast<std::uint32_t>(wy[t]) * row[i]);
    }
  }
  for (int i = 0; i < n; ++i) {
    out[i] = static_cast<std::int16_t>(acc[static_cast<std::size_t>(i)] ^ 0x8000u);
  }
}

OCRAI_TARGET_AVX512 inline void store_block(std::uint8_t* out, int remaining, __m512i acc) {
  const __m128i bytes = _mm512_cvtepi32_epi8(_mm512_srli_epi32(acc, kResizeShift));
  if (remaining >= kLanes) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
  } else {
    _mm_mask_storeu_epi8(out, static_cast<__mmask16>((1u << remaining) - 1), bytes);
  }
}

// Word-pair indices of a block for vpermt2w: lane k selects (offset_k, offset_k + channels).
std::vector<std::int32_t> permute_indices(const HPlan& plan) {
  std::vector<std::int32_t> idx(plan.offset.size());
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const auto off = static_cast<std::uint32_t>(plan.offset[i]);
    idx[i] = static_cast<std::int32_t>(((off + static_cast<std::uint32_t>(plan.channels)) << 16) |
                                       off);
  }
  return idx;
}

template <int kPairs>  // 0: any number of pairs (from the plan)
OCRAI_TARGET_AVX512 inline __m512i permute_block(const HPlan& plan, const std::int32_t* idx,
                                                 const std::int16_t* v, int b) {
  const __m512i index = _mm512_loadu_si512(idx + static_cast<std::ptrdiff_t>(b) * kLanes);
  const std::int16_t* window = v + plan.base[static_cast<std::size_t>(b)];
  const std::int32_t* w = &plan.weight[static_cast<std::size_t>(b) * plan.pairs * kLanes];
  const int pairs = kPairs > 0 ? kPairs : plan.pairs;
  const int step = 2 * plan.channels;
  __m512i acc = _mm512_set1_epi32(kResizeOffset);
  for (int p = 0; p < pairs; ++p, window += step, w += kLanes) {
    const __m512i taps = _mm512_permutex2var_epi16(_mm512_loadu_si512(window), index,
                                                   _mm512_loadu_si512(window + 32));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(taps, _mm512_loadu_si512(w)));
  }
  return _mm512_srli_epi32(acc, kResizeShift);
}

// Four blocks (64 output bytes) at a time: two saturating packs (the values are already
// 0..255) and one dword permute put the bytes in order, cheaper than four vpmovdb.
template <int kPairs>
OCRAI_TARGET_AVX512 void horizontal_permute(const HPlan& plan, const std::int32_t* idx,
                                            const std::int16_t* v, std::uint8_t* out, int n) {
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  int b = 0;
  for (; b + 4 <= plan.blocks; b += 4) {
    const __m512i r0 = permute_block<kPairs>(plan, idx, v, b);
    const __m512i r1 = permute_block<kPairs>(plan, idx, v, b + 1);
    const __m512i r2 = permute_block<kPairs>(plan, idx, v, b + 2);
    const __m512i r3 = permute_block<kPairs>(plan, idx, v, b + 3);
    const __m512i bytes = _mm512_permutexvar_epi32(
        order, _mm512_packus_epi16(_mm512_packus_epi32(r0, r1), _mm512_packus_epi32(r2, r3)));
    const int remaining = n - b * kLanes;
    if (remaining >= 4 * kLanes) {
      _mm512_storeu_si512(out + b * kLanes, bytes);
    } else {
      _mm512_mask_storeu_epi8(out + b * kLanes, (__mmask64{1} << remaining) - 1, bytes);
    }
  }
  for (; b < plan.blocks; ++b) {
    const __m512i r = permute_block<kPairs>(plan, idx, v, b);
    const __m128i bytes = _mm512_cvtepi32_epi8(r);
    const int remaining = n - b * kLanes;
    if (remaining >= kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + b * kLanes), bytes);
    } else {
      _mm_mask_storeu_epi8(out + b * kLanes, static_cast<__mmask16>((1u << remaining) - 1), bytes);
    }
  }
}

OCRAI_TARGET_AVX512 void horizontal_gather(const HPlan& plan, const std::int16_t* v,
                                           std::uint8_t* out, int n) {
  const __m512i offset = _mm512_set1_epi32(kResizeOffset);
  const int channels = plan.channels;
  const __m512i low = _mm512_set1_epi32(0xFFFF);
  for (int b = 0; b < plan.blocks; ++b) {
    const __m512i words =
        _mm512_add_epi32(_mm512_loadu_si512(&plan.offset[static_cast<std::size_t>(b) * kLanes]),
                         _mm512_set1_epi32(plan.base[static_cast<std::size_t>(b)]));
    const std::int32_t* w = &plan.weight[static_cast<std::size_t>(b) * plan.pairs * kLanes];
    __m512i acc = offset;
    for (int p = 0; p < plan.pairs; ++p, w += kLanes) {
      const __m512i at = _mm512_add_epi32(words, _mm512_set1_epi32(2 * p * channels));
      // A dword at word `at` holds tap 2p in its low half; with one channel its high half is
      // tap 2p + 1 already, otherwise a second gather fetches it.
      __m512i taps = _mm512_i32gather_epi32(at, v, 2);
      if (channels != 1) {
        const __m512i next =
            _mm512_i32gather_epi32(_mm512_add_epi32(at, _mm512_set1_epi32(channels)), v, 2);
        taps = _mm512_or_si512(_mm512_and_si512(taps, low), _mm512_slli_epi32(next, 16));
      }
      acc = _mm512_add_epi32(acc, _mm512_madd_epi16(taps, _mm512_loadu_si512(w)));
    }
    store_block(out + b * kLanes, n - b * kLanes, acc);
  }
}

}  // namespace

OCRAI_TARGET_AVX512 void resize_rows(const ImageView& src, const MutableImageView& dst,
                                     const AxisTaps& xt, const AxisTaps& yt, int y0, int y1) {
  const int channels = src.channels;
  const HPlan plan = make_hplan(xt, dst.width, channels, kLanes);
  const bool permute = plan.span <= 64;
  const std::vector<std::int32_t> idx =
      permute ? permute_indices(plan) : std::vector<std::int32_t>();
  std::vector<std::int16_t> sums(static_cast<std::size_t>(src.width) * channels +
                                 resize_row_padding(xt, channels));
  const int n = dst.width * channels;
  for (int y = y0; y < y1; ++y) {
    if (yt.taps <= 64) {
      vertical(src, yt, y, sums.data());
    } else {
      vertical_many(src, yt, y, sums.data());
    }
    if (permute && plan.pairs == 1) {
      horizontal_permute<1>(plan, idx.data(), sums.data(), dst.row(y), n);
    } else if (permute) {
      horizontal_permute<0>(plan, idx.data(), sums.data(), dst.row(y), n);
    } else {
      horizontal_gather(plan, sums.data(), dst.row(y), n);
    }
  }
}

}  // namespace ocrai::kernels::avx512
#endif
