#!/usr/bin/env bash
# Fuzzing with atheris: scripts/fuzz.sh [SECONDS]   (default 90: the bounded run of .ci/run)
#
# 1. Fuzzes each harness of fuzz/ (decode, kernels, pipeline) for SECONDS / 3 on the normal
#    build, with atheris's Python coverage feedback, starting from seed inputs that the
#    harness writes itself (fuzz/corpus/<name>-seeds; nothing binary is committed) and from
#    the corpus kept by earlier runs (fuzz/corpus/<name>, ignored by git). Prints how many
#    inputs each harness executed. Long runs go in slices of at most OCRAI_FUZZ_SLICE seconds
#    (600), each a fresh process (see below why).
# 2. Replays every input of those corpora once under the AddressSanitizer + UBSan build
#    (scripts/sanitize.sh --run), to catch memory errors that did not crash the normal build.
#    (Fuzzing itself cannot run there: preloading gcc's libasan breaks atheris's coverage.)
#    OCRAI_FUZZ_ASAN=0 skips this step.
#
# A finding stops the script with a non-zero status; libFuzzer writes the input that
# failed to fuzz/corpus/findings/ (replay it with `python fuzz/fuzz_<name>.py --replay DIR`).
# OCRAI_FUZZ_HARNESSES="decode kernels" runs a subset. The longer run that CONTRIBUTING.md
# describes is the same script with more seconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
total=${1:-90}
venv=${OCRAI_VENV:-$root/.venv}
corpus=${OCRAI_FUZZ_CORPUS:-$root/fuzz/corpus}
read -r -a harnesses <<<"${OCRAI_FUZZ_HARNESSES:-decode kernels pipeline}"
py=$venv/bin/python

start=$SECONDS
# The fuzz group (atheris, pinned, and the test group's packages) into the environment that
# has ocrai (.ci/run exports OCRAI_VENV, its own); a checkout without one builds it first.
if ! "$py" -c "import ocrai" 2>/dev/null; then
  bash "$root/scripts/bootstrap.sh" test fuzz
else
  "$py" -m pip install -q --group "$root/pyproject.toml:fuzz"
fi

per=$((total / ${#harnesses[@]}))
((per >= 1)) || per=1
mkdir -p "$corpus/findings"
cd "$root"
summary=()
for h in "${harnesses[@]}"; do
  seeds=$corpus/$h-seeds
  rm -rf "$seeds"
  "$py" "fuzz/fuzz_$h.py" --seeds "$seeds" >/dev/null
  mkdir -p "$corpus/$h"
  log=$corpus/$h.log
  : >"$log"
  echo "fuzz: $h for ${per} s"
  # In slices of at most 10 minutes, each a fresh process on the corpus kept so far: under
  # atheris's instrumentation the fuzzing process itself grows (the kernels harness by about
  # 400 bytes per input, 2.9 GB after 7.4 million; the same inputs uninstrumented stay flat),
  # and would reach -rss_limit_mb in a long run, a false finding.
  slice=${OCRAI_FUZZ_SLICE:-600}
  left=$per
  runs=0
  while ((left > 0)); do
    t=$((left < slice ? left : slice))
    status=0
    # -timeout: one input over 60 s is a finding; -rss_limit_mb: the pipeline harness holds
    # four models (about 1 GB); Pillow's and libtiff's warnings go to the log only.
    "$py" "fuzz/fuzz_$h.py" "$corpus/$h" "$seeds" -max_total_time="$t" -timeout=60 \
      -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$corpus/findings/$h-" \
      >>"$log" 2>&1 || status=$?
    if ((status != 0)); then
      echo "fuzz: $h FAILED (status $status); the end of $log:" >&2
      tail -n 60 "$log" >&2
      exit "$status"
    fi
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    runs=$((runs + ${n:-0}))
    left=$((left - t))
  done
  kept=$(find "$corpus/$h" -type f | wc -l)
  summary+=("$h: $runs inputs in ${per} s, corpus of $kept")
  echo "fuzz: ${summary[-1]}"
done

echo "fuzz: fuzzing done after $((SECONDS - start)) s"

if [[ ${OCRAI_FUZZ_ASAN:-1} != 0 ]]; then
  asan_start=$SECONDS
  echo "fuzz: replaying the corpora under AddressSanitizer + UBSan"
  # Each harness replays its kept corpus and its seeds; one sanitizer environment for all.
  args=()
  for h in "${harnesses[@]}"; do args+=("$h"); done
  # The build's and Pillow's/libtiff's chatter goes to replay.log; printed on a failure.
  replay_log=$corpus/replay.log
  status=0
  OCRAI_REPLAY_CORPUS=$corpus bash "$root/scripts/sanitize.sh" --run bash -c '
    set -euo pipefail
    "$OCRAI_SANITIZE_VENV/bin/python" -c "import atheris" 2>/dev/null ||
      LD_PRELOAD= "$OCRAI_SANITIZE_VENV/bin/python" -m pip install -q --group pyproject.toml:fuzz
    for h in "$@"; do
      echo "fuzz: replay $h"
      "$OCRAI_SANITIZE_VENV/bin/python" "fuzz/fuzz_$h.py" --replay \
        "$OCRAI_REPLAY_CORPUS/$h" "$OCRAI_REPLAY_CORPUS/$h-seeds"
    done' replay "${args[@]}" >"$replay_log" 2>&1 || status=$?
  if ((status != 0)); then
    echo "fuzz: the sanitizer replay FAILED (status $status); the end of $replay_log:" >&2
    tail -n 80 "$replay_log" >&2
    exit "$status"
  fi
  grep -E '^(fuzz: replay|replay:)' "$replay_log"
  echo "fuzz: sanitizer build and replay took $((SECONDS - asan_start)) s"
fi
printf 'fuzz: %s\n' "${summary[@]}"
echo "fuzz: clean, $((SECONDS - start)) s in all"
