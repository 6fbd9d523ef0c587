#!/usr/bin/env bash
# The test suite against a core built with AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   scripts/sanitize.sh [PYTEST ARGS]      the whole test suite (tests/), every report fatal
#   scripts/sanitize.sh --quick [ARGS]     the quick subset (see QUICK below)
#   scripts/sanitize.sh --run CMD [ARGS]   any command under the same sanitizer environment
#                                          (scripts/fuzz.sh replays the fuzz corpora this way)
#
# Builds into its own virtual environment ($OCRAI_ASAN_VENV, default .venv-asan) and build
# folder (build/asan; incremental after the first build), preloads the sanitizer runtimes
# into the (uninstrumented) Python interpreter, and fails on the first report. Reports are
# written to build/asan/reports/ (pytest captures the test's stderr, which would hide them)
# and printed at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OCRAI_ASAN_VENV:-$root/.venv-asan}
mode=suite
case ${1:-} in
  --quick) mode=quick; shift ;;
  --run) mode=run; shift ;;
esac

# QUICK: every test file except the ones that mostly repeat model inference already covered
# elsewhere in the subset (accuracy in every language, benchmarks of threads, the tutorial,
# the RSS soak in a subprocess, which measures a build without sanitizers anyway); the
# kernels' per-target sweeps, the pipeline's options and geometry, the engine's lifecycle,
# io, results, exporters, the CLI and every bad input stay in.
QUICK=(-m "not slow" --deselect tests/test_pipeline.py::test_clean_text_in_every_language
  --deselect tests/test_pipeline.py::test_fast_mode_keeps_the_accuracy
  --ignore tests/test_tutorial.py --ignore tests/test_memory.py --ignore tests/test_soak.py)

echo "sanitize: building the core with -fsanitize=address,undefined (build/asan)"
# Built without pip's build isolation, from the build requirements installed in the venv:
# an isolated build sees pybind11 at a new temporary path each time, and CMake then rebuilds
# everything (5 min) instead of what changed.
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
mapfile -t build_requires < <("$venv/bin/python" - "$root/pyproject.toml" <<'EOF'
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"^\[build-system\]\s*requires\s*=\s*\[(.*?)\]", text, re.S | re.M)
print("\n".join(re.findall(r'"([^"]+)"', block.group(1))))
EOF
)
command -v ninja >/dev/null || build_requires+=(ninja)
"$venv/bin/python" -m pip install -q "pip>=25.1" "${build_requires[@]}" >&2
OCRAI_VENV=$venv OCRAI_BUILD_ARGS="--no-build-isolation -Ccmake.define.OCRAI_SANITIZE=ON \
  -Ccmake.build-type=RelWithDebInfo -Cbuild-dir=$root/build/asan" \
  bash "$root/scripts/bootstrap.sh" test >&2

asan=$(${CXX:-g++} -print-file-name=libasan.so)
ubsan=$(${CXX:-g++} -print-file-name=libubsan.so)
reports=$root/build/asan/reports
rm -rf "$reports"
mkdir -p "$reports"
# detect_leaks=0: CPython and ONNX Runtime keep process-lifetime allocations on purpose, so
# LeakSanitizer's exit report says nothing about ocrai; leaks of ours are caught by the RSS
# soak tests instead. allocator_may_return_null=1: an allocation too large to satisfy
# returns NULL as without ASan (numpy then raises MemoryError, which tests of absurd sizes
# expect) instead of aborting. Every other ASan/UBSan report aborts the run with a stack
# trace, in the reports folder.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:allocator_may_return_null=1:log_path=$reports/asan
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan
export LD_PRELOAD="$asan:$ubsan"
# pymalloc hides small-object errors from ASan; the system allocator exposes them.
export PYTHONMALLOC=malloc
export OCRAI_SANITIZE_VENV=$venv  # for --run commands
cd "$root"
"$venv/bin/python" -c "import ocrai; assert ocrai.build_info()['sanitizers'], 'not a sanitizer build'"

# The whole of tests/ unless the arguments name test files or folders themselves.
targets=(tests)
for arg in "$@"; do
  if [[ $arg != -* && -e ${arg%%::*} ]]; then
    targets=()
    break
  fi
done
status=0
case $mode in
  suite) "$venv/bin/python" -m pytest "${targets[@]}" -p no:cacheprovider "$@" || status=$? ;;
  quick)
    "$venv/bin/python" -m pytest "${targets[@]}" -p no:cacheprovider "${QUICK[@]}" "$@" ||
      status=$?
    ;;
  run)
    cmd=$1
    shift
    [[ $cmd == python ]] && cmd=$venv/bin/python
    "$cmd" "$@" || status=$?
    ;;
esac
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize: sanitizer reports:" >&2
  cat "$reports"/* >&2
  # With allocator_may_return_null=1, an allocation refused on purpose (the tests of absurd
  # sizes) leaves a one-line warning; anything else in a report is a finding.
  if grep -h -v -E '^==[0-9]+==WARNING: AddressSanitizer failed to allocate 0x[0-9a-f]+ bytes$' \
    "$reports"/* | grep -q .; then
    ((status)) || status=1
  else
    echo "sanitize: (only refused allocations of absurd sizes, as the tests expect)" >&2
  fi
fi
if ((status == 0)); then
  echo "sanitize: clean"
fi
exit "$status"
