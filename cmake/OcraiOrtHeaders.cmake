# SPDX-License-Identifier: MIT
#
# ONNX Runtime C/C++ API headers. The onnxruntime wheel on PyPI ships the library but no
# headers, and Debian has no package, so the build takes the official ORT 1.29 headers
# (MIT) from a pinned npm registry package. Override: OCRAI_ORT_INCLUDE_DIR (CMake or
# environment variable), any folder holding onnxruntime_cxx_api.h, e.g. a release tarball's
# include/ or a system install. The C API only appends, so API-29 headers work with every
# onnxruntime >= 1.29 at run time; the library itself is dlopen()ed, never linked.
#
# Defines the INTERFACE target ocrai::ort_headers.

include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/OcraiFetch.cmake)

set(OCRAI_ORT_NPM_PACKAGE "com.github.asus4.onnxruntime")
set(OCRAI_ORT_NPM_VERSION "0.4.9")
set(OCRAI_ORT_NPM_SHA256 "e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d")
set(OCRAI_ORT_HEADERS_VERSION "1.29.0")
set(_ocrai_ort_member
    "package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers")
set(_ocrai_ort_needed
    onnxruntime_c_api.h onnxruntime_cxx_api.h onnxruntime_cxx_inline.h onnxruntime_float16.h
    onnxruntime_ep_c_api.h onnxruntime_error_code.h)

function(_ocrai_ort_dir_is_complete dir out_var)
  set(${out_var} TRUE PARENT_SCOPE)
  foreach(header IN LISTS _ocrai_ort_needed)
    if(NOT EXISTS "${dir}/${header}")
      set(${out_var} FALSE PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

set(OCRAI_ORT_INCLUDE_DIR "$ENV{OCRAI_ORT_INCLUDE_DIR}" CACHE PATH
    "Folder with the ONNX Runtime C/C++ headers; empty: fetch the pinned ones")

if(OCRAI_ORT_INCLUDE_DIR)
  if(NOT EXISTS "${OCRAI_ORT_INCLUDE_DIR}/onnxruntime_cxx_api.h")
    message(FATAL_ERROR
      "OCRAI_ORT_INCLUDE_DIR=${OCRAI_ORT_INCLUDE_DIR} has no onnxruntime_cxx_api.h")
  endif()
  set(_ocrai_ort_include "${OCRAI_ORT_INCLUDE_DIR}")
  set(OCRAI_ORT_HEADERS_SOURCE "user: ${OCRAI_ORT_INCLUDE_DIR}")
else()
  ocrai_cache_dir(_cache)
  # The extracted headers are the cache entry; the 143 MiB tarball is dropped once they are
  # out. The folder name carries the tarball's hash, so a new pin never reuses old headers.
  string(SUBSTRING "${OCRAI_ORT_NPM_SHA256}" 0 16 _short)
  set(_ocrai_ort_include "${_cache}/onnxruntime-headers-${OCRAI_ORT_HEADERS_VERSION}-${_short}")
  _ocrai_ort_dir_is_complete("${_ocrai_ort_include}" _complete)
  if(NOT _complete)
    ocrai_fetch_pinned(_tarball
      FILENAME "${OCRAI_ORT_NPM_PACKAGE}-${OCRAI_ORT_NPM_VERSION}.tgz"
      URL "https://registry.npmjs.org/${OCRAI_ORT_NPM_PACKAGE}/-/${OCRAI_ORT_NPM_PACKAGE}-${OCRAI_ORT_NPM_VERSION}.tgz"
      SHA256 "${OCRAI_ORT_NPM_SHA256}")
    set(_staging "${_ocrai_ort_include}.staging")
    file(REMOVE_RECURSE "${_staging}")
    file(ARCHIVE_EXTRACT INPUT "${_tarball}" DESTINATION "${_staging}"
         PATTERNS "${_ocrai_ort_member}/*.h")
    _ocrai_ort_dir_is_complete("${_staging}/${_ocrai_ort_member}" _complete)
    if(NOT _complete)
      message(FATAL_ERROR "ocrai: ${_tarball} lacks the ONNX Runtime headers under ${_ocrai_ort_member}")
    endif()
    file(REMOVE_RECURSE "${_ocrai_ort_include}")
    file(RENAME "${_staging}/${_ocrai_ort_member}" "${_ocrai_ort_include}")
    file(REMOVE_RECURSE "${_staging}")
    get_filename_component(_tarball_dir "${_tarball}" DIRECTORY)
    if(_tarball_dir STREQUAL _cache)
      file(REMOVE "${_tarball}")
    endif()
  endif()
  set(OCRAI_ORT_HEADERS_SOURCE
      "npm ${OCRAI_ORT_NPM_PACKAGE}@${OCRAI_ORT_NPM_VERSION} (ORT ${OCRAI_ORT_HEADERS_VERSION})")
endif()

message(STATUS "ocrai: ONNX Runtime headers from ${OCRAI_ORT_HEADERS_SOURCE}")
add_library(ocrai_ort_headers INTERFACE)
add_library(ocrai::ort_headers ALIAS ocrai_ort_headers)
target_include_directories(ocrai_ort_headers SYSTEM INTERFACE "${_ocrai_ort_include}")
# The library is dlopen()ed and its API table handed to Ort::InitApi() at run time: every
# translation unit that includes the C++ API must agree on this macro.
target_compile_definitions(ocrai_ort_headers INTERFACE ORT_API_MANUAL_INIT)
