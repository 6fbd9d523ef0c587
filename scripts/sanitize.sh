#!/usr/bin/env bash
# The test suite against a core built with AddressSanitizer + UndefinedBehaviorSanitizer.
# Builds into its own virtual environment ($OCRAI_ASAN_VENV, default .venv-asan) and build
# folder (build/asan), preloads the sanitizer runtimes into the (uninstrumented) Python
# interpreter, and fails on the first report. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OCRAI_ASAN_VENV:-$root/.venv-asan}
echo "sanitize: building the core with -fsanitize=address,undefined"
OCRAI_VENV=$venv OCRAI_BUILD_ARGS="-Ccmake.define.OCRAI_SANITIZE=ON \
  -Ccmake.build-type=RelWithDebInfo -Cbuild-dir=$root/build/asan" \
  bash "$root/scripts/bootstrap.sh" test

asan=$(${CXX:-g++} -print-file-name=libasan.so)
ubsan=$(${CXX:-g++} -print-file-name=libubsan.so)
# detect_leaks=0: CPython and ONNX Runtime keep process-lifetime allocations on purpose, so
# LeakSanitizer's exit report says nothing about ocrai; leaks of ours are caught by the RSS
# soak tests instead. Every other ASan/UBSan report aborts the run with a stack trace.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LD_PRELOAD="$asan:$ubsan"
# pymalloc hides small-object errors from ASan; the system allocator exposes them.
export PYTHONMALLOC=malloc
cd "$root"
"$venv/bin/python" -c "import ocrai; assert ocrai.build_info()['sanitizers'], 'not a sanitizer build'"
exec "$venv/bin/python" -m pytest tests -p no:cacheprovider "$@"
