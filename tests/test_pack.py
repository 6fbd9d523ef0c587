"""Tensor packing: every SIMD target equals the numpy definition (float32 multiply then add,
bit for bit), padding and batch layout are right, and bad buffers are rejected."""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import _core, preprocess


def reference_pack(
    image: np.ndarray,
    scale: list[float],
    bias: list[float],
    reverse: bool,
    pad: float,
    height: int,
    width: int,
) -> np.ndarray:
    planes = len(scale)
    out = np.full((1, planes, height, width), pad, np.float32)
    img = image.reshape(image.shape[0], image.shape[1], -1)
    for k in range(planes):
        ch = 0 if img.shape[2] == 1 else (2 - k if reverse else k)
        x = img[:, :, ch].astype(np.float32)
        out[0, k, : img.shape[0], : img.shape[1]] = np.float32(scale[k]) * x + np.float32(bias[k])
    return out


def random_image(rng: np.random.Generator, h: int, w: int, channels: int) -> np.ndarray:
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


SCALE3 = [2 / 255 / 0.5, 1 / 255 / 0.224, 0.0171]
BIAS3 = [-1.0, -0.456 / 0.224, -2.1]


# Widths 1..66 reach every tail of 16-float and 64-byte vectors; padding widths vary too.
@pytest.mark.parametrize("reverse", [False, True], ids=["keep", "reverse"])
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["gray", "c3", "c4"])
def test_every_target_matches_definition(
    simd_target: str, channels: int, reverse: bool, rng: np.random.Generator
) -> None:
    for width in range(1, 67):
        image = random_image(rng, 3, width, channels)
        out_width = width + (width * 7) % 19
        got = _core.kernels.pack_chw_f32(image, SCALE3, BIAS3, reverse, -0.25, 5, out_width)
        want = reference_pack(image, SCALE3, BIAS3, reverse, -0.25, 5, out_width)
        np.testing.assert_array_equal(got, want, err_msg=f"w={width}")


def test_one_plane(simd_target: str, rng: np.random.Generator) -> None:
    image = random_image(rng, 7, 45, 1)
    got = _core.kernels.pack_chw_f32(image, [0.5], [3.0], False, 9.0, 8, 64)
    np.testing.assert_array_equal(got, reference_pack(image, [0.5], [3.0], False, 9.0, 8, 64))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_strided_input(simd_target: str, channels: int, rng: np.random.Generator) -> None:
    base = random_image(rng, 50, 120, channels)
    view = base[3:47:3, 5:111]
    got = preprocess.pack(view, (0.1, 0.2, 0.3), (0.5, 0.6, 0.7), size=(128, 20))
    a, b = preprocess._affine((0.1, 0.2, 0.3), (0.5, 0.6, 0.7), 1 / 255)
    np.testing.assert_array_equal(
        got, reference_pack(np.ascontiguousarray(view), a, b, False, 0.0, 20, 128)
    )


def test_large_output_streams_the_same_values(simd_target: str, rng: np.random.Generator) -> None:
    """Outputs above the streaming threshold (16 MiB) take the cache-bypassing stores."""
    image = random_image(rng, 1001, 1203, 3)
    got = _core.kernels.pack_chw_f32(image, SCALE3, BIAS3, True, 0.5, 1216, 1216)
    np.testing.assert_array_equal(got, reference_pack(image, SCALE3, BIAS3, True, 0.5, 1216, 1216))


def test_model_normalisations_in_model_channel_order() -> None:
    pixel = np.array([[[10, 100, 200]]], np.uint8)  # R=10, G=100, B=200
    det = preprocess.pack(
        pixel, preprocess.DETECTOR_MEAN, preprocess.DETECTOR_STD, reverse_channels=True
    )
    # Plane 0 is the model's B channel and uses the first mean/std.
    expect = [(200 / 255 - 0.485) / 0.229, (100 / 255 - 0.456) / 0.224, (10 / 255 - 0.406) / 0.225]
    np.testing.assert_allclose(det[0, :, 0, 0], expect, rtol=1e-6)
    rec = preprocess.pack(
        pixel, preprocess.RECOGNIZER_MEAN, preprocess.RECOGNIZER_STD, reverse_channels=True
    )
    np.testing.assert_allclose(
        rec[0, :, 0, 0], [(v / 255 - 0.5) / 0.5 for v in (200, 100, 10)], rtol=1e-6
    )


def test_size_and_multiple() -> None:
    image = np.zeros((33, 70, 3), np.uint8)
    assert preprocess.pack(image).shape == (1, 3, 33, 70)
    assert preprocess.pack(image, multiple=32).shape == (1, 3, 64, 96)
    assert preprocess.pack(image, size=(100, 40)).shape == (1, 3, 40, 100)
    assert preprocess.pack(image, size=(100, 40), multiple=32).shape == (1, 3, 64, 128)
    assert preprocess.pack(image[..., 0].copy(), (0.5,), (0.5,)).shape == (1, 1, 33, 70)
    assert preprocess.round_up(0, 32) == 0
    assert preprocess.round_up(33, 32) == 64
    with pytest.raises(ValueError, match="multiple"):
        preprocess.round_up(5, 0)


def test_pack_batch_layout(simd_target: str, rng: np.random.Generator) -> None:
    crops = [random_image(rng, 48, w, 3) for w in (17, 160, 1, 99)]
    out = preprocess.pack_batch(
        crops, (0.5,) * 3, (0.5,) * 3, reverse_channels=True, batch=6, multiple=32, pad_value=-7.0
    )
    assert out.shape == (6, 3, 48, 160)
    a, b = preprocess._affine((0.5,) * 3, (0.5,) * 3, 1 / 255)
    for i, crop in enumerate(crops):
        np.testing.assert_array_equal(
            out[i : i + 1], reference_pack(crop, a, b, True, -7.0, 48, 160)
        )
    assert (out[4:] == -7.0).all()
    # crops lower than the batch height are padded below
    short = preprocess.pack_batch([crops[0][:20]], height=48, width=32)
    assert (short[0, :, 20:] == 0).all()
    assert short.shape == (1, 3, 48, 32)


def test_pack_batch_reuses_out(rng: np.random.Generator) -> None:
    crops = [random_image(rng, 8, w, 1) for w in (5, 9)]
    out = np.full((3, 1, 8, 16), np.nan, np.float32)
    result = preprocess.pack_batch(crops, (0.0,), (1.0,), batch=3, width=16, out=out)
    assert result is out
    assert not np.isnan(out).any()
    assert preprocess.pack_batch([], batch=2, height=4, width=4).shape == (2, 3, 4, 4)
    assert preprocess.pack_batch([]).shape == (0, 3, 0, 0)


def test_close_to_opencv_blob(rng: np.random.Generator) -> None:
    cv2 = pytest.importorskip("cv2")
    image = random_image(rng, 37, 53, 3)
    mean = (0.485, 0.456, 0.406)
    ours = preprocess.pack(image, mean, (1.0, 1.0, 1.0), reverse_channels=True)
    blob = cv2.dnn.blobFromImage(
        image, 1 / 255, (53, 37), tuple(m * 255 for m in mean), swapRB=True
    )
    np.testing.assert_allclose(ours, blob, rtol=1e-5, atol=1e-6)


def test_rejects_bad_out_and_input(rng: np.random.Generator) -> None:
    image = random_image(rng, 4, 6, 3)
    with pytest.raises(TypeError, match="float32"):
        preprocess.pack(image, out=np.zeros((1, 3, 4, 6), np.float64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"expected \(1, 3, 4, 6\)"):
        preprocess.pack(image, out=np.zeros((1, 3, 4, 7), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        preprocess.pack(image, out=np.zeros((1, 3, 4, 12), np.float32)[..., ::2])
    read_only = np.zeros((1, 3, 4, 6), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        preprocess.pack(image, out=read_only)
    with pytest.raises(ValueError, match="does not fit"):
        preprocess.pack(image, size=(5, 4))
    with pytest.raises(ValueError, match="convert it to gray"):
        preprocess.pack(image, (0.5,), (0.5,))
    with pytest.raises(ValueError, match="1 or 3 values"):
        preprocess.pack(image, (0.5, 0.5), (0.5, 0.5))
    with pytest.raises(ValueError, match="non-zero"):
        preprocess.pack(image, (0.5, 0.5, 0.5), (0.5, 0.0, 0.5))
    with pytest.raises(TypeError, match="uint8"):
        preprocess.pack(image.astype(np.float32))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"crops\[1\]"):
        preprocess.pack_batch([image, [[1, 2]]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="do not fit a batch"):
        preprocess.pack_batch([image, image], batch=1)
    with pytest.raises(ValueError, match="does not fit"):
        preprocess.pack_batch([image], height=3)
    with pytest.raises(ValueError, match=r"crops\[0\]"):
        preprocess.pack_batch([np.zeros((4, 8, 3), np.uint8)[:, ::2]])


def test_out_at_any_float_alignment(simd_target: str, rng: np.random.Generator) -> None:
    """Streamed outputs start with unaligned stores up to the first 64-byte boundary."""
    image = random_image(rng, 1001, 1203, 3)
    shape = (1, 3, 1216, 1216)
    size = int(np.prod(shape))
    for skip in (1, 5, 15):
        out = np.empty(size + skip, np.float32)[skip:].reshape(shape)
        got = _core.kernels.pack_chw_f32(image, SCALE3, BIAS3, False, 0.5, 1216, 1216, out)
        assert got is out
        np.testing.assert_array_equal(
            out, reference_pack(image, SCALE3, BIAS3, False, 0.5, *shape[2:])
        )


def test_rejects_misaligned_out() -> None:
    buffer = np.zeros(4 * 24 + 1, np.uint8)
    out = np.frombuffer(buffer.data, np.float32, count=24, offset=1).reshape(1, 1, 4, 6)
    with pytest.raises(ValueError, match="aligned"):
        preprocess.pack(np.zeros((4, 6), np.uint8), (0.0,), (1.0,), out=out)
