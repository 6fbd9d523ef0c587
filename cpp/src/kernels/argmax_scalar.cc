// SPDX-License-Identifier: MIT
// Row argmax, the reference: a strict greater-than scan from -inf.
#include <limits>

#include "kernels/argmax_kernels.h"

namespace ocrai::kernels::scalar {

std::int32_t argmax_row(const float* row, int n, float* best) {
  float m = -std::numeric_limits<float>::infinity();
  std::int32_t at = 0;
  for (int i = 0; i < n; ++i) {
    if (row[i] > m) {
      m = row[i];
      at = i;
    }
  }
  *best = m;
  return at;
}

}  // namespace ocrai::kernels::scalar
