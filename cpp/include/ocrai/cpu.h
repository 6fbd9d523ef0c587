// SPDX-License-Identifier: MIT
#pragma once
/// Run-time SIMD target selection.
///
/// Every kernel family is compiled once per target (scalar reference, AVX2, AVX-512) and
/// dispatches on `active_target()` at each call. The active target is the best one that was
/// compiled, that this CPU supports, and that `set_allowed_targets` permits; it is computed
/// once and cached. Tests force each target in turn through `set_allowed_targets`.

#include <cstdint>
#include <string>
#include <vector>

namespace ocrai {

/// One SIMD instruction-set level. The values are bits so that sets fit in a mask.
enum class SimdTarget : std::uint32_t {
  kScalar = 1u << 0,  ///< portable C++; the reference that defines every kernel's result
  kAvx2 = 1u << 1,    ///< x86-64 AVX2 + FMA + BMI2
  kAvx512 = 1u << 2,  ///< x86-64 AVX-512 F/BW/DQ/VL
};

/// Mask of the targets compiled into this build.
std::uint32_t compiled_targets();
/// Mask of the compiled targets that this CPU can run.
std::uint32_t supported_targets();
/// The target every kernel dispatches to now.
SimdTarget active_target();
/// Test-only: restricts dispatch to `mask & supported_targets()`; the scalar reference is
/// always allowed. Pass `~0u` to restore the default. Not meant to be called while kernels
/// run on other threads (they may see either target; both give the same result).
void set_allowed_targets(std::uint32_t mask);
/// Whether this CPU has 8-bit integer dot-product instructions (AVX512-VNNI or AVX-VNNI).
/// ONNX Runtime's quantised convolutions use them; without them an int8 recogniser is not
/// faster than the fp32 one (notes: 1.6-1.8x with them on the development machine).
bool has_int8_dot_product();

/// Lower-case name of a target: "scalar", "avx2", "avx512".
const char* target_name(SimdTarget target);
/// Names of the targets in `mask`, best last.
std::vector<std::string> target_names(std::uint32_t mask);

/// The most threads one pool, session or pipeline accepts. Thread counts come from users
/// (`threads=`); an absurd one (threads=100000) would stall the process creating threads,
/// so entry points refuse more than this with std::invalid_argument.
inline constexpr int kMaxThreads = 1024;

}  // namespace ocrai
