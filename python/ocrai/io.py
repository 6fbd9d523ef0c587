"""Image inputs: every source ocrai reads, turned into C-contiguous uint8 pixel arrays.

``load_image(source)`` returns one page as a :class:`LoadedImage`; ``iter_pages(source)``
yields every page of a multi-page input. The native core takes what these return.

Sources
    - a path (``str`` or ``os.PathLike``) or the encoded bytes themselves (``bytes``,
      ``bytearray``, ``memoryview``) or a binary file object (read from its current
      position to the end): PNG, JPEG (and camera MPO), TIFF (multi-page, 1-bit, G4, 16-bit,
      float), BMP, WebP, GIF (first frame), PPM/PGM/PBM; PDF when the optional dependency
      pypdfium2 is installed (``pip install 'ocrai[pdf]'``), each page rendered at ``dpi``
      (default :data:`PDF_DPI`, 300), lowered for a page that would exceed ``max_pixels``;
    - a numpy array of shape (H, W), (H, W, 1), (H, W, 2) (gray + alpha), (H, W, 3) or
      (H, W, 4), in the colour order given by ``order`` (default RGB);
    - a PIL image (its current frame; every frame of a multi-page TIFF for ``iter_pages``);
    - a :class:`LoadedImage` (returned as it is, or with its channels swapped for ``order``).

Pixel rules (explicit, never guessed from the values)
    =========================  ====================================================
    uint8                      as is
    bool / PIL mode "1"        False -> 0, True -> 255
    uint16 / PIL "I;16*"       full 16-bit range scaled: round(v / 257)
    float16/32/64 arrays       0.0 .. 1.0 scaled by 255 and rounded; NaN, inf or values
                               outside [0, 1] raise ImageError (a ValueError)
    PIL "I" (32-bit int)       must hold 0 .. 65535, scaled like uint16
    PIL "F" (32-bit float)     must hold 0.0 .. 255.0 (Pillow's own scale), rounded
    PIL "P", "CMYK", "YCbCr"   converted to RGB by Pillow ("P" with transparency: RGBA)
    other integer dtypes       TypeError (convert with ``.astype(np.uint8)``)
    alpha (2 or 4 channels)    fully opaque: kept (4 channels; the core ignores alpha)
                               or dropped (gray); otherwise composited over white, so
                               text drawn on a transparent canvas stays readable
    =========================  ====================================================

The EXIF orientation of decoded images (and of PIL images given directly) is applied.
Arrays that are not C-contiguous (crops, flips, transposes) are copied here with
``np.ascontiguousarray``, because the native kernels take only contiguous rows; a
C-contiguous uint8 array is used without a copy, so the result may share memory with the
caller's array, and read-only arrays are fine. Decoded results may be read-only.

Limits: an image with more than ``max_pixels`` pixels (default :data:`DEFAULT_MAX_PIXELS`,
100 megapixels, or the environment variable ``OCRAI_MAX_PIXELS``) raises
:class:`~ocrai.errors.ImageTooLargeError`, for encoded inputs from the header before any
pixel is decoded (a decompression bomb costs nothing). Zero-size images raise ImageError.

Errors: a missing path raises FileNotFoundError (and other OSErrors as the OS reports
them); an unsupported source type, dtype or text-mode file raises TypeError; data that
cannot be decoded (unknown format, truncated, corrupt) raises ImageError naming the
source; a page that does not exist raises PageIndexError. Pillow's warnings (decompression
bombs, odd EXIF data) never escape as Python warnings: they are logged on the
``ocrai.io`` logger.

Thread safety: decoding with Pillow runs under one process-wide lock, because Pillow's
decompression-bomb limit and Python's warning filters are process-wide state that this
module sets for the duration of a decode; PDF rendering has its own lock (PDFium is not
thread-safe). Pixel conversion of arrays and the OCR itself run in parallel.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Literal, Union, cast

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, ImageTooLargeError, OcrError, PageIndexError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "PDF_DPI",
    "RASTER_FORMATS",
    "ColorOrder",
    "ImageSource",
    "LoadedImage",
    "default_max_pixels",
    "iter_pages",
    "load_image",
    "page_count",
]

ColorOrder = Literal["rgb", "bgr"]
U8Array = npt.NDArray[np.uint8]

#: Pixel limit when neither ``max_pixels`` nor ``OCRAI_MAX_PIXELS`` says otherwise.
DEFAULT_MAX_PIXELS = 100_000_000
#: Environment variable overriding :data:`DEFAULT_MAX_PIXELS` (a positive integer).
MAX_PIXELS_ENV = "OCRAI_MAX_PIXELS"
#: Resolution at which PDF pages are rendered unless ``dpi`` says otherwise.
PDF_DPI = 300.0
#: The Pillow formats that are decoded; anything else is an unknown format (a smaller
#: attack surface than every format Pillow knows, and a documented list). Multi-picture
#: JPEGs from cameras (MPO) are read by the JPEG entry.
RASTER_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "DIB", "WEBP", "GIF", "PPM")

_log = logging.getLogger(__name__)
_PIL_LOCK = threading.Lock()
_PDF_LOCK = threading.Lock()
_PIL_DIR = str(Path(Image.__file__).resolve().parent)
_THIS_FILE = str(Path(__file__).resolve())
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """One decoded page: ``array`` is uint8, C-contiguous, of shape (H, W), (H, W, 3) or
    (H, W, 4), with colour channels in ``order``; ``name`` is the path or file name it came
    from (None for bytes and arrays) and ``page`` its page index in a multi-page input."""

    array: U8Array
    order: ColorOrder = "rgb"
    name: str | None = None
    page: int = 0

    @property
    def height(self) -> int:
        return int(self.array.shape[0])

    @property
    def width(self) -> int:
        return int(self.array.shape[1])

    @property
    def channels(self) -> int:
        return 1 if self.array.ndim == 2 else int(self.array.shape[2])


ImageSource = Union[
    str,
    "os.PathLike[str]",
    bytes,
    bytearray,
    memoryview,
    IO[bytes],
    npt.NDArray[Any],
    Image.Image,
    LoadedImage,
]


def default_max_pixels() -> int:
    """The pixel limit in force: ``OCRAI_MAX_PIXELS`` when set, else 100 megapixels."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError as exc:
        msg = f"{MAX_PIXELS_ENV}={raw!r} is not a whole number of pixels"
        raise ValueError(msg) from exc
    if value <= 0:
        msg = f"{MAX_PIXELS_ENV}={raw!r} must be a positive number of pixels"
        raise ValueError(msg)
    return value


def load_image(
    source: ImageSource,
    *,
    order: ColorOrder | None = None,
    page: int = 0,
    max_pixels: int | None = None,
    dpi: float = PDF_DPI,
) -> LoadedImage:
    """Decodes or converts one page of `source` (see the module documentation).

    ``order``: the channel order of an array source (default "rgb"); for every other
    source, the order of the returned array (default "rgb"). ``page``: the page of a
    multi-page TIFF or PDF (0-based). ``max_pixels``: the pixel limit (default
    :func:`default_max_pixels`). ``dpi``: the resolution of rendered PDF pages.
    """
    checked = _Options.check(order, max_pixels, dpi)
    index = _check_page(page)
    document = _open(source, checked)
    try:
        return document.load(index)
    finally:
        document.close()


def iter_pages(
    source: ImageSource,
    *,
    order: ColorOrder | None = None,
    max_pixels: int | None = None,
    dpi: float = PDF_DPI,
) -> Iterator[LoadedImage]:
    """Yields every page of `source` in order: each page of a multi-page TIFF or PDF, or
    the one page of anything else. Arguments are checked now; the source is opened when
    iteration starts (so errors about the data come from the first ``next()``), and closed
    when the iterator is exhausted or closed."""
    checked = _Options.check(order, max_pixels, dpi)
    return _iterate(source, checked)


def page_count(source: ImageSource, *, max_pixels: int | None = None, dpi: float = PDF_DPI) -> int:
    """The number of pages of `source`: every page of a multi-page TIFF or PDF, else 1.
    Read from the file's structure (TIFF directories, the PDF's page tree); no page is
    decoded. Errors are those of `load_image` for data that cannot be opened."""
    document = _open(source, _Options.check(None, max_pixels, dpi))
    try:
        return document.count()
    finally:
        document.close()


def _iterate(source: ImageSource, options: _Options) -> Iterator[LoadedImage]:
    document = _open(source, options)
    try:
        for index in range(document.count()):
            yield document.load(index)
    finally:
        document.close()


# ---------------------------------------------------------------------------------------
# argument checks


@dataclass(frozen=True)
class _Options:
    order: ColorOrder | None
    max_pixels: int
    dpi: float

    @staticmethod
    def check(order: object, max_pixels: object, dpi: object) -> _Options:
        if order is not None and order not in ("rgb", "bgr"):
            msg = f"order must be 'rgb' or 'bgr', not {order!r}"
            raise ValueError(msg)
        if max_pixels is None:
            limit = default_max_pixels()
        else:
            if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)):
                msg = f"max_pixels must be an integer, not {max_pixels!r}"
                raise TypeError(msg)
            limit = int(max_pixels)
            if limit <= 0:
                msg = f"max_pixels must be positive, not {limit}"
                raise ValueError(msg)
        if isinstance(dpi, bool) or not isinstance(dpi, (int, float)):
            msg = f"dpi must be a number, not {type(dpi).__name__}"
            raise TypeError(msg)
        if not math.isfinite(dpi) or dpi <= 0:
            msg = f"dpi must be a positive finite number, not {dpi!r}"
            raise ValueError(msg)
        return _Options(order, limit, float(dpi))


def _check_page(page: object) -> int:
    if isinstance(page, bool) or not isinstance(page, (int, np.integer)):
        msg = f"page must be an integer, not {page!r}"
        raise TypeError(msg)
    index = int(page)
    if index < 0:
        msg = f"page must be 0 or more, not {index}"
        raise ValueError(msg)
    return index


def _check_size(width: int, height: int, max_pixels: int, label: str) -> None:
    if width <= 0 or height <= 0:
        msg = f"{label}: the image has zero size ({width}x{height} pixels)"
        raise ImageError(msg)
    if width * height > max_pixels:
        msg = (
            f"{label}: {width}x{height} is {width * height} pixels, over the limit of "
            f"{max_pixels} (raise it with max_pixels= or {MAX_PIXELS_ENV})"
        )
        raise ImageTooLargeError(msg)


# ---------------------------------------------------------------------------------------
# documents: one or more pages behind a common interface


class _Document:
    """A source opened for reading; `load(i)` returns page i; `close()` is idempotent."""

    label: str

    def count(self) -> int:
        return 1

    def load(self, index: int) -> LoadedImage:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def _check_index(self, index: int) -> None:
        if index == 0:
            return
        total = self.count()
        if index >= total:
            pages = "1 page" if total == 1 else f"{total} pages"
            msg = f"{self.label}: page {index} does not exist (the input has {pages})"
            raise PageIndexError(msg)


class _ArrayDocument(_Document):
    def __init__(self, array: npt.NDArray[Any], name: str | None, options: _Options) -> None:
        self.array = array
        self.name = name
        self.label = name or "<array>"
        self.options = options

    def load(self, index: int) -> LoadedImage:
        self._check_index(index)
        order = self.options.order or "rgb"
        pixels = _to_u8_image(self.array, self.label, self.options.max_pixels)
        return LoadedImage(pixels, order, self.name, index)


class _LoadedDocument(_Document):
    def __init__(self, image: LoadedImage, options: _Options) -> None:
        self.image = image
        self.label = image.name or "<image>"
        self.options = options

    def load(self, index: int) -> LoadedImage:
        self._check_index(index)
        image = self.image
        pixels = _to_u8_image(image.array, self.label, self.options.max_pixels)
        wanted = self.options.order or image.order
        if wanted != image.order:
            pixels = _swap_rb(pixels)
        if pixels is image.array and wanted == image.order:
            return image
        return LoadedImage(pixels, wanted, image.name, image.page)


class _PillowDocument(_Document):
    """A PIL image: one decoded by this module (`owned`, closed with its file) or one the
    caller gave (left open, its current frame restored on close)."""

    def __init__(
        self,
        image: Image.Image,
        name: str | None,
        options: _Options,
        *,
        owned: bool,
        file: IO[bytes] | None = None,
    ) -> None:
        self.image = image
        self.name = name
        self.label = name or ("<image data>" if owned else "<PIL image>")
        self.options = options
        self.owned = owned
        self.file = file
        self.start_frame = image.tell() if not owned else 0
        self._count: int | None = None

    def _multipage(self) -> bool:
        return self.image.format == "TIFF" and bool(getattr(self.image, "is_animated", False))

    def count(self) -> int:
        if self._count is None:
            with _pillow(self.label, self.options.max_pixels):
                frames = getattr(self.image, "n_frames", 1) if self._multipage() else 1
            self._count = int(frames)
        return self._count

    def load(self, index: int) -> LoadedImage:
        self._check_index(index)
        limit = self.options.max_pixels
        label = f"{self.label} page {index}" if index else self.label
        with _pillow(label, limit):
            image = self.image
            if self._multipage():
                image.seek(index)
            _check_size(image.width, image.height, limit, label)
            image.load()
            image = _apply_orientation(image, label)
            raw = _pillow_pixels(image, label)
        pixels = _to_u8_image(raw, label, limit)
        order = self.options.order or "rgb"
        if order == "bgr":
            pixels = _swap_rb(pixels)
        return LoadedImage(pixels, order, self.name, index)

    def close(self) -> None:
        if self.owned:
            self.image.close()
        elif self.image.tell() != self.start_frame:
            with _pillow(self.label, self.options.max_pixels):
                self.image.seek(self.start_frame)
        if self.file is not None:
            self.file.close()
            self.file = None


class _PdfDocument(_Document):
    def __init__(self, data: str | bytes, name: str | None, options: _Options) -> None:
        self.name = name
        self.label = name or "<PDF data>"
        self.options = options
        try:
            import pypdfium2
        except ImportError as exc:
            msg = (
                f"{self.label} is a PDF; reading PDF pages needs the optional dependency "
                "pypdfium2 (pip install 'ocrai[pdf]')"
            )
            raise ImageError(msg) from exc
        self._pdfium = pypdfium2
        with _PDF_LOCK:
            try:
                self.pdf = pypdfium2.PdfDocument(data)
            except pypdfium2.PdfiumError as exc:
                msg = f"{self.label}: cannot open the PDF: {exc}"
                raise ImageError(msg) from exc
            self.pages = len(self.pdf)
        if self.pages == 0:
            self.close()
            msg = f"{self.label}: the PDF has no pages"
            raise ImageError(msg)

    def count(self) -> int:
        return self.pages

    def load(self, index: int) -> LoadedImage:
        self._check_index(index)
        with _PDF_LOCK:
            try:
                pixels = self._render(index)
            except self._pdfium.PdfiumError as exc:
                msg = f"{self.label}: cannot render page {index}: {exc}"
                raise ImageError(msg) from exc
        order = self.options.order or "rgb"
        if order == "bgr":
            pixels = _swap_rb(pixels)
        return LoadedImage(pixels, order, self.name, index)

    def _render(self, index: int) -> U8Array:
        page = self.pdf[index]
        try:
            width_pt, height_pt = page.get_size()
            scale = self.options.dpi / 72.0
            limit = self.options.max_pixels
            area = width_pt * height_pt * scale * scale
            if area > limit:
                # The pixel count of a rendered page is ours to choose: lower the
                # resolution to fit the limit instead of refusing the page.
                scale *= math.sqrt(limit / area) * 0.999
            width = math.ceil(width_pt * scale)
            height = math.ceil(height_pt * scale)
            if not (math.isfinite(width_pt) and math.isfinite(height_pt)):
                width = height = 0
            _check_size(width, height, limit, f"{self.label} page {index}")
            bitmap = page.render(scale=scale, rev_byteorder=True)
            try:
                rendered = bitmap.to_numpy()
                pixels: U8Array = np.array(rendered[..., :3], dtype=np.uint8, order="C")
            finally:
                bitmap.close()
        finally:
            page.close()
        return pixels

    def close(self) -> None:
        pdf = getattr(self, "pdf", None)
        if pdf is not None:
            with _PDF_LOCK:
                pdf.close()
            self.pdf = None


def _open(source: object, options: _Options) -> _Document:
    if isinstance(source, LoadedImage):
        return _LoadedDocument(source, options)
    if isinstance(source, np.ndarray):
        return _ArrayDocument(np.asarray(source), None, options)
    if isinstance(source, Image.Image):
        name = getattr(source, "filename", None) or None
        return _PillowDocument(source, str(name) if name else None, options, owned=False)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = path if isinstance(path, str) else os.fsdecode(path)
        file = Path(name).open("rb")  # noqa: SIM115 - owned by the document, closed there
        try:
            return _open_encoded(file, name, options, path=name)
        except BaseException:
            file.close()
            raise
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source.tobytes() if isinstance(source, memoryview) else bytes(source)
        return _open_encoded(BytesIO(data), None, options, data=data)
    read = getattr(source, "read", None)
    if callable(read):
        name = getattr(source, "name", None)
        label = name if isinstance(name, str) else None
        data = read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            msg = (
                f"the file object {label or source!r} returned {type(data).__name__} from "
                "read(); open images in binary mode ('rb')"
            )
            raise TypeError(msg)
        raw = bytes(data)
        return _open_encoded(BytesIO(raw), label, options, data=raw)
    msg = (
        f"cannot read an image from {type(source).__name__}: give a path, bytes, a binary "
        "file object, a numpy array or a PIL image"
    )
    raise TypeError(msg)


def _open_encoded(
    file: IO[bytes],
    name: str | None,
    options: _Options,
    *,
    path: str | None = None,
    data: bytes | None = None,
) -> _Document:
    label = name or "<image data>"
    head = file.read(16)
    file.seek(0)
    if not head:
        msg = f"{label}: empty input (0 bytes), not an image"
        raise ImageError(msg)
    if head.startswith(b"%PDF-"):
        if path is not None:
            file.close()
            return _PdfDocument(path, name, options)
        return _PdfDocument(data if data is not None else file.read(), name, options)
    with _pillow(label, options.max_pixels):
        try:
            image = Image.open(file, formats=RASTER_FORMATS)
        except UnidentifiedImageError as exc:
            kind = _sniff(head)
            if kind:
                msg = f"{label}: a {kind} file whose header is invalid, truncated or unsupported"
            else:
                msg = (
                    f"{label}: not an image in a supported format "
                    f"({', '.join(RASTER_FORMATS)} or PDF); it starts with {head[:8]!r}"
                )
            raise ImageError(msg) from exc
    return _PillowDocument(image, name, options, owned=True, file=file)


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "BigTIFF"),
    (b"MM\x00+", "BigTIFF"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


def _sniff(head: bytes) -> str | None:
    """The format a file claims by its first bytes, to make error messages precise."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


# ---------------------------------------------------------------------------------------
# Pillow: process-wide state set for one decode, warnings turned into log records


@contextmanager
def _pillow(label: str, max_pixels: int) -> Iterator[None]:
    """Runs Pillow work on one input with Pillow's own bomb check set to our limit (it
    errors at twice that, in places our header check cannot see, such as frames inside
    containers) and its warnings recorded instead of shown. Any exception other than ours
    becomes ImageError naming the input: corrupt data makes Pillow's plugins raise a wide
    range of exception types."""
    caught: list[warnings.WarningMessage] = []
    try:
        with _PIL_LOCK, warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = max_pixels
            try:
                yield
            finally:
                Image.MAX_IMAGE_PIXELS = saved
                caught = list(recorded)
    except (OcrError, MemoryError):
        raise
    except Image.DecompressionBombError as exc:
        msg = f"{label}: over the pixel limit of {max_pixels} ({exc})"
        raise ImageTooLargeError(msg) from exc
    except Exception as exc:
        msg = f"{label}: cannot decode the image (truncated or corrupt data?): {exc}"
        raise ImageError(msg) from exc
    finally:
        _forward_warnings(caught, label)


def _forward_warnings(caught: list[warnings.WarningMessage], label: str) -> None:
    for record in caught:
        filename = str(record.filename)
        from_pillow = filename.startswith(_PIL_DIR) or filename == _THIS_FILE
        deprecation = issubclass(
            record.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
        )
        if from_pillow and not deprecation:
            _log.info("%s: %s: %s", label, record.category.__name__, record.message)
        else:  # another thread's warning, or one about code that must change: show it
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)


def _apply_orientation(image: Image.Image, label: str) -> Image.Image:
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception as exc:  # noqa: BLE001 - a broken EXIF block must not lose the image
        _log.info("%s: EXIF data ignored: %s", label, exc)
        return image
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        return ImageOps.exif_transpose(image)
    return image


def _pillow_pixels(image: Image.Image, label: str) -> npt.NDArray[Any]:
    """The pixels of a loaded PIL image as an array that `_to_u8_image` accepts: uint8,
    bool or uint16 with 1 to 4 channels. PIL's 32-bit modes are mapped here."""
    mode = image.mode
    if mode == "1":  # Pillow's own 0/255 expansion
        return np.asarray(image.convert("L"))
    if mode in ("L", "LA", "RGB", "RGBA") or mode.startswith("I;16"):
        pixels: npt.NDArray[Any] = np.asarray(image)
        return pixels
    if mode == "La":
        return np.asarray(image.convert("LA"))
    if mode in ("PA", "RGBa") or (mode == "P" and "transparency" in image.info):
        return np.asarray(image.convert("RGBA"))
    if mode in ("P", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        try:
            converted = image.convert("RGB")
        except ValueError as exc:
            msg = f"{label}: pixel mode {mode!r} cannot be converted to RGB: {exc}"
            raise ImageError(msg) from exc
        return np.asarray(converted)
    if mode == "I":
        values = np.asarray(image)
        low, high = int(values.min()), int(values.max())
        if low < 0 or high > 65535:
            msg = (
                f"{label}: 32-bit integer pixels must lie in 0..65535 to be scaled like "
                f"16-bit data; they span {low}..{high}"
            )
            raise ImageError(msg)
        return values.astype(np.uint16)
    if mode == "F":
        floats = np.asarray(image)
        _check_finite(floats, label)
        low_f, high_f = float(floats.min()), float(floats.max())
        if low_f < 0.0 or high_f > 255.0:
            msg = (
                f"{label}: 32-bit float pixels (PIL mode 'F') must lie in 0..255; they "
                f"span {low_f:g}..{high_f:g}"
            )
            raise ImageError(msg)
        rounded: U8Array = np.rint(floats).astype(np.uint8)
        return rounded
    msg = f"{label}: unsupported pixel mode {mode!r}"
    raise ImageError(msg)


# ---------------------------------------------------------------------------------------
# arrays


def _check_finite(values: npt.NDArray[Any], label: str) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        bad = values[~finite]
        kinds = sorted({"NaN" if np.isnan(v) else "inf" for v in bad[:1000].tolist()})
        msg = f"{label}: float pixels contain {' and '.join(kinds)} ({bad.size} values)"
        raise ImageError(msg)


def _to_u8_image(array: npt.NDArray[Any], label: str, max_pixels: int) -> U8Array:
    """Checks shape, size and dtype, converts by the module's rules, and returns a
    C-contiguous uint8 array of shape (H, W), (H, W, 3) or (H, W, 4)."""
    if array.ndim not in (2, 3):
        msg = f"{label}: an image array has 2 or 3 dimensions, not {array.ndim} {array.shape}"
        raise ValueError(msg)
    if array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4):
        hint = ""
        if array.shape[0] in (1, 3, 4):
            hint = "; for channels-first data use np.moveaxis(image, 0, -1)"
        msg = (
            f"{label}: an image array has 1, 2, 3 or 4 channels in its last axis, "
            f"not shape {array.shape}{hint}"
        )
        raise ValueError(msg)
    height, width = int(array.shape[0]), int(array.shape[1])
    _check_size(width, height, max_pixels, label)
    pixels = _to_u8(array, label)
    if pixels.ndim == 3:
        channels = pixels.shape[2]
        if channels == 1:
            pixels = pixels[:, :, 0]
        elif channels in (2, 4):
            pixels = _flatten_alpha(pixels)
    return np.ascontiguousarray(pixels)


def _to_u8(array: npt.NDArray[Any], label: str) -> U8Array:
    dtype = array.dtype
    if dtype == np.uint8:
        return cast("U8Array", array)
    if dtype == np.bool_:
        # np.where, not a uint8 view: bool arrays may hold bytes other than 0 and 1.
        scaled: U8Array = np.where(array, np.uint8(255), np.uint8(0))
        return scaled
    if dtype.kind == "u" and dtype.itemsize == 2:  # either byte order
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if dtype.kind == "f" and dtype.itemsize <= 8:
        _check_finite(array, label)
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            msg = (
                f"{label}: float pixels must lie in 0.0..1.0; they span {low:g}..{high:g} "
                "(for 0..255 data use image.astype(np.uint8))"
            )
            raise ImageError(msg)
        wide = array.astype(np.float32 if dtype.itemsize <= 4 else np.float64)
        rounded: U8Array = np.rint(wide * 255.0).astype(np.uint8)
        return rounded
    hint = ""
    if dtype.kind in "iu":
        hint = "; if the values are 0..255, convert with image.astype(np.uint8)"
    msg = (
        f"{label}: unsupported pixel dtype {dtype}: ocrai reads uint8, bool, uint16 and "
        f"float (0..1) arrays{hint}"
    )
    raise TypeError(msg)


def _flatten_alpha(pixels: U8Array) -> U8Array:
    """Gray+alpha or colour+alpha: fully opaque colour keeps its alpha channel (the core
    ignores it, and no copy is made); otherwise the colour is composited over white."""
    alpha = pixels[:, :, -1]
    if int(alpha.min()) == 255:
        return pixels if pixels.shape[2] == 4 else pixels[:, :, 0]
    a = alpha.astype(np.uint16)[:, :, None]
    color = pixels[:, :, :-1].astype(np.uint16)
    # c*a + 255*(255-a) <= 65025: the sum fits 16 bits, and +127 rounds the division.
    blended = ((color * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
    return blended[:, :, 0] if blended.shape[2] == 1 else blended


def _swap_rb(pixels: U8Array) -> U8Array:
    if pixels.ndim == 2:
        return pixels
    index = [2, 1, 0] if pixels.shape[2] == 3 else [2, 1, 0, 3]
    return np.ascontiguousarray(pixels[:, :, index])
