"""ink_bounds: where an image differs from its plain background (the detector's area)."""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import _core

ink_bounds = _core.pipeline.ink_bounds


def reference(image: np.ndarray, tolerance: int, give_up_height: int = 0) -> tuple[int, ...]:
    """The definition, in numpy: border median per channel (the lower median), plain when
    95 % of the border is within tolerance, then the box around every differing pixel."""
    pixels = image if image.ndim == 3 else image[:, :, None]
    h, w = pixels.shape[:2]
    ring = np.zeros((h, w), bool)
    ring[0, :] = ring[-1, :] = ring[:, 0] = ring[:, -1] = True
    border = pixels[ring].astype(int)
    n = len(border)
    median = np.sort(border, axis=0)[(n + 1) // 2 - 1]
    ink = (np.abs(pixels.astype(int) - median) > tolerance).any(axis=2)
    if (~ink[ring]).sum() < 0.95 * n:
        return (0, 0, w, h)
    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return (0, 0, 0, 0)
    if give_up_height and ys.max() + 1 - ys.min() >= give_up_height:
        return (0, 0, w, h)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def test_a_block_of_ink_on_white() -> None:
    image = np.full((300, 1000), 250, np.uint8)
    image[120:160, 40:930] = 10
    assert ink_bounds(image, tolerance=24) == (40, 120, 930, 160)
    assert ink_bounds(image, tolerance=24, give_up_height=40) == (0, 0, 1000, 300)
    assert ink_bounds(image, tolerance=24, give_up_height=41) == (40, 120, 930, 160)


def test_colour_differences_count_in_any_channel() -> None:
    image = np.zeros((50, 80, 3), np.uint8)
    image[:] = (30, 120, 200)
    image[10, 20] = (30, 120, 230)  # blue differs by 30
    image[40, 70] = (30, 140, 200)  # green differs by 20: within 24
    assert ink_bounds(image, tolerance=24) == (20, 10, 21, 11)
    assert ink_bounds(image, tolerance=19) == (20, 10, 71, 41)


def test_no_ink_and_no_plain_background() -> None:
    image = np.full((64, 64, 4), 200, np.uint8)
    assert ink_bounds(image, tolerance=10) == (0, 0, 0, 0)
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert ink_bounds(photo, tolerance=24) == (0, 0, 64, 64)


def test_tiny_images() -> None:
    assert ink_bounds(np.zeros((1, 1), np.uint8), tolerance=0) == (0, 0, 0, 0)
    assert ink_bounds(np.zeros((0, 5), np.uint8), tolerance=0) == (0, 0, 0, 0)
    row = np.array([[0, 0, 0, 90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], np.uint8)
    assert ink_bounds(row, tolerance=24) == (3, 0, 4, 1)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_matches_the_definition_on_random_images(channels: int) -> None:
    rng = np.random.default_rng(channels)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(1, 90, 2))
        background = rng.integers(0, 256, channels)
        image = np.empty((h, w, channels), np.uint8)
        image[:] = background
        noise = rng.integers(-12, 13, image.shape)
        image = np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)
        for _ in range(int(rng.integers(0, 6))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            image[y, x] = rng.integers(0, 256, channels)
        if channels == 1:
            image = image[:, :, 0]
        tolerance = int(rng.integers(0, 40))
        give_up = int(rng.integers(0, h + 1))
        # Padded rows: a view into a wider array.
        wide = np.zeros((h, w + 3, *image.shape[2:]), np.uint8)
        wide[:, :w] = image
        padded = wide[:, :w]
        want = reference(image, tolerance, give_up)
        assert ink_bounds(image, tolerance=tolerance, give_up_height=give_up) == want
        assert ink_bounds(padded, tolerance=tolerance, give_up_height=give_up) == want


def test_bad_arguments() -> None:
    image = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="tolerance"):
        ink_bounds(image, tolerance=256)
    with pytest.raises(ValueError, match="tolerance"):
        ink_bounds(image, tolerance=-1)
    with pytest.raises(ValueError, match="give_up_height"):
        ink_bounds(image, tolerance=3, give_up_height=-1)
    with pytest.raises(TypeError):
        ink_bounds(image.astype(np.float32), tolerance=3)
