"""Searchable PDF: each page's image (or the original PDF page) under an invisible text
layer in which every word sits on its own box.

The PDF objects are made and written by pikepdf (qpdf); the one font of the text layer is
a TrueType font generated here with fontTools (one plain box glyph, nothing of any
third-party font), used as a Type 0 font with Identity-H encoding: each distinct
character of the document gets its own two-byte code, and the font's ToUnicode map gives
every code its text back, so any script (Japanese and Chinese included, characters
outside the BMP too) is searched and copied as it was read. The text is drawn in render
mode 3 (neither filled nor stroked): invisible, but found by search and selection.

Each word's text matrix follows its quad: its origin on the word's baseline, its x axis
along the word (the angle of a rotated or deskewed line), the font size the quad's
height, and the horizontal scaling that makes the word's advance span the quad's width.
Every glyph of the font is ``_ADVANCE`` wide and the font's ascent and descent add up to
one em, so the box that text extractors compute for a word is the word's quad.

Image sources: every page (each frame of a multi-page TIFF) becomes one PDF page whose
size follows the image's resolution (300 dpi when it has none or one under 10; a page longer than the
14400 points PDF viewers accept is given a higher resolution). A JPEG goes in as it was
(DCT, not recompressed) unless it has to be turned by its EXIF orientation; a bi-level
image stays 1 bit per pixel; anything else is stored losslessly (Flate) as 8-bit gray or
RGB (16-bit samples are reduced to 8 bits, transparency composited over white, as
``ocrai.io`` does for the OCR).

PDF sources: the same document with a text layer added to each page. The page's content
streams and resources are kept as they were; two new streams are added around them
(``q`` before, ``Q`` and the text layer after) and the font is added to its resources.
``Page`` results of a PDF come from its pages rendered at some resolution
(``ocrai.io`` renders them with pypdfium2): their pixel coordinates are mapped onto the
page's crop box in user space, its ``/Rotate`` included. ``existing_text`` says what
happens to a page that already has text: ``"error"`` (default) raises
:class:`PdfTextExistsError`, ``"skip"`` leaves the page as it is, ``"force"`` adds the
text layer anyway.
"""

from __future__ import annotations

import io
import math
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, cast

from ocrai.errors import ImageError
from ocrai.results import Page, Point, Quad

from ._common import as_pages, ocrai_version
from ._hocr import line_words

if TYPE_CHECKING:
    import pikepdf
    from PIL import Image

__all__ = [
    "DEFAULT_IMAGE_DPI",
    "MAX_PAGES",
    "ExistingText",
    "PdfInputError",
    "PdfSource",
    "PdfTextExistsError",
    "check_source",
    "to_pdf",
]

#: Resolution of an image whose file does not say it.
DEFAULT_IMAGE_DPI = 300.0
#: More pages than this in one document is refused before anything is written.
MAX_PAGES = 10_000
_MIN_DPI = 10.0
#: The largest page side that PDF viewers accept (Acrobat's limit, 200 inches).
_MAX_PAGE_POINTS = 14_400.0
#: Advance width of every glyph, in thousandths of the font size.
_ADVANCE = 500
#: Ascent and descent of the text font (thousandths of an em): they add up to one em,
#: so a font size of the word's height makes the extracted box the word's box.
_ASCENT, _DESCENT = 800, -200
_FONT_NAME = "OcraiText"
#: The font's resource name on pages made from images: the name OCRmyPDF's sandwich
#: renderer looks for when it grafts a text-only page. PDF sources get a name not used
#: on the page yet.
_FONT_RESOURCE = "/F1"

ExistingText = Literal["error", "skip", "force"]
PdfSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]
Matrix = tuple[float, float, float, float, float, float]


class PdfInputError(ImageError):
    """A source that cannot become a searchable PDF (encrypted, corrupt, truncated, a page
    of zero size, too many pages, results that do not match its pages)."""


class PdfTextExistsError(PdfInputError):
    """A page of a PDF source already has text, and ``existing_text="error"``."""


def to_pdf(
    pages: Page | Iterable[Page],
    source: PdfSource,
    *,
    existing_text: ExistingText = "error",
    title: str | None = None,
    images: bool = True,
) -> bytes:
    """A searchable PDF of `source` with the text of `pages` (the results of its pages,
    in order) as an invisible text layer. See the module documentation. ``images=False``
    (image sources only) leaves the images out: pages of invisible text alone, sized to
    the images, to be laid over other pages."""
    if existing_text not in ("error", "skip", "force"):
        msg = f"existing_text must be 'error', 'skip' or 'force', not {existing_text!r}"
        raise ValueError(msg)
    page_list = as_pages(pages)
    data, label = _read_source(source)
    if len(page_list) > MAX_PAGES:
        msg = f"{label}: {len(page_list)} pages, over the limit of {MAX_PAGES}"
        raise PdfInputError(msg)
    pikepdf = _import_pikepdf()
    if data.startswith(b"%PDF-"):
        return _PdfSourceWriter(pikepdf, data, label, existing_text).write(page_list, title)
    return _ImageSourceWriter(pikepdf, data, label, images=images).write(page_list, title)


def check_source(source: PdfSource) -> int:
    """The number of pages `to_pdf` will expect for `source`, after the checks that need
    no OCR (a PDF that opens, is not encrypted, has 1 to `MAX_PAGES` pages, none of zero
    size; an image that opens): lets a caller refuse a file before reading it."""
    data, label = _read_source(source)
    pikepdf = _import_pikepdf()
    if not data.startswith(b"%PDF-"):
        return len(_ImageSourceWriter(pikepdf, data, label, images=False).frame_count())
    writer = _PdfSourceWriter(pikepdf, data, label, "force")
    with writer._open() as pdf:
        count = writer.check(pdf)
        for index, pdf_page in enumerate(pdf.pages):
            _pixel_to_user(pdf_page, Page(width=1, height=1), f"{label} page {index}")
    return count


def _import_pikepdf() -> Any:
    try:
        import fontTools  # noqa: F401 - the text font is built with it
        import pikepdf
    except ImportError as exc:
        msg = (
            f"writing searchable PDFs needs the optional dependencies pikepdf and fontTools "
            f"(pip install 'ocrai[pdf]'): {exc}"
        )
        raise ImportError(msg) from exc
    return pikepdf


def _read_source(source: object) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "<PDF data>" if data.startswith(b"%PDF-") else "<image data>"
    elif isinstance(source, (str, os.PathLike)):
        label = os.fsdecode(os.fspath(source))
        data = Path(label).read_bytes()
    else:
        msg = f"source must be a path or the file's bytes, not {type(source).__name__}"
        raise TypeError(msg)
    if not data:
        msg = f"{label}: empty input (0 bytes)"
        raise PdfInputError(msg)
    return data, label


# ---------------------------------------------------------------------------------------
# the text font and the text layer


@cache
def _glyphless_truetype() -> bytes:
    """A TrueType font of two glyphs, both ``_ADVANCE`` units wide on a 1000-unit em:
    an empty .notdef and a plain box (never drawn: the text layer is invisible)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    builder = FontBuilder(1000, isTTF=True)
    names = [".notdef", "blank"]
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({})
    # The glyph that draws every character is a box over the em: text drawn in render
    # mode 3 never shows it, and text extractors (PDFium) skip glyphs without extent.
    pen = TTGlyphPen(None)
    pen.moveTo((0, _DESCENT))
    pen.lineTo((0, _ASCENT))
    pen.lineTo((_ADVANCE, _ASCENT))
    pen.lineTo((_ADVANCE, _DESCENT))
    pen.closePath()
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "blank": pen.glyph()})
    builder.setupHorizontalMetrics(dict.fromkeys(names, (_ADVANCE, 0)))
    builder.setupHorizontalHeader(ascent=_ASCENT, descent=_DESCENT)
    builder.setupNameTable({"familyName": _FONT_NAME, "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=_ASCENT,
        sTypoDescender=_DESCENT,
        usWinAscent=_ASCENT,
        usWinDescent=-_DESCENT,
    )
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


class _TextFont:
    """The document's Type 0 font: codes given out to characters as pages use them; the
    CIDToGIDMap and ToUnicode streams are filled in by `finish`, once all are known."""

    def __init__(self, pikepdf: Any, pdf: pikepdf.Pdf) -> None:
        self.pikepdf = pikepdf
        self.codes: dict[str, int] = {}
        name = pikepdf.Name
        program = pikepdf.Stream(pdf, _glyphless_truetype())
        descriptor = pikepdf.Dictionary(
            Type=name.FontDescriptor,
            FontName=name("/" + _FONT_NAME),
            Flags=4,  # symbolic
            FontBBox=[0, _DESCENT, _ADVANCE, _ASCENT],
            ItalicAngle=0,
            Ascent=_ASCENT,
            Descent=_DESCENT,
            CapHeight=_ASCENT,
            StemV=80,
            FontFile2=program,
        )
        self.cid_to_gid = pikepdf.Stream(pdf, b"")
        self.to_unicode = pikepdf.Stream(pdf, b"")
        cid_font = pikepdf.Dictionary(
            Type=name.Font,
            Subtype=name.CIDFontType2,
            BaseFont=name("/" + _FONT_NAME),
            CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=pdf.make_indirect(descriptor),
            DW=_ADVANCE,
            CIDToGIDMap=self.cid_to_gid,
        )
        self.font = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=name.Font,
                Subtype=name.Type0,
                BaseFont=name("/" + _FONT_NAME),
                Encoding=name("/Identity-H"),
                DescendantFonts=[pdf.make_indirect(cid_font)],
                ToUnicode=self.to_unicode,
            )
        )

    def encode(self, text: str) -> bytes:
        """Two bytes per character, each character's code given out on first use (code 0
        is left to .notdef)."""
        out = bytearray()
        for ch in text:
            code = self.codes.get(ch)
            if code is None:
                code = len(self.codes) + 1
                if code > 0xFFFF:
                    msg = "more than 65535 distinct characters in one document"
                    raise PdfInputError(msg)
                self.codes[ch] = code
            out += code.to_bytes(2, "big")
        return bytes(out)

    def finish(self) -> None:
        count = len(self.codes) + 1
        # Every code drawn by glyph 1 (the empty one); code 0 by .notdef.
        self.cid_to_gid.write(b"\x00\x00" + b"\x00\x01" * (count - 1), filter=None)
        self.to_unicode.write(zlib.compress(_to_unicode_cmap(self.codes)),
                              filter=self.pikepdf.Name.FlateDecode)  # fmt: skip


def _to_unicode_cmap(codes: dict[str, int]) -> bytes:
    entries = sorted((code, ch) for ch, code in codes.items())
    parts = [
        (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        )
    ]
    for start in range(0, len(entries), 100):  # at most 100 entries per block
        chunk = entries[start : start + 100]
        parts.append(f"{len(chunk)} beginbfchar\n")
        for code, ch in chunk:
            utf16 = ch.encode("utf-16-be").hex().upper()
            parts.append(f"<{code:04X}> <{utf16}>\n")
        parts.append("endbfchar\n")
    parts.append("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
    return "".join(parts).encode("ascii")


def _apply(m: Matrix, point: Point) -> Point:
    a, b, c, d, e, f = m
    x, y = point
    return (a * x + c * y + e, b * x + d * y + f)


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _word_ops(font: _TextFont, resource: str, text: str, quad: Quad, to_user: Matrix) -> bytes:
    """The operators that draw `text` (invisible) over `quad` (pixel coordinates)."""
    tl, tr, br, bl = (_apply(to_user, p) for p in quad)
    # The word's direction: the mean of its top and bottom edges; its height: the mean
    # distance between them.
    ux = ((tr[0] - tl[0]) + (br[0] - bl[0])) / 2
    uy = ((tr[1] - tl[1]) + (br[1] - bl[1])) / 2
    length = math.hypot(ux, uy)
    vx = ((tl[0] - bl[0]) + (tr[0] - br[0])) / 2
    vy = ((tl[1] - bl[1]) + (tr[1] - br[1])) / 2
    if length < 1e-3:
        return b""
    cos, sin = ux / length, uy / length
    height = abs(vx * -sin + vy * cos)  # the part of the edge across the word
    if height < 1e-3:
        return b""
    # Baseline origin: the bottom-left corner raised by the descent.
    rise = -_DESCENT / 1000 * height
    ox, oy = bl[0] - sin * rise, bl[1] + cos * rise
    natural = len(text) * _ADVANCE / 1000 * height
    scale = 100.0 * length / natural
    return (
        f"{_num(scale)} Tz {_num(cos)} {_num(sin)} {_num(-sin)} {_num(cos)} "
        f"{_num(ox)} {_num(oy)} Tm {resource} {_num(height)} Tf <"
        + font.encode(text).hex()
        + "> Tj\n"
    ).encode("ascii")


def _text_layer(font: _TextFont, resource: str, page: Page, to_user: Matrix) -> bytes:
    ops = [b"BT\n3 Tr\n"]
    for line in page.lines:
        for word in line_words(line):
            if word.text.strip():
                ops.append(_word_ops(font, resource, word.text, word.quad, to_user))
    ops.append(b"ET\n")
    return b"".join(ops)


# ---------------------------------------------------------------------------------------
# image sources


@dataclass(frozen=True)
class _EmbeddedImage:
    width: int
    height: int
    dpi: tuple[float, float]
    data: bytes
    filter: str | None  # "/DCTDecode", "/FlateDecode"
    colorspace: str
    bits: int
    decode: list[int] | None = None


def _image_dpi(image: Image.Image) -> tuple[float, float]:
    raw = image.info.get("dpi")
    try:
        xdpi, ydpi = (float(v) for v in raw) if raw is not None else (0.0, 0.0)
    except (TypeError, ValueError):
        xdpi = ydpi = 0.0
    # Below 10 dpi is no scan: a placeholder (TIFF writers put 1 when they know nothing).
    if not (math.isfinite(xdpi) and xdpi >= _MIN_DPI):
        xdpi = DEFAULT_IMAGE_DPI
    if not (math.isfinite(ydpi) and ydpi >= _MIN_DPI):
        ydpi = xdpi
    return xdpi, ydpi


def _embed_frame(image: Image.Image, raw_jpeg: bytes | None, label: str) -> _EmbeddedImage:
    from PIL import ImageOps

    dpi = _image_dpi(image)
    orientation = image.getexif().get(0x0112, 1)
    if raw_jpeg is not None and orientation in (0, 1) and image.mode in ("L", "RGB", "CMYK"):
        colorspace = {"L": "/DeviceGray", "RGB": "/DeviceRGB", "CMYK": "/DeviceCMYK"}[image.mode]
        # Adobe's CMYK JPEGs store inverted samples (as Pillow reads them too).
        decode = [1, 0] * 4 if image.mode == "CMYK" and "adobe" in image.info else None
        return _EmbeddedImage(
            image.width, image.height, dpi, raw_jpeg, "/DCTDecode", colorspace, 8, decode
        )
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode == "1":
        return _EmbeddedImage(
            image.width,
            image.height,
            dpi,
            zlib.compress(image.tobytes(), 6),
            "/FlateDecode",
            "/DeviceGray",
            1,
        )
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        from PIL import Image as PilImage

        white = PilImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = PilImage.alpha_composite(white, rgba).convert("RGB")
    elif image.mode.startswith("I;16") or image.mode == "I":
        image = image.point(lambda v: v / 257).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if image.width <= 0 or image.height <= 0:
        msg = f"{label}: the image has zero size"
        raise PdfInputError(msg)
    colorspace = "/DeviceGray" if image.mode == "L" else "/DeviceRGB"
    data = zlib.compress(image.tobytes(), 6)
    return _EmbeddedImage(image.width, image.height, dpi, data, "/FlateDecode", colorspace, 8)


class _ImageSourceWriter:
    def __init__(self, pikepdf: Any, data: bytes, label: str, *, images: bool) -> None:
        self.pikepdf = pikepdf
        self.data = data
        self.label = label
        self.images = images

    def _open_image(self) -> Image.Image:
        from PIL import Image, UnidentifiedImageError

        from ocrai.io import RASTER_FORMATS

        try:
            return Image.open(io.BytesIO(self.data), formats=RASTER_FORMATS)
        except (UnidentifiedImageError, OSError) as exc:
            msg = f"{self.label}: not an image or PDF that can be read: {exc}"
            raise PdfInputError(msg) from exc

    def _count(self, image: Image.Image) -> int:
        count = int(getattr(image, "n_frames", 1)) if image.format == "TIFF" else 1
        if count > MAX_PAGES:
            msg = f"{self.label}: {count} pages, over the limit of {MAX_PAGES}"
            raise PdfInputError(msg)
        return count

    def frame_count(self) -> range:
        """The pages of the image (checked against `MAX_PAGES`)."""
        with self._open_image() as image:
            return range(self._count(image))

    def _frames(self) -> list[_EmbeddedImage]:
        frames = []
        with self._open_image() as image:
            count = self._count(image)
            raw_jpeg = self.data if image.format == "JPEG" else None
            for index in range(count):
                where = f"{self.label} page {index}" if count > 1 else self.label
                try:
                    if count > 1:
                        image.seek(index)
                    frames.append(_embed_frame(image, raw_jpeg, where))
                except (OSError, ValueError, SyntaxError) as exc:
                    msg = f"{where}: cannot decode the image: {exc}"
                    raise PdfInputError(msg) from exc
        return frames

    def write(self, pages: Sequence[Page], title: str | None) -> bytes:
        pikepdf = self.pikepdf
        name = pikepdf.Name
        frames = self._frames()
        if len(frames) != len(pages):
            msg = f"{self.label}: {len(frames)} pages in the image but {len(pages)} results"
            raise PdfInputError(msg)
        pdf = pikepdf.new()
        font = _TextFont(pikepdf, pdf)
        for index, (frame, page) in enumerate(zip(frames, pages, strict=True)):
            where = f"{self.label} page {index}"
            if (frame.width, frame.height) != (page.width, page.height):
                msg = (
                    f"{where}: the image is {frame.width}x{frame.height} pixels but its "
                    f"result is {page.width}x{page.height}"
                )
                raise PdfInputError(msg)
            width_pt = frame.width * 72.0 / frame.dpi[0]
            height_pt = frame.height * 72.0 / frame.dpi[1]
            shrink = min(1.0, _MAX_PAGE_POINTS / max(width_pt, height_pt))
            width_pt, height_pt = width_pt * shrink, height_pt * shrink
            extra: dict[str, Any] = {}
            if frame.decode is not None:
                extra["Decode"] = frame.decode
            xobject = pikepdf.Stream(pdf, frame.data)
            xobject.stream_dict = pikepdf.Dictionary(
                Type=name.XObject,
                Subtype=name.Image,
                Width=frame.width,
                Height=frame.height,
                ColorSpace=name(frame.colorspace),
                BitsPerComponent=frame.bits,
                Filter=name(frame.filter),
                **extra,
            )
            sx, sy = width_pt / frame.width, height_pt / frame.height
            to_user: Matrix = (sx, 0.0, 0.0, -sy, 0.0, height_pt)
            resources = pikepdf.Dictionary(Font=pikepdf.Dictionary({_FONT_RESOURCE: font.font}))
            draw = b""
            if self.images:
                resources.XObject = pikepdf.Dictionary(Im0=xobject)
                draw = f"q {_num(width_pt)} 0 0 {_num(height_pt)} 0 0 cm /Im0 Do Q\n".encode()
            content = draw + _text_layer(font, _FONT_RESOURCE, page, to_user)
            pdf_page = pikepdf.Dictionary(
                Type=name.Page,
                MediaBox=[0, 0, width_pt, height_pt],
                Resources=resources,
                Contents=pikepdf.Stream(pdf, content),
            )
            pdf.pages.append(pikepdf.Page(pdf_page))
        font.finish()
        return _save(pikepdf, pdf, title or self.label)


def _save(pikepdf: Any, pdf: pikepdf.Pdf, title: str | None) -> bytes:
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["xmp:CreatorTool"] = f"ocrai {ocrai_version()}"
        if title and not title.startswith("<"):
            meta["dc:title"] = Path(title).name
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# PDF sources


class _PdfSourceWriter:
    def __init__(self, pikepdf: Any, data: bytes, label: str, existing_text: ExistingText) -> None:
        self.pikepdf = pikepdf
        self.data = data
        self.label = label
        self.existing_text = existing_text

    def _open(self) -> pikepdf.Pdf:
        lib = self.pikepdf
        try:
            opened = lib.open(io.BytesIO(self.data))
        except lib.PasswordError as exc:
            msg = f"{self.label}: the PDF is encrypted and needs a password"
            raise PdfInputError(msg) from exc
        except lib.PdfError as exc:
            msg = f"{self.label}: cannot open the PDF: {exc}"
            raise PdfInputError(msg) from exc
        return cast("pikepdf.Pdf", opened)

    def check(self, pdf: pikepdf.Pdf) -> int:
        """The page count, once the document is known to be usable."""
        if pdf.is_encrypted:
            # Opened without a password (an owner password only): saving would have to
            # decrypt it or keep permissions we cannot honour.
            msg = f"{self.label}: the PDF is encrypted"
            raise PdfInputError(msg)
        count = len(pdf.pages)
        if count == 0:
            msg = f"{self.label}: the PDF has no pages"
            raise PdfInputError(msg)
        if count > MAX_PAGES:
            msg = f"{self.label}: {count} pages, over the limit of {MAX_PAGES}"
            raise PdfInputError(msg)
        return count

    def _pages_with_text(self, count: int) -> set[int]:
        import pypdfium2

        found = set()
        document = pypdfium2.PdfDocument(self.data)
        try:
            for index in range(count):
                page = document[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        if textpage.get_text_range().strip():
                            found.add(index)
                    finally:
                        textpage.close()
                finally:
                    page.close()
        finally:
            document.close()
        return found

    def write(self, pages: Sequence[Page], title: str | None) -> bytes:
        pikepdf = self.pikepdf
        pdf = self._open()
        with pdf:
            count = self.check(pdf)
            if count != len(pages):
                msg = f"{self.label}: {count} pages in the PDF but {len(pages)} results"
                raise PdfInputError(msg)
            with_text = self._pages_with_text(count) if self.existing_text != "force" else set()
            if with_text and self.existing_text == "error":
                first = min(with_text)
                msg = (
                    f"{self.label} page {first}: the page already has text "
                    "(skip such pages with --skip-text, or add a text layer anyway with --force)"
                )
                raise PdfTextExistsError(msg)
            font = _TextFont(pikepdf, pdf)
            for index, (pdf_page, page) in enumerate(zip(pdf.pages, pages, strict=True)):
                if index in with_text:
                    continue
                to_user = _pixel_to_user(pdf_page, page, f"{self.label} page {index}")
                resource = str(
                    pdf_page.add_resource(font.font, pikepdf.Name.Font, prefix="OcraiText")
                )
                layer = _text_layer(font, resource, page, to_user)
                # The page's own streams stay as they are: a `q` before them and a `Q`
                # after them isolate whatever graphics state they leave behind.
                pdf_page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
                pdf_page.contents_add(pikepdf.Stream(pdf, b"Q\n" + layer), prepend=False)
            font.finish()
            return _save(pikepdf, pdf, title)


def _pixel_to_user(pdf_page: Any, page: Page, where: str) -> Matrix:
    """The affine map from the pixels of `page` (the rendered PDF page, y down) to the PDF
    page's user space: the crop box shown turned by ``/Rotate`` clockwise."""
    try:
        box = [float(v) for v in pdf_page.cropbox]
    except (TypeError, ValueError, AttributeError) as exc:
        msg = f"{where}: the page has no valid media box"
        raise PdfInputError(msg) from exc
    x0, x1 = sorted((box[0], box[2]))
    y0, y1 = sorted((box[1], box[3]))
    width, height = x1 - x0, y1 - y0
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        msg = f"{where}: the page has zero size ({width:g} x {height:g} points)"
        raise PdfInputError(msg)
    rotate = _inherited_rotate(pdf_page.obj)
    shown_w, shown_h = (height, width) if rotate in (90, 270) else (width, height)
    sx, sy = shown_w / page.width, shown_h / page.height
    # (dx, dy): points from the top-left corner of the page as shown, y down.
    if rotate == 90:
        return (0.0, sx, sy, 0.0, x0, y0)
    if rotate == 180:
        return (-sx, 0.0, 0.0, sy, x1, y0)
    if rotate == 270:
        return (0.0, -sx, -sy, 0.0, x1, y1)
    return (sx, 0.0, 0.0, -sy, x0, y1)


def _inherited_rotate(page_obj: Any) -> int:
    """The page's ``/Rotate`` (inherited from its page-tree parents when it has none),
    a multiple of 90 degrees; anything else counts as 0, as viewers do."""
    node, depth = page_obj, 0
    while node is not None and depth < 64:
        if "/Rotate" in node:
            try:
                value = int(node.Rotate)
            except (TypeError, ValueError):
                return 0
            return value % 360 if value % 90 == 0 else 0
        node = node.get("/Parent")
        depth += 1
    return 0
