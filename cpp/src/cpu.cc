// SPDX-License-Identifier: MIT
#include "ocrai/cpu.h"

#include <atomic>

#include "kernels/simd.h"

namespace ocrai {
namespace {

std::uint32_t detect_supported() {
  std::uint32_t mask = static_cast<std::uint32_t>(SimdTarget::kScalar);
#if OCRAI_HAVE_AVX2
  // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("bmi2")) {
    mask |= static_cast<std::uint32_t>(SimdTarget::kAvx2);
  }
#endif
#if OCRAI_HAVE_AVX512
  if ((mask & static_cast<std::uint32_t>(SimdTarget::kAvx2)) &&
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    mask |= static_cast<std::uint32_t>(SimdTarget::kAvx512);
  }
#endif
  return mask & compiled_targets();
}

bool detect_int8_dot_product() {
#if OCRAI_HAVE_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni");
#else
  return false;
#endif
}

SimdTarget best_of(std::uint32_t mask) {
  for (SimdTarget t : {SimdTarget::kAvx512, SimdTarget::kAvx2}) {
    if (mask & static_cast<std::uint32_t>(t)) return t;
  }
  return SimdTarget::kScalar;
}

// 0 means "not computed yet"; a computed mask always has the scalar bit.
std::atomic<std::uint32_t> g_allowed{~0u};
std::atomic<std::uint32_t> g_active{0};

}  // namespace

std::uint32_t compiled_targets() {
  std::uint32_t mask = static_cast<std::uint32_t>(SimdTarget::kScalar);
#if OCRAI_HAVE_AVX2
  mask |= static_cast<std::uint32_t>(SimdTarget::kAvx2);
#endif
#if OCRAI_HAVE_AVX512
  mask |= static_cast<std::uint32_t>(SimdTarget::kAvx512);
#endif
  return mask;
}

std::uint32_t supported_targets() {
  static const std::uint32_t supported = detect_supported();
  return supported;
}

SimdTarget active_target() {
  std::uint32_t active = g_active.load(std::memory_order_relaxed);
  if (active == 0) {
    active = static_cast<std::uint32_t>(
        best_of(supported_targets() & g_allowed.load(std::memory_order_relaxed)));
    g_active.store(active, std::memory_order_relaxed);
  }
  return static_cast<SimdTarget>(active);
}

void set_allowed_targets(std::uint32_t mask) {
  g_allowed.store(mask | static_cast<std::uint32_t>(SimdTarget::kScalar),
                  std::memory_order_relaxed);
  g_active.store(0, std::memory_order_relaxed);
}

const char* target_name(SimdTarget target) {
  switch (target) {
    case SimdTarget::kScalar: return "scalar";
    case SimdTarget::kAvx2: return "avx2";
    case SimdTarget::kAvx512: return "avx512";
  }
  return "unknown";
}

std::vector<std::string> target_names(std::uint32_t mask) {
  std::vector<std::string> names;
  for (SimdTarget t : {SimdTarget::kScalar, SimdTarget::kAvx2, SimdTarget::kAvx512}) {
    if (mask & static_cast<std::uint32_t>(t)) names.emplace_back(target_name(t));
  }
  return names;
}

bool has_int8_dot_product() {
  static const bool has = detect_int8_dot_product();
  return has;
}

}  // namespace ocrai
