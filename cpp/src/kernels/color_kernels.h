// SPDX-License-Identifier: MIT
#pragma once
// Internal: colour-to-gray row kernels, one set per SIMD target.
//
// gray_row converts `width` pixels of `channels` (3 or 4) interleaved bytes to gray with the
// channel weights w0, w1, w2 (the weights of the first three channels, in 1/2^14 units).
// It reads exactly width * channels bytes and writes exactly width bytes. The scalar
// version defines the result; the SIMD versions reproduce it bit for bit.

#include <cstdint>

namespace ocrai::kernels {

namespace scalar {
void gray_row(const std::uint8_t* src, std::uint8_t* dst, int width, int channels, int w0, int w1,
              int w2);
}  // namespace scalar

namespace avx2 {
void gray_row(const std::uint8_t* src, std::uint8_t* dst, int width, int channels, int w0, int w1,
              int w2);
}  // namespace avx2

namespace avx512 {
void gray_row(const std::uint8_t* src, std::uint8_t* dst, int width, int channels, int w0, int w1,
              int w2);
}  // namespace avx512

}  // namespace ocrai::kernels
