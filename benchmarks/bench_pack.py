"""Packing an A4 300-dpi page into the detector's float32 NCHW input, one thread: ocrai beside
a memset of the same output (the floor), numpy, and OpenCV's blobFromImage.

BGR planes of (x / 255 - mean) / std from the RGB page, padded to multiples of 32
(3 x 3520 x 2496 floats, 105 MB), written into a preallocated buffer. Targets (median):
within 1.5x of the memset, >= 10x faster than cv2.dnn.blobFromImage. The detector-size group
packs the page already shrunk to 679x960 (padded to 704x960), the pipeline's real case.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ocrai import preprocess

MEAN = preprocess.DETECTOR_MEAN
STD = preprocess.DETECTOR_STD


def padded_shape(image: np.ndarray) -> tuple[int, int, int, int]:
    h, w = image.shape[:2]
    return (1, 3, preprocess.round_up(h, 32), preprocess.round_up(w, 32))


def numpy_pack(image: np.ndarray, out: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    out.fill(0)
    bgr = image[..., ::-1].astype(np.float32)
    norm = (bgr * np.float32(1 / 255) - np.float32(MEAN)) / np.float32(STD)
    out[0, :, :h, :w] = norm.transpose(2, 0, 1)
    return out


def check(result: np.ndarray, image: np.ndarray) -> None:
    h, w = image.shape[:2]
    expect = numpy_pack(image, np.empty_like(result))
    np.testing.assert_allclose(result, expect, rtol=1e-5, atol=1e-5)
    assert (result[..., h:, :] == 0).all()
    assert (result[..., w:] == 0).all()


@pytest.fixture(scope="module")
def detector_image(a4_page_rgb: np.ndarray) -> np.ndarray:
    return preprocess.resize(a4_page_rgb, (679, 960))


@pytest.mark.benchmark(group="pack-a4")
def test_ocrai_pack(benchmark: Any, facts: dict[str, Any], a4_page_rgb: np.ndarray) -> None:
    out = np.empty(padded_shape(a4_page_rgb), np.float32)
    result = benchmark(
        preprocess.pack, a4_page_rgb, MEAN, STD, reverse_channels=True, multiple=32, out=out
    )
    check(result, a4_page_rgb)


@pytest.mark.benchmark(group="pack-a4")
def test_memset_of_the_output(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    out = np.empty(padded_shape(a4_page_rgb), np.float32)
    benchmark(out.fill, 0)
    assert (out == 0).all()


@pytest.mark.benchmark(group="pack-a4")
def test_numpy_pack(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    out = np.empty(padded_shape(a4_page_rgb), np.float32)
    result = benchmark(numpy_pack, a4_page_rgb, out)
    ours = preprocess.pack(a4_page_rgb, MEAN, STD, reverse_channels=True, multiple=32)
    np.testing.assert_allclose(ours, result, rtol=1e-5, atol=1e-5)


@pytest.mark.benchmark(group="pack-a4")
def test_opencv_blob_from_image(benchmark: Any, a4_page_rgb: np.ndarray) -> None:
    cv2 = pytest.importorskip("cv2")
    cv2.setNumThreads(1)
    h, w = a4_page_rgb.shape[:2]
    # The same normalisation: (x - 255 mean) * 1 / (255 std) per channel, RGB -> BGR. OpenCV
    # neither pads nor writes into a given buffer.
    params = cv2.dnn.Image2BlobParams()
    params.scalefactor = tuple(1 / (255 * s) for s in STD)
    params.mean = tuple(255 * m for m in MEAN)
    params.swapRB = True
    params.size = (w, h)
    params.ddepth = cv2.CV_32F
    blob = benchmark(cv2.dnn.blobFromImageWithParams, a4_page_rgb, params)
    ours = preprocess.pack(a4_page_rgb, MEAN, STD, reverse_channels=True)
    np.testing.assert_allclose(ours, blob, rtol=1e-5, atol=1e-5)


@pytest.mark.benchmark(group="pack-detector-size")
def test_ocrai_pack_detector_size(
    benchmark: Any, facts: dict[str, Any], detector_image: np.ndarray
) -> None:
    out = np.empty(padded_shape(detector_image), np.float32)
    result = benchmark(
        preprocess.pack, detector_image, MEAN, STD, reverse_channels=True, multiple=32, out=out
    )
    check(result, detector_image)


@pytest.mark.benchmark(group="pack-detector-size")
def test_memset_of_the_detector_output(benchmark: Any, detector_image: np.ndarray) -> None:
    out = np.empty(padded_shape(detector_image), np.float32)
    benchmark(out.fill, 0)
    assert (out == 0).all()
