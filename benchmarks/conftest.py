"""Benchmark fixtures: the A4 300-dpi page every kernel benchmark runs on, and run facts."""

from __future__ import annotations

import platform
from typing import Any

import numpy as np
import pytest

from ocrai import _core

A4_300DPI = (3508, 2480)  # rows, columns


def machine_facts() -> dict[str, Any]:
    return {"cpu": platform.processor() or platform.machine(), "simd": _core.simd_info()}


@pytest.fixture(scope="session")
def a4_page_rgb() -> np.ndarray:
    """A synthetic A4 page at 300 dpi: paper noise with dark text-like strokes."""
    rng = np.random.default_rng(300)
    page = rng.normal(235, 8, (*A4_300DPI, 3)).clip(0, 255).astype(np.uint8)
    for top in range(300, A4_300DPI[0] - 300, 70):
        for left in range(250, A4_300DPI[1] - 250, 40):
            if rng.random() < 0.8:
                page[top : top + 30, left : left + 25] = rng.integers(10, 60)
    return page


@pytest.fixture
def facts(benchmark: Any) -> dict[str, Any]:
    info = machine_facts()
    benchmark.extra_info.update(info)
    return info
