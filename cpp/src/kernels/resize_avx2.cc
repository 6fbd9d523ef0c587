// SPDX-License-Identifier: MIT
// AVX2 resize: the AVX-512 vertical pass on 16 columns a step. AVX2 has no cross-lane word
// permute, so the vertical sums are rearranged into dword pairs (tap t beside tap t + 1, one
// channel stride apart); the horizontal pass then fetches the pairs of 8 output elements with
// vpermd from one or two 8-dword windows when they are that close (enlarging, mild
// shrinking), and with one vpgatherdd per tap pair otherwise.
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

// Pair array: pairs[i] = (v[i], v[i + channels]) as one dword, so that the two taps one
// vpmaddwd needs are a single 32-bit element (AVX2 permutes and gathers work on dwords).
OCRAI_TARGET_AVX2 void make_pairs(const std::int16_t* v, int n, int channels,
                                  std::int32_t* pairs) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i + channels));
    const __m256i lo = _mm256_unpacklo_epi16(a, b);  // pairs i..i+3 | i+8..i+11
    const __m256i hi = _mm256_unpackhi_epi16(a, b);  // pairs i+4..i+7 | i+12..i+15
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pairs + i),
                        _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pairs + i + 8),
                        _mm256_permute2x128_si256(lo, hi, 0x31));
  }
  for (; i < n; ++i) {
    pairs[i] = static_cast<std::int32_t>(
        (static_cast<std::uint32_t>(static_cast<std::uint16_t>(v[i + channels])) << 16) |
        static_cast<std::uint16_t>(v[i]));
  }
}

OCRAI_TARGET_AVX2 inline void store8(std::uint8_t* o, int remaining, __m256i acc) {
  // 8 int32 results (each <= 255 after the shift) to 8 bytes.
  const __m256i r = _mm256_srli_epi32(acc, kResizeShift);
  const __m128i words =
      _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  const __m128i bytes = _mm_packus_epi16(words, words);
  if (remaining >= kLanes) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o), bytes);
  } else {
    alignas(16) std::uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    for (int k = 0; k < remaining; ++k) o[k] = tmp[k];
  }
}

// How the taps of a block reach the registers: from one 8-dword window by vpermd, from two
// windows by two vpermd and a blend, or by a gather when the block spans more than 16.
enum class Fetch { kOneWindow, kTwoWindows, kFourWindows, kGather };

template <Fetch kFetch>
OCRAI_TARGET_AVX2 void horizontal(const HPlan& plan, const std::int32_t* pairs,
                                  std::uint8_t* out, int n) {
  const __m256i offset = _mm256_set1_epi32(kResizeOffset);
  const __m256i seven = _mm256_set1_epi32(7);
  const int step = 2 * plan.channels;
  for (int b = 0; b < plan.blocks; ++b) {
    const __m256i off = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(&plan.offset[static_cast<std::size_t>(b) * kLanes]));
    const std::int32_t* window = pairs + plan.base[static_cast<std::size_t>(b)];
    const std::int32_t* w = &plan.weight[static_cast<std::size_t>(b) * plan.pairs * kLanes];
    __m256i acc = offset;
    for (int p = 0; p < plan.pairs; ++p, window += step, w += kLanes) {
      __m256i taps;
      if constexpr (kFetch == Fetch::kOneWindow) {
        taps = _mm256_permutevar8x32_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(window)), off);
      } else if constexpr (kFetch == Fetch::kTwoWindows) {
        const __m256i t0 = _mm256_permutevar8x32_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(window)), off);
        const __m256i t1 = _mm256_permutevar8x32_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(window + 8)), off);
        taps = _mm256_blendv_epi8(t0, t1, _mm256_cmpgt_epi32(off, seven));
      } else if constexpr (kFetch == Fetch::kFourWindows) {
        // vpermd reads the low 3 bits of each index; the blends pick the window by the rest.
        __m256i t = _mm256_permutevar8x32_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(window)), off);
        for (int k = 1; k < 4; ++k) {
          const __m256i tk = _mm256_permutevar8x32_epi32(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(window + 8 * k)), off);
          t = _mm256_blendv_epi8(t, tk, _mm256_cmpgt_epi32(off, _mm256_set1_epi32(8 * k - 1)));
        }
        taps = t;
      } else {
        taps = _mm256_i32gather_epi32(reinterpret_cast<const int*>(window), off, 4);
      }
      acc = _mm256_add_epi32(
          acc, _mm256_madd_epi16(taps, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
    }
    store8(out + b * kLanes, n - b * kLanes, acc);
  }
}

}  // namespace

OCRAI_TARGET_AVX2 void resize_rows(const ImageView& src, const MutableImageView& dst,
                                   const AxisTaps& xt, const AxisTaps& yt, int y0, int y1) {
  const int channels = src.channels;
  const HPlan plan = make_hplan(xt, dst.width, channels, kLanes);
  const int largest = plan.span - channels;  // largest offset of a tap pair in a block
  const Fetch fetch = largest < 8    ? Fetch::kOneWindow
                     : largest < 16 ? Fetch::kTwoWindows
                     : largest < 32 ? Fetch::kFourWindows
                                    : Fetch::kGather;
  const int n_src = src.width * channels;
  const std::size_t size = static_cast<std::size_t>(n_src) + resize_row_padding(xt, channels);
  std::vector<std::int16_t> sums(size);
  std::vector<std::int32_t> pairs(size);  // beyond n_src: zeros, read with zero weights only
  const int n = dst.width * channels;
  for (int y = y0; y < y1; ++y) {
    vertical(src, yt, y, sums.data());
    make_pairs(sums.data(), n_src, channels, pairs.data());
    switch (fetch) {
      case Fetch::kOneWindow:
        horizontal<Fetch::kOneWindow>(plan, pairs.data(), dst.row(y), n);
        break;
      case Fetch::kTwoWindows:
        horizontal<Fetch::kTwoWindows>(plan, pairs.data(), dst.row(y), n);
        break;
      case Fetch::kFourWindows:
        horizontal<Fetch::kFourWindows>(plan, pairs.data(), dst.row(y), n);
        break;
      case Fetch::kGather: horizontal<Fetch::kGather>(plan, pairs.data(), dst.row(y), n); break;
    }
  }
}

}  // namespace ocrai::kernels::avx2
#endif
