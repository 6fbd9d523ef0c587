"""Rotation and skew estimation.

Rotation is integer fixed-point arithmetic: every SIMD target must equal the numpy replay of
the documented formula bit for bit. Skew is checked on rendered text pages turned by known
angles, in several languages, and must be within 0.1 degree.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from ocrai import _core, preprocess
from ocrai.testing import render_paragraph, rotate_image

# 16 lanes of 32 bits in AVX-512: widths up to 4 * 16 + 1, and past one 64-pixel segment.
WIDTHS = [*range(1, 70), 127, 128, 129, 200]


def fixed(v: np.ndarray) -> np.ndarray:
    """round(clamp(v * 2^16, +-2^30)) half away from zero, in the C++'s own double steps."""
    w = np.clip(np.asarray(v, np.float64) * 65536.0, -(2.0**30), 2.0**30)
    return (np.sign(w) * np.floor(np.abs(w) + 0.5)).astype(np.int64)


def reference_rotate(
    image: np.ndarray, angle: float, border: int, out_h: int, out_w: int
) -> np.ndarray:
    """The documented sampling: per 64-pixel segment an exactly rounded 16.16 origin, then
    whole steps; bilinear with 8-bit weights; the border outside the source."""
    h, w = image.shape[:2]
    src = image if image.ndim == 3 else image[..., None]
    a = angle * (math.pi / 180.0)
    c, s = math.cos(a), math.sin(a)
    cxs, cys, cxd, cyd = 0.5 * (w - 1), 0.5 * (h - 1), 0.5 * (out_w - 1), 0.5 * (out_h - 1)
    dx = np.arange((out_w + 63) // 64) * 64 - cxd
    dy = np.arange(out_h) - cyd
    ox = fixed(cxs + c * dx[None, :] - s * dy[:, None])
    oy = fixed(cys + s * dx[None, :] + c * dy[:, None])
    x = np.arange(out_w)
    sx = ox[:, x // 64] + (x % 64) * fixed(c)
    sy = oy[:, x // 64] + (x % 64) * fixed(s)
    ix, iy = sx >> 16, sy >> 16
    fx, fy = ((sx >> 8) & 255)[..., None], ((sy >> 8) & 255)[..., None]
    padded = np.full((h + 4, w + 4, src.shape[2]), border, np.int64)
    padded[2 : h + 2, 2 : w + 2] = src

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        return padded[np.clip(yy + 2, 0, h + 3), np.clip(xx + 2, 0, w + 3)]

    top = at(iy, ix) * (256 - fx) + at(iy, ix + 1) * fx
    bottom = at(iy + 1, ix) * (256 - fx) + at(iy + 1, ix + 1) * fx
    out = ((top * (256 - fy) + bottom * fy + 32768) >> 16).astype(np.uint8)
    return out if image.ndim == 3 else out[..., 0]


ANGLES = [0.0, 0.4, -2.7, 9.5, -14.0, 33.0, 90.0, -135.5, 180.0]


@pytest.mark.parametrize("angle", ANGLES)
def test_rotation_matches_the_reference(
    simd_target: str, angle: float, rng: np.random.Generator
) -> None:
    for width in WIDTHS:
        for height in (1, 2, 5, 21):
            image = rng.integers(0, 256, (height, width), dtype=np.uint8)
            for expand in (False, True):
                out = preprocess.rotate(image, angle, border=37, expand=expand)
                expected = reference_rotate(image, angle, 37, *out.shape)
                np.testing.assert_array_equal(out, expected, err_msg=f"{height}x{width} {expand}")


@pytest.mark.parametrize("channels", [3, 4])
def test_colour_rotation_matches_the_reference(
    simd_target: str, channels: int, rng: np.random.Generator
) -> None:
    for width in (1, 3, 17, 64, 65):
        image = rng.integers(0, 256, (13, width, channels), dtype=np.uint8)
        for angle in (0.3, -8.0, 120.0):
            out = preprocess.rotate(image, angle, border=200, expand=True)
            assert out.shape[2] == channels
            np.testing.assert_array_equal(out, reference_rotate(image, angle, 200, *out.shape[:2]))


def test_rotation_of_a_page_is_identical_on_every_target(rng: np.random.Generator) -> None:
    # Large enough for the row-piece path (small angles), the gather path (large angles) and
    # the partly outside vectors along every edge.
    gray = rng.integers(0, 256, (300, 457), dtype=np.uint8)[:, 3:450]  # stride != width
    rgb = rng.integers(0, 256, (200, 301, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (200, 301, 4), dtype=np.uint8)[:, 1:290]
    results: dict[tuple[int, float], np.ndarray] = {}
    for target in _core.simd_info()["supported"]:
        _core._set_simd_targets([target])
        try:
            for page in (gray, rgb, rgba):
                for angle in (0.2, -1.7, 4.4, -11.0, 47.0):
                    out = preprocess.rotate(page, angle, border=9, expand=True)
                    key = (page.shape[2] if page.ndim == 3 else 1, angle)
                    if key in results:
                        np.testing.assert_array_equal(out, results[key], err_msg=f"{target} {key}")
                    else:
                        results[key] = out
                        expected = reference_rotate(page, angle, 9, *out.shape[:2])
                        np.testing.assert_array_equal(out, expected, err_msg=f"{key}")
        finally:
            _core._set_simd_targets([])


def test_rotation_geometry() -> None:
    image = np.arange(6 * 4, dtype=np.uint8).reshape(4, 6)  # even sides: centres on pixels
    np.testing.assert_array_equal(preprocess.rotate(image, 0.0), image)
    np.testing.assert_array_equal(preprocess.rotate(image, 90.0, expand=True), np.rot90(image, 1))
    np.testing.assert_array_equal(preprocess.rotate(image, -90.0, expand=True), np.rot90(image, -1))
    np.testing.assert_array_equal(preprocess.rotate(image, 180.0), image[::-1, ::-1])
    assert _core.kernels.rotated_size(6, 4, 90.0, True) == (6, 4)
    assert _core.kernels.rotated_size(100, 50, 30.0, True) == (
        math.ceil(100 * 0.5 + 50 * math.cos(math.pi / 6)),
        math.ceil(100 * math.cos(math.pi / 6) + 50 * 0.5),
    )
    assert _core.kernels.rotated_size(100, 50, 30.0, False) == (50, 100)
    # Counter-clockwise as displayed: a mark right of the centre moves up.
    mark = np.zeros((41, 41), np.uint8)
    mark[20, 35] = 255
    turned = preprocess.rotate(mark, 90.0, border=0)
    y, x = np.unravel_index(np.argmax(turned), turned.shape)
    assert (y, x) == (5, 20)


def test_rotation_agrees_with_opencv(rng: np.random.Generator) -> None:
    cv2 = pytest.importorskip("cv2")
    image = rng.integers(0, 256, (120, 170), dtype=np.uint8)
    for angle in (3.3, -17.0):
        ours = preprocess.rotate(image, angle, border=255, expand=True)
        h, w = ours.shape
        m = cv2.getRotationMatrix2D((84.5, 59.5), angle, 1.0)
        m[0, 2] += (w - 1) / 2 - 84.5
        m[1, 2] += (h - 1) / 2 - 59.5
        theirs = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        # OpenCV weighs with 1/32-pixel steps, we with 1/256: a level or two apart at most.
        assert np.abs(ours.astype(int) - theirs).max() <= 3


def test_rotation_out_and_strides(rng: np.random.Generator) -> None:
    base = rng.integers(0, 256, (60, 90), dtype=np.uint8)
    view = base[5:50, 3:80]
    h, w = _core.kernels.rotated_size(view.shape[1], view.shape[0], 7.0, True)
    out = np.zeros((h + 4, w + 10), np.uint8)[2 : h + 2, 5 : w + 5]
    assert preprocess.rotate(view, 7.0, expand=True, out=out) is out
    np.testing.assert_array_equal(out, reference_rotate(np.ascontiguousarray(view), 7.0, 255, h, w))


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0), (1, 1), (1, 7), (7, 1)])
def test_rotation_of_empty_and_tiny_images(shape: tuple[int, int]) -> None:
    image = np.full(shape, 80, np.uint8)
    out = preprocess.rotate(image, 30.0, border=3, expand=True)
    if image.size == 0:
        assert out.shape == shape
    else:
        np.testing.assert_array_equal(out, reference_rotate(image, 30.0, 3, *out.shape))


LANGS = ["en", "fr", "cs", "ja", "zh-hant"]
TURNS = [-10.0, -6.3, -2.71, -0.44, 0.0, 0.52, 1.9, 5.05, 8.6, 10.0]


@cache
def paragraph(lang: str) -> np.ndarray:
    return render_paragraph(lang, width=1100, lines=12, font_size=30).image


@pytest.mark.parametrize("lang", LANGS)
def test_skew_of_rendered_pages_within_a_tenth_of_a_degree(lang: str) -> None:
    page = paragraph(lang)
    for turn in TURNS:
        turned = rotate_image(page, turn)
        estimate = preprocess.estimate_skew(turned)
        # The estimate is the correction: turning by it levels the page.
        assert abs(estimate.angle + turn) <= 0.1, (lang, turn, estimate)
        assert 0.3 <= estimate.confidence <= 1.0, (lang, turn, estimate)
        assert estimate.background >= 240


def test_skew_is_identical_on_every_target() -> None:
    pages = [rotate_image(paragraph("en"), 3.7), rotate_image(paragraph("ja"), -8.2)]
    found: list[preprocess.SkewEstimate] = []
    for target in _core.simd_info()["supported"]:
        _core._set_simd_targets([target])
        try:
            estimates = [preprocess.estimate_skew(p) for p in pages]
        finally:
            _core._set_simd_targets([])
        if found:
            assert estimates == found, target
        found = estimates


def test_skew_of_a_large_page_and_colour_orders() -> None:
    page = render_paragraph("pt", width=2480, lines=40, font_size=40, margin=200).image
    turned = rotate_image(page, -3.37)
    estimate = preprocess.estimate_skew(turned)
    assert abs(estimate.angle - 3.37) <= 0.1
    gray = preprocess.to_gray(turned)
    assert preprocess.estimate_skew(gray) == estimate
    assert preprocess.estimate_skew(turned[..., ::-1].copy(), "bgr") == estimate
    rgba = np.concatenate([turned, np.full((*turned.shape[:2], 1), 7, np.uint8)], axis=2)
    assert preprocess.estimate_skew(rgba) == estimate


def test_skew_with_a_photo_on_the_page(rng: np.random.Generator) -> None:
    page = render_paragraph("en", width=1400, lines=16, font_size=30).image.copy()
    yy, xx = np.mgrid[0:300, 0:500]
    photo = 120 + 70 * np.sin(xx / 23.0) * np.cos(yy / 31.0) + rng.normal(0, 15, xx.shape)
    page[250:550, 450:950] = photo.clip(0, 255).astype(np.uint8)[..., None]
    for turn in (-4.4, 2.2, 7.1):
        estimate = preprocess.estimate_skew(rotate_image(page, turn))
        assert abs(estimate.angle + turn) <= 0.1, (turn, estimate)


def test_confidence_separates_text_lines_from_pictures(rng: np.random.Generator) -> None:
    yy, xx = np.mgrid[0:900, 0:700]
    picture = 128 + 90 * np.sin(xx / 37.0) * np.cos(yy / 53.0) + rng.normal(0, 20, xx.shape)
    assert preprocess.estimate_skew(picture.clip(0, 255).astype(np.uint8)).confidence < 0.2
    # Text turned a quarter: its lines are vertical, outside the search range.
    assert preprocess.estimate_skew(rotate_image(paragraph("en"), 90.0)).confidence < 0.2
    assert preprocess.estimate_skew(rotate_image(paragraph("en"), 2.0)).confidence > 0.4


def test_skew_of_pages_without_text(rng: np.random.Generator) -> None:
    blank = np.full((900, 700), 246, np.uint8)
    noise = np.clip(rng.normal(235, 8, (900, 700)), 0, 255).astype(np.uint8)
    for image in (blank, noise, np.zeros((0, 0), np.uint8), np.zeros((1, 1), np.uint8)):
        estimate = preprocess.estimate_skew(image)
        assert (estimate.angle, estimate.confidence) == (0.0, 0.0)
    assert preprocess.estimate_skew(blank).background == 246
    for shape in [(1, 9), (9, 1), (2, 2), (3, 40)]:
        tiny = rng.integers(0, 256, shape, dtype=np.uint8)
        estimate = preprocess.estimate_skew(tiny)
        assert abs(estimate.angle) <= 15.0
        assert 0.0 <= estimate.confidence <= 1.0


def test_max_angle_bounds_the_search() -> None:
    turned = rotate_image(paragraph("en"), 6.0)
    assert abs(preprocess.estimate_skew(turned, max_angle=10).angle + 6.0) <= 0.1
    assert abs(preprocess.estimate_skew(turned, max_angle=3).angle) <= 3.0


def test_deskew_levels_the_page() -> None:
    turned = rotate_image(paragraph("fr"), 4.2)
    gray = preprocess.to_gray(turned)
    levelled, estimate = preprocess.deskew(gray)
    assert abs(estimate.angle + 4.2) <= 0.1
    assert levelled.shape == _core.kernels.rotated_size(
        gray.shape[1], gray.shape[0], estimate.angle, True
    )
    assert levelled[0, 0] == estimate.background  # corners are filled with the paper level
    np.testing.assert_array_equal(
        levelled, preprocess.rotate(gray, estimate.angle, border=estimate.background, expand=True)
    )
    assert abs(preprocess.estimate_skew(levelled).angle) <= 0.1
    colour, colour_estimate = preprocess.deskew(turned, border=0, expand=False)
    assert colour.shape == turned.shape
    assert colour_estimate == estimate
    assert colour[0, 0].tolist() == [0, 0, 0]
    unrotated, low = preprocess.deskew(gray, min_confidence=1.0)
    assert low == estimate
    np.testing.assert_array_equal(unrotated, gray)
    assert unrotated is not gray


def test_skew_and_rotation_reject_bad_input() -> None:
    page = np.zeros((20, 20), np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        preprocess.estimate_skew(np.zeros((20, 20), np.float64))
    with pytest.raises(ValueError, match=r"max_angle must be in \(0, 45\]"):
        preprocess.estimate_skew(page, max_angle=0)
    with pytest.raises(ValueError, match=r"max_angle must be in \(0, 45\]"):
        preprocess.estimate_skew(page, max_angle=50)
    with pytest.raises(ValueError, match="'rgb' or 'bgr'"):
        preprocess.estimate_skew(page, "hsv")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="angle must be finite"):
        preprocess.rotate(page, float("inf"))
    with pytest.raises(TypeError, match="angle must be a real number"):
        preprocess.rotate(page, "90")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"border value must be in \[0, 255\]"):
        preprocess.rotate(page, 10, border=256)
    with pytest.raises(ValueError, match=r"border must be in \[0, 255\] or None"):
        preprocess.deskew(page, border=-5)
    with pytest.raises(ValueError, match="expected"):
        preprocess.rotate(page, 10, expand=True, out=np.zeros((20, 20), np.uint8))
    with pytest.raises(ValueError, match=r"expected \(4, 4, 3\)"):
        preprocess.rotate(np.zeros((4, 4, 3), np.uint8), 10, out=np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="overlaps"):
        preprocess.rotate(page, 10, out=page)
    with pytest.raises(ValueError, match="contiguous"):
        preprocess.estimate_skew(np.zeros((20, 20), np.uint8)[:, ::2])
