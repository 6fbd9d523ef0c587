"""Colour to gray: every SIMD target equals the scalar reference, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import _core


def reference_gray(image: np.ndarray, order: str) -> np.ndarray:
    if image.ndim == 2:
        return image.copy()
    c = image.astype(np.int64)
    r, g, b = (
        (c[..., 0], c[..., 1], c[..., 2]) if order == "rgb" else (c[..., 2], c[..., 1], c[..., 0])
    )
    return ((4899 * r + 9617 * g + 1868 * b + 8192) >> 14).astype(np.uint8)


# Widths 1..65 reach every tail of 16- and 64-byte vectors for 1, 3 and 4 channels.
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["gray", "c3", "c4"])
@pytest.mark.parametrize("order", ["rgb", "bgr"])
def test_matches_reference_for_every_width(
    simd_target: str, channels: int, order: str, rng: np.random.Generator
) -> None:
    for width in range(1, 66):
        shape = (3, width) if channels == 1 else (3, width, channels)
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        np.testing.assert_array_equal(
            _core.kernels.to_gray_u8(image, order),
            reference_gray(image, order),
            err_msg=f"w={width}",
        )


@pytest.mark.parametrize("channels", [3, 4])
def test_row_strided_views_are_read_in_place(
    simd_target: str, channels: int, rng: np.random.Generator
) -> None:
    base = rng.integers(0, 256, (40, 129, channels), dtype=np.uint8)
    view = base[3:37:2, 5:110]  # odd row stride, offset start
    out = np.zeros((51, 120), np.uint8)[::3, 2:107]  # strided output, written in place
    result = _core.kernels.to_gray_u8(view, "rgb", out=out)
    assert result is out
    np.testing.assert_array_equal(out, reference_gray(view, "rgb"))


def test_extreme_values(simd_target: str) -> None:
    for value in (0, 1, 127, 128, 254, 255):
        image = np.full((2, 37, 3), value, np.uint8)
        np.testing.assert_array_equal(_core.kernels.to_gray_u8(image), np.full((2, 37), value))


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (0, 0)])
def test_empty_images(shape: tuple[int, ...]) -> None:
    out = _core.kernels.to_gray_u8(np.zeros(shape, np.uint8))
    assert out.shape == shape[:2]


def test_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="uint8"):
        _core.kernels.to_gray_u8(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="channels"):
        _core.kernels.to_gray_u8(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        _core.kernels.to_gray_u8(np.zeros((4,), np.uint8))
    with pytest.raises(ValueError, match="contiguous"):
        _core.kernels.to_gray_u8(np.zeros((4, 8, 3), np.uint8)[:, ::2])
    with pytest.raises(ValueError, match="contiguous"):
        _core.kernels.to_gray_u8(np.zeros((4, 8, 3), np.uint8).transpose(1, 0, 2))
    with pytest.raises(ValueError, match="'rgb' or 'bgr'"):
        _core.kernels.to_gray_u8(np.zeros((4, 4, 3), np.uint8), "hsv")
    read_only = np.zeros((4, 4), np.uint8)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _core.kernels.to_gray_u8(np.zeros((4, 4, 3), np.uint8), out=read_only)
    with pytest.raises(ValueError, match="expected"):
        _core.kernels.to_gray_u8(np.zeros((4, 4, 3), np.uint8), out=np.zeros((4, 5), np.uint8))
