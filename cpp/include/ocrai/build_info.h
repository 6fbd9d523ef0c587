// SPDX-License-Identifier: MIT
#pragma once
/// What this build of the core is: version, compiler, SIMD targets, ORT headers.

#include <string>

namespace ocrai {

struct BuildInfo {
  std::string version;           ///< package version this core was built for
  std::string compiler;          ///< compiler id and version
  std::string cxx_standard;      ///< value of __cplusplus
  std::string build_type;        ///< CMake build type
  std::string ort_headers;       ///< where the ONNX Runtime headers came from
  int ort_api_version = 0;       ///< ORT_API_VERSION of those headers; the minimum at run time
  bool sanitizers = false;       ///< built with AddressSanitizer/UBSan
};

/// Facts fixed when this core was compiled.
const BuildInfo& build_info();

}  // namespace ocrai
