#!/usr/bin/env bash
# The main job, from a fresh machine: sets everything up (scripts/bootstrap.sh), renders an
# example page and reads it with the default models (PP-OCRv6 small), offline.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OCRAI_VENV:-$root/.venv}
bash "$root/scripts/bootstrap.sh"
out=${OCRAI_EXAMPLE_DIR:-$root/build/example}
"$venv/bin/python" "$root/examples/make_example.py" "$out/example.png"
echo "--- ocrai read $out/example.png"
"$venv/bin/ocrai" read "$out/example.png"
echo "--- expected"
cat "$out/example.gt.txt"
