// SPDX-License-Identifier: MIT
// AVX2 quad crop, 8 destination pixels a step: the AVX-512 scheme on 256-bit vectors. Gray
// pixels come with an 8-lane dword gather per source row; 3/4-channel pixel pairs with 8-byte
// loads into 128-bit lanes (2 pixels a vector). The same pixels as in the AVX-512 version go
// through the scalar reference.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include <climits>
#include <cstdint>
#include <cstring>

#include "kernels/crop_kernels.h"

namespace ocrai::kernels::avx2 {
namespace {

constexpr int kLanes = 8;

struct Axis {
  __m256i i;
  __m256i f;
};

OCRAI_TARGET_AVX2 inline Axis replicate_axis(__m256 coord, int size) {
  const __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(coord, _mm256_set1_ps(128.0f)),
                                               _mm256_setzero_ps()),
                                 _mm256_set1_ps(static_cast<float>((size - 1) * 128)));
  const __m256i q = _mm256_cvttps_epi32(t);
  const __m256i i = _mm256_min_epi32(_mm256_srai_epi32(q, 7), _mm256_set1_epi32(size - 2));
  return {i, _mm256_sub_epi32(q, _mm256_slli_epi32(i, 7))};
}

OCRAI_TARGET_AVX2 inline Axis constant_axis(__m256 coord, int size) {
  const __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(coord, _mm256_set1_ps(128.0f)),
                                               _mm256_set1_ps(-128.0f)),
                                 _mm256_set1_ps(static_cast<float>(size * 128)));
  const __m256i q = _mm256_cvttps_epi32(_mm256_floor_ps(t));  // floor, then an exact convert
  return {_mm256_srai_epi32(q, 7), _mm256_and_si256(q, _mm256_set1_epi32(127))};
}

// Bit per lane: both taps inside [0, size).
OCRAI_TARGET_AVX2 inline int inside(const Axis& a, int size) {
  const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), a.i),
                                      _mm256_cmpgt_epi32(a.i, _mm256_set1_epi32(size - 2)));
  return ~_mm256_movemask_ps(_mm256_castsi256_ps(bad)) & 0xFF;
}

OCRAI_TARGET_AVX2 inline __m256i pair_mask(int channels) {
  alignas(32) std::int8_t m[32];
  for (int lane = 0; lane < 2; ++lane) {
    for (int c = 0; c < 4; ++c) {
      std::int8_t* d = m + lane * 16 + c * 4;
      const bool real = c < channels;
      d[0] = real ? static_cast<std::int8_t>(c) : -1;
      d[1] = -1;
      d[2] = real ? static_cast<std::int8_t>(channels + c) : -1;
      d[3] = -1;
    }
  }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
}

OCRAI_TARGET_AVX2 inline void store_bytes(std::uint8_t* out, const std::uint8_t* bytes,
                                          int count) {
  std::memcpy(out, bytes, static_cast<std::size_t>(count));
}

template <int kChannels>
OCRAI_TARGET_AVX2 inline void sample(const std::uint8_t* base, std::ptrdiff_t stride,
                                     __m256i off, __m256i wtop, __m256i wbot, __m256i pairs,
                                     std::uint8_t* out, int n) {
  const __m256i round = _mm256_set1_epi32(1 << 13);
  if constexpr (kChannels == 1) {
    const __m256i spread = _mm256_broadcastsi128_si256(
        _mm_setr_epi8(0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1));
    const auto* b = reinterpret_cast<const int*>(base);
    const __m256i top = _mm256_shuffle_epi8(_mm256_i32gather_epi32(b, off, 1), spread);
    const __m256i below = _mm256_add_epi32(off, _mm256_set1_epi32(static_cast<int>(stride)));
    const __m256i bot = _mm256_shuffle_epi8(_mm256_i32gather_epi32(b, below, 1), spread);
    const __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(top, wtop),
                                          _mm256_madd_epi16(bot, wbot)),
                         round),
        14);
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(r),
                                           _mm256_extracti128_si256(r, 1));
    const __m128i bytes = _mm_packus_epi16(words, words);
    if (n == kLanes) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
    } else {
      alignas(16) std::uint8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
      store_bytes(out, tmp, n);
    }
  } else {
    alignas(32) std::int32_t offsets[kLanes];
    _mm256_store_si256(reinterpret_cast<__m256i*>(offsets), off);
    const auto load = [base](std::ptrdiff_t at) {
      return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(base + at));
    };
    __m256i r[4];
    for (int q = 0; q < 4; ++q) {
      // Pixels 2q and 2q + 1, one per 128-bit lane.
      const std::int32_t* o = offsets + 2 * q;
      const __m256i top = _mm256_shuffle_epi8(_mm256_set_m128i(load(o[1]), load(o[0])), pairs);
      const __m256i bot = _mm256_shuffle_epi8(
          _mm256_set_m128i(load(o[1] + stride), load(o[0] + stride)), pairs);
      const __m256i lanes = _mm256_setr_epi32(2 * q, 2 * q, 2 * q, 2 * q, 2 * q + 1, 2 * q + 1,
                                              2 * q + 1, 2 * q + 1);
      r[q] = _mm256_srli_epi32(
          _mm256_add_epi32(
              _mm256_add_epi32(_mm256_madd_epi16(top, _mm256_permutevar8x32_epi32(wtop, lanes)),
                               _mm256_madd_epi16(bot, _mm256_permutevar8x32_epi32(wbot, lanes))),
              round),
          14);
    }
    // After the packs, dword k of lane L is pixel L + 2k; put the pixels in order.
    __m256i bytes = _mm256_permutevar8x32_epi32(
        _mm256_packus_epi16(_mm256_packus_epi32(r[0], r[1]), _mm256_packus_epi32(r[2], r[3])),
        _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    if constexpr (kChannels == 3) {
      const __m256i drop = _mm256_broadcastsi128_si256(
          _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
      bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, drop),
                                          _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7));
    }
    if (n == kLanes) {
      if constexpr (kChannels == 4) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), bytes);
      } else {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(bytes));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 16), _mm256_extracti128_si256(bytes, 1));
      }
    } else {
      alignas(32) std::uint8_t tmp[32];
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), bytes);
      store_bytes(out, tmp, n * kChannels);
    }
  }
}

template <int kChannels, bool kPerspective, bool kReplicate>
OCRAI_TARGET_AVX2 void rows_impl(const ImageView& src, const MutableImageView& dst,
                                 const CropMap& map, int y0, int y1) {
  const float* m = map.m;
  const std::int64_t size = static_cast<std::int64_t>(src.height - 1) * src.stride +
                            static_cast<std::int64_t>(src.width) * kChannels;
  const int gather_bytes = kChannels == 1 ? 4 : 8;
  const auto limit = static_cast<std::int32_t>(size - gather_bytes - src.stride);
  const __m256i pairs = pair_mask(kChannels);
  const __m256 m0 = _mm256_set1_ps(m[0]), m3 = _mm256_set1_ps(m[3]), m6 = _mm256_set1_ps(m[6]);
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i k128 = _mm256_set1_epi32(128);
  const __m256i stride = _mm256_set1_epi32(static_cast<std::int32_t>(src.stride));
  for (int y = y0; y < y1; ++y) {
    const float yf = static_cast<float>(y);
    const __m256 row_x = _mm256_set1_ps(m[1] * yf + m[2]);
    const __m256 row_y = _mm256_set1_ps(m[4] * yf + m[5]);
    const __m256 row_w = _mm256_set1_ps(m[7] * yf + m[8]);
    std::uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; x += kLanes) {
      const int n = dst.width - x < kLanes ? dst.width - x : kLanes;
      const int live = (1 << n) - 1;
      const __m256i xi = _mm256_add_epi32(_mm256_set1_epi32(x), iota);
      const __m256 xf = _mm256_cvtepi32_ps(xi);
      __m256 sx = _mm256_add_ps(_mm256_mul_ps(m0, xf), row_x);
      __m256 sy = _mm256_add_ps(_mm256_mul_ps(m3, xf), row_y);
      if constexpr (kPerspective) {
        const __m256 w = _mm256_add_ps(_mm256_mul_ps(m6, xf), row_w);
        sx = _mm256_div_ps(sx, w);
        sy = _mm256_div_ps(sy, w);
      }
      Axis ax, ay;
      if constexpr (kReplicate) {
        ax = replicate_axis(sx, src.width);
        ay = replicate_axis(sy, src.height);
      } else {
        ax = constant_axis(sx, src.width);
        ay = constant_axis(sy, src.height);
        if ((inside(ax, src.width) & inside(ay, src.height) & live) != live) {
          scalar::crop_span(src, out, map, y, x, x + n);
          continue;
        }
      }
      // Lanes past the row's end read offset 0.
      const __m256i alive = _mm256_cmpgt_epi32(_mm256_set1_epi32(dst.width), xi);
      const __m256i off = _mm256_and_si256(
          alive, _mm256_add_epi32(_mm256_mullo_epi32(ay.i, stride),
                                  _mm256_mullo_epi32(ax.i, _mm256_set1_epi32(kChannels))));
      if (_mm256_movemask_ps(_mm256_castsi256_ps(
              _mm256_cmpgt_epi32(off, _mm256_set1_epi32(limit)))) != 0) {
        scalar::crop_span(src, out, map, y, x, x + n);
        continue;
      }
      {
        // Prefetch the source rows the next destination rows will read (see crop_avx512.cc).
        const std::int32_t first = _mm256_cvtsi256_si32(off);
        const std::uintptr_t ahead = reinterpret_cast<std::uintptr_t>(src.data) +
                                     static_cast<std::uintptr_t>(first + 3 * src.stride);
        _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
      }
      const __m256i wx =
          _mm256_or_si256(_mm256_sub_epi32(k128, ax.f), _mm256_slli_epi32(ax.f, 16));
      const __m256i wy0 = _mm256_sub_epi32(k128, ay.f);
      const __m256i wtop =
          _mm256_mullo_epi16(wx, _mm256_or_si256(wy0, _mm256_slli_epi32(wy0, 16)));
      const __m256i wbot =
          _mm256_mullo_epi16(wx, _mm256_or_si256(ay.f, _mm256_slli_epi32(ay.f, 16)));
      sample<kChannels>(src.data, src.stride, off, wtop, wbot, pairs,
                        out + static_cast<std::ptrdiff_t>(x) * kChannels, n);
    }
  }
}

template <int kChannels>
OCRAI_TARGET_AVX2 void rows_for(const ImageView& src, const MutableImageView& dst,
                                const CropMap& map, int y0, int y1) {
  const bool replicate = map.border == BorderMode::kReplicate;
  if (map.perspective) {
    if (replicate) {
      rows_impl<kChannels, true, true>(src, dst, map, y0, y1);
    } else {
      rows_impl<kChannels, true, false>(src, dst, map, y0, y1);
    }
  } else if (replicate) {
    rows_impl<kChannels, false, true>(src, dst, map, y0, y1);
  } else {
    rows_impl<kChannels, false, false>(src, dst, map, y0, y1);
  }
}

}  // namespace

OCRAI_TARGET_AVX2 void crop_rows(const ImageView& src, const MutableImageView& dst,
                                 const CropMap& map, int y0, int y1) {
  const std::int64_t size = static_cast<std::int64_t>(src.height - 1) * src.stride +
                            static_cast<std::int64_t>(src.width) * src.channels;
  if (src.width < 2 || src.height < 2 || size + 64 > INT32_MAX) {
    scalar::crop_rows(src, dst, map, y0, y1);
    return;
  }
  switch (src.channels) {
    case 1: rows_for<1>(src, dst, map, y0, y1); break;
    case 3: rows_for<3>(src, dst, map, y0, y1); break;
    default: rows_for<4>(src, dst, map, y0, y1); break;
  }
}

}  // namespace ocrai::kernels::avx2
#endif
