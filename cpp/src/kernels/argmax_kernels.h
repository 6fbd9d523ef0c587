// SPDX-License-Identifier: MIT
#pragma once
// Internal: row argmax over float32, one version per SIMD target.
//
// argmax_row returns the index of the largest of `n` floats (n >= 1) and stores its value in
// *best. Comparison is strictly greater-than against a running maximum that starts at -inf
// with index 0: ties keep the first index, NaN never wins. The scalar version defines the
// result; the SIMD versions return the same index and value.

#include <cstdint>

namespace ocrai::kernels {

namespace scalar {
std::int32_t argmax_row(const float* row, int n, float* best);
}  // namespace scalar

namespace avx2 {
std::int32_t argmax_row(const float* row, int n, float* best);
}  // namespace avx2

namespace avx512 {
std::int32_t argmax_row(const float* row, int n, float* best);
}  // namespace avx512

}  // namespace ocrai::kernels
