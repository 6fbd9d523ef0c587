"""Exporters: one page or a sequence of pages (a multi-page document) to text, JSON
(the versioned ``ocrai.result/1`` schema, read back by ``from_json``), hOCR, ALTO 4 XML
and Tesseract-style TSV. Each returns a ``str``; pages keep the order given.
``to_pdf(pages, source)`` returns the bytes of a searchable PDF made from the source file
itself (needs the ``ocrai[pdf]`` extra: pikepdf, fontTools, pypdfium2). The overlays
(``to_overlay_png``, ``to_overlay_html``) draw a result over its page image.

``FORMATS`` maps the command line's format names to (exporter, file extension)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ocrai.results import Page

from ._alto import ALTO_NAMESPACE, to_alto
from ._hocr import XHTML_NAMESPACE, to_hocr
from ._json import SCHEMA_ID, from_json, json_schema, to_json
from ._overlay import confidence_colour, to_overlay_html, to_overlay_png
from ._pdf import PdfInputError, PdfTextExistsError, to_pdf
from ._text import to_text
from ._tsv import TSV_COLUMNS, to_tsv

__all__ = [
    "ALTO_NAMESPACE",
    "FORMATS",
    "SCHEMA_ID",
    "TSV_COLUMNS",
    "XHTML_NAMESPACE",
    "Exporter",
    "PdfInputError",
    "PdfTextExistsError",
    "confidence_colour",
    "from_json",
    "json_schema",
    "to_alto",
    "to_hocr",
    "to_json",
    "to_overlay_html",
    "to_overlay_png",
    "to_pdf",
    "to_text",
    "to_tsv",
]

Exporter = Callable[[Page | Iterable[Page]], str]

FORMATS: dict[str, tuple[Exporter, str]] = {
    "txt": (to_text, ".txt"),
    "json": (to_json, ".json"),
    "hocr": (to_hocr, ".hocr"),
    "alto": (to_alto, ".xml"),
    "tsv": (to_tsv, ".tsv"),
}
