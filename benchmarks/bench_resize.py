"""Resizing an A4 300-dpi page, one thread: ocrai beside OpenCV in the same groups.

Targets (median): bilinear at least as fast as cv2.resize INTER_LINEAR (shrinking the page to
the detector's 960-pixel long side, and enlarging a 640x480 image 2x); area >= 2x faster than
cv2.resize INTER_AREA for the same shrink.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ocrai import preprocess

DETECTOR_SIZE = (679, 960)  # (width, height): the A4 page with its long side at 960
UPSCALE_FROM = (480, 640)  # rows, columns of the enlarged image
UPSCALE_TO = (1280, 960)


def opencv() -> Any:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    return cv2


@pytest.fixture(scope="module")
def small_image(a4_page_rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(
        a4_page_rgb[1000 : 1000 + UPSCALE_FROM[0], 500 : 500 + UPSCALE_FROM[1]]
    )


def assert_close_to_opencv(
    ours: np.ndarray, image: np.ndarray, size: tuple[int, int], interpolation: str
) -> None:
    cv2 = pytest.importorskip("cv2")
    theirs = cv2.resize(image, size, interpolation=getattr(cv2, interpolation))
    assert np.abs(ours.astype(np.int16) - theirs).max() <= 2


@pytest.mark.benchmark(group="resize-bilinear-shrink")
def test_ocrai_bilinear_shrink(
    benchmark: Any, facts: dict[str, Any], a4_page_rgb: np.ndarray
) -> None:
    out = np.empty((DETECTOR_SIZE[1], DETECTOR_SIZE[0], 3), np.uint8)
    result = benchmark(preprocess.resize, a4_page_rgb, DETECTOR_SIZE, "bilinear", out=out)
    assert_close_to_opencv(result, a4_page_rgb, DETECTOR_SIZE, "INTER_LINEAR")


@pytest.mark.benchmark(group="resize-bilinear-shrink")
def test_opencv_bilinear_shrink(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    cv2 = opencv()
    out = np.empty((DETECTOR_SIZE[1], DETECTOR_SIZE[0], 3), np.uint8)
    result = benchmark(
        cv2.resize, a4_page_rgb, DETECTOR_SIZE, dst=out, interpolation=cv2.INTER_LINEAR
    )
    ours = preprocess.resize(a4_page_rgb, DETECTOR_SIZE, "bilinear")
    assert np.abs(ours.astype(np.int16) - result).max() <= 2


@pytest.mark.benchmark(group="resize-bilinear-enlarge")
def test_ocrai_bilinear_enlarge(
    benchmark: Any, facts: dict[str, Any], small_image: np.ndarray
) -> None:
    out = np.empty((UPSCALE_TO[1], UPSCALE_TO[0], 3), np.uint8)
    result = benchmark(preprocess.resize, small_image, UPSCALE_TO, "bilinear", out=out)
    assert_close_to_opencv(result, small_image, UPSCALE_TO, "INTER_LINEAR")


@pytest.mark.benchmark(group="resize-bilinear-enlarge")
def test_opencv_bilinear_enlarge(benchmark: Any, small_image: np.ndarray) -> None:
    cv2 = opencv()
    out = np.empty((UPSCALE_TO[1], UPSCALE_TO[0], 3), np.uint8)
    result = benchmark(cv2.resize, small_image, UPSCALE_TO, dst=out, interpolation=cv2.INTER_LINEAR)
    ours = preprocess.resize(small_image, UPSCALE_TO, "bilinear")
    assert np.abs(ours.astype(np.int16) - result).max() <= 2


@pytest.mark.benchmark(group="resize-area-shrink")
def test_ocrai_area_shrink(benchmark: Any, facts: dict[str, Any], a4_page_rgb: np.ndarray) -> None:
    out = np.empty((DETECTOR_SIZE[1], DETECTOR_SIZE[0], 3), np.uint8)
    result = benchmark(preprocess.resize, a4_page_rgb, DETECTOR_SIZE, "area", out=out)
    assert_close_to_opencv(result, a4_page_rgb, DETECTOR_SIZE, "INTER_AREA")


@pytest.mark.benchmark(group="resize-area-shrink")
def test_opencv_area_shrink(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    cv2 = opencv()
    out = np.empty((DETECTOR_SIZE[1], DETECTOR_SIZE[0], 3), np.uint8)
    result = benchmark(
        cv2.resize, a4_page_rgb, DETECTOR_SIZE, dst=out, interpolation=cv2.INTER_AREA
    )
    ours = preprocess.resize(a4_page_rgb, DETECTOR_SIZE, "area")
    assert np.abs(ours.astype(np.int16) - result).max() <= 2
