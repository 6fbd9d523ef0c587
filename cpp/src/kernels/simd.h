// SPDX-License-Identifier: MIT
#pragma once
// Internal: how per-target kernels are compiled.
//
// Kernels for a SIMD target live in their own file (e.g. color_avx2.cc) and mark every
// function with OCRAI_TARGET_AVX2 / OCRAI_TARGET_AVX512 rather than compiling the file with
// -mavx2. A whole-file flag would also compile the inline functions of every header the file
// includes (std::vector, our views) for that target, and the linker may keep those copies
// for the baseline code, which would then fault on older CPUs. Target attributes confine the
// wider instructions to the functions that are only called after run-time dispatch.

#if defined(__x86_64__) || defined(_M_X64)
#define OCRAI_X86_64 1
#else
#define OCRAI_X86_64 0
#endif

#if OCRAI_X86_64 && (defined(__GNUC__) || defined(__clang__))
#define OCRAI_HAVE_AVX2 1
#define OCRAI_HAVE_AVX512 1
#define OCRAI_TARGET_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,popcnt,f16c")))
#define OCRAI_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2,popcnt,f16c")))
#else
#define OCRAI_HAVE_AVX2 0
#define OCRAI_HAVE_AVX512 0
#endif
