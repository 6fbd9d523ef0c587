"""Decoding an A4 300-dpi page: ocrai.io.load_image beside Pillow + numpy directly (the
cost of ocrai's checks, locks and conversions on top of the decoder)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ocrai.io import load_image


@pytest.fixture(scope="module")
def a4_png(request: pytest.FixtureRequest) -> bytes:
    page = request.getfixturevalue("a4_page_rgb")
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.benchmark(group="decode-png-a4")
def test_ocrai_load_image(
    benchmark: Any, facts: dict[str, Any], a4_png: bytes, a4_page_rgb: np.ndarray
) -> None:
    loaded = benchmark(load_image, a4_png)
    np.testing.assert_array_equal(loaded.array, a4_page_rgb)


@pytest.mark.benchmark(group="decode-png-a4")
def test_pillow_numpy_decode(benchmark: Any, a4_png: bytes, a4_page_rgb: np.ndarray) -> None:
    np.testing.assert_array_equal(benchmark(pillow_decode, a4_png), a4_page_rgb)
