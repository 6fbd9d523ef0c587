"""ocrai as OCRmyPDF's OCR engine: ``ocrmypdf --plugin ocrai.ocrmypdf in.pdf out.pdf``.

An OCRmyPDF 17 plugin (``pip install 'ocrai[ocrmypdf]'``). Its `OcraiEngine` implements
OCRmyPDF's structured-result API: ``generate_ocr`` returns the page as OCRmyPDF's element
tree (page > paragraph per block > line > word, each word with its box, its polygon and
its confidence; each line with its baseline and text angle), which OCRmyPDF renders into
its text layer itself. ``generate_hocr`` (the hOCR interface of older pipelines and of
``ocrmypdf --pdf-renderer hocr``) writes ocrai's hOCR, and ``generate_pdf`` (the sandwich
renderer) writes ocrai's own invisible-text PDF of the page (``ocrai.export.to_pdf``).

- Languages: ocrai reads every language of its model pack at once; `languages` lists the
  Tesseract codes of those languages so OCRmyPDF's check of ``-l`` passes for them. As
  with Tesseract, ``-l`` names the document's languages (OCRmyPDF's default is ``eng``):
  letters of scripts none of them is written in are not read (``-l eng`` reads no Chinese
  character into a stamp), nor are the punctuation and fullwidth forms of Chinese and
  Japanese unless ``jpn``, ``chi_tra`` or ``chi_sim`` is named (see
  `ocrai.languages.foreign_characters`). ``--ocrai-scripts all`` reads every script the
  pack has, whatever ``-l`` says.
- Page orientation (``--rotate-pages``): `ocrai.orientation` reads the page preview and
  finds whether it is turned by 0, 90, 180 or 270 degrees (a turned reading has to read
  clearly better than the page as given). OCRmyPDF compares the confidence with
  ``--rotate-pages-threshold`` (default 14, on Tesseract's scale): a turn ocrai found is
  reported as 15, less for pages of fewer than 40 characters read (weak evidence whatever
  they say).
- Deskew (``--deskew``): ``ocrai.preprocess.estimate_skew``.
- ``--ocrai-mode fast`` (the default here): ocrai's fast mode, the tiny pack with unsure
  lines re-read by the small one; ``--ocrai-mode default`` reads every line with the small
  pack. ``--ocrai-reread words`` (the default here) re-reads only the doubted words of a
  line (``lines``: whole lines), and ``--ocrai-precision auto`` (the default) reads with the
  int8 recognisers when they were derived (``ocrai models derive``) and the CPU has VNNI. These
  defaults are for throughput, as OCRmyPDF is a throughput tool measured against
  Tesseract: on six development pages behind OCRmyPDF (``benchmarks/ocrmypdf_compare.py``,
  ``--jobs 2``, three rounds, int8 derived, two runs) they took 0.85-0.90x Tesseract's time
  with a CER of 2.73 % (Tesseract 12.79 %), 1.07-1.12x without the int8 files; fast mode
  with whole lines in fp32 1.16-1.18x (2.67 %); the small pack (int8) 1.23-1.25x (1.72 %).
  On twelve pages the defaults took 0.68x Tesseract's time.
- Threads: OCRmyPDF runs pages in parallel (``--jobs``), so each worker (process or
  thread) has its own engine with a budget of one thread, made at its first page and
  released when the worker ends (at process exit, or when the thread's storage goes).

Tesseract: OCRmyPDF 17's built-in Tesseract plugin checks for the ``tesseract`` program
when it starts, whichever engine is used, and OCRmyPDF's own option checks read that
plugin's options. When the program is missing, this plugin blocks the built-in one and
registers its options alone (``--tesseract-*`` are accepted and ignored), so OCRmyPDF runs
without Tesseract installed.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrmypdf import hookimpl
from ocrmypdf.hocrtransform import Baseline, BoundingBox, OcrClass, OcrElement
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence

from .export import to_hocr, to_pdf
from .languages import foreign_characters
from .results import Line, Page, Word

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    import pluggy

    from .engine import OcrAI

__all__ = ["LANGUAGES", "OcraiEngine", "get_ocr_engine", "initialize"]

# The BCP 47 tag of each Tesseract language code the default pack reads (Latin-script
# languages, Japanese, Chinese); "osd" (Tesseract's orientation data) names no language.
_TAGS: dict[str, str | None] = {
    "eng": "en", "fra": "fr", "deu": "de", "por": "pt", "spa": "es", "ita": "it",
    "nld": "nl", "ces": "cs", "slk": "sk", "pol": "pl", "dan": "da", "nor": "no",
    "swe": "sv", "fin": "fi", "est": "et", "lav": "lv", "lit": "lt", "hun": "hu",
    "ron": "ro", "hrv": "hr", "slv": "sl", "cat": "ca", "glg": "gl", "eus": "eu",
    "isl": "is", "gle": "ga", "cym": "cy", "lat": "la", "tur": "tr", "ind": "id",
    "msa": "ms", "vie": "vi", "afr": "af", "swa": "sw", "sqi": "sq", "bos": "bs",
    "mlt": "mt", "jpn": "ja", "chi_tra": "zh-Hant", "chi_sim": "zh-Hans", "osd": None,
}  # fmt: skip
#: Tesseract language codes of the languages the default pack reads. OCRmyPDF checks
#: ``-l`` against these.
LANGUAGES = frozenset(_TAGS)
_TESSERACT_PLUGIN = "ocrmypdf.builtin_plugins.tesseract_ocr"
_ORIENTATION_SCALE = 15.0  # Tesseract's confidence scale, which --rotate-pages-threshold uses
_ORIENTATION_EVIDENCE = 40  # characters read from which a page's orientation counts fully
_LEVEL_SLOPE = 0.005  # OCRmyPDF's renderer takes flatter baselines as level

_local = threading.local()
_lock = threading.Lock()
_hinted = threading.Event()  # the hint to derive the int8 recognisers is logged once
_log = logging.getLogger(__name__)


def _engine(options: Any) -> OcrAI:
    """This worker's engine (one per thread; a process worker has one thread)."""
    engine: OcrAI | None = getattr(_local, "engine", None)
    if engine is None:
        with _lock:  # the first copy of the model files into the store happens once
            engine = _new_engine(options)
        _local.engine = engine
    return engine


def _new_engine(options: Any) -> OcrAI:
    """An engine of one thread as the options say. ``--ocrai-precision auto`` is the int8
    recognisers when they were derived and this CPU has VNNI (see the module documentation),
    else fp32."""
    from .engine import OcrAI
    from .precision import fast_int8_cpu

    precision = getattr(options, "ocrai_precision", "auto")
    settings: dict[str, Any] = {
        "threads": 1,
        "fast": getattr(options, "ocrai_mode", "fast") == "fast",
    }
    if precision == "auto" and fast_int8_cpu():
        try:
            return OcrAI(precision="int8", **settings)
        except FileNotFoundError:
            if not _hinted.is_set():
                _hinted.set()
                _log.info(
                    "ocrai reads in fp32: derive the int8 recognisers once with "
                    "`ocrai models derive` for faster OCR"
                )
        precision = "fp32"
    return OcrAI(precision=precision, **settings)


def _reading_options(options: Any, engine: OcrAI) -> dict[str, Any]:
    reading: dict[str, Any] = {"reread": getattr(options, "ocrai_reread", "words")}
    denied = _foreign(options, engine)
    if denied:
        reading["denylist"] = denied
    return reading


def _foreign(options: Any, engine: OcrAI) -> str:
    """The characters of the engine's dictionaries that no language of ``-l`` is written
    with (empty with ``--ocrai-scripts all``), worked out once per engine and languages."""
    if getattr(options, "ocrai_scripts", "languages") == "all":
        return ""
    tags = tuple(t for code in getattr(options, "languages", None) or () if (t := _TAGS.get(code)))
    cached = getattr(_local, "foreign", None)
    if cached is not None and cached[0] is engine and cached[1] == tags:
        return str(cached[2])
    chars: list[str] = []
    for role, path in engine.model_files.items():
        if role.endswith("rec_dict"):
            chars += Path(path).read_text(encoding="utf-8").splitlines()
    foreign = foreign_characters(chars, tags)
    _local.foreign = (engine, tags, foreign)
    return foreign


def _read(input_file: Path, options: Any) -> Page:
    engine = _engine(options)
    return engine.recognize(input_file, **_reading_options(options, engine))


def _box(bbox: tuple[float, float, float, float]) -> BoundingBox:
    x0, y0, x1, y1 = bbox
    return BoundingBox(left=x0, top=y0, right=max(x1, x0), bottom=max(y1, y0))


def _word_element(word: Word) -> OcrElement:
    return OcrElement(
        ocr_class=OcrClass.WORD,
        bbox=_box(word.bbox),
        poly=[(x, y) for x, y in word.quad],
        text=word.text,
        confidence=word.confidence,
    )


def _line_element(line: Line) -> OcrElement:
    from .export._hocr import line_words

    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = line.quad
    box = line.bbox
    # The line's direction (mean of its top and bottom edges), counter-clockwise degrees
    # on the page (image y points down).
    angle = -math.degrees(math.atan2((y1 - y0 + y2 - y3) / 2, (x1 - x0 + x2 - x3) / 2))
    if abs(angle) > 45:
        # A turned line (vertical, upside down): hOCR's textangle, no baseline.
        textangle, baseline = round(angle / 90) * 90.0, None
    else:
        dx = x2 - x3
        slope = (y2 - y3) / dx if abs(dx) > 1e-6 else 0.0
        if abs(slope) < _LEVEL_SLOPE:
            # A level line: no baseline, so OCRmyPDF places it from its own font's ascent
            # and descent, and a box as tall as the line itself (not the box around a
            # quad that rises a little), which makes the extracted word boxes the words'.
            textangle, baseline = 0.0, None
            box = (box[0], (y0 + y1) / 2, box[2], max((y2 + y3) / 2, (y0 + y1) / 2 + 1))
        else:
            # A skewed line: the quad's bottom edge as hOCR's baseline (slope in image
            # coordinates, offset from the bottom of the line's box at its left edge).
            at_left = y3 + slope * (box[0] - x3)
            textangle = 0.0
            baseline = Baseline(slope=slope, intercept=min(at_left - box[3], 0.0))
    return OcrElement(
        ocr_class=OcrClass.LINE,
        bbox=_box(box),
        poly=[(x, y) for x, y in line.quad],
        confidence=line.confidence,
        baseline=baseline,
        textangle=textangle,
        children=[_word_element(w) for w in line_words(line) if w.text.strip()],
    )


def page_element(page: Page, *, dpi: float | None = None, page_number: int = 0) -> OcrElement:
    """OCRmyPDF's element tree of one ocrai page: a paragraph per block, its lines, their
    words."""
    paragraphs = []
    for block in page.blocks:
        lines = [_line_element(line) for line in block.lines if line.text.strip()]
        if lines:
            paragraphs.append(
                OcrElement(ocr_class=OcrClass.PARAGRAPH, bbox=_box(block.bbox), children=lines)
            )
    return OcrElement(
        ocr_class=OcrClass.PAGE,
        bbox=BoundingBox(left=0, top=0, right=page.width, bottom=page.height),
        dpi=dpi,
        page_number=page_number,
        children=paragraphs,
    )


def _image_dpi(input_file: Path) -> float | None:
    from PIL import Image

    with Image.open(input_file) as image:
        dpi = image.info.get("dpi")
    try:
        return float(dpi[0]) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None


class OcraiEngine(OcrEngine):
    """ocrai behind OCRmyPDF's OcrEngine interface (see the module documentation)."""

    @staticmethod
    def version() -> str:
        from .export._common import ocrai_version

        return ocrai_version()

    @staticmethod
    def creator_tag(options: Any) -> str:  # noqa: ARG004 - OCRmyPDF's signature
        return f"ocrai {OcraiEngine.version()}"

    def __str__(self) -> str:
        return f"ocrai {self.version()}"

    @staticmethod
    def languages(options: Any) -> AbstractSet[str]:  # noqa: ARG004 - OCRmyPDF's signature
        return LANGUAGES

    @staticmethod
    def get_orientation(input_file: Path, options: Any) -> OrientationConfidence:
        """How far the page's text is turned clockwise (0, 90, 180 or 270 degrees, as
        `ocrai.orientation` finds it), with a confidence on Tesseract's scale (see the
        module documentation)."""
        engine = _engine(options)
        page = engine.recognize(input_file, orientation="auto", **_reading_options(options, engine))
        characters = sum(len(line.text.strip()) for line in page.lines)
        evidence = min(1.0, characters / _ORIENTATION_EVIDENCE)
        sure = 1.0 if page.orientation else (page.orientation_confidence or 0.0)
        return OrientationConfidence(
            angle=page.orientation, confidence=_ORIENTATION_SCALE * sure * evidence
        )

    @staticmethod
    def get_deskew(input_file: Path, options: Any) -> float:  # noqa: ARG004 - OCRmyPDF's
        """Degrees to rotate the page counter-clockwise to level its lines (what OCRmyPDF
        passes to Pillow's ``rotate``)."""
        from .io import load_image
        from .preprocess import estimate_skew

        loaded = load_image(input_file)
        estimate = estimate_skew(loaded.array, loaded.order)
        return float(estimate.angle) if estimate.confidence > 0.2 else 0.0

    @staticmethod
    def supports_generate_ocr() -> bool:
        return True

    @staticmethod
    def generate_ocr(
        input_file: Path, options: Any, page_number: int = 0
    ) -> tuple[OcrElement, str]:
        page = _read(input_file, options)
        return page_element(page, dpi=_image_dpi(input_file), page_number=page_number), page.text

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options: Any) -> None:
        page = _read(input_file, options)
        output_hocr.write_text(to_hocr(page), encoding="utf-8")
        output_text.write_text(page.text, encoding="utf-8")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options: Any) -> None:
        """ocrai's invisible text alone, on a page sized to the image (OCRmyPDF's
        sandwich renderer grafts it onto the page)."""
        page = _read(input_file, options)
        output_pdf.write_bytes(to_pdf(page, input_file, images=False))
        output_text.write_text(page.text, encoding="utf-8")


class _TesseractOptions:
    """The options of OCRmyPDF's Tesseract plugin (``--tesseract-*``, which OCRmyPDF's
    own validation reads) without that plugin's check for the tesseract program: stands
    in for the plugin when the program is missing."""

    @staticmethod
    @hookimpl
    def register_options() -> dict[str, Any]:
        from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOptions

        return {"tesseract": TesseractOptions}

    @staticmethod
    @hookimpl
    def add_options(parser: Any) -> None:
        from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOptions

        TesseractOptions.add_arguments_to_parser(parser)


@hookimpl
def initialize(plugin_manager: pluggy.PluginManager) -> None:
    """Without the tesseract program, replace OCRmyPDF's Tesseract plugin, whose start-up
    check would stop the run although Tesseract is never used, by its options alone."""
    if shutil.which("tesseract") is None and not plugin_manager.is_blocked(_TESSERACT_PLUGIN):
        plugin_manager.set_blocked(_TESSERACT_PLUGIN)
        plugin_manager.register(_TesseractOptions, name=f"{__name__}.tesseract_options")


@hookimpl
def add_options(parser: Any) -> None:
    """``--ocrai-mode fast|default``: ocrai's fast mode (``OcrAI(fast=True)``, the
    plugin's default) or its default reading (the small pack for every line)."""
    group = parser.add_argument_group("ocrai", "Options of the ocrai OCR engine plugin")
    group.add_argument(
        "--ocrai-mode",
        choices=("fast", "default"),
        default="fast",
        help="fast (default): ocrai's tiny pack, unsure lines re-read with the small one; "
        "default: the small pack for every line (slower, a little more accurate)",
    )
    group.add_argument(
        "--ocrai-precision",
        choices=("auto", "int8", "fp32"),
        default="auto",
        help="the small recogniser's arithmetic: auto (default) int8 when it was derived "
        "(`ocrai models derive`) and the CPU has VNNI, else fp32; int8 insists on it; "
        "fp32 never uses it",
    )
    group.add_argument(
        "--ocrai-reread",
        choices=("words", "lines"),
        default="words",
        help="in fast mode, what the small recogniser re-reads of a line the tiny one is "
        "unsure of: words (default) the doubtful words with some of the line around them, "
        "lines the whole line (a little more accurate, slower on typewritten pages)",
    )
    group.add_argument(
        "--ocrai-scripts",
        choices=("languages", "all"),
        default="languages",
        help="languages (default): read only the letters of the scripts -l's languages are "
        "written in (with -l eng no Chinese or Cyrillic letters); all: every script of "
        "ocrai's model pack, whatever -l says",
    )


@hookimpl
def get_ocr_engine(options: Any) -> OcrEngine | None:
    """ocrai, unless ``--ocr-engine none`` asks for no OCR."""
    if options is not None and getattr(options, "ocr_engine", "auto") == "none":
        return None
    return OcraiEngine()
