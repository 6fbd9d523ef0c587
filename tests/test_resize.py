"""Resize: the scalar reference equals an independent numpy implementation of the documented
integer filters, every SIMD target equals the scalar reference bit for bit, and the results
stay within a level or two of OpenCV's."""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import _core, preprocess

BITS_Y, BITS_X = 8, 14


def bilinear_matrix(src: int, dst: int, bits: int) -> np.ndarray:
    """(dst, src) integer weights of the bilinear filter, straight from the definition."""
    one = 1 << bits
    m = np.zeros((dst, src), np.int64)
    for i in range(dst):
        if src == 1:
            m[i, 0] = one
            continue
        # round(((2i + 1) * src - dst) * one / (2 * dst)), halves up, as exact rationals
        num = ((2 * i + 1) * src - dst) * one + dst
        pos = min(max(num // (2 * dst), 0), (src - 1) * one)
        i0 = min(pos >> bits, src - 2)
        f = pos - i0 * one
        m[i, i0] += one - f
        m[i, i0 + 1] += f
    return m


def area_matrix(src: int, dst: int, bits: int) -> np.ndarray:
    one = 1 << bits
    m = np.zeros((dst, src), np.int64)
    for i in range(dst):
        lo, hi = i * src, (i + 1) * src
        exact = {}
        for j in range(lo // dst, (hi - 1) // dst + 1):
            exact[j] = (min(hi, (j + 1) * dst) - max(lo, j * dst)) * one
        for j, e in exact.items():
            m[i, j] = e // src
        missing = one - m[i].sum()
        # largest remainders first, ties to the left
        for j in sorted(exact, key=lambda j: (-(exact[j] % src), j))[:missing]:
            m[i, j] += 1
    return m


def reference_resize(image: np.ndarray, width: int, height: int, mode: str) -> np.ndarray:
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image.copy()
    make = bilinear_matrix if mode == "bilinear" else area_matrix
    my, mx = make(h, height, BITS_Y), make(w, width, BITS_X)
    img = image.reshape(h, w, -1).astype(np.int64)
    acc = np.einsum("yh,hwc,xw->yxc", my, img, mx)
    out = ((acc + (1 << (BITS_X + BITS_Y - 1))) >> (BITS_X + BITS_Y)).astype(np.uint8)
    return out.reshape((height, width, *image.shape[2:]))


def random_image(rng: np.random.Generator, h: int, w: int, channels: int) -> np.ndarray:
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def scalar(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """fn(*args, **kwargs) on the scalar reference, then back to the target selected before."""
    selected = _core.simd_info()["selected"]
    _core._set_simd_targets(["scalar"])
    try:
        return fn(*args, **kwargs)
    finally:
        _core._set_simd_targets([selected])


@pytest.mark.parametrize("mode", ["bilinear", "area"])
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["gray", "c3", "c4"])
def test_scalar_matches_numpy_definition(
    mode: str, channels: int, rng: np.random.Generator
) -> None:
    sizes = [(1, 1), (2, 1), (1, 3), (7, 5), (13, 17), (40, 9), (64, 33)]
    for sw, sh in sizes:
        image = random_image(rng, sh, sw, channels)
        for dw, dh in [
            (1, 1),
            (3, 2),
            (sw, sh + 1),
            (2 * sw + 1, sh),
            (max(sw // 3, 1), 5),
            (29, 31),
        ]:
            got = scalar(_core.kernels.resize_u8, image, dw, dh, mode)
            np.testing.assert_array_equal(
                got, reference_resize(image, dw, dh, mode), err_msg=f"{sw}x{sh}->{dw}x{dh}"
            )


# Output widths 1..130 reach every tail of 16- to 64-lane loops for 1, 3 and 4 channels; the
# source widths cover upscaling, mild and strong shrinking (where SIMD plans change).
@pytest.mark.parametrize("mode", ["bilinear", "area"])
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["gray", "c3", "c4"])
def test_every_target_matches_scalar(
    simd_target: str, mode: str, channels: int, rng: np.random.Generator
) -> None:
    for dw in range(1, 131):
        for factor in (0.45, 1.3, 3.7, 9.2):
            sw = max(1, round(dw * factor))
            image = random_image(rng, 9, sw, channels)
            dh = 4 if factor > 1 else 13
            want = scalar(_core.kernels.resize_u8, image, dw, dh, mode)
            got = _core.kernels.resize_u8(image, dw, dh, mode)
            np.testing.assert_array_equal(got, want, err_msg=f"{sw}->{dw} x{factor}")


@pytest.mark.parametrize("mode", ["bilinear", "area"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_strided_input_and_output(
    simd_target: str, mode: str, channels: int, rng: np.random.Generator
) -> None:
    base = random_image(rng, 61, 203, channels)
    view = base[3:58:3, 5:190]  # odd row stride, offset start
    out_base = np.zeros((40, 101, channels), np.uint8)
    out = out_base[1:37:3, 3:90] if channels > 1 else out_base[1:37:3, 3:90, 0]
    result = _core.kernels.resize_u8(view, 87, 12, mode, out)
    assert result is out
    np.testing.assert_array_equal(out, reference_resize(np.ascontiguousarray(view), 87, 12, mode))


def test_page_like_sizes(simd_target: str, rng: np.random.Generator) -> None:
    """A detector-sized shrink and a 2.5x enlargement, the shapes the pipeline uses."""
    image = random_image(rng, 351, 248, 3)
    for mode in ("bilinear", "area"):
        for size in ((68, 96), (620, 877)):
            want = scalar(_core.kernels.resize_u8, image, *size, mode)
            np.testing.assert_array_equal(_core.kernels.resize_u8(image, *size, mode), want)


@pytest.mark.parametrize("mode", ["auto", "bilinear", "area"])
def test_identity_is_a_copy(simd_target: str, mode: str, rng: np.random.Generator) -> None:
    image = random_image(rng, 23, 37, 3)
    np.testing.assert_array_equal(preprocess.resize(image, (37, 23), mode), image)


@pytest.mark.parametrize("mode", ["bilinear", "area"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_one_pixel_upscales_to_a_flat_image(simd_target: str, mode: str, channels: int) -> None:
    pixel = np.array([17, 200, 3, 99][:channels], np.uint8)
    image = pixel.reshape((1, 1) if channels == 1 else (1, 1, channels))
    out = preprocess.resize(image, (67, 5), mode)
    assert out.shape == ((5, 67) if channels == 1 else (5, 67, channels))
    assert (out == (pixel if channels > 1 else pixel[0])).all()


def test_flat_images_stay_flat(simd_target: str) -> None:
    for value in (0, 1, 128, 254, 255):
        image = np.full((31, 45, 3), value, np.uint8)
        for mode in ("bilinear", "area"):
            for size in ((7, 9), (90, 61), (45, 10)):
                assert (preprocess.resize(image, size, mode) == value).all()


def test_area_integer_factor_is_the_block_mean(simd_target: str, rng: np.random.Generator) -> None:
    image = random_image(rng, 40, 60, 3)
    out = preprocess.resize(image, (20, 10), "area")  # 3x horizontally, 4x vertically
    blocks = image.reshape(10, 4, 20, 3, 3).astype(np.int64).sum(axis=(1, 3))
    # Weights 64/256 and 5461/5461/5462 per 16384: the mean within one rounding step.
    assert np.abs(out.astype(np.int64) - blocks / 12).max() <= 0.51


def test_auto_picks_area_only_when_shrinking(rng: np.random.Generator) -> None:
    image = random_image(rng, 30, 40, 1)
    for size, mode in [
        ((20, 15), "area"),
        ((40, 15), "area"),
        ((50, 15), "bilinear"),
        ((20, 45), "bilinear"),
        ((80, 60), "bilinear"),
    ]:
        np.testing.assert_array_equal(
            preprocess.resize(image, size), preprocess.resize(image, size, mode), err_msg=str(size)
        )


@pytest.mark.parametrize("channels", [1, 3])
def test_close_to_opencv(channels: int, rng: np.random.Generator) -> None:
    cv2 = pytest.importorskip("cv2")
    image = random_image(rng, 97, 131, channels)
    for size in ((40, 30), (131, 50), (300, 211), (61, 97)):
        ours = preprocess.resize(image, size, "bilinear").astype(int)
        theirs = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR).astype(int)
        # OpenCV rounds positions to 1/2048 and its vertical sum to 1/4 level; ours to 1/256
        # (y) and 1/16384 (x): 1 level apart at most, 2 in rare worst cases.
        assert np.abs(ours - theirs).max() <= 2, size
    for size in ((40, 30), (65, 48), (131, 50), (13, 97)):
        ours = preprocess.resize(image, size, "area").astype(int)
        theirs = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(int)
        # OpenCV's INTER_AREA weights are float coverages; ours are integers that round each.
        assert np.abs(ours - theirs).max() <= 2, size


def test_out_and_empty() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    out = np.empty((4, 6, 3), np.uint8)
    assert preprocess.resize(image, (6, 4), out=out) is out
    assert preprocess.resize(image, (0, 4)).shape == (4, 0, 3)
    assert preprocess.resize(np.zeros((0, 5), np.uint8), (0, 0)).shape == (0, 0)


def test_rejects_bad_input() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        preprocess.resize(image.astype(np.float32), (5, 5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'auto', 'bilinear' or 'area'"):
        preprocess.resize(image, (5, 5), "cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        preprocess.resize(image, (-1, 5))
    with pytest.raises(ValueError, match=r"\(width, height\)"):
        preprocess.resize(image, (5,))
    with pytest.raises(ValueError, match="empty"):
        preprocess.resize(np.zeros((0, 5, 3), np.uint8), (4, 4))
    with pytest.raises(ValueError, match="expected"):
        preprocess.resize(image, (5, 5), out=np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match="contiguous"):
        preprocess.resize(np.zeros((10, 20, 3), np.uint8)[:, ::2], (5, 5))
    read_only = np.zeros((5, 5, 3), np.uint8)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        preprocess.resize(image, (5, 5), out=read_only)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_very_strong_shrink(simd_target: str, channels: int, rng: np.random.Generator) -> None:
    """More than 64 source rows per output row (the long-filter paths) and huge x filters."""
    image = random_image(rng, 300, 700, channels)
    for size in ((3, 2), (5, 4), (1, 1), (64, 3)):
        got = _core.kernels.resize_u8(image, *size, "area")
        np.testing.assert_array_equal(
            got, reference_resize(image, *size, "area"), err_msg=str(size)
        )
        got = _core.kernels.resize_u8(image, *size, "bilinear")
        np.testing.assert_array_equal(got, reference_resize(image, *size, "bilinear"))


def test_concurrent_calls_agree(rng: np.random.Generator) -> None:
    """The kernels run without the GIL and share no state: threads get the serial results."""
    from concurrent.futures import ThreadPoolExecutor

    images = [random_image(rng, 200 + 7 * i, 300 - 5 * i, 3) for i in range(8)]
    quad = [[10.5, 20.25], [180.0, 25.0], [178.0, 60.0], [9.0, 55.5]]

    def work(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        small = preprocess.resize(image, (97, 61))
        crop = preprocess.crop_quad(image, quad, 48)
        return small, crop, preprocess.pack_batch([crop, small], reverse_channels=True)

    serial = [work(image) for image in images]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(work, images))
    for a, b in zip(serial, threaded, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
