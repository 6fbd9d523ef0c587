// SPDX-License-Identifier: MIT
#include "ocrai/build_info.h"

#include <onnxruntime_c_api.h>

#ifndef OCRAI_VERSION
#error "OCRAI_VERSION must be defined by the build"
#endif
#ifndef OCRAI_BUILD_TYPE
#define OCRAI_BUILD_TYPE "unknown"
#endif
#ifndef OCRAI_ORT_HEADERS
#define OCRAI_ORT_HEADERS "unknown"
#endif

namespace ocrai {
namespace {

std::string compiler_name() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_VER);
#else
  return "unknown";
#endif
}

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info = [] {
    BuildInfo b;
    b.version = OCRAI_VERSION;
    b.compiler = compiler_name();
    b.cxx_standard = std::to_string(__cplusplus);
    b.build_type = OCRAI_BUILD_TYPE;
    b.ort_headers = OCRAI_ORT_HEADERS;
    b.ort_api_version = ORT_API_VERSION;
#if defined(OCRAI_SANITIZE)
    b.sanitizers = true;
#endif
    return b;
  }();
  return info;
}

}  // namespace ocrai
