"""ocrai.io: every input kind, the pixel rules, and every bad input with its exception."""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ocrai.errors import ImageError, ImageTooLargeError, OcrError, PageIndexError
from ocrai.io import (
    DEFAULT_MAX_PIXELS,
    LoadedImage,
    default_max_pixels,
    iter_pages,
    load_image,
)

# ------------------------------------------------------------------------------ helpers


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def pattern_rgb(width: int = 37, height: int = 23, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` RGB pixels and holds none: opening it reads the
    header only, so a size check that happens before decoding costs nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is patched to claim another size."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (90, 90, 90)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_with_size(width: int, height: int) -> bytes:
    """A real 8 x 8 TIFF whose ImageWidth and ImageLength tags are patched."""
    data = bytearray(encode(Image.new("L", (8, 8)), "TIFF"))
    assert data[:4] == b"II*\x00"
    ifd = struct.unpack_from("<I", data, 4)[0]
    for k in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + 12 * k
        tag, kind = struct.unpack_from("<HH", data, at)
        if tag in (256, 257):
            value = width if tag == 256 else height
            struct.pack_into(
                "<HH" if kind == 3 else "<I", data, at + 8, *((value, 0) if kind == 3 else (value,))
            )
    return bytes(data)


def bmp_with_size(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (8, 8)), "BMP"))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


@pytest.fixture
def rgb() -> np.ndarray:
    return pattern_rgb()


# ------------------------------------------------------------------------------ sources

LOSSLESS = [
    ("PNG", {}),
    ("TIFF", {}),
    ("TIFF", {"compression": "tiff_lzw"}),
    ("BMP", {}),
    ("WEBP", {"lossless": True}),
    ("PPM", {}),
]


@pytest.mark.parametrize(("fmt", "options"), LOSSLESS, ids=str)
def test_lossless_formats_decode_exactly(rgb: np.ndarray, fmt: str, options: dict) -> None:
    loaded = load_image(encode(Image.fromarray(rgb), fmt, **options))
    assert loaded.array.dtype == np.uint8
    assert loaded.array.flags.c_contiguous
    assert loaded.order == "rgb"
    assert loaded.page == 0
    np.testing.assert_array_equal(loaded.array, rgb)


def test_jpeg_decodes_close_to_the_original() -> None:
    smooth = np.zeros((32, 48, 3), np.uint8)
    smooth[..., 0] = np.linspace(0, 255, 48, dtype=np.uint8)
    smooth[..., 2] = 128
    loaded = load_image(encode(Image.fromarray(smooth), "JPEG", quality=95))
    assert loaded.array.shape == (32, 48, 3)
    assert np.abs(loaded.array.astype(int) - smooth).mean() < 3


def test_gif_reads_the_first_frame_only() -> None:
    frames = [Image.new("L", (8, 6), 10), Image.new("L", (8, 6), 200)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    loaded = load_image(data)
    assert loaded.array.shape == (6, 8, 3)
    assert (loaded.array == 10).all()
    assert len(list(iter_pages(data))) == 1
    with pytest.raises(PageIndexError, match=r"page 1 does not exist \(the input has 1 page\)"):
        load_image(data, page=1)


def test_every_way_of_passing_encoded_data(tmp_path: Path, rgb: np.ndarray) -> None:
    data = encode(Image.fromarray(rgb), "PNG")
    path = tmp_path / "scan.png"
    path.write_bytes(data)
    with path.open("rb") as file:
        from_file = load_image(file)
    sources: list[tuple[object, str | None]] = [
        (str(path), str(path)),
        (path, str(path)),
        (data, None),
        (bytearray(data), None),
        (memoryview(data), None),
        (io.BytesIO(data), None),
    ]
    for source, name in sources:
        loaded = load_image(source)  # type: ignore[arg-type]
        np.testing.assert_array_equal(loaded.array, rgb)
        assert loaded.name == name
    np.testing.assert_array_equal(from_file.array, rgb)
    assert from_file.name == str(path)


def test_a_non_contiguous_memoryview_is_read() -> None:
    data = encode(Image.new("L", (5, 4), 77), "PNG")
    doubled = np.frombuffer(bytes(b for byte in data for b in (byte, 0)), np.uint8)
    view = memoryview(doubled[::2])
    assert not view.contiguous
    assert (load_image(view).array == 77).all()


def test_order_bgr_swaps_decoded_channels(rgb: np.ndarray) -> None:
    loaded = load_image(encode(Image.fromarray(rgb), "PNG"), order="bgr")
    assert loaded.order == "bgr"
    np.testing.assert_array_equal(loaded.array, rgb[..., ::-1])
    assert loaded.array.flags.c_contiguous


def test_order_describes_an_array_and_is_kept(rgb: np.ndarray) -> None:
    loaded = load_image(rgb, order="bgr")
    assert loaded.order == "bgr"
    assert loaded.array is rgb
    assert load_image(rgb).order == "rgb"


@pytest.mark.parametrize("order", ["RGB", "rgba", "", 3])
def test_bad_order_is_a_value_error(rgb: np.ndarray, order: object) -> None:
    with pytest.raises(ValueError, match="order must be 'rgb' or 'bgr'"):
        load_image(rgb, order=order)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ multi-page


def three_page_tiff(**options: Any) -> bytes:
    pages = [
        Image.new("RGB", (40, 20), (10, 20, 30)),
        Image.new("L", (30, 10), 5),
        Image.new("1", (8, 8), 1),
    ]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], **options)


def test_multipage_tiff_pages() -> None:
    data = three_page_tiff()
    pages = list(iter_pages(data))
    assert [p.page for p in pages] == [0, 1, 2]
    assert [p.array.shape for p in pages] == [(20, 40, 3), (10, 30), (8, 8)]
    assert (pages[1].array == 5).all()
    assert (pages[2].array == 255).all()
    second = load_image(data, page=1)
    np.testing.assert_array_equal(second.array, pages[1].array)
    assert second.page == 1


def test_page_out_of_range() -> None:
    data = three_page_tiff()
    with pytest.raises(PageIndexError, match=r"page 3 does not exist \(the input has 3 pages\)"):
        load_image(data, page=3)
    assert issubclass(PageIndexError, IndexError)
    with pytest.raises(ValueError, match="page must be 0 or more, not -1"):
        load_image(data, page=-1)
    with pytest.raises(TypeError, match="page must be an integer"):
        load_image(data, page=1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="page must be an integer"):
        load_image(data, page=True)


def test_each_tiff_page_is_checked_against_the_pixel_limit() -> None:
    pages = [Image.new("L", (10, 10), 0), Image.new("L", (100, 100), 0)]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert load_image(data, max_pixels=1000).array.shape == (10, 10)
    with pytest.raises(ImageTooLargeError, match=r"^<image data> page 1: 100x100 is 10000 pixels"):
        load_image(data, page=1, max_pixels=1000)


def test_pil_multipage_tiff_frames_and_the_callers_frame_is_restored() -> None:
    image = Image.open(io.BytesIO(three_page_tiff()))
    image.seek(1)
    shapes = [p.array.shape for p in iter_pages(image)]
    assert shapes == [(20, 40, 3), (10, 30), (8, 8)]
    assert image.tell() == 1
    image.close()


def test_iter_pages_opens_lazily(tmp_path: Path) -> None:
    pages = iter_pages(tmp_path / "missing.png")
    with pytest.raises(FileNotFoundError):
        next(pages)


def test_iter_pages_checks_arguments_at_once(rgb: np.ndarray) -> None:
    with pytest.raises(ValueError, match="order"):
        iter_pages(rgb, order="xyz")  # type: ignore[arg-type]


def test_bilevel_g4_tiff() -> None:
    bits = np.zeros((30, 50), bool)
    bits[5:25, 10:40] = True
    data = encode(Image.fromarray(bits), "TIFF", compression="group4")
    loaded = load_image(data)
    assert loaded.array.dtype == np.uint8
    np.testing.assert_array_equal(loaded.array, np.where(bits, 255, 0))


# ------------------------------------------------------------------------------ PIL modes


def test_pil_modes_become_uint8_gray_or_colour() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    rgb = np.stack([gray, 255 - gray, gray // 2], axis=-1)
    cases: dict[str, tuple[Image.Image, np.ndarray]] = {
        "L": (Image.fromarray(gray), gray),
        "RGB": (Image.fromarray(rgb), rgb),
        "P": (Image.fromarray(rgb).convert("P", palette=Image.Palette.WEB), None),  # type: ignore[dict-item]
        "1": (Image.fromarray(gray > 100), np.where(gray > 100, 255, 0)),
        "I;16": (Image.fromarray(gray.astype(np.uint16) * 257), gray),
        "I": (Image.fromarray(gray.astype(np.int32) * 257), gray),
        "F": (Image.fromarray(gray.astype(np.float32)), gray),
        "CMYK": (Image.fromarray(rgb).convert("CMYK"), rgb),
        "YCbCr": (Image.fromarray(rgb).convert("YCbCr"), None),  # type: ignore[dict-item]
        "RGBX": (Image.fromarray(rgb).convert("RGBX"), rgb),
    }
    for mode, (image, expected) in cases.items():
        assert image.mode == mode
        loaded = load_image(image)
        assert loaded.array.dtype == np.uint8, mode
        assert loaded.array.flags.c_contiguous, mode
        assert loaded.array.shape[:2] == (3, 4), mode
        if expected is not None:
            np.testing.assert_array_equal(loaded.array, expected, err_msg=mode)
        else:
            assert loaded.array.shape == (3, 4, 3), mode


def test_big_endian_16_bit() -> None:
    values = np.array([[0, 128, 129, 385, 65535]], dtype=">u2")
    image = Image.frombytes("I;16B", (5, 1), values.tobytes())
    np.testing.assert_array_equal(load_image(image).array, [[0, 0, 1, 1, 255]])


def test_pil_alpha_modes_are_composited_over_white() -> None:
    la = Image.fromarray(np.array([[[0, 0], [0, 255], [100, 128]]], np.uint8), "LA")
    np.testing.assert_array_equal(load_image(la).array, [[255, 0, 177]])
    pa = Image.new("PA", (2, 1))
    pa.putpalette([0, 0, 0] * 256)
    pa.putdata([(0, 0), (0, 255)])
    np.testing.assert_array_equal(load_image(pa).array, [[[255] * 3, [0] * 3]])
    palette = Image.new("P", (2, 1), 0)
    palette.putpalette([0, 0, 0, 9, 9, 9] + [0] * 762)
    palette.putdata([0, 1])
    palette.info["transparency"] = 0
    np.testing.assert_array_equal(load_image(palette).array, [[[255] * 3, [9] * 3]])


def test_pil_int_and_float_modes_out_of_range() -> None:
    with pytest.raises(ImageError, match=r"must lie in 0\.\.65535.*span -1\.\.70000"):
        load_image(Image.fromarray(np.array([[-1, 70000]], np.int32)))
    with pytest.raises(ImageError, match=r"must lie in 0\.\.255.*span 0\.5\.\.300"):
        load_image(Image.fromarray(np.array([[0.5, 300]], np.float32)))
    with pytest.raises(ImageError, match="contain NaN"):
        load_image(Image.fromarray(np.array([[np.nan, 1]], np.float32)))


def test_float_tiff_file() -> None:
    values = np.array([[0.0, 127.6, 255.0]], np.float32)
    data = encode(Image.fromarray(values), "TIFF")
    np.testing.assert_array_equal(load_image(data).array, [[0, 128, 255]])


def test_sixteen_bit_png_file() -> None:
    values = np.array([[0, 257, 65535, 32896]], np.uint16)
    data = encode(Image.fromarray(values), "PNG")
    np.testing.assert_array_equal(load_image(data).array, [[0, 1, 255, 128]])


@pytest.mark.parametrize("mode", ["LAB", "HSV"])
def test_other_colour_spaces_become_rgb(mode: str) -> None:
    loaded = load_image(Image.new(mode, (3, 2)))
    assert loaded.array.shape == (2, 3, 3)


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 0, 0), (0, 0, 10, 20))  # a red strip on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed turned 90 degrees clockwise: the strip is on top
    loaded = load_image(encode(image, "PNG", exif=exif))
    assert loaded.array.shape == (40, 20, 3)
    assert (loaded.array[:10, :, 0] == 255).all()
    assert (loaded.array[10:, :, 0] == 0).all()


def test_corrupt_exif_does_not_lose_the_image(caplog: pytest.LogCaptureFixture) -> None:
    # Pillow warns about the broken EXIF block: the warning is logged, not raised (this
    # suite turns warnings into errors), and the pixels are read.
    broken = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01\x03\x00\x01"
    data = encode(Image.new("L", (6, 4), 80), "JPEG", exif=broken)
    with caplog.at_level("INFO", logger="ocrai.io"):
        assert (load_image(data).array == 80).all()
    assert any("Corrupt EXIF data" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------ arrays


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_contiguous_uint8_arrays_are_not_copied(shape: tuple[int, ...]) -> None:
    array = np.full(shape, 255, np.uint8)  # 4 channels: an opaque alpha
    assert load_image(array).array is array


def test_single_channel_axis_is_dropped() -> None:
    array = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
    loaded = load_image(array)
    assert loaded.array.shape == (3, 4)
    assert np.shares_memory(loaded.array, array)


def test_read_only_arrays_are_fine(rgb: np.ndarray) -> None:
    rgb.flags.writeable = False
    loaded = load_image(rgb)
    np.testing.assert_array_equal(loaded.array, rgb)
    frozen = np.frombuffer(rgb.tobytes(), np.uint8).reshape(rgb.shape)
    np.testing.assert_array_equal(load_image(frozen).array, rgb)


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[:, ::2],
        lambda a: a[::-1],
        lambda a: a.transpose(1, 0, 2),
        lambda a: a[1:-1, 2:-3],
        np.asfortranarray,
        lambda a: a[..., 0],
    ],
    ids=["strided", "flipped", "transposed", "crop", "fortran", "channel"],
)
def test_non_contiguous_arrays_are_copied_contiguous(
    rgb: np.ndarray, view: Callable[[np.ndarray], np.ndarray]
) -> None:
    source = view(rgb)
    loaded = load_image(source)
    assert loaded.array.flags.c_contiguous
    np.testing.assert_array_equal(loaded.array, source)


def test_bool_arrays_are_0_and_255() -> None:
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(load_image(mask).array, [[255, 0], [0, 255]])
    odd = np.frombuffer(b"\x00\x02\x01\xff", dtype=bool).reshape(2, 2)  # not just 0 and 1
    np.testing.assert_array_equal(load_image(odd).array, [[0, 255], [255, 255]])


def test_uint16_arrays_are_scaled() -> None:
    values = np.array([[0, 128, 129, 32896, 65535]], np.uint16)
    np.testing.assert_array_equal(load_image(values).array, [[0, 0, 1, 128, 255]])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_arrays_in_0_1(dtype: type) -> None:
    values = np.array([[0.0, 0.5, 1.0, 0.2]], dtype)
    np.testing.assert_array_equal(load_image(values).array, [[0, 128, 255, 51]])


@pytest.mark.parametrize(("value", "match"), [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")])
def test_nan_and_inf_are_rejected(value: float, match: str) -> None:
    array = np.zeros((4, 4, 3), np.float32)
    array[1, 2, 0] = value
    with pytest.raises(ImageError, match=f"float pixels contain {match} \\(1 values\\)"):
        load_image(array)
    assert issubclass(ImageError, ValueError)


def test_floats_outside_0_1_are_rejected() -> None:
    with pytest.raises(ImageError, match=r"must lie in 0\.0\.\.1\.0; they span 0\.\.255"):
        load_image(np.array([[0.0, 255.0]], np.float32))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64])
def test_other_integer_dtypes_are_type_errors(dtype: type) -> None:
    with pytest.raises(TypeError, match=r"unsupported pixel dtype .*astype\(np\.uint8\)"):
        load_image(np.zeros((4, 4), dtype))


@pytest.mark.parametrize("dtype", [np.complex64, object, "U1", np.longdouble])
def test_non_numeric_dtypes_are_type_errors(dtype: Any) -> None:
    with pytest.raises(TypeError, match="unsupported pixel dtype"):
        load_image(np.zeros((4, 4), dtype))


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((7,), "2 or 3 dimensions, not 1"),
        ((2, 3, 4, 3), "2 or 3 dimensions, not 4"),
        ((5, 5, 5), r"1, 2, 3 or 4 channels in its last axis, not shape \(5, 5, 5\)$"),
        ((3, 20, 30), r"not shape \(3, 20, 30\); for channels-first data use np\.moveaxis"),
        ((5, 5, 0), "not shape"),
    ],
)
def test_wrong_shapes_and_channel_counts(shape: tuple[int, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_image(np.zeros(shape, np.uint8))


def test_alpha_arrays() -> None:
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, :, 3] = [0, 255, 128]
    rgba[0, 2, :3] = 100
    out = load_image(rgba).array
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[0, :, 0], [255, 0, 177])
    opaque = np.full((2, 2, 4), 255, np.uint8)
    assert load_image(opaque).array is opaque
    gray_alpha = np.array([[[10, 255], [20, 255]]], np.uint8)
    np.testing.assert_array_equal(load_image(gray_alpha).array, [[10, 20]])


def test_loaded_images_pass_through_or_swap(rgb: np.ndarray) -> None:
    loaded = LoadedImage(rgb, "rgb", "x.png", 2)
    assert load_image(loaded) is loaded
    swapped = load_image(loaded, order="bgr")
    np.testing.assert_array_equal(swapped.array, rgb[..., ::-1])
    assert (swapped.order, swapped.name, swapped.page) == ("bgr", "x.png", 2)
    with pytest.raises(PageIndexError):
        load_image(loaded, page=1)


# ------------------------------------------------------------------------------ sizes


@pytest.mark.parametrize("shape", [(0, 10), (10, 0), (0, 0, 3)])
def test_zero_size_arrays(shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageError, match=r"zero size \(\d+x\d+ pixels\)"):
        load_image(np.zeros(shape, np.uint8))


def test_zero_size_pil_image_and_file() -> None:
    with pytest.raises(ImageError, match=r"zero size \(0x5 pixels\)"):
        load_image(Image.new("L", (0, 5)))
    with pytest.raises(ImageError, match="a PNG file whose header is invalid"):
        load_image(png_header_only(0, 10))


def test_one_pixel_images() -> None:
    assert load_image(np.zeros((1, 1), np.uint8)).array.shape == (1, 1)
    assert load_image(encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG")).array.tolist() == [
        [[1, 2, 3]]
    ]


@pytest.mark.parametrize("size", [(20000, 1), (1, 20000), (30000, 2)])
def test_extreme_aspect_ratios_load(size: tuple[int, int]) -> None:
    width, height = size
    loaded = load_image(encode(Image.new("L", size, 7), "PNG"))
    assert loaded.array.shape == (height, width)


# ------------------------------------------------------------------------------ pixel limit


def test_default_limit_from_a_crafted_header() -> None:
    # 12000 x 9000 = 108 megapixels, over the default 100: refused from the header, with
    # no IDAT data in the file (decoding was never attempted).
    with pytest.raises(
        ImageTooLargeError,
        match=r"12000x9000 is 108000000 pixels, over the limit of 100000000 \(raise it with",
    ):
        load_image(png_header_only(12000, 9000))
    assert DEFAULT_MAX_PIXELS == 100_000_000


def test_huge_headers_are_refused_before_allocation() -> None:
    crafted = [
        png_header_only(100_000, 100_000),
        jpeg_with_size(60000, 60000),
        tiff_with_size(60000, 60000),
        bmp_with_size(50000, 50000),
    ]
    for data in crafted:
        with pytest.raises(ImageTooLargeError, match="over the pixel limit of 100000000"):
            load_image(data)
    with pytest.raises(ImageTooLargeError, match="12000x9000 is 108000000 pixels"):
        load_image(tiff_with_size(12000, 9000))


def test_a_header_under_the_limit_reaches_the_decoder() -> None:
    # 10000 x 9500 is over Pillow's own warning threshold (89 MP) but under ours: no
    # DecompressionBombWarning escapes (warnings are errors in this test suite), and the
    # missing pixel data is a decoding error, not a size error.
    with pytest.raises(ImageError, match="cannot decode") as info:
        load_image(png_header_only(10000, 9500))
    assert not isinstance(info.value, ImageTooLargeError)


def test_a_raised_limit_also_governs_pillows_own_check() -> None:
    # 15000 x 15000 = 225 MP is over twice Pillow's default limit, which alone would
    # refuse it; a raised max_pixels lets it through to the decoder.
    with pytest.raises(ImageError, match="cannot decode") as info:
        load_image(png_header_only(15000, 15000), max_pixels=300_000_000)
    assert not isinstance(info.value, ImageTooLargeError)
    assert Image.MAX_IMAGE_PIXELS == 1024 * 1024 * 1024 // 4 // 3  # Pillow's default


def test_max_pixels_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(Image.new("L", (100, 100)), "PNG")
    with pytest.raises(ImageTooLargeError, match="100x100 is 10000 pixels, over the limit of 9999"):
        load_image(data, max_pixels=9999)
    assert load_image(data, max_pixels=10000).array.shape == (100, 100)
    with pytest.raises(ImageTooLargeError, match="over the limit of 400"):
        load_image(np.zeros((21, 20), np.uint8), max_pixels=400)
    monkeypatch.setenv("OCRAI_MAX_PIXELS", "5000")
    assert default_max_pixels() == 5000
    with pytest.raises(ImageTooLargeError, match=r"over the limit of 5000 .*OCRAI_MAX_PIXELS"):
        load_image(data)
    monkeypatch.setenv("OCRAI_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="OCRAI_MAX_PIXELS='lots' is not a whole number"):
        load_image(data)
    monkeypatch.setenv("OCRAI_MAX_PIXELS", "-3")
    with pytest.raises(ValueError, match="must be a positive number"):
        load_image(data)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, "max_pixels must be positive, not 0"),
        (-5, ValueError, "max_pixels must be positive"),
        (1.5e6, TypeError, "max_pixels must be an integer"),
        ("100", TypeError, "max_pixels must be an integer"),
        (True, TypeError, "max_pixels must be an integer"),
    ],
)
def test_bad_max_pixels(value: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        load_image(np.zeros((2, 2), np.uint8), max_pixels=value)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ bad data

ENCODERS = {
    "PNG": lambda im: encode(im, "PNG"),
    "JPEG": lambda im: encode(im, "JPEG", quality=90),
    "TIFF": lambda im: encode(im, "TIFF", compression="tiff_lzw"),
    "BMP": lambda im: encode(im, "BMP"),
    "WEBP": lambda im: encode(im, "WEBP", lossless=True),
    "GIF": lambda im: encode(im, "GIF"),
}


@pytest.mark.parametrize("fmt", sorted(ENCODERS))
@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_truncated_files(tmp_path: Path, fmt: str, keep: float) -> None:
    data = ENCODERS[fmt](Image.fromarray(pattern_rgb(120, 90)))
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageError, match=f"^{path}: ") as info:
        load_image(path)
    assert isinstance(info.value, OcrError)


@pytest.mark.parametrize("fmt", sorted(ENCODERS))
def test_files_cut_inside_the_header(fmt: str) -> None:
    data = ENCODERS[fmt](Image.fromarray(pattern_rgb()))
    with pytest.raises(ImageError, match="<image data>: "):
        load_image(data[:12])


def test_corrupt_png_data() -> None:
    data = bytearray(encode(Image.fromarray(pattern_rgb(60, 40)), "PNG"))
    idat = data.find(b"IDAT")
    data[idat + 20 : idat + 40] = b"\x00" * 20
    with pytest.raises(ImageError, match="cannot decode the image"):
        load_image(bytes(data))


def test_corrupt_jpeg_data() -> None:
    data = bytearray(encode(Image.fromarray(pattern_rgb(60, 40)), "JPEG"))
    sos = data.find(b"\xff\xda")
    data[sos + 2 : sos + 4] = b"\xff\xff"  # an impossible scan header length
    with pytest.raises(ImageError):
        load_image(bytes(data))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"hello, this is text and not an image", "it starts with b'hello, t'"),
        (b"PK\x03\x04" + b"\x00" * 40, "not an image in a supported format"),
        (encode(Image.new("RGB", (16, 16)), "ICO"), "not an image in a supported format"),
        (encode(Image.new("RGB", (16, 16)), "PCX"), "not an image in a supported format"),
        (bytes(range(256)) * 4, "not an image in a supported format"),
        (b"GIF89a\x00", "a GIF file whose header is invalid"),
    ],
    ids=["text", "zip", "ico", "pcx", "noise", "gif-stub"],
)
def test_unknown_formats(data: bytes, match: str) -> None:
    with pytest.raises(ImageError, match=match):
        load_image(data)


def test_empty_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match=f"{empty}: empty input \\(0 bytes\\)"):
        load_image(empty)
    with pytest.raises(ImageError, match="empty input"):
        load_image(b"")


def test_missing_paths_and_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.png"):
        load_image(tmp_path / "nothing.png")
    with pytest.raises(FileNotFoundError):
        load_image(str(tmp_path / "nothing.png"))
    with pytest.raises(IsADirectoryError):
        load_image(tmp_path)


@pytest.mark.parametrize("source", [42, None, [1, 2, 3], {"a": 1}, 3.5])
def test_unsupported_source_types(source: object) -> None:
    with pytest.raises(TypeError, match=f"cannot read an image from {type(source).__name__}"):
        load_image(source)  # type: ignore[arg-type]


def test_text_mode_files_are_type_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(encode(Image.new("L", (2, 2)), "PNG"))
    with (
        path.open("r", encoding="latin-1") as text,
        pytest.raises(TypeError, match="binary mode"),
    ):
        load_image(text)  # type: ignore[arg-type]


def test_pillow_state_is_left_as_it_was() -> None:
    before = Image.MAX_IMAGE_PIXELS
    load_image(encode(Image.new("L", (3, 3)), "PNG"), max_pixels=12)
    with pytest.raises(ImageTooLargeError):
        load_image(png_header_only(5, 5), max_pixels=12)
    assert before == Image.MAX_IMAGE_PIXELS


def test_files_are_closed(tmp_path: Path) -> None:
    # ResourceWarnings are errors in this suite; a file left open would fail here or at
    # collection. Also checks that a failed load closes its file.
    good = tmp_path / "good.tif"
    good.write_bytes(three_page_tiff())
    bad = tmp_path / "bad.tif"
    bad.write_bytes(three_page_tiff()[:60])
    for _ in range(3):
        load_image(good, page=2)
        with pytest.raises(ImageError):
            load_image(bad)
        pages = iter_pages(good)
        next(pages)
        pages.close()


def test_concurrent_loads_agree() -> None:
    data = three_page_tiff()
    expected = [p.array for p in iter_pages(data)]

    def work() -> int:
        for _ in range(20):
            for got, want in zip(iter_pages(data), expected, strict=True):
                np.testing.assert_array_equal(got.array, want)
        return 20

    with ThreadPoolExecutor(4) as pool:
        runs = [pool.submit(work) for _ in range(4)]
        assert [run.result() for run in runs] == [20] * 4  # re-raises a worker's error


# ------------------------------------------------------------------------------ PDF


def two_page_pdf() -> bytes:
    first = Image.new("RGB", (144, 72), (255, 255, 255))
    first.paste((200, 0, 0), (0, 0, 72, 72))
    second = Image.new("RGB", (72, 144), (0, 0, 200))
    return encode(first, "PDF", save_all=True, append_images=[second], resolution=72)


def test_pdf_pages(tmp_path: Path) -> None:
    pytest.importorskip("pypdfium2")
    data = two_page_pdf()
    pages = list(iter_pages(data, dpi=72))
    assert [p.array.shape for p in pages] == [(72, 144, 3), (144, 72, 3)]
    # Pillow stores the pictures as JPEG: colours within a few levels.
    np.testing.assert_allclose(pages[0].array[36, 10], [200, 0, 0], atol=4)
    np.testing.assert_allclose(pages[0].array[36, 130], [255, 255, 255], atol=4)
    np.testing.assert_allclose(pages[1].array[70, 30], [0, 0, 200], atol=4)
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    second = load_image(path, page=1, order="bgr")
    assert (second.name, second.page, second.order) == (str(path), 1, "bgr")
    np.testing.assert_allclose(second.array[70, 30], [200, 0, 0], atol=4)
    # The default is 300 dpi: 2 x 1 inch -> 600 x 300 pixels.
    assert load_image(data).array.shape == (300, 600, 3)
    with pytest.raises(PageIndexError, match=r"page 2 does not exist \(the input has 2 pages\)"):
        load_image(path, page=2)


def test_pdf_resolution_is_lowered_to_the_pixel_limit() -> None:
    pytest.importorskip("pypdfium2")
    page = load_image(two_page_pdf(), dpi=600, max_pixels=20000)
    height, width = page.array.shape[:2]
    assert height * width <= 20000
    assert width == pytest.approx(2 * height, abs=2)


def test_bad_pdf_arguments_and_data() -> None:
    pytest.importorskip("pypdfium2")
    with pytest.raises(ValueError, match="dpi must be a positive finite number"):
        load_image(two_page_pdf(), dpi=0)
    with pytest.raises(TypeError, match="dpi must be a number"):
        load_image(two_page_pdf(), dpi="300")  # type: ignore[arg-type]
    with pytest.raises(ImageError, match="cannot open the PDF"):
        load_image(b"%PDF-1.7\n this is not really a PDF")
    with pytest.raises(ImageError, match="cannot open the PDF"):
        load_image(two_page_pdf()[:200])


def test_pdf_without_pypdfium2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # makes the import fail
    with pytest.raises(ImageError, match=r"is a PDF; .*pip install 'ocrai\[pdf\]'"):
        load_image(two_page_pdf())


@pytest.mark.parametrize("fmt", sorted(ENCODERS))
def test_mutated_files_raise_only_image_errors(fmt: str) -> None:
    """Random byte flips, cuts and splices of a valid file either decode to a valid array
    or raise ImageError: never another exception type, never a crash."""
    rng = np.random.default_rng(sum(map(ord, fmt)))
    base = bytearray(ENCODERS[fmt](Image.fromarray(pattern_rgb(64, 48, seed=2))))
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(60):
        data = bytearray(base)
        for _ in range(int(rng.integers(1, 6))):
            at = int(rng.integers(0, len(data)))
            action = int(rng.integers(0, 3))
            if action == 0:
                data[at] = int(rng.integers(0, 256))
            elif action == 1:
                del data[at : at + int(rng.integers(1, 64))]
            else:
                data[at:at] = rng.integers(0, 256, int(rng.integers(1, 64)), np.uint8).tobytes()
        try:
            for page in iter_pages(bytes(data), max_pixels=4_000_000):
                assert page.array.dtype == np.uint8
                assert page.array.flags.c_contiguous
                assert page.array.ndim in (2, 3)
            outcomes["decoded"] += 1
        except ImageError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0
