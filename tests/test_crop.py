"""Quad crop + rectify: the scalar reference equals a numpy transcription of the documented
definition, every SIMD target equals the scalar reference bit for bit, and the result is
OpenCV's warpPerspective within its coarser sub-pixel grid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocrai import _core, preprocess

f32 = np.float32


def reference_map(quad: np.ndarray, width: int, height: int) -> tuple[np.ndarray, bool]:
    """crop.cc's make_map, transcribed operation for operation (double, then float once)."""
    q = quad.astype(np.float32).astype(np.float64)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = (tuple(float(v) for v in p) for p in q)
    sx = x0 - x1 + x2 - x3
    sy = y0 - y1 + y2 - y3
    c, f, g, h = x0, y0, 0.0, 0.0
    affine = abs(sx) <= 1e-3 and abs(sy) <= 1e-3
    if affine:
        a, b, d, e = x1 - x0, x3 - x0, y1 - y0, y3 - y0
    else:
        dx1, dx2, dy1, dy2 = x1 - x2, x3 - x2, y1 - y2, y3 - y2
        den = dx1 * dy2 - dx2 * dy1
        g = (sx * dy2 - dx2 * sy) / den
        h = (dx1 * sy - sx * dy1) / den
        a = x1 - x0 + g * x1
        b = x3 - x0 + h * x3
        d = y1 - y0 + g * y1
        e = y3 - y0 + h * y3
    rows = [[a - 0.5 * g, b - 0.5 * h, c - 0.5], [d - 0.5 * g, e - 0.5 * h, f - 0.5], [g, h, 1.0]]
    m = []
    for r in rows:
        cu = r[0] / width
        cv = r[1] / height
        m += [cu, cv, r[2] + 0.5 * cu + 0.5 * cv]
    return np.array(m, np.float32), not affine


def reference_crop(
    image: np.ndarray,
    quad: np.ndarray,
    width: int,
    height: int,
    border: str = "replicate",
    value: int = 0,
) -> np.ndarray:
    m, perspective = reference_map(quad, width, height)
    h, w = image.shape[:2]
    img = image.reshape(h, w, -1).astype(np.int64)
    xf = np.arange(width, dtype=np.float32)
    out = np.zeros((height, width, img.shape[2]), np.uint8)
    for y in range(height):
        yf = f32(y)
        sx = m[0] * xf + (m[1] * yf + m[2])
        sy = m[3] * xf + (m[4] * yf + m[5])
        if perspective:
            wd = m[6] * xf + (m[7] * yf + m[8])
            sx, sy = sx / wd, sy / wd

        def taps(coord: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
            t = coord * f32(128)
            if border == "replicate":
                t = np.minimum(np.maximum(t, f32(0)), f32((size - 1) * 128))
                q = t.astype(np.int64)
                if size == 1:
                    return np.zeros_like(q), np.zeros_like(q)
                i = np.minimum(q >> 7, size - 2)
                return i, q - 128 * i
            t = np.minimum(np.maximum(t, f32(-128)), f32(size * 128))
            q = np.floor(t).astype(np.int64)
            return q >> 7, q & 127

        ix, fx = taps(sx, w)
        iy, fy = taps(sy, h)
        acc = np.full((width, img.shape[2]), 1 << 13, np.int64)
        for dy, wy in ((0, 128 - fy), (1, fy)):
            for dx, wx in ((0, 128 - fx), (1, fx)):
                xx, yy = ix + dx, iy + dy
                inside = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
                p = img[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
                if border == "constant":
                    p = np.where(inside[:, None], p, value)
                acc += p * (wx * wy)[:, None]
        out[y] = (acc >> 14).astype(np.uint8)
    return out.reshape((height, width, *image.shape[2:]))


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
        ]
    )


def random_image(rng: np.random.Generator, h: int, w: int, channels: int) -> np.ndarray:
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


QUADS = {
    "rotated": rotated_rect(30.3, 20.7, 41.0, 13.0, 4.0),
    "perspective": np.array([[5.3, 4.1], [50.2, 6.7], [47.1, 30.5], [4.0, 26.2]]),
    "outside": np.array([[-9.5, -4.0], [70.0, -2.0], [72.0, 50.0], [-8.0, 47.5]]),
    "tiny": np.array([[10.2, 10.1], [10.9, 10.2], [10.8, 10.6], [10.1, 10.7]]),
}


def scalar(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """fn(*args, **kwargs) on the scalar reference, then back to the target selected before."""
    selected = _core.simd_info()["selected"]
    _core._set_simd_targets(["scalar"])
    try:
        return fn(*args, **kwargs)
    finally:
        _core._set_simd_targets([selected])


@pytest.mark.parametrize("border", ["replicate", "constant"])
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["gray", "c3", "c4"])
@pytest.mark.parametrize("name", list(QUADS))
def test_scalar_matches_numpy_definition(
    name: str, channels: int, border: str, rng: np.random.Generator
) -> None:
    image = random_image(rng, 41, 63, channels)
    for width, height in ((37, 12), (5, 48), (1, 1), (70, 3)):
        got = scalar(
            _core.kernels.crop_quad_u8, image, QUADS[name].tolist(), width, height, border, 77
        )
        want = reference_crop(image, QUADS[name], width, height, border, 77)
        np.testing.assert_array_equal(got, want, err_msg=f"{width}x{height}")


@pytest.mark.parametrize("border", ["replicate", "constant"])
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["gray", "c3", "c4"])
def test_every_target_matches_scalar(
    simd_target: str, channels: int, border: str, rng: np.random.Generator
) -> None:
    image = random_image(rng, 47, 83, channels)
    for width in range(1, 68):
        for quad in QUADS.values():
            args = (image, quad.tolist(), width, 3, border, 200)
            want = scalar(_core.kernels.crop_quad_u8, *args)
            np.testing.assert_array_equal(
                _core.kernels.crop_quad_u8(*args), want, err_msg=f"w={width} {quad.tolist()}"
            )


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_reads_up_to_the_last_byte_of_a_tight_buffer(
    simd_target: str, channels: int, rng: np.random.Generator
) -> None:
    """Samples at the bottom-right corner of an image that ends its buffer (vector code must
    not read past it) and on 1-pixel-wide or -high sources."""
    for h, w in ((9, 13), (1, 17), (12, 1), (1, 1), (2, 2)):
        image = random_image(rng, h, w, channels)
        for quad in (
            [[w - 2.5, h - 2.5], [w + 3.0, h - 2.5], [w + 3.0, h + 1.0], [w - 2.5, h + 1.0]],
            [[0, 0], [w, 0], [w, h], [0, h]],
        ):
            for border in ("replicate", "constant"):
                args = (image, quad, 33, 5, border, 9)
                want = scalar(_core.kernels.crop_quad_u8, *args)
                np.testing.assert_array_equal(_core.kernels.crop_quad_u8(*args), want)
                np.testing.assert_array_equal(
                    want, reference_crop(image, np.array(quad, float), 33, 5, border, 9)
                )


def test_strided_views(simd_target: str, rng: np.random.Generator) -> None:
    base = random_image(rng, 90, 140, 3)
    view = base[5:85:2, 7:130]
    out_base = np.zeros((30, 80, 3), np.uint8)
    out = out_base[2:26:2, 3:75]
    quad = QUADS["perspective"]
    result = _core.kernels.crop_quad_u8(view, quad.tolist(), 72, 12, "replicate", 0, out)
    assert result is out
    np.testing.assert_array_equal(out, reference_crop(np.ascontiguousarray(view), quad, 72, 12))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_whole_image_quad_is_identity(
    simd_target: str, channels: int, rng: np.random.Generator
) -> None:
    image = random_image(rng, 29, 71, channels)
    quad = [[0, 0], [71, 0], [71, 29], [0, 29]]
    np.testing.assert_array_equal(preprocess.crop_quad(image, quad, 29, 71), image)
    # ...and a whole-pixel translation is an exact shift.
    sub = preprocess.crop_quad(image, [[3, 2], [50, 2], [50, 22], [3, 22]], 20, 47)
    np.testing.assert_array_equal(sub, image[2:22, 3:50])


def test_one_pixel_source(simd_target: str) -> None:
    image = np.array([[[10, 20, 30]]], np.uint8)
    out = preprocess.crop_quad(image, [[0, 0], [1, 0], [1, 1], [0, 1]], 48, 100)
    assert out.shape == (48, 100, 3)
    assert (out == image[0, 0]).all()


def test_constant_border_far_outside(simd_target: str, rng: np.random.Generator) -> None:
    image = random_image(rng, 10, 10, 3)
    quad = [[100, 100], [150, 100], [150, 120], [100, 120]]
    out = preprocess.crop_quad(image, quad, 20, border="constant", border_value=255)
    assert (out == 255).all()
    out = preprocess.crop_quad(image, quad, 20, border="replicate")
    assert (out == image[9, 9]).all()


@pytest.mark.parametrize("name", ["rotated", "perspective"])
def test_close_to_opencv_warp_perspective(name: str, rng: np.random.Generator) -> None:
    cv2 = pytest.importorskip("cv2")
    image = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (5, 5), 1.5)  # smooth, like real text images
    quad = QUADS[name]
    width, height = 48, 16
    ours = preprocess.crop_quad(image, quad, height, width).astype(int)
    # The same transform in OpenCV's convention (integer pixel indices, no centre offset).
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    m = cv2.getPerspectiveTransform(np.float32(quad) - 0.5, corners - 0.5)
    theirs = cv2.warpPerspective(
        image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(int)
    # OpenCV rounds sample positions to 1/32 pixel, ours to 1/128.
    assert np.abs(ours - theirs).max() <= 2


def test_rectified_width() -> None:
    quad = rotated_rect(100, 50, 300, 30, 7)
    assert preprocess.rectified_width(quad, 48) == 480
    assert preprocess.rectified_width(quad, 48, max_width=320) == 320
    assert preprocess.rectified_width(quad, 3) == 30
    assert preprocess.crop_quad(np.zeros((200, 300), np.uint8), quad, 48).shape == (48, 480)
    tall = rotated_rect(100, 50, 2, 300, 0)
    assert preprocess.rectified_width(tall, 48) == 1
    with pytest.raises(ValueError, match="height"):
        preprocess.rectified_width(quad, 0)


@pytest.mark.parametrize(
    ("quad", "match"),
    [
        ([[0, 0], [10, 0], [20, 0], [0, 10]], "degenerate"),  # three collinear corners
        ([[0, 0], [10, 0], [10, 0], [0, 10]], "degenerate"),  # repeated corner
        ([[5, 5], [5, 5], [5, 5], [5, 5]], "degenerate"),  # a point
        ([[0, 0], [0, 10], [10, 10], [10, 0]], "counter-clockwise"),
        ([[0, 0], [10, 10], [10, 0], [0, 10]], "not convex"),  # bow tie
        ([[0, 0], [10, 0], [2, 2], [0, 10]], "not convex"),  # concave
    ],
)
def test_rejects_bad_quads(quad: list[list[float]], match: str) -> None:
    image = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match=match):
        preprocess.crop_quad(image, quad, 10, 10)
    with pytest.raises(ValueError, match=match):
        preprocess.rectified_width(quad, 10)


def test_rejects_bad_input() -> None:
    image = np.zeros((20, 20, 3), np.uint8)
    quad = [[1, 1], [10, 1], [10, 5], [1, 5]]
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        preprocess.crop_quad(image, [[1, 1], [2, 2]], 10)
    with pytest.raises(ValueError, match="non-finite"):
        preprocess.crop_quad(image, [[1, 1], [10, math.nan], [10, 5], [1, 5]], 10)
    with pytest.raises(TypeError, match="uint8"):
        preprocess.crop_quad(image.astype(np.int16), quad, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'replicate' or 'constant'"):
        preprocess.crop_quad(image, quad, 10, border="reflect")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"0\.\.255"):
        preprocess.crop_quad(image, quad, 10, border="constant", border_value=256)
    with pytest.raises(ValueError, match="expected"):
        preprocess.crop_quad(image, quad, 10, 20, out=np.zeros((10, 20), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        preprocess.crop_quad(np.zeros((0, 4, 3), np.uint8), quad, 10)
    with pytest.raises(ValueError, match="non-negative"):
        preprocess.crop_quad(image, quad, -1, 5)
    assert preprocess.crop_quad(image, quad, 0, 5).shape == (0, 5, 3)
