#!/usr/bin/env bash
# The main job, from a fresh machine: sets everything up (scripts/bootstrap.sh), renders an
# example page and reads it with the default models (PP-OCRv6 small), offline.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OCRAI_VENV:-$root/.venv}
bash "$root/scripts/bootstrap.sh" quantize
# The int8 recogniser, derived once on this machine (about 2 minutes the first time): where
# the CPU has VNNI the default reading uses it, its doubtful lines re-read in fp32.
"$venv/bin/ocrai" models derive ppocrv6-small --missing
out=${OCRAI_EXAMPLE_DIR:-$root/build/example}
"$venv/bin/python" "$root/examples/make_example.py" "$out/example.png"
echo "--- ocrai read $out/example.png"
"$venv/bin/ocrai" read "$out/example.png"
echo "--- expected"
cat "$out/example.gt.txt"
