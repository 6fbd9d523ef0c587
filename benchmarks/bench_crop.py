"""Cropping and rectifying the text lines of an A4 300-dpi page, one thread: ocrai beside
OpenCV's getPerspectiveTransform + warpPerspective (INTER_LINEAR) per line.

40 line quads, rotated rectangles of up to 2 degrees as a detector returns them, 400-1900
pixels long, rectified to the recogniser's 48-pixel height at their aspect ratio (about
1400 pixels wide on average). Target (median): >= 3x faster than OpenCV.

Both sides write into preallocated outputs, as a pipeline reusing its buffers does; the
"fresh-output" group lets both allocate their 40 outputs every time, which adds the same
page-fault cost (several ms for the 8 MB) to each side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ocrai import preprocess

HEIGHT = 48


def rotated_rect(cx: float, cy: float, length: float, thick: float, degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    ux, uy = math.cos(t), math.sin(t)
    vx, vy = -uy, ux
    hl, ht = length / 2, thick / 2
    return np.array(
        [
            [cx - hl * ux - ht * vx, cy - hl * uy - ht * vy],
            [cx + hl * ux - ht * vx, cy + hl * uy - ht * vy],
            [cx + hl * ux + ht * vx, cy + hl * uy + ht * vy],
            [cx - hl * ux + ht * vx, cy - hl * uy + ht * vy],
        ],
        np.float32,
    )


@pytest.fixture(scope="module")
def lines() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(40)
    quads = [
        rotated_rect(
            rng.uniform(1000, 1500),
            300 + 75 * i,
            rng.uniform(400, 1900),
            rng.uniform(30, 50),
            rng.uniform(-2, 2),
        )
        for i in range(40)
    ]
    return [(q, preprocess.rectified_width(q, HEIGHT)) for q in quads]


def opencv_crop(cv2: Any, page: np.ndarray, quad: np.ndarray, width: int, out: Any = None) -> Any:
    # OpenCV maps integer pixel indices, ocrai pixel centres: shifting both point sets by half a
    # pixel makes the two transforms the same.
    corners = np.float32([[0, 0], [width, 0], [width, HEIGHT], [0, HEIGHT]]) - 0.5
    m = cv2.getPerspectiveTransform(quad - np.float32(0.5), corners)
    return cv2.warpPerspective(
        page, m, (width, HEIGHT), dst=out, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def check_same(
    cv2: Any, page: np.ndarray, lines: list[tuple[np.ndarray, int]], crops: list[np.ndarray]
) -> None:
    for (quad, width), crop in zip(lines, crops, strict=True):
        theirs = opencv_crop(cv2, page, quad, width)
        # OpenCV rounds sample positions to 1/32 pixel, ocrai to 1/128: up to 1/64 pixel
        # apart, which is 3-4 levels across the page's 225-level stroke edges, 0 elsewhere.
        diff = np.abs(crop.astype(np.int16) - theirs)
        assert diff.max() <= 4
        assert diff.mean() < 0.1


@pytest.mark.benchmark(group="crop-lines")
def test_ocrai_crop_lines(
    benchmark: Any,
    facts: dict[str, Any],
    a4_page_rgb: np.ndarray,
    lines: list[tuple[np.ndarray, int]],
) -> None:
    outs = [np.empty((HEIGHT, w, 3), np.uint8) for _, w in lines]

    def run() -> list[np.ndarray]:
        return [
            preprocess.crop_quad(a4_page_rgb, q, HEIGHT, w, out=o)
            for (q, w), o in zip(lines, outs, strict=True)
        ]

    crops = benchmark(run)
    benchmark.extra_info["pixels"] = sum(w for _, w in lines) * HEIGHT
    check_same(pytest.importorskip("cv2"), a4_page_rgb, lines, crops)


@pytest.mark.benchmark(group="crop-lines")
def test_opencv_crop_lines(
    benchmark: Any, a4_page_rgb: np.ndarray, lines: list[tuple[np.ndarray, int]]
) -> None:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    outs = [np.empty((HEIGHT, w, 3), np.uint8) for _, w in lines]

    def run() -> list[np.ndarray]:
        return [
            opencv_crop(cv2, a4_page_rgb, q, w, o) for (q, w), o in zip(lines, outs, strict=True)
        ]

    crops = benchmark(run)
    ours = [preprocess.crop_quad(a4_page_rgb, q, HEIGHT, w) for q, w in lines]
    check_same(cv2, a4_page_rgb, lines, ours)
    assert len(crops) == len(ours)


@pytest.mark.benchmark(group="crop-lines-fresh-output")
def test_ocrai_crop_lines_fresh(
    benchmark: Any,
    facts: dict[str, Any],
    a4_page_rgb: np.ndarray,
    lines: list[tuple[np.ndarray, int]],
) -> None:
    crops = benchmark(lambda: [preprocess.crop_quad(a4_page_rgb, q, HEIGHT, w) for q, w in lines])
    check_same(pytest.importorskip("cv2"), a4_page_rgb, lines, crops)


@pytest.mark.benchmark(group="crop-lines-fresh-output")
def test_opencv_crop_lines_fresh(
    benchmark: Any, a4_page_rgb: np.ndarray, lines: list[tuple[np.ndarray, int]]
) -> None:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    crops = benchmark(lambda: [opencv_crop(cv2, a4_page_rgb, q, w) for q, w in lines])
    assert [c.shape for c in crops] == [(HEIGHT, w, 3) for _, w in lines]
