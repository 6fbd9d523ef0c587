// SPDX-License-Identifier: MIT
// AVX-512 skew estimation and rotation: the AVX2 scheme (see deskew_avx2.cc) on 16 lanes, with
// masked loads and stores for every row tail. The rotation's row pieces (up to 32 bytes of
// each source row a vector touches) are widened to 16-bit words and placed with one
// cross-lane word permute per row.
#include "kernels/simd.h"

#if OCRAI_HAVE_AVX512
#include <immintrin.h>

#include <cstring>

#include "kernels/deskew_kernels.h"

namespace ocrai::kernels::avx512 {
namespace {

OCRAI_TARGET_AVX512 inline void square_add(__m512i& acc, __m512i p, __m128i shift) {
  p = _mm512_srl_epi32(p, shift);
  acc = _mm512_add_epi64(acc, _mm512_mul_epu32(p, p));
  const __m512i odd = _mm512_srli_epi64(p, 32);
  acc = _mm512_add_epi64(acc, _mm512_mul_epu32(odd, odd));
}

// Byte `shift / 8` of each gathered dword where `inside`, else the border value.
OCRAI_TARGET_AVX512 inline __m512i pick(__m512i gathered, __m512i shift, __mmask16 inside,
                                        __m512i border) {
  const __m512i v = _mm512_and_si512(_mm512_srlv_epi32(gathered, shift), _mm512_set1_epi32(0xFF));
  return _mm512_mask_blend_epi32(inside, border, v);
}

// The 16-bit pairs (row[d], row[d + 1]) for each lane's d in idx, from up to 32 bytes.
OCRAI_TARGET_AVX512 inline __m512i row_pairs(const std::uint8_t* row, __mmask32 cols,
                                             __m512i idx) {
  return _mm512_permutexvar_epi16(idx, _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(cols, row)));
}

OCRAI_TARGET_AVX512 inline __m512i clamp_lanes(__m512i v, __m512i lo, __m512i hi) {
  return _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
}

// Bilinear rows of 4-channel pixels: with a (16 pixels, one per dword) and b (their right
// neighbours), the 16 x 4 values a * (256 - fx) + b * fx as four vectors of dwords, vector k
// holding pixel 4L + k of each 128-bit lane L (channels 0-3).
OCRAI_TARGET_AVX512 inline void lerp4(__m512i a, __m512i b, __m512i wx, __m512i out[4]) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i lo = _mm512_unpacklo_epi8(a, b);  // pixels 4L, 4L + 1: bytes of a, b alternate
  const __m512i hi = _mm512_unpackhi_epi8(a, b);  // pixels 4L + 2, 4L + 3
  // Zero-extended, each dword is the 16-bit pair (a, b) of one channel; the weights of pixel
  // 4L + k are broadcast over its lane.
  out[0] = _mm512_madd_epi16(_mm512_unpacklo_epi8(lo, zero),
                             _mm512_shuffle_epi32(wx, _MM_PERM_AAAA));
  out[1] = _mm512_madd_epi16(_mm512_unpackhi_epi8(lo, zero),
                             _mm512_shuffle_epi32(wx, _MM_PERM_BBBB));
  out[2] = _mm512_madd_epi16(_mm512_unpacklo_epi8(hi, zero),
                             _mm512_shuffle_epi32(wx, _MM_PERM_CCCC));
  out[3] = _mm512_madd_epi16(_mm512_unpackhi_epi8(hi, zero),
                             _mm512_shuffle_epi32(wx, _MM_PERM_DDDD));
}

// 4-channel rotation: every pixel is one dword, so the gray scheme carries over with dword
// permutes (row pieces) and dword gathers (everything else) in place of bytes.
OCRAI_TARGET_AVX512 void rotate_row4(const std::uint8_t* src, std::ptrdiff_t stride,
                                     int src_width, int src_height, std::uint8_t* dst, int width,
                                     const std::int32_t* ox, const std::int32_t* oy,
                                     std::int32_t ax, std::int32_t ay, int border) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i lane_ax = _mm512_mullo_epi32(lane, _mm512_set1_epi32(ax));
  const __m512i lane_ay = _mm512_mullo_epi32(lane, _mm512_set1_epi32(ay));
  const __m512i zero = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i sw = _mm512_set1_epi32(src_width);
  const __m512i sh = _mm512_set1_epi32(src_height);
  const __m512i last_col = _mm512_set1_epi32(src_width - 1);
  const __m512i last_row = _mm512_set1_epi32(src_height - 1);
  const __m512i vstride = _mm512_set1_epi32(static_cast<int>(stride));
  // The border byte in each byte of a dword; in unsigned arithmetic (255 * 0x01010101 > INT_MAX).
  const __m512i fill =
      _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(border) * 0x01010101u));
  const __m512i frac = _mm512_set1_epi32(kWeightOne - 1);
  const __m512i weight_one = _mm512_set1_epi32(kWeightOne);
  const __m512i round = _mm512_set1_epi32(1 << 15);
  for (int x = 0; x < width; x += 16) {
    const int n = width - x < 16 ? width - x : 16;
    const __mmask64 store = n == 16 ? ~__mmask64{0} : (__mmask64{1} << (4 * n)) - 1;
    std::uint8_t* out = dst + static_cast<std::ptrdiff_t>(x) * 4;
    const std::int32_t sx0 = ox[x / kSegment] + (x % kSegment) * ax;
    const std::int32_t sy0 = oy[x / kSegment] + (x % kSegment) * ay;
    const int ix_a = sx0 >> kCoordBits;
    const int ix_b = (sx0 + 15 * ax) >> kCoordBits;
    const int iy_a = sy0 >> kCoordBits;
    const int iy_b = (sy0 + 15 * ay) >> kCoordBits;
    const int ix_lo = ix_a < ix_b ? ix_a : ix_b;
    const int ix_hi = ix_a < ix_b ? ix_b : ix_a;
    const int iy_lo = iy_a < iy_b ? iy_a : iy_b;
    const int iy_hi = iy_a < iy_b ? iy_b : iy_a;
    if (ix_hi < -1 || ix_lo >= src_width || iy_hi < -1 || iy_lo >= src_height) {
      _mm512_mask_storeu_epi8(out, store, fill);
      continue;
    }
    const __m512i sx = _mm512_add_epi32(_mm512_set1_epi32(sx0), lane_ax);
    const __m512i sy = _mm512_add_epi32(_mm512_set1_epi32(sy0), lane_ay);
    const __m512i ix = _mm512_srai_epi32(sx, kCoordBits);
    const __m512i iy = _mm512_srai_epi32(sy, kCoordBits);
    __m512i p00;  // p(ix, iy), one pixel per dword
    __m512i p01;  // p(ix + 1, iy)
    __m512i p10;  // p(ix, iy + 1)
    __m512i p11;  // p(ix + 1, iy + 1)
    if (iy_lo >= 0 && iy_hi - iy_lo <= 1 && iy_lo + 2 < src_height && ix_lo >= 0 &&
        ix_hi <= src_width - 2 && ix_hi - ix_lo <= 30) {
      // Up to 32 pixels of 3 source rows, permuted into place.
      const int pieces = src_width - ix_lo < 32 ? src_width - ix_lo : 32;
      const __mmask16 m0 = pieces >= 16 ? static_cast<__mmask16>(0xFFFF)
                                        : static_cast<__mmask16>((1u << pieces) - 1);
      const __mmask16 m1 = pieces <= 16 ? static_cast<__mmask16>(0)
                                        : static_cast<__mmask16>((1u << (pieces - 16)) - 1);
      const __m512i d0 = _mm512_sub_epi32(ix, _mm512_set1_epi32(ix_lo));
      const __m512i d1 = _mm512_add_epi32(d0, one);
      const std::uint8_t* row = src + static_cast<std::ptrdiff_t>(iy_lo) * stride + 4 * ix_lo;
      __m512i a[3];
      __m512i b[3];
      for (int r = 0; r < 3; ++r, row += stride) {
        const __m512i first = _mm512_maskz_loadu_epi32(m0, row);
        const __m512i second = _mm512_maskz_loadu_epi32(m1, row + 64);
        a[r] = _mm512_permutex2var_epi32(first, d0, second);
        b[r] = _mm512_permutex2var_epi32(first, d1, second);
      }
      const __mmask16 on = _mm512_cmpgt_epi32_mask(iy, _mm512_set1_epi32(iy_lo));
      p00 = _mm512_mask_blend_epi32(on, a[0], a[1]);
      p01 = _mm512_mask_blend_epi32(on, b[0], b[1]);
      p10 = _mm512_mask_blend_epi32(on, a[1], a[2]);
      p11 = _mm512_mask_blend_epi32(on, b[1], b[2]);
    } else {
      // Gathers from coordinates clamped into the source; the border where a neighbour is out.
      const __m512i ix1 = _mm512_add_epi32(ix, one);
      const __m512i iy1 = _mm512_add_epi32(iy, one);
      const __m512i c0 = _mm512_slli_epi32(clamp_lanes(ix, zero, last_col), 2);
      const __m512i c1 = _mm512_slli_epi32(clamp_lanes(ix1, zero, last_col), 2);
      const __m512i r0 = _mm512_mullo_epi32(clamp_lanes(iy, zero, last_row), vstride);
      const __m512i r1 = _mm512_mullo_epi32(clamp_lanes(iy1, zero, last_row), vstride);
      const __mmask16 x0 = _mm512_cmplt_epu32_mask(ix, sw);
      const __mmask16 x1 = _mm512_cmplt_epu32_mask(ix1, sw);
      const __mmask16 y0 = _mm512_cmplt_epu32_mask(iy, sh);
      const __mmask16 y1 = _mm512_cmplt_epu32_mask(iy1, sh);
      p00 = _mm512_mask_i32gather_epi32(fill, x0 & y0, _mm512_add_epi32(r0, c0), src, 1);
      p01 = _mm512_mask_i32gather_epi32(fill, x1 & y0, _mm512_add_epi32(r0, c1), src, 1);
      p10 = _mm512_mask_i32gather_epi32(fill, x0 & y1, _mm512_add_epi32(r1, c0), src, 1);
      p11 = _mm512_mask_i32gather_epi32(fill, x1 & y1, _mm512_add_epi32(r1, c1), src, 1);
    }
    const __m512i fx = _mm512_and_si512(_mm512_srai_epi32(sx, kCoordBits - kWeightBits), frac);
    const __m512i fy = _mm512_and_si512(_mm512_srai_epi32(sy, kCoordBits - kWeightBits), frac);
    const __m512i wx = _mm512_or_si512(_mm512_sub_epi32(weight_one, fx), _mm512_slli_epi32(fx, 16));
    __m512i t[4];
    __m512i b[4];
    lerp4(p00, p01, wx, t);
    lerp4(p10, p11, wx, b);
    const __m512i fyk[4] = {
        _mm512_shuffle_epi32(fy, _MM_PERM_AAAA), _mm512_shuffle_epi32(fy, _MM_PERM_BBBB),
        _mm512_shuffle_epi32(fy, _MM_PERM_CCCC), _mm512_shuffle_epi32(fy, _MM_PERM_DDDD)};
    __m512i v[4];
    for (int k = 0; k < 4; ++k) {
      const __m512i dv = _mm512_mullo_epi32(_mm512_sub_epi32(b[k], t[k]), fyk[k]);
      v[k] = _mm512_srli_epi32(
          _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(t[k], kWeightBits), dv), round), 16);
    }
    const __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(v[0], v[1]),
                                              _mm512_packus_epi32(v[2], v[3]));
    _mm512_mask_storeu_epi8(out, store, bytes);
  }
}

}  // namespace

OCRAI_TARGET_AVX512 void rotate_row(const std::uint8_t* src, std::ptrdiff_t stride,
                                    int src_width, int src_height, int channels, std::uint8_t* dst,
                                    int width, const std::int32_t* ox, const std::int32_t* oy,
                                    std::int32_t ax, std::int32_t ay, int border) {
  if (channels == 4 && src_width >= 2 && src_height >= 2) {
    rotate_row4(src, stride, src_width, src_height, dst, width, ox, oy, ax, ay, border);
    return;
  }
  if (channels != 1 || src_width < 4 || src_height < 2) {
    scalar::rotate_row(src, stride, src_width, src_height, channels, dst, width, ox, oy, ax, ay,
                       border);
    return;
  }
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i lane_ax = _mm512_mullo_epi32(lane, _mm512_set1_epi32(ax));
  const __m512i lane_ay = _mm512_mullo_epi32(lane, _mm512_set1_epi32(ay));
  const __m512i zero = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i sw = _mm512_set1_epi32(src_width);
  const __m512i sh = _mm512_set1_epi32(src_height);
  const __m512i last_quad = _mm512_set1_epi32(src_width - 4);
  const __m512i last_row = _mm512_set1_epi32(src_height - 1);
  const __m512i vstride = _mm512_set1_epi32(static_cast<int>(stride));
  const __m512i vborder = _mm512_set1_epi32(border);
  const __m512i frac = _mm512_set1_epi32(kWeightOne - 1);
  const __m512i weight_one = _mm512_set1_epi32(kWeightOne);
  const __m512i round = _mm512_set1_epi32(1 << 15);
  for (int x = 0; x < width; x += 16) {
    const __mmask16 store = width - x >= 16 ? static_cast<__mmask16>(0xFFFF)
                                            : static_cast<__mmask16>((1u << (width - x)) - 1);
    // Coordinates are linear along the row, so lanes 0 and 15 bound every lane.
    const std::int32_t sx0 = ox[x / kSegment] + (x % kSegment) * ax;
    const std::int32_t sy0 = oy[x / kSegment] + (x % kSegment) * ay;
    const int ix_a = sx0 >> kCoordBits;
    const int ix_b = (sx0 + 15 * ax) >> kCoordBits;
    const int iy_a = sy0 >> kCoordBits;
    const int iy_b = (sy0 + 15 * ay) >> kCoordBits;
    const int ix_lo = ix_a < ix_b ? ix_a : ix_b;
    const int ix_hi = ix_a < ix_b ? ix_b : ix_a;
    const int iy_lo = iy_a < iy_b ? iy_a : iy_b;
    const int iy_hi = iy_a < iy_b ? iy_b : iy_a;
    if (ix_hi < -1 || ix_lo >= src_width || iy_hi < -1 || iy_lo >= src_height) {
      _mm_mask_storeu_epi8(dst + x, store, _mm_set1_epi8(static_cast<char>(border)));
      continue;
    }
    const __m512i sx = _mm512_add_epi32(_mm512_set1_epi32(sx0), lane_ax);
    const __m512i sy = _mm512_add_epi32(_mm512_set1_epi32(sy0), lane_ay);
    const __m512i ix = _mm512_srai_epi32(sx, kCoordBits);
    const __m512i iy = _mm512_srai_epi32(sy, kCoordBits);
    __m512i top;     // per lane: the 16-bit pair (p(ix, iy), p(ix + 1, iy))
    __m512i bottom;  // the same on row iy + 1
    if (iy_lo >= 0 && iy_hi <= src_height - 2 && iy_hi - iy_lo <= 4 && ix_lo >= 0 &&
        ix_hi <= src_width - 2 && ix_hi - ix_lo <= 30) {
      // Every neighbour is inside and the vector spans at most 5 source rows and 32 columns:
      // load those row pieces and place the bytes with a word permute instead of gathering.
      const int n = src_width - ix_lo < 32 ? src_width - ix_lo : 32;
      const __mmask32 cols = n == 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1;
      const __m512i d = _mm512_sub_epi32(ix, _mm512_set1_epi32(ix_lo));
      const __m512i idx = _mm512_or_si512(d, _mm512_slli_epi32(_mm512_add_epi32(d, one), 16));
      const std::uint8_t* row = src + static_cast<std::ptrdiff_t>(iy_lo) * stride + ix_lo;
      top = row_pairs(row, cols, idx);
      row += stride;
      __m512i upper = row_pairs(row, cols, idx);  // the piece of row r (unblended)
      bottom = upper;
      if (iy_hi - iy_lo <= 1 && iy_lo + 2 < src_height) {
        // The common case at small angles, without a data-dependent branch: lanes on row
        // iy_lo + 1 (if any) take the pieces one row down.
        const __m512i lower = row_pairs(row + stride, cols, idx);
        const __mmask16 on = _mm512_cmpgt_epi32_mask(iy, _mm512_set1_epi32(iy_lo));
        top = _mm512_mask_blend_epi32(on, top, upper);
        bottom = _mm512_mask_blend_epi32(on, bottom, lower);
      } else {
        // Lanes on the following rows take their pairs from the pieces further down.
        for (int r = iy_lo + 1; r <= iy_hi; ++r) {
          row += stride;
          const __m512i lower = row_pairs(row, cols, idx);
          const __mmask16 on = _mm512_cmpeq_epi32_mask(iy, _mm512_set1_epi32(r));
          top = _mm512_mask_blend_epi32(on, top, upper);
          bottom = _mm512_mask_blend_epi32(on, bottom, lower);
          upper = lower;
        }
      }
    } else {
      // General case: gather 4 bytes from a column clamped into the row, pick bytes ix and
      // ix + 1 out of them, and put the border wherever a neighbour is outside the source.
      const __m512i a = _mm512_min_epi32(_mm512_max_epi32(ix, zero), last_quad);
      const __m512i shift0 = _mm512_slli_epi32(_mm512_sub_epi32(ix, a), 3);  // < 0 or >= 32: 0
      const __m512i shift1 = _mm512_add_epi32(shift0, _mm512_set1_epi32(8));
      const __m512i iy1 = _mm512_add_epi32(iy, one);
      const __m512i r0 = _mm512_min_epi32(_mm512_max_epi32(iy, zero), last_row);
      const __m512i r1 = _mm512_min_epi32(_mm512_max_epi32(iy1, zero), last_row);
      const __m512i g0 =
          _mm512_i32gather_epi32(_mm512_add_epi32(_mm512_mullo_epi32(r0, vstride), a), src, 1);
      const __m512i g1 =
          _mm512_i32gather_epi32(_mm512_add_epi32(_mm512_mullo_epi32(r1, vstride), a), src, 1);
      const __mmask16 x0 = _mm512_cmplt_epu32_mask(ix, sw);
      const __mmask16 x1 = _mm512_cmplt_epu32_mask(_mm512_add_epi32(ix, one), sw);
      const __mmask16 y0 = _mm512_cmplt_epu32_mask(iy, sh);
      const __mmask16 y1 = _mm512_cmplt_epu32_mask(iy1, sh);
      top = _mm512_or_si512(pick(g0, shift0, x0 & y0, vborder),
                            _mm512_slli_epi32(pick(g0, shift1, x1 & y0, vborder), 16));
      bottom = _mm512_or_si512(pick(g1, shift0, x0 & y1, vborder),
                               _mm512_slli_epi32(pick(g1, shift1, x1 & y1, vborder), 16));
    }
    const __m512i fx = _mm512_and_si512(_mm512_srai_epi32(sx, kCoordBits - kWeightBits), frac);
    const __m512i fy = _mm512_and_si512(_mm512_srai_epi32(sy, kCoordBits - kWeightBits), frac);
    const __m512i wx = _mm512_or_si512(_mm512_sub_epi32(weight_one, fx), _mm512_slli_epi32(fx, 16));
    const __m512i t = _mm512_madd_epi16(top, wx);
    const __m512i b = _mm512_madd_epi16(bottom, wx);
    // t * (256 - fy) + b * fy, rearranged to one multiply.
    const __m512i v = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(t, kWeightBits),
                                          _mm512_mullo_epi32(_mm512_sub_epi32(b, t), fy)),
                         round),
        16);
    if (store == 0xFFFF) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + x), _mm512_cvtepi32_epi8(v));
    } else {
      _mm_mask_storeu_epi8(dst + x, store, _mm512_cvtepi32_epi8(v));
    }
  }
}

OCRAI_TARGET_AVX512 void ink_counts(const std::uint8_t* src, std::ptrdiff_t stride, int width,
                                    int rows, int threshold, int group, std::uint16_t* counts) {
  const __m512i t = _mm512_set1_epi8(static_cast<char>(threshold));
  const __m512i ones = _mm512_set1_epi8(1);
  // Sums of 8 columns per 64-bit lane -> groups of 16: lanes (0+1, 2+3, 4+5, 6+7).
  const __m512i pair_lo = _mm512_setr_epi64(0, 2, 4, 6, 0, 0, 0, 0);
  const __m512i pair_hi = _mm512_setr_epi64(1, 3, 5, 7, 0, 0, 0, 0);
  for (int x = 0; x < width; x += 64) {
    const int n = width - x < 64 ? width - x : 64;
    const __mmask64 cols = n == 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    __m512i acc = _mm512_setzero_si512();  // per-column counts, at most kMaxBandRows
    for (int r = 0; r < rows; ++r) {
      const __m512i v =
          _mm512_maskz_loadu_epi8(cols, src + static_cast<std::ptrdiff_t>(r) * stride + x);
      // Columns past the row load as 0, which would count as ink: the mask drops them.
      acc = _mm512_mask_add_epi8(acc, _mm512_cmple_epu8_mask(v, t) & cols, acc, ones);
    }
    if (group == 16) {
      const __m512i eights = _mm512_sad_epu8(acc, _mm512_setzero_si512());
      const __m512i sixteens = _mm512_add_epi64(_mm512_permutexvar_epi64(pair_lo, eights),
                                                _mm512_permutexvar_epi64(pair_hi, eights));
      _mm_mask_storeu_epi16(counts + x / 16, static_cast<__mmask8>((1u << ((n + 15) / 16)) - 1),
                            _mm512_cvtepi64_epi16(sixteens));
    } else {
      const __m512i fours =
          _mm512_madd_epi16(_mm512_maddubs_epi16(acc, ones), _mm512_set1_epi16(1));
      _mm256_mask_storeu_epi16(counts + x / 4, static_cast<__mmask16>((1u << ((n + 3) / 4)) - 1),
                               _mm512_cvtepi32_epi16(fours));
    }
  }
}

OCRAI_TARGET_AVX512 std::uint64_t profile_score(const std::uint32_t* pairs,
                                                std::ptrdiff_t strip_stride, int strips,
                                                const std::int32_t* offsets,
                                                const std::uint32_t* weights, int length,
                                                int shift) {
  const __m128i count = _mm_cvtsi32_si128(shift);
  __m512i acc = _mm512_setzero_si512();  // 8 x uint64
  int b = 0;
  // Blocks of 64 bins stay in registers while every strip adds to them.
  for (; b + 64 <= length; b += 64) {
    __m512i p0 = _mm512_setzero_si512();
    __m512i p1 = _mm512_setzero_si512();
    __m512i p2 = _mm512_setzero_si512();
    __m512i p3 = _mm512_setzero_si512();
    for (int k = 0; k < strips; ++k) {
      const std::uint32_t* s = pairs + k * strip_stride + offsets[k] + b;
      const __m512i w = _mm512_set1_epi32(static_cast<int>(weights[k]));
      p0 = _mm512_add_epi32(p0, _mm512_madd_epi16(_mm512_loadu_si512(s), w));
      p1 = _mm512_add_epi32(p1, _mm512_madd_epi16(_mm512_loadu_si512(s + 16), w));
      p2 = _mm512_add_epi32(p2, _mm512_madd_epi16(_mm512_loadu_si512(s + 32), w));
      p3 = _mm512_add_epi32(p3, _mm512_madd_epi16(_mm512_loadu_si512(s + 48), w));
    }
    square_add(acc, p0, count);
    square_add(acc, p1, count);
    square_add(acc, p2, count);
    square_add(acc, p3, count);
  }
  for (; b < length; b += 16) {
    const __mmask16 m = length - b >= 16 ? static_cast<__mmask16>(0xFFFF)
                                         : static_cast<__mmask16>((1u << (length - b)) - 1);
    __m512i p = _mm512_setzero_si512();
    for (int k = 0; k < strips; ++k) {
      const std::uint32_t* s = pairs + k * strip_stride + offsets[k] + b;
      const __m512i w = _mm512_set1_epi32(static_cast<int>(weights[k]));
      p = _mm512_add_epi32(p, _mm512_madd_epi16(_mm512_maskz_loadu_epi32(m, s), w));
    }
    square_add(acc, p, count);
  }
  return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(acc));
}

}  // namespace ocrai::kernels::avx512
#endif
