// SPDX-License-Identifier: MIT
// AVX-512 quad crop, 16 destination pixels a step: the mapped positions in float (the same
// operations as the reference), fixed-point taps, then one gather per source row fetching
// each pixel's horizontal pair of neighbours (a dword for gray, a qword for 3/4 channels),
// and vpmaddwd against the bilinear weights formed as int16 pairs. Pixels whose taps leave
// the image under a constant border, or whose gather would read past the end of the source
// buffer, go through the scalar reference instead (only near the image's edges).
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include <climits>
#include <cstdint>

#include "kernels/crop_kernels.h"

namespace ocrai::kernels::avx512 {
namespace {

constexpr int kLanes = 16;

struct Axis {
  __m512i i;  // first tap index
  __m512i f;  // weight of the second tap, 0..128
};

OCRAI_TARGET_AVX512 inline Axis replicate_axis(__m512 coord, int size) {
  const __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(coord, _mm512_set1_ps(128.0f)),
                                               _mm512_setzero_ps()),
                                 _mm512_set1_ps(static_cast<float>((size - 1) * 128)));
  const __m512i q = _mm512_cvttps_epi32(t);
  const __m512i i = _mm512_min_epi32(_mm512_srai_epi32(q, 7), _mm512_set1_epi32(size - 2));
  return {i, _mm512_sub_epi32(q, _mm512_slli_epi32(i, 7))};
}

OCRAI_TARGET_AVX512 inline Axis constant_axis(__m512 coord, int size) {
  const __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(coord, _mm512_set1_ps(128.0f)),
                                               _mm512_set1_ps(-128.0f)),
                                 _mm512_set1_ps(static_cast<float>(size * 128)));
  const __m512i q = _mm512_cvt_roundps_epi32(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return {_mm512_srai_epi32(q, 7), _mm512_and_si512(q, _mm512_set1_epi32(127))};
}

// Lanes whose two taps are both inside [0, size).
OCRAI_TARGET_AVX512 inline __mmask16 inside(const Axis& a, int size) {
  return _mm512_cmpge_epi32_mask(a.i, _mm512_setzero_si512()) &
         _mm512_cmple_epi32_mask(a.i, _mm512_set1_epi32(size - 2));
}

// Byte shuffle making int16 pairs (channel c of the left pixel, channel c of the right one)
// in dword c of each 128-bit lane, from a lane whose low 8 bytes hold the two pixels.
OCRAI_TARGET_AVX512 inline __m512i pair_mask(int channels) {
  alignas(64) std::int8_t m[64];
  for (int lane = 0; lane < 4; ++lane) {
    for (int c = 0; c < 4; ++c) {
      std::int8_t* d = m + lane * 16 + c * 4;
      const bool real = c < channels;
      d[0] = real ? static_cast<std::int8_t>(c) : -1;
      d[1] = -1;
      d[2] = real ? static_cast<std::int8_t>(channels + c) : -1;
      d[3] = -1;
    }
  }
  return _mm512_load_si512(m);
}

struct Setup {
  const std::uint8_t* base;
  std::int32_t stride;
  std::int32_t limit;  // largest top-row offset whose bottom-row gather stays in the buffer
  __m512i pairs;       // pair_mask(channels)
};

template <int kChannels>
OCRAI_TARGET_AVX512 inline void sample(const Setup& s, __m512i off, __m512i wtop, __m512i wbot,
                                       std::uint8_t* out, int n) {
  const __m512i round = _mm512_set1_epi32(1 << 13);
  const __m512i below = _mm512_add_epi32(off, _mm512_set1_epi32(s.stride));
  if constexpr (kChannels == 1) {
    // Bytes 0 and 1 of each dword (the pixel and its right neighbour) to an int16 pair.
    const __m512i spread = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1));
    const __m512i top = _mm512_shuffle_epi8(_mm512_i32gather_epi32(off, s.base, 1), spread);
    const __m512i bot = _mm512_shuffle_epi8(_mm512_i32gather_epi32(below, s.base, 1), spread);
    const __m512i acc = _mm512_add_epi32(
        _mm512_add_epi32(_mm512_madd_epi16(top, wtop), _mm512_madd_epi16(bot, wbot)), round);
    const __m128i bytes = _mm512_cvtepi32_epi8(_mm512_srli_epi32(acc, 14));
    _mm_mask_storeu_epi8(out, static_cast<__mmask16>((1u << n) - 1), bytes);
  } else {
    // Each pixel's two neighbours (8 bytes per source row) go to their own 128-bit lane with
    // plain 8-byte loads: on the CPUs measured, 32 loads and inserts cost a third of the four
    // 8-lane qword gathers they replace.
    alignas(64) std::int32_t offsets[kLanes];
    _mm512_store_si512(offsets, off);
    const std::uint8_t* base = s.base;
    const std::ptrdiff_t stride = s.stride;
    __m512i r[4];
    for (int q = 0; q < 4; ++q) {
      const std::int32_t* o = offsets + 4 * q;
      const auto load = [base](std::ptrdiff_t at) {
        return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(base + at));
      };
      const __m512i top_raw = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_set_m128i(load(o[1]), load(o[0]))),
          _mm256_set_m128i(load(o[3]), load(o[2])), 1);
      const __m512i bot_raw = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_set_m128i(load(o[1] + stride), load(o[0] + stride))),
          _mm256_set_m128i(load(o[3] + stride), load(o[2] + stride)), 1);
      const __m512i top = _mm512_shuffle_epi8(top_raw, s.pairs);
      const __m512i bot = _mm512_shuffle_epi8(bot_raw, s.pairs);
      const __m512i lanes = _mm512_setr_epi32(4 * q, 4 * q, 4 * q, 4 * q, 4 * q + 1, 4 * q + 1,
                                              4 * q + 1, 4 * q + 1, 4 * q + 2, 4 * q + 2,
                                              4 * q + 2, 4 * q + 2, 4 * q + 3, 4 * q + 3,
                                              4 * q + 3, 4 * q + 3);
      const __m512i acc = _mm512_add_epi32(
          _mm512_add_epi32(_mm512_madd_epi16(top, _mm512_permutexvar_epi32(lanes, wtop)),
                           _mm512_madd_epi16(bot, _mm512_permutexvar_epi32(lanes, wbot))),
          round);
      r[q] = _mm512_srli_epi32(acc, 14);
    }
    // After the packs, dword k of lane L is pixel L + 4k; put the pixels in order.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i bytes = _mm512_permutexvar_epi32(
        order, _mm512_packus_epi16(_mm512_packus_epi32(r[0], r[1]),
                                   _mm512_packus_epi32(r[2], r[3])));
    if constexpr (kChannels == 3) {
      // Drop every 4th byte: 12 bytes per lane, then the lanes' 3 dwords side by side.
      const __m512i drop = _mm512_broadcast_i32x4(
          _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
      bytes = _mm512_permutexvar_epi32(
          _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15),
          _mm512_shuffle_epi8(bytes, drop));
    }
    const int count = n * kChannels;
    const __mmask64 mask = count >= 64 ? ~__mmask64{0} : ((__mmask64{1} << count) - 1);
    _mm512_mask_storeu_epi8(out, mask, bytes);
  }
}

template <int kChannels, bool kPerspective, bool kReplicate>
OCRAI_TARGET_AVX512 void rows_impl(const ImageView& src, const MutableImageView& dst,
                                   const CropMap& map, int y0, int y1) {
  const float* m = map.m;
  const std::int64_t size = static_cast<std::int64_t>(src.height - 1) * src.stride +
                            static_cast<std::int64_t>(src.width) * kChannels;
  const int gather_bytes = kChannels == 1 ? 4 : 8;
  Setup s{src.data, static_cast<std::int32_t>(src.stride),
          static_cast<std::int32_t>(size - gather_bytes - src.stride), pair_mask(kChannels)};
  const __m512 m0 = _mm512_set1_ps(m[0]), m3 = _mm512_set1_ps(m[3]), m6 = _mm512_set1_ps(m[6]);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i k128 = _mm512_set1_epi32(128);
  const __m512i stride = _mm512_set1_epi32(static_cast<std::int32_t>(src.stride));
  for (int y = y0; y < y1; ++y) {
    const float yf = static_cast<float>(y);
    const __m512 row_x = _mm512_set1_ps(m[1] * yf + m[2]);
    const __m512 row_y = _mm512_set1_ps(m[4] * yf + m[5]);
    const __m512 row_w = _mm512_set1_ps(m[7] * yf + m[8]);
    std::uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; x += kLanes) {
      const int n = dst.width - x < kLanes ? dst.width - x : kLanes;
      const __mmask16 live = static_cast<__mmask16>((1u << n) - 1);
      const __m512 xf = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_set1_epi32(x), iota));
      __m512 sx = _mm512_add_ps(_mm512_mul_ps(m0, xf), row_x);
      __m512 sy = _mm512_add_ps(_mm512_mul_ps(m3, xf), row_y);
      if constexpr (kPerspective) {
        const __m512 w = _mm512_add_ps(_mm512_mul_ps(m6, xf), row_w);
        sx = _mm512_div_ps(sx, w);
        sy = _mm512_div_ps(sy, w);
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
      const __m512i off = _mm512_maskz_mov_epi32(
          live, _mm512_add_epi32(_mm512_mullo_epi32(ay.i, stride),
                                 _mm512_mullo_epi32(ax.i, _mm512_set1_epi32(kChannels))));
      if (_mm512_cmpgt_epi32_mask(off, _mm512_set1_epi32(s.limit)) != 0) {
        scalar::crop_span(src, out, map, y, x, x + n);
        continue;
      }
      // The next destination rows read the source a row or two further down along the same
      // slanted path, in cache lines no hardware prefetcher predicts: ask for them now.
      {
        // Integer address arithmetic: the address may lie past the image (prefetches never
        // fault), where pointer arithmetic would be undefined.
        const std::int32_t first = _mm_cvtsi128_si32(_mm512_castsi512_si128(off));
        const std::int64_t at = first + 3 * std::int64_t{s.stride};
        const std::uintptr_t ahead =
            reinterpret_cast<std::uintptr_t>(s.base) + static_cast<std::uintptr_t>(at);
        _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(ahead + kLanes * kChannels), _MM_HINT_T0);
      }
      // Weights as int16 pairs: (128 - fx, fx) times 128 - fy (top row) or fy (bottom row);
      // each product is at most 2^14.
      const __m512i wx = _mm512_or_si512(_mm512_sub_epi32(k128, ax.f), _mm512_slli_epi32(ax.f, 16));
      const __m512i wy0 = _mm512_sub_epi32(k128, ay.f);
      const __m512i wtop = _mm512_mullo_epi16(wx, _mm512_or_si512(wy0, _mm512_slli_epi32(wy0, 16)));
      const __m512i wbot =
          _mm512_mullo_epi16(wx, _mm512_or_si512(ay.f, _mm512_slli_epi32(ay.f, 16)));
      sample<kChannels>(s, off, wtop, wbot, out + static_cast<std::ptrdiff_t>(x) * kChannels, n);
    }
  }
}

template <int kChannels>
OCRAI_TARGET_AVX512 void rows_for(const ImageView& src, const MutableImageView& dst,
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

OCRAI_TARGET_AVX512 void crop_rows(const ImageView& src, const MutableImageView& dst,
                                   const CropMap& map, int y0, int y1) {
  // Single-pixel sides have one tap per axis, and sources beyond 2 GiB need 64-bit offsets:
  // both are left to the reference.
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

}  // namespace ocrai::kernels::avx512
#endif
