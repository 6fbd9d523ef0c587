"""Binarization: histogram, Otsu, threshold, Sauvola and adaptive mean.

Every SIMD target must equal the numpy references below bit for bit: the integer kernels
exactly, Sauvola by replaying its float32 formula in the same operation order.
"""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import _core, preprocess

# Byte kernels: 64-byte AVX-512 vectors, so widths up to 4 * 64 + 1 reach every tail; the
# window kernels work on 16 lanes of 32 bits (4 * 16 + 1).
BYTE_WIDTHS = [*range(1, 70), 127, 128, 129, 191, 255, 256, 257]
WINDOW_WIDTHS = list(range(1, 70))


def window_sums(image: np.ndarray, window: int, power: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact sums of image**power over the window around each pixel, clipped at the borders,
    and the number of pixels inside each clipped window."""
    h, w = image.shape
    r = window // 2
    v = image.astype(np.int64) ** power
    integral = np.zeros((h + 1, w + 1), np.int64)
    integral[1:, 1:] = v.cumsum(0).cumsum(1)
    y0 = np.maximum(np.arange(h) - r, 0)
    y1 = np.minimum(np.arange(h) + r + 1, h)
    x0 = np.maximum(np.arange(w) - r, 0)
    x1 = np.minimum(np.arange(w) + r + 1, w)
    sums = integral[y1][:, x1] - integral[y0][:, x1] - integral[y1][:, x0] + integral[y0][:, x0]
    return sums, (y1 - y0)[:, None] * (x1 - x0)[None, :]


def reference_sauvola(image: np.ndarray, window: int, k: float, r: float) -> np.ndarray:
    """The documented float32 formula, operation by operation (numpy float32 arithmetic is
    IEEE single precision, as the kernels are)."""
    f = np.float32
    s, n = window_sums(image, window, 1)
    q, _ = window_sums(image, window, 2)
    inv = f(1) / n.astype(f)
    mean = s.astype(f) * inv
    var = q.astype(f) * inv - mean * mean
    var = np.where(var > 0, var, f(0)).astype(f)
    t = mean * (f(1.0 - k) + f(k / r) * np.sqrt(var))
    return np.where(image.astype(f) > t, 255, 0).astype(np.uint8)


def reference_adaptive(image: np.ndarray, window: int, c: int) -> np.ndarray:
    s, n = window_sums(image, window, 1)
    return np.where(n * (image.astype(np.int64) + c) > s, 255, 0).astype(np.uint8)


def reference_otsu(hist: np.ndarray) -> int:
    """Between-class variance in doubles, first maximum, as documented."""
    total = int(hist.sum())
    total_sum = int((np.arange(256) * hist).sum())
    n0 = s0 = 0
    best, best_t = -1.0, 0
    for t in range(255):
        n0 += int(hist[t])
        s0 += t * int(hist[t])
        if n0 == 0:
            continue
        n1 = total - n0
        if n1 == 0:
            break
        m0 = s0 / n0
        m1 = (total_sum - s0) / n1
        between = float(n0) * float(n1) * (m0 - m1) * (m0 - m1)
        if between > best:
            best, best_t = between, t
    return best_t


def test_histogram_matches_bincount(simd_target: str, rng: np.random.Generator) -> None:
    for width in BYTE_WIDTHS:
        image = rng.integers(0, 256, (3, width), dtype=np.uint8)
        expected = np.bincount(image.ravel(), minlength=256)
        np.testing.assert_array_equal(_core.kernels.histogram_u8(image), expected)
    flat = np.full((40, 300), 250, np.uint8)  # long runs of one level
    assert _core.kernels.histogram_u8(flat)[250] == flat.size
    view = rng.integers(0, 256, (50, 97), dtype=np.uint8)[3:41:3, 5:90]
    np.testing.assert_array_equal(
        _core.kernels.histogram_u8(view), np.bincount(view.ravel(), minlength=256)
    )


def test_binarize_matches_the_lookup_table(simd_target: str, rng: np.random.Generator) -> None:
    for width in BYTE_WIDTHS:
        image = rng.integers(0, 256, (2, width), dtype=np.uint8)
        for t in (0, int(rng.integers(1, 255)), 254, 255):
            expected = np.where(image > t, 255, 0).astype(np.uint8)
            np.testing.assert_array_equal(preprocess.binarize(image, t), expected)
            np.testing.assert_array_equal(
                preprocess.binarize(image, t, invert=True), 255 - expected
            )


def test_binarize_every_threshold_strided_and_in_place(simd_target: str) -> None:
    levels = np.tile(np.arange(256, dtype=np.uint8), (3, 1))
    for t in range(256):
        np.testing.assert_array_equal(
            preprocess.binarize(levels, t), np.where(levels > t, 255, 0).astype(np.uint8)
        )
    base = np.tile(np.arange(256, dtype=np.uint8), (9, 2))
    view = base[1:8:2, 3:400]
    out = np.zeros((12, 450), np.uint8)[::3, 7:404]
    assert preprocess.binarize(view, 99, out=out) is out
    np.testing.assert_array_equal(out, np.where(view > 99, 255, 0))
    in_place = levels.copy()
    preprocess.binarize(in_place, 127, out=in_place)
    np.testing.assert_array_equal(in_place, np.where(levels > 127, 255, 0))


def test_otsu_matches_the_reference(rng: np.random.Generator) -> None:
    images = [
        rng.integers(0, 256, (64, 80), dtype=np.uint8),
        np.clip(rng.normal(200, 30, (50, 70)), 0, 255).astype(np.uint8),
        np.concatenate([rng.normal(40, 10, 2000), rng.normal(210, 15, 6000)])
        .clip(0, 255)
        .astype(np.uint8)
        .reshape(80, 100),
    ]
    for image in images:
        hist = np.bincount(image.ravel(), minlength=256)
        assert preprocess.otsu_threshold(image) == reference_otsu(hist)
        expected = np.where(image > reference_otsu(hist), 255, 0)
        np.testing.assert_array_equal(preprocess.binarize(image), expected)


def test_otsu_agrees_with_opencv(rng: np.random.Generator) -> None:
    cv2 = pytest.importorskip("cv2")
    bimodal = np.concatenate([rng.normal(60, 20, 3000), rng.normal(190, 25, 9000)])
    image = bimodal.clip(0, 255).astype(np.uint8).reshape(100, 120)
    t, _ = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert preprocess.otsu_threshold(image) == int(t)


def test_otsu_degenerate_images() -> None:
    assert preprocess.otsu_threshold(np.zeros((0, 5), np.uint8)) == 0
    for value in (0, 1, 128, 255):
        assert preprocess.otsu_threshold(np.full((4, 7), value, np.uint8)) == 0
    # Two levels: the first threshold of the gap between them (the dark level itself).
    two = np.array([[40, 200, 40, 200, 200]], np.uint8)
    assert preprocess.otsu_threshold(two) == 40
    np.testing.assert_array_equal(preprocess.binarize(two), [[0, 255, 0, 255, 255]])
    # A blank page stays paper; a black one stays ink.
    assert preprocess.binarize(np.full((3, 3), 250, np.uint8)).min() == 255
    assert preprocess.binarize(np.zeros((3, 3), np.uint8)).max() == 0


@pytest.mark.parametrize("window", [3, 5, 15])
def test_sauvola_matches_the_reference(
    simd_target: str, window: int, rng: np.random.Generator
) -> None:
    for height in (1, 2, 9):
        for width in WINDOW_WIDTHS:
            image = rng.integers(0, 256, (height, width), dtype=np.uint8)
            np.testing.assert_array_equal(
                preprocess.sauvola(image, window, 0.3, 100.0),
                reference_sauvola(image, window, 0.3, 100.0),
                err_msg=f"{height}x{width}",
            )


@pytest.mark.parametrize("window", [3, 5, 15])
def test_adaptive_mean_matches_the_reference(
    simd_target: str, window: int, rng: np.random.Generator
) -> None:
    for height in (1, 2, 9):
        for width in WINDOW_WIDTHS:
            image = rng.integers(0, 256, (height, width), dtype=np.uint8)
            for c in (-7, 0, 12):
                np.testing.assert_array_equal(
                    preprocess.adaptive_mean(image, window, c),
                    reference_adaptive(image, window, c),
                    err_msg=f"{height}x{width} c={c}",
                )


def test_local_thresholds_on_pages_and_options(simd_target: str, rng: np.random.Generator) -> None:
    page = np.clip(rng.normal(220, 25, (120, 333)), 0, 255).astype(np.uint8)
    page[30:60, 40:300:7] = 30  # strokes
    for window, k, r in [(31, 0.2, 128.0), (7, 0.5, 64.0), (61, -0.1, 200.0), (255, 0.34, 128.0)]:
        np.testing.assert_array_equal(
            preprocess.sauvola(page, window, k, r), reference_sauvola(page, window, k, r)
        )
    for window, c in [(31, 10), (255, -3), (9, 255), (9, -255)]:
        np.testing.assert_array_equal(
            preprocess.adaptive_mean(page, window, c), reference_adaptive(page, window, c)
        )


def test_window_sums_stay_exact_past_32_bits(simd_target: str, rng: np.random.Generator) -> None:
    # 255 x 255 windows of 255s: the window sum of squares (4.2e9) needs all 32 bits, and
    # the running prefix of a 700-pixel row wraps around 2^32 several times.
    white = np.full((300, 700), 255, np.uint8)
    np.testing.assert_array_equal(
        preprocess.sauvola(white, 255), reference_sauvola(white, 255, 0.2, 128.0)
    )
    image = rng.integers(180, 256, (300, 700), dtype=np.uint8)
    np.testing.assert_array_equal(
        preprocess.sauvola(image, 255, 0.25, 90.0), reference_sauvola(image, 255, 0.25, 90.0)
    )
    np.testing.assert_array_equal(
        preprocess.adaptive_mean(image, 255, 2), reference_adaptive(image, 255, 2)
    )


def test_borders_use_the_clipped_window(simd_target: str) -> None:
    # Dark left columns: a padded or mirrored window would see other values near the edge.
    image = np.full((9, 12), 200, np.uint8)
    image[:, :2] = 20
    image[0, 0] = 120
    window, r = 5, 2
    expected_adaptive = np.zeros_like(image)
    expected_sauvola = np.zeros_like(image)
    f = np.float32
    for y in range(9):
        for x in range(12):
            patch = image[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].astype(np.int64)
            n, s, q = patch.size, int(patch.sum()), int((patch**2).sum())
            expected_adaptive[y, x] = 255 if n * (int(image[y, x]) + 4) > s else 0
            inv = f(1) / f(n)
            mean = f(s) * inv
            var = max(f(q) * inv - mean * mean, f(0))
            t = mean * (f(1 - 0.3) + f(0.3 / 128) * np.sqrt(f(var)))
            expected_sauvola[y, x] = 255 if f(image[y, x]) > t else 0
    np.testing.assert_array_equal(preprocess.adaptive_mean(image, window, 4), expected_adaptive)
    np.testing.assert_array_equal(preprocess.sauvola(image, window, 0.3), expected_sauvola)
    # The corner sees only its 3 x 3 clipped window: (120 + 5 * 20 + 3 * 200) / 9 = 91.1.
    assert expected_adaptive[0, 0] == 255


def test_strided_views_and_out(simd_target: str, rng: np.random.Generator) -> None:
    base = rng.integers(0, 256, (61, 150), dtype=np.uint8)
    view = base[2:59:3, 7:140]
    out = np.zeros((40, 200), np.uint8)[1:39:2, 11:144]
    assert preprocess.sauvola(view, 7, out=out) is out
    np.testing.assert_array_equal(out, reference_sauvola(np.ascontiguousarray(view), 7, 0.2, 128.0))
    assert preprocess.adaptive_mean(view, 9, 3, out=out) is out
    np.testing.assert_array_equal(out, reference_adaptive(np.ascontiguousarray(view), 9, 3))


@pytest.mark.parametrize("shape", [(0, 0), (0, 7), (7, 0), (1, 1), (1, 9), (9, 1)])
def test_empty_and_tiny_images(shape: tuple[int, int]) -> None:
    image = np.full(shape, 77, np.uint8)
    assert preprocess.binarize(image).shape == shape
    assert preprocess.sauvola(image).shape == shape
    assert preprocess.adaptive_mean(image).shape == shape
    assert preprocess.otsu_threshold(image) == 0
    if image.size:
        # One level: the window mean is the pixel itself, so both local tests pass.
        assert preprocess.sauvola(image).min() == 255
        assert preprocess.adaptive_mean(image, c=1).min() == 255
        assert preprocess.adaptive_mean(image, c=0).max() == 0


def test_rejects_bad_input() -> None:
    gray = np.zeros((8, 8), np.uint8)
    shared = np.zeros((20, 20), np.uint8)
    with pytest.raises(ValueError, match="1-channel"):
        preprocess.sauvola(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="1-channel"):
        preprocess.otsu_threshold(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        preprocess.binarize(np.zeros((8, 8), np.float32), 3)
    with pytest.raises(ValueError, match="odd"):
        preprocess.sauvola(gray, 4)
    with pytest.raises(ValueError, match="odd"):
        preprocess.adaptive_mean(gray, 1)
    with pytest.raises(ValueError, match=r"\[3, 255\]"):
        preprocess.adaptive_mean(gray, 257)
    with pytest.raises(TypeError, match="window must be an integer"):
        preprocess.sauvola(gray, 15.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be finite"):
        preprocess.sauvola(gray, 15, float("nan"))
    with pytest.raises(ValueError, match="R must be a positive"):
        preprocess.sauvola(gray, 15, 0.2, 0.0)
    with pytest.raises(TypeError, match="r must be a real number"):
        preprocess.sauvola(gray, 15, 0.2, "128")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"C must be in \[-255, 255\]"):
        preprocess.adaptive_mean(gray, 15, 256)
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 255\]"):
        preprocess.binarize(gray, 256)
    with pytest.raises(TypeError, match="threshold must be an integer"):
        preprocess.binarize(gray, 127.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got bool"):
        preprocess.binarize(gray, True)
    with pytest.raises(ValueError, match="overlaps"):
        preprocess.sauvola(gray, 3, out=gray)
    with pytest.raises(ValueError, match="overlaps"):
        preprocess.adaptive_mean(shared[:10], 3, out=shared[5:15])
    with pytest.raises(ValueError, match="expected"):
        preprocess.binarize(gray, 3, out=np.zeros((8, 9), np.uint8))
    with pytest.raises(ValueError, match="contiguous"):
        preprocess.binarize(np.zeros((8, 8), np.uint8)[:, ::2], 3)
