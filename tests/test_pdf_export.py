"""Searchable PDFs (ocrai.export.to_pdf, ocrai read -f pdf): what independent readers find
in them. Text extracted by poppler's pdftotext and by pypdfium2 matches Page.text, word
boxes from pdftotext -bbox-layout cover the hOCR word boxes, the page rendered back by
pdftoppm is the input image, qpdf --check is clean, and a PDF input keeps its content.

Needs the ``pdf`` dependency group (pikepdf, fontTools, pypdfium2; ocrmypdf for its
plugin) and Debian's poppler-utils and qpdf (scripts/bootstrap.sh installs them)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pikepdf = pytest.importorskip("pikepdf")
pypdfium2 = pytest.importorskip("pypdfium2")
pytest.importorskip("fontTools")

from ocrai import OcrAI
from ocrai.cli import main
from ocrai.export import PdfInputError, PdfTextExistsError, to_pdf
from ocrai.io import iter_pages
from ocrai.results import Page
from ocrai.testing import SAMPLE_TEXT, cer, render_page, rotate_image

pytestmark = pytest.mark.models

LANGS = ["en", "fr", "pt", "cs", "ja", "zh-hant"]
POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="needs poppler-utils (pdftotext)")
needs_qpdf = pytest.mark.skipif(not shutil.which("qpdf"), reason="needs qpdf")


@pytest.fixture(scope="module")
def engine() -> Any:
    with OcrAI(threads=2) as ai:
        yield ai


# ---------------------------------------------------------------------------------------
# readers


def tool_env() -> dict[str, str]:
    """The environment for poppler and qpdf: without the sanitizer runtimes that
    scripts/sanitize.sh preloads into Python (they are not ours to check)."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def pdftotext(path: Path, *options: str) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *options, str(path), "-"],
        env=tool_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout


def pdfium_text(path: Path) -> list[str]:
    document = pypdfium2.PdfDocument(str(path))
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def bbox_words(path: Path) -> list[list[tuple[str, tuple[float, float, float, float]]]]:
    """pdftotext -bbox-layout: per page, (word, box in points with y down)."""
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(path), "-"],
        env=tool_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    root = ET.fromstring(out)
    pages = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        words = []
        for w in page.iter("{http://www.w3.org/1999/xhtml}word"):
            box = tuple(float(w.get(k, "0")) for k in ("xMin", "yMin", "xMax", "yMax"))
            words.append((w.text or "", box))
        pages.append(words)
    return pages


def pdfium_words(path: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """PDFium's words of the first page: runs of characters between whitespace, each with
    the box around its characters' boxes (points, y down)."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        page = document[0]
        height = page.get_height()
        textpage = page.get_textpage()
        words: list[tuple[str, tuple[float, float, float, float]]] = []
        text, boxes = "", []
        for i in range(textpage.count_chars() + 1):
            ch = textpage.get_text_range(i, 1) if i < textpage.count_chars() else " "
            if ch.isspace() or not ch:
                if text:
                    x0 = min(b[0] for b in boxes)
                    x1 = max(b[2] for b in boxes)
                    y0 = height - max(b[3] for b in boxes)
                    y1 = height - min(b[1] for b in boxes)
                    words.append((text, (x0, y0, x1, y1)))
                text, boxes = "", []
                continue
            text += ch
            boxes.append(textpage.get_charbox(i, loose=True))
        return words
    finally:
        document.close()


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def hocr_words(page: Page) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The word boxes of the page's hOCR (ocrai.export.to_hocr), in pixels."""
    from ocrai.export import to_hocr

    root = ET.fromstring(to_hocr(page).split("\n", 3)[3])
    words = []
    for span in root.iter("{http://www.w3.org/1999/xhtml}span"):
        if span.get("class") == "ocrx_word":
            numbers = re.search(r"bbox (\d+) (\d+) (\d+) (\d+)", span.get("title", ""))
            assert numbers is not None
            words.append((span.text or "", tuple(float(v) for v in numbers.groups())))
    return words


def overlap_share(page: Page, pdf_words: list[Any], px_per_pt: float) -> float:
    """The share of hOCR words that a pdftotext word of the same text covers with IoU of
    0.7 or more (pdftotext's points scaled to pixels)."""
    hocr = hocr_words(page)
    assert hocr
    scaled = [(t, tuple(v * px_per_pt for v in box)) for t, box in pdf_words]
    good = 0
    for text, box in hocr:
        best = max((iou(box, b) for t, b in scaled if t == text), default=0.0)
        good += best >= 0.7
    return good / len(hocr)


def qpdf_check(path: Path) -> None:
    out = subprocess.run(
        ["qpdf", "--check", str(path)],
        env=tool_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "WARNING" not in out.stdout + out.stderr
    assert "No syntax or stream encoding errors" in out.stdout


def render_back(path: Path, tmp_path: Path, *, dpi: float = 100, size: Any = None) -> np.ndarray:
    """The first page rendered by poppler, at `dpi` or to `size` (width, height) pixels."""
    scale = ["-r", str(dpi)]
    if size is not None:
        scale = ["-scale-to-x", str(size[0]), "-scale-to-y", str(size[1])]
    subprocess.run(
        ["pdftoppm", *scale, "-gray", "-png", "-singlefile", str(path), str(tmp_path / "back")],
        env=tool_env(),
        check=True,
        timeout=60,
    )
    return np.asarray(Image.open(tmp_path / "back.png").convert("L"), dtype=np.int16)


def blocks(image: np.ndarray, size: int = 4) -> np.ndarray:
    """Means of size x size blocks (the ragged edge dropped)."""
    h, w = (image.shape[0] // size) * size, (image.shape[1] // size) * size
    return image[:h, :w].reshape(h // size, size, w // size, size).mean(axis=(1, 3))


def save(image: np.ndarray, path: Path, dpi: float = 200, **kwargs: Any) -> Path:
    Image.fromarray(image).save(path, dpi=(dpi, dpi), **kwargs)
    return path


# ---------------------------------------------------------------------------------------
# image sources


@needs_poppler
@pytest.mark.parametrize("lang", LANGS)
def test_text_boxes_and_pixels_survive_in_every_language(
    engine: Any, lang: str, tmp_path: Path
) -> None:
    source = save(render_page(SAMPLE_TEXT[lang], lang=lang).image, tmp_path / "page.png")
    page = engine.recognize(source)
    assert page.text
    out = tmp_path / "page.pdf"
    out.write_bytes(to_pdf([page], source))

    # Two independent readers give Page.text back.
    assert cer(pdftotext(out), page.text, lang) <= 0.005
    assert cer(pdfium_text(out)[0], page.text, lang) <= 0.005
    # Each word sits on its hOCR box (pdftotext's points at 200 dpi).
    assert overlap_share(page, bbox_words(out)[0], 200 / 72) >= 0.95
    # The page is the image: 200 dpi gives its size in points, and it renders back equal.
    with pikepdf.open(out) as pdf:
        box = [float(v) for v in pdf.pages[0].mediabox]
    assert box[2] == pytest.approx(page.width * 72 / 200, abs=0.01)
    assert box[3] == pytest.approx(page.height * 72 / 200, abs=0.01)
    back = render_back(out, tmp_path, size=(page.width, page.height))
    original = np.asarray(Image.open(source).convert("L"), dtype=np.int16)
    assert back.shape == original.shape
    # Equal apart from poppler's resampling, which moves edges by a fraction of a pixel
    # (compared in 4x4 blocks; measured 1-3 gray levels; a text layer drawn in render mode
    # 0 instead of 3 differs by tens, see test_a_visible_text_layer_would_be_seen).
    assert np.abs(blocks(back) - blocks(original)).mean() < 4.0
    # The text layer is invisible: the page without it renders to the same pixels.
    bare = tmp_path / "bare.pdf"
    bare.write_bytes(to_pdf(Page(width=page.width, height=page.height), source))
    assert np.array_equal(back, render_back(bare, tmp_path, size=(page.width, page.height)))
    if shutil.which("qpdf"):
        qpdf_check(out)


@needs_poppler
def test_a_visible_text_layer_would_be_seen(engine: Any, tmp_path: Path) -> None:
    """The check above can fail: the same PDF with its text drawn (render mode 0)."""
    source = save(render_page(SAMPLE_TEXT["en"], lang="en").image, tmp_path / "page.png")
    page = engine.recognize(source)
    with pikepdf.open(io.BytesIO(to_pdf(page, source))) as pdf:
        contents = pdf.pages[0].Contents
        contents.write(contents.read_bytes().replace(b"3 Tr", b"0 Tr"))
        pdf.save(tmp_path / "visible.pdf")
    back = render_back(tmp_path / "visible.pdf", tmp_path, size=(page.width, page.height))
    original = np.asarray(Image.open(source).convert("L"), dtype=np.int16)
    assert np.abs(blocks(back) - blocks(original)).mean() > 20


@needs_poppler
def test_rotated_lines_follow_their_quads(engine: Any, tmp_path: Path) -> None:
    """A page skewed by 4 degrees (not deskewed): each word's text runs along its quad,
    so the reading order and the boxes still come out right."""
    rendered = render_page(SAMPLE_TEXT["en"], lang="en", font_size=40)
    source = save(rotate_image(rendered.image, 4.0), tmp_path / "skewed.png", dpi=300)
    page = engine.recognize(source)
    out = tmp_path / "skewed.pdf"
    out.write_bytes(to_pdf(page, source))
    # pdftotext's layout mode rebuilds lines from horizontal baselines, so it cuts lines
    # that rise by more than their height across the page; its content-order mode (-raw)
    # and PDFium read them whole.
    assert cer(pdftotext(out, "-raw"), page.text) <= 0.005
    assert cer(pdfium_text(out)[0], page.text) <= 0.005
    # Each skewed word on its hOCR box (the box around its quad), by PDFium's character
    # boxes. Poppler splits words whose baseline rises by more than a few pixels, so its
    # -bbox-layout words cover only part of them.
    assert overlap_share(page, pdfium_words(out), 300 / 72) >= 0.95
    assert overlap_share(page, bbox_words(out)[0], 300 / 72) >= 0.6


@needs_poppler
def test_jpeg_stays_dct_bilevel_stays_one_bit_and_multipage_tiff_is_one_pdf(
    engine: Any, tmp_path: Path
) -> None:
    rendered = render_page(SAMPLE_TEXT["fr"], lang="fr")
    jpeg = save(rendered.image, tmp_path / "page.jpg", dpi=150, quality=90)
    page = engine.recognize(jpeg)
    with pikepdf.open(io.BytesIO(to_pdf(page, jpeg))) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert image.Filter == pikepdf.Name.DCTDecode
        assert image.read_raw_bytes() == jpeg.read_bytes()  # not recompressed
        assert float(pdf.pages[0].mediabox[2]) == pytest.approx(page.width * 72 / 150, abs=0.01)

    gray = Image.fromarray(rendered.image).convert("L")
    bilevel = gray.point(lambda v: 255 if v > 128 else 0).convert("1")
    cs = Image.fromarray(render_page(SAMPLE_TEXT["cs"], lang="cs").image)
    tiff = tmp_path / "two.tif"
    bilevel.save(tiff, save_all=True, append_images=[cs])
    pages = [engine.recognize(p) for p in iter_pages(tiff)]
    out = tmp_path / "two.pdf"
    out.write_bytes(to_pdf(pages, tiff))
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        first = next(iter(pdf.pages[0].get_images().values()))
        assert int(first.BitsPerComponent) == 1
        second = next(iter(pdf.pages[1].get_images().values()))
        assert int(second.BitsPerComponent) == 8
        # Lossless: the stored samples are the image's.
        data = zlib.decompress(second.read_raw_bytes())
        assert data == cs.convert("RGB").tobytes()
        # No resolution in the file: 300 dpi.
        assert float(pdf.pages[1].mediabox[2]) == pytest.approx(cs.width * 72 / 300, abs=0.01)
    texts = pdfium_text(out)
    assert cer(texts[0], pages[0].text, "fr") <= 0.005
    assert cer(texts[1], pages[1].text, "cs") <= 0.005


def test_results_must_match_the_source(engine: Any, tmp_path: Path) -> None:
    source = save(render_page(["one line"], lang="en").image, tmp_path / "a.png")
    page = engine.recognize(source)
    with pytest.raises(PdfInputError, match="pixels but its result"):
        to_pdf(Page(width=page.width + 1, height=page.height), source)
    with pytest.raises(PdfInputError, match="1 pages in the image but 2 results"):
        to_pdf([page, page], source)
    with pytest.raises(PdfInputError, match="empty input"):
        to_pdf(page, b"")
    with pytest.raises(PdfInputError, match="not an image or PDF"):
        to_pdf(page, b"GIF89a broken")


# ---------------------------------------------------------------------------------------
# PDF sources


def make_source_pdf(tmp_path: Path, *, rotate: int = 0) -> tuple[Path, list[str]]:
    """A two-page scanned PDF written by Pillow's PDF writer; `rotate` sets /Rotate on the first page,
    whose scan is stored turned the other way (so that it shows upright)."""
    first = Image.fromarray(render_page(SAMPLE_TEXT["en"], lang="en").image)
    first = first.rotate(rotate, expand=True)  # counter-clockwise; /Rotate is clockwise
    second = Image.fromarray(render_page(SAMPLE_TEXT["pt"], lang="pt").image)
    path = tmp_path / "scan.pdf"
    first.save(path, save_all=True, append_images=[second], resolution=200.0)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        if rotate:
            pdf.pages[0].Rotate = rotate
        pdf.save(path)
    return path, [*SAMPLE_TEXT["en"], *SAMPLE_TEXT["pt"]]


def content_and_images(path: Path) -> list[tuple[list[bytes], list[bytes]]]:
    """Per page: the raw (still encoded) bytes of its content streams and its images."""
    with pikepdf.open(path) as pdf:
        result = []
        for page in pdf.pages:
            contents = page.obj.Contents
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            images = [image.read_raw_bytes() for image in page.get_images().values()]
            result.append(([s.read_raw_bytes() for s in streams], images))
        return result


@needs_poppler
@pytest.mark.parametrize("rotate", [0, 90, 270])
def test_a_pdf_gets_a_text_layer_and_keeps_its_content(
    engine: Any, rotate: int, tmp_path: Path
) -> None:
    source, _ = make_source_pdf(tmp_path, rotate=rotate)
    pages = [engine.recognize(p) for p in iter_pages(source)]
    out = tmp_path / "out.pdf"
    out.write_bytes(to_pdf(pages, source))
    before, after = content_and_images(source), content_and_images(out)
    assert len(after) == len(before) == 2
    for (streams0, images0), (streams1, images1) in zip(before, after, strict=True):
        # The original streams, unchanged, between a `q` and a `Q` + text layer.
        assert streams1[1:-1] == streams0
        assert zlib.decompress(streams1[0]).strip() == b"q"
        assert zlib.decompress(streams1[-1]).startswith(b"Q\nBT\n3 Tr\n")
        assert images1 == images0
    texts = pdfium_text(out)
    poppler = pdftotext(out).split("\f")
    for k, page in enumerate(pages):
        assert cer(texts[k], page.text) <= 0.005
        assert cer(poppler[k], page.text) <= 0.005
    if rotate == 0:
        # pdftotext's points against the pixels of the page rendered at 300 dpi.
        assert overlap_share(pages[0], bbox_words(out)[0], 300 / 72) >= 0.95
    back = render_back(out, tmp_path)
    original = render_back(source, tmp_path)
    assert np.array_equal(back, original)  # the text layer is invisible
    if shutil.which("qpdf"):
        qpdf_check(out)


def test_pages_that_have_text_error_skip_or_force(engine: Any, tmp_path: Path) -> None:
    source, _ = make_source_pdf(tmp_path)
    pages = [engine.recognize(p) for p in iter_pages(source)]
    once = tmp_path / "once.pdf"
    once.write_bytes(to_pdf(pages, source))
    with pytest.raises(PdfTextExistsError, match=r"once.pdf page 0: the page already has text"):
        to_pdf(pages, once)
    skipped = tmp_path / "skipped.pdf"
    skipped.write_bytes(to_pdf(pages, once, existing_text="skip"))
    assert content_and_images(skipped) == content_and_images(once)
    forced = tmp_path / "forced.pdf"
    forced.write_bytes(to_pdf(pages, once, existing_text="force"))
    text = pdfium_text(forced)[0]
    assert text.count("Invoice 2026-114") == 2


def test_bad_pdfs_are_named_and_refused(engine: Any, tmp_path: Path) -> None:
    source, _ = make_source_pdf(tmp_path)
    pages = [engine.recognize(p) for p in iter_pages(source)]
    encrypted = tmp_path / "locked.pdf"
    with pikepdf.open(source) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    with pytest.raises(PdfInputError, match=r"locked.pdf: the PDF is encrypted"):
        to_pdf(pages, encrypted)
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    with pytest.raises(PdfInputError, match=r"corrupt.pdf: cannot open the PDF"):
        to_pdf(pages, corrupt)
    with pytest.raises(PdfInputError, match=r"2 pages in the PDF but 1 results"):
        to_pdf(pages[:1], source)
    flat = tmp_path / "flat.pdf"
    with pikepdf.open(source) as pdf:
        pdf.pages[1].MediaBox = [0, 0, 600, 0]
        pdf.save(flat)
    with pytest.raises(PdfInputError, match=r"flat.pdf page 1: the page has zero size"):
        to_pdf(pages, flat)
    # The same checks without any OCR, as `ocrai read -f pdf` makes them first.
    from ocrai.export import _pdf

    assert _pdf.check_source(source) == 2
    with pytest.raises(PdfInputError, match=r"flat.pdf page 1: the page has zero size"):
        _pdf.check_source(flat)
    with pytest.raises(PdfInputError, match=r"locked.pdf: the PDF is encrypted"):
        _pdf.check_source(encrypted)


def test_absurd_page_counts_are_refused_before_reading(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrai.export import _pdf

    source, _ = make_source_pdf(tmp_path)
    pages = [engine.recognize(p) for p in iter_pages(source)]
    monkeypatch.setattr(_pdf, "MAX_PAGES", 1)
    with pytest.raises(PdfInputError, match=r"scan.pdf: 2 pages, over the limit of 1"):
        to_pdf(pages, source)
    tiff = tmp_path / "two.tif"
    first = Image.new("L", (40, 20), 255)
    first.save(tiff, save_all=True, append_images=[first])
    with pytest.raises(PdfInputError, match=r"two.tif: 2 pages, over the limit of 1"):
        _pdf.check_source(tiff)

    calls = []

    class Recorder:
        def recognize(self, image: Any, **options: Any) -> Page:
            calls.append(image)
            return engine.recognize(image, **options)

    out = tmp_path / "out"
    from ocrai.cli import _cmd_read, build_parser

    args = build_parser().parse_args(["read", "-f", "pdf", "-o", str(out), str(source)])
    status = _cmd_read(args, lambda args: Recorder())
    assert status == 1
    assert calls == []  # refused before any page was read
    assert "2 pages, over the limit of 1" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# the command line


@needs_poppler
def test_cli_writes_one_pdf_per_source_and_survives_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = save(render_page(SAMPLE_TEXT["en"], lang="en").image, tmp_path / "good.png")
    source, _ = make_source_pdf(tmp_path)
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(source.read_bytes()[:400])
    encrypted = tmp_path / "locked.pdf"
    with pikepdf.open(source) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    out = tmp_path / "out"
    inputs = [str(good), str(truncated), str(encrypted), str(source)]
    status = main(["read", "-f", "pdf", "-o", str(out), "-t", "2", *inputs])
    err = capsys.readouterr().err
    assert status == 1
    assert "truncated.pdf" in err
    assert "locked.pdf" in err
    assert sorted(p.name for p in out.iterdir()) == ["good.pdf", "scan.pdf"]  # nothing else
    assert cer(pdftotext(out / "good.pdf"), "\n".join(SAMPLE_TEXT["en"])) <= 0.005
    with pikepdf.open(out / "scan.pdf") as pdf:
        assert len(pdf.pages) == 2

    # Pages with text: an error by default, skipped or forced on request.
    again = tmp_path / "again"
    assert main(["read", "-f", "pdf", "-o", str(again), str(out / "scan.pdf")]) == 1
    assert "already has text" in capsys.readouterr().err
    assert not again.exists() or not list(again.iterdir())
    assert main(["read", "-f", "pdf", "--skip-text", "-o", str(again), str(out / "scan.pdf")]) == 0
    assert main(["read", "-f", "pdf", "--force", "-o", str(again), str(good)]) == 0
    assert main(["read", "-f", "pdf", str(good)]) == 2  # a PDF needs an output folder


# ---------------------------------------------------------------------------------------
# ocrai.ocrmypdf: ocrai as OCRmyPDF 17's OCR engine, end to end and hook by hook. OCRmyPDF
# runs in a subprocess with an empty PATH (no tesseract, no ghostscript): the plugin must
# stand in for OCRmyPDF's Tesseract plugin. Its output gets the checks above.


#: OCRmyPDF's worker processes would run pikepdf, Pillow and fpdf2 under the sanitizer
#: runtimes that scripts/sanitize.sh preloads; the plugin's own code runs in-process in
#: the tests below the end-to-end ones.
under_sanitizer = pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="OCRmyPDF subprocesses are not run under the sanitizers",
)


@pytest.fixture(scope="module")
def plugin() -> Any:
    pytest.importorskip("ocrmypdf")
    import ocrai.ocrmypdf

    return ocrai.ocrmypdf


def scanned_pdf(tmp_path: Path, langs: list[str]) -> tuple[Path, list[Path]]:
    """A scanned PDF of rendered pages at 200 dpi (Pillow's PDF writer), and the pages."""
    images = []
    for k, lang in enumerate(langs):
        path = tmp_path / f"page{k}.png"
        Image.fromarray(render_page(SAMPLE_TEXT[lang], lang=lang).image).save(path, dpi=(200, 200))
        images.append(path)
    frames = [Image.open(p).convert("RGB") for p in images]
    pdf = tmp_path / "scan.pdf"
    frames[0].save(pdf, save_all=True, append_images=frames[1:], resolution=200.0)
    return pdf, images


def run_ocrmypdf(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "no-programs"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "PATH": str(empty)}  # no tesseract, no ghostscript
    return subprocess.run(
        [sys.executable, "-m", "ocrmypdf", "--plugin", "ocrai.ocrmypdf", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@needs_poppler
@pytest.mark.slow
@under_sanitizer
def test_ocrmypdf_with_the_plugin_and_no_tesseract(
    plugin: Any, engine: Any, tmp_path: Path
) -> None:
    langs = list(SAMPLE_TEXT)  # the six languages
    source, images = scanned_pdf(tmp_path, langs)
    out = tmp_path / "out.pdf"
    done = run_ocrmypdf(
        "--jobs", "2", "--output-type", "pdf", "-l", "eng+fra+por+ces+jpn+chi_tra",
        str(source), str(out), tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.exists()
    pages = [engine.recognize(p) for p in images]
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == len(langs)
        producer = str(pdf.open_metadata().get("xmp:CreatorTool", ""))
    assert "ocrai" in producer
    poppler = pdftotext(out).split("\f")
    pdfium = pdfium_text(out)
    boxes = bbox_words(out)
    covered = counted = 0
    for k, (lang, page) in enumerate(zip(langs, pages, strict=True)):
        assert cer(poppler[k], page.text, lang) <= 0.005, lang
        assert cer(pdfium[k], page.text, lang) <= 0.005, lang
        # OCRmyPDF's renderer puts the words on the boxes of our element tree. It fits each
        # word to its box with its own font's widths, which moves a short word's extracted
        # box by a point or so (a one-letter word then overlaps 0.64-0.69): 95 % of the
        # words over the six pages, at least 90 % on each.
        share = overlap_share(page, boxes[k], 200 / 72)
        assert share >= 0.9, lang
        words = len(hocr_words(page))
        covered, counted = covered + round(share * words), counted + words
    assert covered >= 0.95 * counted
    # The page still shows the scan, and nothing else.
    back = render_back(out, tmp_path, size=(pages[0].width, pages[0].height))
    original = np.asarray(Image.open(images[0]).convert("L"), dtype=np.int16)
    assert np.abs(blocks(back) - blocks(original)).mean() < 4.0
    qpdf_check(out)


@needs_poppler
@pytest.mark.slow
@under_sanitizer
def test_rotate_pages_turns_a_quarter_turned_scan(plugin: Any, tmp_path: Path) -> None:
    """--rotate-pages with ocrai's orientation: a page scanned a quarter turn clockwise
    comes out upright, its text extracted in reading order."""
    page = render_page(SAMPLE_TEXT["en"], lang="en").image
    turned = tmp_path / "turned.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(page, -1))).save(turned, dpi=(200, 200))
    source = tmp_path / "scan.pdf"
    Image.open(turned).convert("RGB").save(source, resolution=200.0)
    out = tmp_path / "out.pdf"
    done = run_ocrmypdf(
        "--rotate-pages", "--output-type", "pdf", str(source), str(out), tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    with pikepdf.open(out) as pdf:
        assert int(pdf.pages[0].obj.get("/Rotate", 0)) % 360 in (90, 270)
    assert cer(pdftotext(out), "\n".join(SAMPLE_TEXT["en"]), "en") <= 0.02


@pytest.mark.slow
@under_sanitizer
def test_pdf_a_and_sandwich_renderer_run_too(plugin: Any, tmp_path: Path) -> None:
    """The default output (PDF/A, without ghostscript) and the hOCR and sandwich paths."""
    source, _ = scanned_pdf(tmp_path, ["fr"])
    for extra in ([], ["--pdf-renderer", "sandwich", "--output-type", "pdf"]):
        out = tmp_path / f"out{len(extra)}.pdf"
        done = run_ocrmypdf(*extra, str(source), str(out), tmp_path=tmp_path)
        assert done.returncode == 0, done.stderr
        text = pdfium_text(out)[0]
        assert cer(text, "\n".join(SAMPLE_TEXT["fr"]), "fr") <= 0.02
    assert not list(tmp_path.glob("*.tmp"))


def test_element_tree_holds_every_word_with_its_box(plugin: Any, tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    skewed = rotate_image(render_page(SAMPLE_TEXT["cs"], lang="cs").image, 3.0)
    Image.fromarray(skewed).save(path, dpi=(300, 300))
    tree, text = plugin.OcraiEngine.generate_ocr(path, options=None, page_number=4)
    assert tree.ocr_class == "ocr_page"
    assert tree.page_number == 4
    assert tree.dpi == pytest.approx(300, abs=0.01)
    assert cer(text, "\n".join(SAMPLE_TEXT["cs"]), "cs") <= 0.05
    words = tree.words
    assert " ".join(w.text for w in words).split() == text.split()
    for line in tree.lines:
        assert line.baseline is not None
        # The page turned 3 degrees counter-clockwise: lines rise to the right, which
        # in image coordinates (y down) is a negative slope.
        assert -0.08 < line.baseline.slope < -0.02
        assert line.textangle == 0.0
    for word in words:
        assert word.bbox is not None
        assert word.poly is not None
        assert len(word.poly) == 4
        assert word.bbox.right > word.bbox.left
        assert 0 <= word.confidence <= 1


def test_precision_option_reaches_the_engine(plugin: Any) -> None:
    """--ocrai-precision is the engine's precision; an int8 request without the derived
    file fails with the message that names `ocrai models derive`."""
    import argparse
    import threading
    from types import SimpleNamespace

    parser = argparse.ArgumentParser()
    plugin.add_options(parser)
    assert parser.parse_args([]).ocrai_precision == "auto"
    assert parser.parse_args(["--ocrai-precision", "fp32"]).ocrai_precision == "fp32"
    with pytest.raises(SystemExit):
        parser.parse_args(["--ocrai-precision", "int4"])

    def engine_in_a_thread(options: Any) -> Any:
        got: dict[str, Any] = {}

        def work() -> None:  # a fresh thread: a fresh engine (one per OCRmyPDF worker)
            try:
                engine = plugin._engine(options)
                got["precision"] = engine.precision
                engine.free_resources()
            except Exception as error:  # noqa: BLE001 - handed to the test
                got["error"] = error

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return got

    fp32 = engine_in_a_thread(SimpleNamespace(ocrai_mode="default", ocrai_precision="fp32"))
    assert fp32 == {"precision": "fp32"}
    int8 = engine_in_a_thread(SimpleNamespace(ocrai_mode="default", ocrai_precision="int8"))
    if "error" in int8:
        assert isinstance(int8["error"], FileNotFoundError)
        assert "ocrai models derive" in str(int8["error"])
    else:
        assert int8 == {"precision": "int8"}
    # auto: int8 exactly when it can be had (derived, and a CPU with VNNI), else fp32.
    from ocrai.precision import fast_int8_cpu

    auto = engine_in_a_thread(SimpleNamespace(ocrai_mode="fast", ocrai_precision="auto"))
    can = "error" not in int8 and fast_int8_cpu()
    assert auto == {"precision": "int8" if can else "fp32"}


def test_reread_option_reads_doubtful_words_or_whole_lines(plugin: Any, tmp_path: Path) -> None:
    """--ocrai-reread words (the default) and lines both read the page; words re-reads
    only parts of the lines the tiny recogniser doubts, so the two readings may differ in a
    few characters, never in the lines found."""
    import argparse
    from types import SimpleNamespace

    parser = argparse.ArgumentParser()
    plugin.add_options(parser)
    assert parser.parse_args([]).ocrai_reread == "words"
    path = tmp_path / "page.png"
    page = render_page(SAMPLE_TEXT["en"], lang="en", noise=0.2)
    Image.fromarray(page.image).save(path, dpi=(300, 300))
    texts = {}
    for reread in ("words", "lines"):
        options = SimpleNamespace(ocrai_mode="fast", ocrai_precision="fp32", ocrai_reread=reread)
        _tree, text = plugin.OcraiEngine.generate_ocr(path, options=options)
        texts[reread] = text
        assert cer(text, "\n".join(SAMPLE_TEXT["en"]), "en") <= 0.03
    assert len(texts["words"].splitlines()) == len(texts["lines"].splitlines())


def test_languages_rule_out_other_scripts(
    plugin: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-l names the document's languages, as with Tesseract: a Chinese page read with -l eng
    yields no Chinese character (nor CJK punctuation), with -l chi_tra (or with
    --ocrai-scripts all) it reads as Chinese. A Latin page reads the same either way."""
    import argparse
    from types import SimpleNamespace

    from ocrai import engine
    from ocrai.languages import char_script

    # Read in Latin letters only, the Chinese lines come out unsure, and the engine would
    # leave them out: keep them, to see what they hold.
    monkeypatch.setattr(engine, "UNSURE_LINE", 0.0)

    parser = argparse.ArgumentParser()
    plugin.add_options(parser)
    assert parser.parse_args([]).ocrai_scripts == "languages"
    base = {"ocrai_mode": "fast", "ocrai_precision": "fp32", "ocrai_reread": "words"}

    def read(lang: str, languages: list[str], scripts: str = "languages") -> str:
        path = tmp_path / f"{lang}.png"
        if not path.exists():
            page = render_page(SAMPLE_TEXT[lang], lang=lang)
            Image.fromarray(page.image).save(path, dpi=(300, 300))
        options = SimpleNamespace(**base, languages=languages, ocrai_scripts=scripts)
        return str(plugin.OcraiEngine.generate_ocr(path, options=options)[1])

    truth = "\n".join(SAMPLE_TEXT["zh-hant"])
    as_chinese = read("zh-hant", ["chi_tra"])
    assert cer(as_chinese, truth, "zh-hant") <= 0.05
    assert cer(read("zh-hant", ["eng"], scripts="all"), truth, "zh-hant") <= 0.05
    as_english = read("zh-hant", ["eng", "deu"])
    assert as_english.strip()  # something is read, in the allowed characters only
    assert not [c for c in as_english if char_script(c) not in (None, "Latin")]
    assert not [c for c in as_english if 0x3000 <= ord(c) <= 0x303F or 0xFF00 <= ord(c) <= 0xFFEF]
    assert read("en", ["eng"]) == read("en", ["eng"], scripts="all")


def test_orientation_and_deskew(plugin: Any, tmp_path: Path) -> None:
    upright = render_page(SAMPLE_TEXT["en"], lang="en").image
    paths = {}
    for name, image in {
        "upright": upright,
        "turned_90": np.ascontiguousarray(np.rot90(upright, -1)),  # text turned clockwise
        "upside_down": np.ascontiguousarray(upright[::-1, ::-1]),
        "turned_270": np.ascontiguousarray(np.rot90(upright, 1)),
        "skewed": rotate_image(upright, 2.5),
        "blank": np.full_like(upright, 255),
    }.items():
        paths[name] = tmp_path / f"{name}.png"
        Image.fromarray(image).save(paths[name])
    options = type("Options", (), {"rotate_pages": True})()
    up = plugin.OcraiEngine.get_orientation(paths["upright"], options)
    assert up.angle == 0
    # OCRmyPDF's angle is how far the text is turned clockwise (it turns the page back).
    for name, angle in (("turned_90", 90), ("upside_down", 180), ("turned_270", 270)):
        turned = plugin.OcraiEngine.get_orientation(paths[name], options)
        assert turned.angle == angle, name
        assert turned.confidence >= 14  # OCRmyPDF's default --rotate-pages-threshold
    blank = plugin.OcraiEngine.get_orientation(paths["blank"], options)
    assert (blank.angle, blank.confidence) == (0, 0.0)
    assert plugin.OcraiEngine.get_deskew(paths["skewed"], options) == pytest.approx(-2.5, abs=0.5)
    assert plugin.OcraiEngine.get_deskew(paths["upright"], options) == pytest.approx(0, abs=0.3)


def test_languages_and_tesseract_stand_in(plugin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"eng", "fra", "por", "ces", "jpn", "chi_tra"} <= plugin.OcraiEngine.languages(None)

    class Manager:
        def __init__(self) -> None:
            self.blocked: list[str] = []
            self.registered: list[str] = []

        def is_blocked(self, name: str) -> bool:
            return name in self.blocked

        def set_blocked(self, name: str) -> None:
            self.blocked.append(name)

        def register(self, hooks: object, name: str) -> None:
            self.registered.append(name)

    with_tesseract = Manager()
    monkeypatch.setattr(plugin.shutil, "which", lambda name: f"/usr/bin/{name}")
    plugin.initialize(with_tesseract)  # type: ignore[arg-type]
    assert with_tesseract.blocked == []
    without = Manager()
    monkeypatch.setattr(plugin.shutil, "which", lambda name: None)
    plugin.initialize(without)  # type: ignore[arg-type]
    assert without.blocked == ["ocrmypdf.builtin_plugins.tesseract_ocr"]
    assert without.registered == ["ocrai.ocrmypdf.tesseract_options"]
    none = type("Options", (), {"ocr_engine": "none"})()
    assert plugin.get_ocr_engine(none) is None
    assert isinstance(plugin.get_ocr_engine(None), plugin.OcraiEngine)
