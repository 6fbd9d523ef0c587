"""Calibrated line confidence on the development sets: the expected calibration error (ECE,
10 bins) of ``Line.confidence`` as the engine gives it (the shipped maps of
``ocrai/calibration.json``) beside the recogniser's own confidence (``raw_confidence``, the
mean character confidence: before calibration), per set and per mode (the default engine,
``fast=True``).

The sets come from ``$OCRAI_DATA`` (default: ``shared/data`` beside the checkout or its
parent, as ``bench_accuracy.py``); a set that is not there is skipped. Lines are read and
paired with the ground truth as ``scripts/fit_calibration.py`` does (its `read_set`), the
first ``OCRAI_CALIBRATION_PAGES`` images of each set (default 8; every UW3 line), so
that the run stays within CI's budget: the full table, leave-one-set-out included, is the
script's. Target: ECE under 0.05; asserted on the lines of every set pooled (eight
pages of a set hold too few lines for a 10-bin ECE of its own to be more than noise:
the per-set figures go into extra_info and the summary).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from ocrai.calibration import expected_calibration_error

pytestmark = pytest.mark.models

ROOT = Path(__file__).resolve().parent.parent
MAX_PAGES = int(os.environ.get("OCRAI_CALIBRATION_PAGES", "8"))
TARGET = 0.05


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ocrai_fit_calibration", ROOT / "scripts" / "fit_calibration.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fit = _load()
RESULTS: dict[tuple[str, str], tuple[int, float, float]] = {}


def data_dir() -> Path | None:
    if "OCRAI_DATA" in os.environ:
        path = Path(os.environ["OCRAI_DATA"])
        return path if path.is_dir() else None
    for candidate in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


def _ece(records: list[dict[str, Any]]) -> tuple[float, float]:
    ok = np.array([r["correct"] for r in records], dtype=float)
    raw = np.array([float(np.mean(r["chars"])) if r["chars"] else 0.0 for r in records])
    calibrated = np.array([r["confidence"] for r in records])
    return expected_calibration_error(raw, ok), expected_calibration_error(calibrated, ok)


@pytest.mark.benchmark(group="calibration")
@pytest.mark.parametrize("mode", ["small", "fast"])
def test_line_confidence_is_calibrated(benchmark: Any, mode: str) -> None:
    root = data_dir()
    if root is None:
        pytest.skip("the development sets are not here (set OCRAI_DATA)")
    sets = [s for s in fit.SETS if (root / s / "manifest.jsonl").is_file()]
    if not sets:
        pytest.skip(f"no development set under {root}")

    def read() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for s in sets:
            pages = None if s == "uw3-lines" else MAX_PAGES
            out += fit.read_set(mode, root / s, threads=2, max_pages=pages, crops=False)
        return out

    records = fit.judged(benchmark.pedantic(read, rounds=1, iterations=1))
    lines = [r for r in records if r["level"] == "line"]
    for s in sets:
        mine = [r for r in lines if r["set"] == s]
        before, after = _ece(mine)
        RESULTS[mode, s] = (len(mine), before, after)
        benchmark.extra_info[f"{s} lines"] = len(mine)
        benchmark.extra_info[f"{s} ECE before"] = round(before, 4)
        benchmark.extra_info[f"{s} ECE after"] = round(after, 4)
    before, after = _ece(lines)
    RESULTS[mode, "all"] = (len(lines), before, after)
    benchmark.extra_info.update({"ECE before": before, "ECE after": after})
    assert len(lines) > 300
    assert after < TARGET, (mode, after)
    assert after < before


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not RESULTS:
        return
    reporter.write_sep("-", f"line ECE, first {MAX_PAGES} images of each set: before -> after")
    for (mode, s), (n, before, after) in RESULTS.items():
        reporter.write_line(f"{mode:6} {s:18} {n:5} lines  {before:.3f} -> {after:.3f}")
