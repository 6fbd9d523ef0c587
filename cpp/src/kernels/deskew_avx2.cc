// SPDX-License-Identifier: MIT
// AVX2 skew estimation and rotation. All integer, the same sums as the scalar reference. The
// rotation gets the two source bytes of each bilinear row as a 16-bit pair and weighs them
// with one madd: for small angles a vector of output pixels reads a few short pieces of
// source rows, which a byte shuffle spreads into lanes (gathers are slow on many CPUs);
// otherwise a 32-bit gather per row, with the border blended in where a neighbour falls
// outside the source.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX2
#include <immintrin.h>

#include <cstring>

#include "kernels/deskew_kernels.h"

namespace ocrai::kernels::avx2 {
namespace {

// x in [0, limit] as unsigned 32-bit lanes (negative x is huge, so it fails too).
OCRAI_TARGET_AVX2 inline __m256i within(__m256i x, __m256i limit) {
  return _mm256_cmpeq_epi32(_mm256_min_epu32(x, limit), x);
}


// Byte `shift / 8` of each gathered dword where `inside`, else the border value.
OCRAI_TARGET_AVX2 inline __m256i pick(__m256i gathered, __m256i shift, __m256i inside,
                                      __m256i border) {
  const __m256i v = _mm256_and_si256(_mm256_srlv_epi32(gathered, shift), _mm256_set1_epi32(0xFF));
  return _mm256_blendv_epi8(border, v, inside);
}

// The 16-bit pairs (row[d], row[d + 1]) for each lane, from 16 bytes at row; idx holds the
// pshufb control of each lane.
OCRAI_TARGET_AVX2 inline __m256i row_pairs(const std::uint8_t* row, __m256i idx) {
  const __m256i bytes =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row)));
  return _mm256_shuffle_epi8(bytes, idx);
}

// acc (4 x uint64) += the squares of the 8 lanes of p >> shift; exact in any order.
OCRAI_TARGET_AVX2 inline void square_add(__m256i& acc, __m256i p, __m128i shift) {
  p = _mm256_srl_epi32(p, shift);
  acc = _mm256_add_epi64(acc, _mm256_mul_epu32(p, p));
  const __m256i odd = _mm256_srli_epi64(p, 32);
  acc = _mm256_add_epi64(acc, _mm256_mul_epu32(odd, odd));
}

OCRAI_TARGET_AVX2 inline __m256i load8(const std::uint32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

}  // namespace

OCRAI_TARGET_AVX2 void rotate_row(const std::uint8_t* src, std::ptrdiff_t stride, int src_width,
                                  int src_height, int channels, std::uint8_t* dst, int width,
                                  const std::int32_t* ox, const std::int32_t* oy, std::int32_t ax,
                                  std::int32_t ay, int border) {
  if (channels != 1 || src_width < 4 || src_height < 2) {
    scalar::rotate_row(src, stride, src_width, src_height, channels, dst, width, ox, oy, ax, ay,
                       border);
    return;
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lane_ax = _mm256_mullo_epi32(lane, _mm256_set1_epi32(ax));
  const __m256i lane_ay = _mm256_mullo_epi32(lane, _mm256_set1_epi32(ay));
  const __m256i zero = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i last_col = _mm256_set1_epi32(src_width - 1);
  const __m256i last_quad = _mm256_set1_epi32(src_width - 4);
  const __m256i last_row = _mm256_set1_epi32(src_height - 1);
  const __m256i vstride = _mm256_set1_epi32(static_cast<int>(stride));
  const __m256i vborder = _mm256_set1_epi32(border);
  const __m256i frac = _mm256_set1_epi32(kWeightOne - 1);
  const __m256i weight_one = _mm256_set1_epi32(kWeightOne);
  const __m256i round = _mm256_set1_epi32(1 << 15);
  // pshufb control per lane: bytes (d, zero, d + 1, zero), i.e. d * 0x10001 + 0x80018000.
  const __m256i pair_base = _mm256_set1_epi32(static_cast<int>(0x80018000u));
  const int* base = reinterpret_cast<const int*>(src);
  for (int x = 0; x < width; x += 8) {
    const int n = width - x < 8 ? width - x : 8;
    // Coordinates are linear along the row, so lanes 0 and 7 bound every lane.
    const std::int32_t sx0 = ox[x / kSegment] + (x % kSegment) * ax;
    const std::int32_t sy0 = oy[x / kSegment] + (x % kSegment) * ay;
    const int ix_a = sx0 >> kCoordBits;
    const int ix_b = (sx0 + 7 * ax) >> kCoordBits;
    const int iy_a = sy0 >> kCoordBits;
    const int iy_b = (sy0 + 7 * ay) >> kCoordBits;
    const int ix_lo = ix_a < ix_b ? ix_a : ix_b;
    const int ix_hi = ix_a < ix_b ? ix_b : ix_a;
    const int iy_lo = iy_a < iy_b ? iy_a : iy_b;
    const int iy_hi = iy_a < iy_b ? iy_b : iy_a;
    if (ix_hi < -1 || ix_lo >= src_width || iy_hi < -1 || iy_lo >= src_height) {
      std::memset(dst + x, border, static_cast<std::size_t>(n));
      continue;
    }
    const __m256i sx = _mm256_add_epi32(_mm256_set1_epi32(sx0), lane_ax);
    const __m256i sy = _mm256_add_epi32(_mm256_set1_epi32(sy0), lane_ay);
    const __m256i ix = _mm256_srai_epi32(sx, kCoordBits);
    const __m256i iy = _mm256_srai_epi32(sy, kCoordBits);
    __m256i top;     // per lane: the 16-bit pair (p(ix, iy), p(ix + 1, iy))
    __m256i bottom;  // the same on row iy + 1
    if (iy_lo >= 0 && iy_hi <= src_height - 2 && iy_hi - iy_lo <= 4 && ix_lo >= 0 &&
        ix_hi - ix_lo <= 14 && ix_lo + 16 <= src_width) {
      // Every neighbour is inside (ix_hi + 1 < ix_lo + 16 <= width) and the vector spans at
      // most 5 source rows and 16 columns: shuffle the bytes out of those row pieces instead of
      // gathering them.
      const __m256i d = _mm256_sub_epi32(ix, _mm256_set1_epi32(ix_lo));
      const __m256i idx =
          _mm256_add_epi32(_mm256_add_epi32(d, _mm256_slli_epi32(d, 16)), pair_base);
      const std::uint8_t* row = src + static_cast<std::ptrdiff_t>(iy_lo) * stride + ix_lo;
      top = row_pairs(row, idx);
      row += stride;
      __m256i upper = row_pairs(row, idx);  // the piece of row r (unblended)
      bottom = upper;
      if (iy_hi - iy_lo <= 1 && iy_lo + 2 < src_height) {
        // The common case at small angles, without a data-dependent branch: lanes on row
        // iy_lo + 1 (if any) take the pieces one row down.
        const __m256i lower = row_pairs(row + stride, idx);
        const __m256i on = _mm256_cmpgt_epi32(iy, _mm256_set1_epi32(iy_lo));
        top = _mm256_blendv_epi8(top, upper, on);
        bottom = _mm256_blendv_epi8(bottom, lower, on);
      } else {
        // Lanes on the following rows take their pairs from the pieces further down.
        for (int r = iy_lo + 1; r <= iy_hi; ++r) {
          row += stride;
          const __m256i lower = row_pairs(row, idx);
          const __m256i on = _mm256_cmpeq_epi32(iy, _mm256_set1_epi32(r));
          top = _mm256_blendv_epi8(top, upper, on);
          bottom = _mm256_blendv_epi8(bottom, lower, on);
          upper = lower;
        }
      }
    } else {
      // General case: gather 4 bytes from a column clamped into the row, pick bytes ix and
      // ix + 1 out of them, and put the border wherever a neighbour is outside the source.
      const __m256i a = _mm256_min_epi32(_mm256_max_epi32(ix, zero), last_quad);
      const __m256i shift0 = _mm256_slli_epi32(_mm256_sub_epi32(ix, a), 3);  // < 0 or >= 32: 0
      const __m256i shift1 = _mm256_add_epi32(shift0, _mm256_set1_epi32(8));
      const __m256i ix1 = _mm256_add_epi32(ix, one);
      const __m256i iy1 = _mm256_add_epi32(iy, one);
      const __m256i r0 = _mm256_min_epi32(_mm256_max_epi32(iy, zero), last_row);
      const __m256i r1 = _mm256_min_epi32(_mm256_max_epi32(iy1, zero), last_row);
      const __m256i g0 =
          _mm256_i32gather_epi32(base, _mm256_add_epi32(_mm256_mullo_epi32(r0, vstride), a), 1);
      const __m256i g1 =
          _mm256_i32gather_epi32(base, _mm256_add_epi32(_mm256_mullo_epi32(r1, vstride), a), 1);
      const __m256i x0 = within(ix, last_col);
      const __m256i x1 = within(ix1, last_col);
      const __m256i y0 = within(iy, last_row);
      const __m256i y1 = within(iy1, last_row);
      const __m256i p00 = pick(g0, shift0, _mm256_and_si256(x0, y0), vborder);
      const __m256i p01 = pick(g0, shift1, _mm256_and_si256(x1, y0), vborder);
      const __m256i p10 = pick(g1, shift0, _mm256_and_si256(x0, y1), vborder);
      const __m256i p11 = pick(g1, shift1, _mm256_and_si256(x1, y1), vborder);
      top = _mm256_or_si256(p00, _mm256_slli_epi32(p01, 16));
      bottom = _mm256_or_si256(p10, _mm256_slli_epi32(p11, 16));
    }
    const __m256i fx = _mm256_and_si256(_mm256_srai_epi32(sx, kCoordBits - kWeightBits), frac);
    const __m256i fy = _mm256_and_si256(_mm256_srai_epi32(sy, kCoordBits - kWeightBits), frac);
    const __m256i wx = _mm256_or_si256(_mm256_sub_epi32(weight_one, fx), _mm256_slli_epi32(fx, 16));
    const __m256i t = _mm256_madd_epi16(top, wx);
    const __m256i b = _mm256_madd_epi16(bottom, wx);
    // t * (256 - fy) + b * fy, rearranged to one multiply.
    const __m256i v = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(t, kWeightBits),
                                          _mm256_mullo_epi32(_mm256_sub_epi32(b, t), fy)),
                         round),
        16);
    const __m256i w16 = _mm256_packus_epi32(v, v);  // per half: v0-3 v0-3 | v4-7 v4-7
    const __m256i b8 = _mm256_packus_epi16(w16, w16);
    const __m128i bytes =
        _mm_unpacklo_epi32(_mm256_castsi256_si128(b8), _mm256_extracti128_si256(b8, 1));
    if (n == 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + x), bytes);
    } else {
      alignas(16) std::uint8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
      std::memcpy(dst + x, tmp, static_cast<std::size_t>(n));
    }
  }
}

OCRAI_TARGET_AVX2 void ink_counts(const std::uint8_t* src, std::ptrdiff_t stride, int width,
                                  int rows, int threshold, int group, std::uint16_t* counts) {
  const __m256i t = _mm256_set1_epi8(static_cast<char>(threshold));
  int x = 0;
  for (; x + 32 <= width; x += 32) {
    __m256i acc = _mm256_setzero_si256();  // per-column counts, at most kMaxBandRows
    for (int r = 0; r < rows; ++r) {
      const __m256i v = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(src + static_cast<std::ptrdiff_t>(r) * stride + x));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_min_epu8(v, t), v));  // -(-1) per ink
    }
    if (group == 16) {
      // Sums of 8 columns in each 64-bit lane; two lanes make a group.
      const __m256i eights = _mm256_sad_epu8(acc, _mm256_setzero_si256());
      const __m256i sixteens = _mm256_add_epi64(eights, _mm256_srli_si256(eights, 8));
      counts[x / 16] = static_cast<std::uint16_t>(_mm256_extract_epi64(sixteens, 0));
      counts[x / 16 + 1] = static_cast<std::uint16_t>(_mm256_extract_epi64(sixteens, 2));
    } else {
      const __m256i fours = _mm256_madd_epi16(_mm256_maddubs_epi16(acc, _mm256_set1_epi8(1)),
                                              _mm256_set1_epi16(1));
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(fours, fours), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(counts + x / 4), _mm256_castsi256_si128(packed));
    }
  }
  if (x < width) {
    scalar::ink_counts(src + x, stride, width - x, rows, threshold, group, counts + x / group);
  }
}

OCRAI_TARGET_AVX2 std::uint64_t profile_score(const std::uint32_t* pairs,
                                              std::ptrdiff_t strip_stride, int strips,
                                              const std::int32_t* offsets,
                                              const std::uint32_t* weights, int length,
                                              int shift) {
  const __m128i count = _mm_cvtsi32_si128(shift);
  __m256i acc = _mm256_setzero_si256();  // 4 x uint64
  int b = 0;
  // Blocks of 32 bins stay in registers while every strip adds to them.
  for (; b + 32 <= length; b += 32) {
    __m256i p0 = _mm256_setzero_si256();
    __m256i p1 = _mm256_setzero_si256();
    __m256i p2 = _mm256_setzero_si256();
    __m256i p3 = _mm256_setzero_si256();
    for (int k = 0; k < strips; ++k) {
      const std::uint32_t* s = pairs + k * strip_stride + offsets[k] + b;
      const __m256i w = _mm256_set1_epi32(static_cast<int>(weights[k]));
      p0 = _mm256_add_epi32(p0, _mm256_madd_epi16(load8(s), w));
      p1 = _mm256_add_epi32(p1, _mm256_madd_epi16(load8(s + 8), w));
      p2 = _mm256_add_epi32(p2, _mm256_madd_epi16(load8(s + 16), w));
      p3 = _mm256_add_epi32(p3, _mm256_madd_epi16(load8(s + 24), w));
    }
    square_add(acc, p0, count);
    square_add(acc, p1, count);
    square_add(acc, p2, count);
    square_add(acc, p3, count);
  }
  for (; b + 8 <= length; b += 8) {
    __m256i p = _mm256_setzero_si256();
    for (int k = 0; k < strips; ++k) {
      const std::uint32_t* s = pairs + k * strip_stride + offsets[k] + b;
      const __m256i w = _mm256_set1_epi32(static_cast<int>(weights[k]));
      p = _mm256_add_epi32(p, _mm256_madd_epi16(load8(s), w));
    }
    square_add(acc, p, count);
  }
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  std::uint64_t score = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  if (b < length) {
    score += scalar::profile_score(pairs + b, strip_stride, strips, offsets, weights, length - b,
                                   shift);
  }
  return score;
}

}  // namespace ocrai::kernels::avx2
#endif
