"""Colour to gray on an A4 300-dpi page, one thread: ocrai beside OpenCV and numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ocrai import _core


def numpy_gray(page: np.ndarray) -> np.ndarray:
    c = page.astype(np.int32)
    return ((4899 * c[..., 0] + 9617 * c[..., 1] + 1868 * c[..., 2] + 8192) >> 14).astype(np.uint8)


@pytest.mark.benchmark(group="gray-u8")
def test_ocrai_gray(benchmark: Any, facts: dict[str, Any], a4_page_rgb: np.ndarray) -> None:
    out = np.empty(a4_page_rgb.shape[:2], np.uint8)
    result = benchmark(_core.kernels.to_gray_u8, a4_page_rgb, "rgb", out)
    np.testing.assert_array_equal(result, numpy_gray(a4_page_rgb))


@pytest.mark.benchmark(group="gray-u8")
def test_numpy_gray(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    benchmark(numpy_gray, a4_page_rgb)


@pytest.mark.benchmark(group="gray-u8")
def test_opencv_gray(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    out = benchmark(cv2.cvtColor, a4_page_rgb, cv2.COLOR_RGB2GRAY)
    # OpenCV rounds the same BT.601 weights with 15-bit fixed point: at most one level apart.
    assert np.abs(out.astype(int) - numpy_gray(a4_page_rgb)).max() <= 1
