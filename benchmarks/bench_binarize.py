"""Binarization of an A4 300-dpi page, one thread: ocrai beside OpenCV and scikit-image.

Groups: Otsu + binarize vs cv2.threshold(THRESH_OTSU); Sauvola vs a Sauvola built from
cv2.boxFilter in float32 (and scikit-image's threshold_sauvola); adaptive mean vs
cv2.adaptiveThreshold(ADAPTIVE_THRESH_MEAN_C). Every result is checked against ours: local
methods treat the borders differently by design (ours: clipped windows; OpenCV: replicated
pixels), so they are compared away from the borders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ocrai import preprocess

WINDOW = 31
K = 0.2
R = 128.0
C = 10
MARGIN = WINDOW  # rows and columns whose windows touch the border


@pytest.fixture(scope="module")
def gray(a4_page_rgb: np.ndarray) -> np.ndarray:
    return preprocess.to_gray(a4_page_rgb)


@pytest.fixture(scope="module")
def cv2() -> Any:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    return cv2


def interior(a: np.ndarray) -> np.ndarray:
    return a[MARGIN:-MARGIN, MARGIN:-MARGIN]


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((interior(a) > 127) == (interior(b) > 127)))


# --- Otsu ----------------------------------------------------------------------------------


@pytest.mark.benchmark(group="otsu-u8")
def test_ocrai_otsu(benchmark: Any, facts: dict[str, Any], gray: np.ndarray) -> None:
    out = np.empty_like(gray)
    result = benchmark(preprocess.binarize, gray, out=out)
    t = preprocess.otsu_threshold(gray)
    np.testing.assert_array_equal(result, np.where(gray > t, 255, 0))
    assert 0 < np.count_nonzero(result == 0) < result.size


@pytest.mark.benchmark(group="otsu-u8")
def test_opencv_otsu(benchmark: Any, cv2: Any, gray: np.ndarray) -> None:
    out = np.empty_like(gray)
    t, result = benchmark(cv2.threshold, gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU, out)
    assert int(t) == preprocess.otsu_threshold(gray)
    np.testing.assert_array_equal(result, preprocess.binarize(gray))


# --- Sauvola -------------------------------------------------------------------------------


def opencv_sauvola(cv2: Any, gray: np.ndarray) -> np.ndarray:
    """Sauvola from OpenCV primitives, all in float32: box filters of the image and of its
    square, then the formula with OpenCV's vectorised arithmetic."""
    f = gray.astype(np.float32)
    mean = cv2.boxFilter(f, cv2.CV_32F, (WINDOW, WINDOW), borderType=cv2.BORDER_REPLICATE)
    mean_sq = cv2.boxFilter(
        cv2.multiply(f, f), cv2.CV_32F, (WINDOW, WINDOW), borderType=cv2.BORDER_REPLICATE
    )
    std = cv2.sqrt(cv2.max(cv2.subtract(mean_sq, cv2.multiply(mean, mean)), 0.0))
    threshold = cv2.multiply(mean, cv2.addWeighted(std, K / R, std, 0.0, 1.0 - K))
    result: np.ndarray = cv2.compare(f, threshold, cv2.CMP_GT)
    return result


@pytest.mark.benchmark(group="sauvola-u8")
def test_ocrai_sauvola(benchmark: Any, facts: dict[str, Any], gray: np.ndarray) -> None:
    out = np.empty_like(gray)
    result = benchmark(preprocess.sauvola, gray, WINDOW, K, R, out=out)
    assert 0 < np.count_nonzero(result == 0) < result.size


@pytest.mark.benchmark(group="sauvola-u8")
def test_opencv_boxfilter_sauvola(benchmark: Any, cv2: Any, gray: np.ndarray) -> None:
    result = benchmark(opencv_sauvola, cv2, gray)
    assert agreement(result, preprocess.sauvola(gray, WINDOW, K, R)) > 0.999


@pytest.mark.benchmark(group="sauvola-u8")
def test_skimage_sauvola(benchmark: Any, gray: np.ndarray) -> None:
    filters = pytest.importorskip("skimage.filters")

    def run() -> np.ndarray:
        threshold = filters.threshold_sauvola(gray, window_size=WINDOW, k=K, r=R)
        return np.where(gray > threshold, 255, 0).astype(np.uint8)

    result = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    assert agreement(result, preprocess.sauvola(gray, WINDOW, K, R)) > 0.999


# --- adaptive mean -------------------------------------------------------------------------


@pytest.mark.benchmark(group="adaptive-mean-u8")
def test_ocrai_adaptive_mean(benchmark: Any, facts: dict[str, Any], gray: np.ndarray) -> None:
    out = np.empty_like(gray)
    result = benchmark(preprocess.adaptive_mean, gray, WINDOW, C, out=out)
    assert 0 < np.count_nonzero(result == 0) < result.size


@pytest.mark.benchmark(group="adaptive-mean-u8")
def test_opencv_adaptive_mean(benchmark: Any, cv2: Any, gray: np.ndarray) -> None:
    out = np.empty_like(gray)
    result = benchmark(
        cv2.adaptiveThreshold,
        gray,
        255,
        cv2.ADAPTIVE_THRESH_MEAN_C,
        cv2.THRESH_BINARY,
        WINDOW,
        C,
        out,
    )
    # OpenCV rounds the mean to an integer first; a pixel within half a level flips.
    assert agreement(result, preprocess.adaptive_mean(gray, WINDOW, C)) > 0.99
