"""Skew estimation and deskewing of an A4 300-dpi text page, one thread.

The page is rendered text (ocrai.testing.render_paragraph) turned by a known angle. ocrai's
estimate + rotation is measured beside the two usual OpenCV recipes:
- projection profile: Otsu on a quarter-size copy, the row profile's sum of squares over
  candidate angles (1-degree steps over [-15, 15], then 0.1-degree steps around the best),
  each candidate a cv2.warpAffine of the binary image;
- minAreaRect: the tilt of the smallest rectangle around every ink pixel;
each followed by cv2.warpAffine (bilinear) of the full page onto the same canvas as ours.
test_accuracy_against_the_baselines measures the error of all three on the same pages.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ocrai import _core, preprocess
from ocrai.testing import render_paragraph, rotate_image

TURN = 3.37  # degrees counter-clockwise; the correction is -TURN
ACCURACY_TURNS = (-8.14, -1.83, 0.71, 3.37, 6.62)


@pytest.fixture(scope="module")
def cv2() -> Any:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    return cv2


@pytest.fixture(scope="module")
def a4_text_page() -> np.ndarray:
    """An A4 300-dpi page of running English text (40-pixel font), gray."""
    page = render_paragraph("en", width=2480, lines=44, font_size=40, margin=200)
    return preprocess.to_gray(page.image)


@pytest.fixture(scope="module")
def turned_page(a4_text_page: np.ndarray) -> np.ndarray:
    return rotate_image(a4_text_page, TURN)


def projection_profile_angle(cv2: Any, gray: np.ndarray, limit: float = 15.0) -> float:
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    h, w = ink.shape
    centre = ((w - 1) / 2, (h - 1) / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        turned = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST)
        profile = cv2.reduce(turned, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32F).ravel()
        return float(np.dot(profile, profile))

    coarse = np.arange(-limit, limit + 1e-9, 1.0)
    best = float(coarse[int(np.argmax([sharpness(a) for a in coarse]))])
    fine = np.arange(best - 1.0, best + 1.0 + 1e-9, 0.1)
    return float(fine[int(np.argmax([sharpness(a) for a in fine]))])


def min_area_rect_angle(cv2: Any, gray: np.ndarray) -> float:
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    (_, _), (_, _), angle = cv2.minAreaRect(cv2.findNonZero(ink))
    return float((angle + 45.0) % 90.0 - 45.0)  # the box's tilt, whatever OpenCV's convention


def warp(cv2: Any, gray: np.ndarray, angle: float, border: int = 255) -> np.ndarray:
    """cv2.warpAffine onto the canvas ocrai's rotate(expand=True) uses, centre to centre."""
    h, w = gray.shape
    out_h, out_w = _core.kernels.rotated_size(w, h, angle, True)
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    m[0, 2] += (out_w - 1) / 2 - (w - 1) / 2
    m[1, 2] += (out_h - 1) / 2 - (h - 1) / 2
    result: np.ndarray = cv2.warpAffine(
        gray, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=border
    )
    return result


# --- estimate + deskew ---------------------------------------------------------------------


@pytest.mark.benchmark(group="deskew-page")
def test_ocrai_deskew(benchmark: Any, facts: dict[str, Any], turned_page: np.ndarray) -> None:
    levelled, estimate = benchmark(preprocess.deskew, turned_page, border=255)
    assert abs(estimate.angle + TURN) <= 0.1
    assert levelled.shape == _core.kernels.rotated_size(
        turned_page.shape[1], turned_page.shape[0], estimate.angle, True
    )


@pytest.mark.benchmark(group="deskew-page")
def test_projection_profile_deskew(benchmark: Any, cv2: Any, turned_page: np.ndarray) -> None:
    def run() -> tuple[np.ndarray, float]:
        angle = projection_profile_angle(cv2, turned_page)
        return warp(cv2, turned_page, angle), angle

    levelled, angle = benchmark(run)
    assert abs(angle + TURN) <= 0.1
    h, w = turned_page.shape
    assert levelled.shape == _core.kernels.rotated_size(w, h, angle, True)


@pytest.mark.benchmark(group="deskew-page")
def test_min_area_rect_deskew(benchmark: Any, cv2: Any, turned_page: np.ndarray) -> None:
    def run() -> tuple[np.ndarray, float]:
        angle = min_area_rect_angle(cv2, turned_page)
        return warp(cv2, turned_page, angle), angle

    levelled, angle = benchmark(run)
    assert abs(angle + TURN) <= 1.0  # the ink's bounding box: coarse on ragged text
    assert levelled.ndim == 2


def test_accuracy_against_the_baselines(cv2: Any, a4_text_page: np.ndarray) -> None:
    """On the same turned pages (angles off the baseline's 0.1-degree grid), ocrai's mean and
    worst errors are no larger than either baseline's, and within 0.1 degree."""
    errors: dict[str, list[float]] = {"ocrai": [], "projection": [], "min_area_rect": []}
    for turn in ACCURACY_TURNS:
        page = rotate_image(a4_text_page, turn)
        errors["ocrai"].append(abs(preprocess.estimate_skew(page).angle + turn))
        errors["projection"].append(abs(projection_profile_angle(cv2, page) + turn))
        errors["min_area_rect"].append(abs(min_area_rect_angle(cv2, page) + turn))
    ours = errors["ocrai"]
    assert max(ours) <= 0.1, errors
    for name in ("projection", "min_area_rect"):
        assert np.mean(ours) <= np.mean(errors[name]), errors
        assert max(ours) <= max(errors[name]), errors


# --- estimate alone and rotation alone -----------------------------------------------------


@pytest.mark.benchmark(group="skew-estimate")
def test_ocrai_estimate(benchmark: Any, facts: dict[str, Any], turned_page: np.ndarray) -> None:
    estimate = benchmark(preprocess.estimate_skew, turned_page)
    assert abs(estimate.angle + TURN) <= 0.1


@pytest.mark.benchmark(group="skew-estimate")
def test_projection_profile_estimate(benchmark: Any, cv2: Any, turned_page: np.ndarray) -> None:
    angle = benchmark(projection_profile_angle, cv2, turned_page)
    assert abs(angle + TURN) <= 0.1


@pytest.mark.benchmark(group="skew-estimate")
def test_min_area_rect_estimate(benchmark: Any, cv2: Any, turned_page: np.ndarray) -> None:
    angle = benchmark(min_area_rect_angle, cv2, turned_page)
    assert abs(angle + TURN) <= 1.0


@pytest.mark.benchmark(group="rotate-u8")
def test_ocrai_rotate(benchmark: Any, facts: dict[str, Any], turned_page: np.ndarray) -> None:
    h, w = _core.kernels.rotated_size(turned_page.shape[1], turned_page.shape[0], -TURN, True)
    out = np.empty((h, w), np.uint8)
    result = benchmark(preprocess.rotate, turned_page, -TURN, expand=True, out=out)
    assert result is out


@pytest.mark.benchmark(group="rotate-u8")
def test_opencv_rotate(benchmark: Any, cv2: Any, turned_page: np.ndarray) -> None:
    h, w = turned_page.shape
    out_h, out_w = _core.kernels.rotated_size(w, h, -TURN, True)
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -TURN, 1.0)
    m[0, 2] += (out_w - 1) / 2 - (w - 1) / 2
    m[1, 2] += (out_h - 1) / 2 - (h - 1) / 2
    out = np.empty((out_h, out_w), np.uint8)
    result = benchmark(
        cv2.warpAffine,
        turned_page,
        m,
        (out_w, out_h),
        out,
        cv2.INTER_LINEAR,
        cv2.BORDER_CONSTANT,
        255,
    )
    ours = preprocess.rotate(turned_page, -TURN, expand=True)
    # OpenCV interpolates in 1/32-pixel steps, ocrai in 1/256: a level or two apart.
    assert np.abs(result.astype(int) - ours).max() <= 3
    assert math.isclose(float(result.mean()), float(ours.mean()), rel_tol=1e-3)
