#!/usr/bin/env bash
# The test suite, from a fresh machine: sets everything up (scripts/bootstrap.sh), then runs
# pytest on tests/. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OCRAI_VENV:-$root/.venv}
# The dask group: tests/test_dask.py runs a real scheduler and workers (ocrai[dask]); the
# serve group: tests/test_serve*.py run `ocrai serve` and drive its page in Chromium.
bash "$root/scripts/bootstrap.sh" test dask serve
cd "$root"
# Run from the checkout with --import-mode=importlib (pyproject): the installed package is the
# one under test, never the python/ sources.
exec "$venv/bin/python" -m pytest tests "$@"
