"""Fuzzes image decoding: ``ocrai.io.load_image`` and ``iter_pages`` on arbitrary bytes.

Documented outcomes: a LoadedImage (a C-contiguous uint8 array of shape (H, W), (H, W, 3)
or (H, W, 4) within the pixel limit), or ImageError (ImageTooLargeError, PageIndexError).
Anything else is a finding. The pixel limit is lowered to 4 megapixels so that inputs
cannot exhaust memory.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import numpy as np

import _harness

with _harness.instrumented():
    from ocrai import ImageError
    from ocrai.io import iter_pages, load_image

MAX_PIXELS = 4_000_000
MAX_PAGES = 4


def check(loaded: object) -> None:
    from ocrai.io import LoadedImage

    assert isinstance(loaded, LoadedImage), type(loaded)
    a = loaded.array
    assert a.dtype == np.uint8, a.dtype
    assert a.flags.c_contiguous
    assert a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4)), a.shape
    assert 0 < a.shape[0] * a.shape[1] <= MAX_PIXELS, a.shape
    assert loaded.order in ("rgb", "bgr")


def test_one_input(data: bytes) -> None:
    order = "bgr" if data[-1:] == b"\x01" else None
    with contextlib.suppress(ImageError):
        check(load_image(data, order=order, max_pixels=MAX_PIXELS, dpi=30))
    try:
        for k, page in enumerate(iter_pages(data, max_pixels=MAX_PIXELS, dpi=30)):
            check(page)
            assert page.page == k
            if k + 1 >= MAX_PAGES:
                break
    except ImageError:
        pass


def seeds() -> Iterator[bytes]:
    from PIL import Image, ImageDraw

    def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
        buf = io.BytesIO()
        image.save(buf, fmt, **options)
        return buf.getvalue()

    rgb = Image.new("RGB", (23, 9), (240, 240, 230))
    ImageDraw.Draw(rgb).text((1, 0), "Ab", fill=(10, 10, 10))
    gray = rgb.convert("L")
    for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM"):
        yield encode(rgb, fmt)
        yield encode(gray, fmt)
    yield encode(rgb.convert("RGBA"), "PNG")
    yield encode(gray.convert("LA"), "PNG")
    yield encode(rgb.convert("P"), "PNG", transparency=0)
    yield encode(rgb.convert("CMYK"), "JPEG")
    yield encode(rgb.convert("1"), "TIFF", compression="group4")
    yield encode(gray.convert("I;16"), "PNG")
    yield encode(gray.convert("F"), "TIFF")
    yield encode(gray, "TIFF", save_all=True, append_images=[gray, gray.rotate(90)])
    exif = Image.Exif()
    exif[0x0112] = 6
    yield encode(rgb, "JPEG", exif=exif.tobytes())
    yield encode(rgb, "PDF")
    yield encode(rgb, "PDF", save_all=True, append_images=[gray.convert("RGB")])
    yield b"\x89PNG\r\n\x1a\n"
    yield b"%PDF-1.4\n"
    yield b"II*\x00\x08\x00\x00\x00"
    yield b"BM" + bytes(60)


if __name__ == "__main__":
    _harness.main(test_one_input, seeds)
