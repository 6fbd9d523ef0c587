"""What every exporter shares: page lists, integer boxes inside the page, XML-safe text."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache
from importlib import metadata

from ocrai.results import BBox, Line, Page

__all__ = ["IntBox", "as_pages", "int_box", "ocrai_version", "xml_text"]

IntBox = tuple[int, int, int, int]


@cache
def ocrai_version() -> str:
    """The installed ocrai's version, from its package metadata: the exporters name their
    generator without importing the native module (they are plain Python)."""
    return metadata.version("ocrai")


# Characters that XML 1.0 cannot carry even escaped (C0 controls but tab/LF/CR, lone
# surrogates, U+FFFE/U+FFFF). Recognised text never has them; names of files might.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def as_pages(pages: Page | Iterable[Page]) -> list[Page]:
    """One page or an iterable of pages, as a non-empty list; TypeError for anything else."""
    given: object = pages  # checked at run time: callers may pass anything
    if isinstance(given, Page):
        return [given]
    if isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
        msg = f"expected a Page or an iterable of Pages, not {type(given).__name__}"
        raise TypeError(msg)
    result: list[object] = list(given)
    for k, page in enumerate(result):
        if not isinstance(page, Page):
            msg = f"item {k} is a {type(page).__name__}, not a Page"
            raise TypeError(msg)
    if not result:
        msg = "no pages to export"
        raise ValueError(msg)
    return [page for page in result if isinstance(page, Page)]


def int_box(box: BBox, page: Page) -> IntBox:
    """Whole-pixel (x0, y0, x1, y1) covering `box`, clipped to the page, never empty:
    0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height."""
    x0 = min(max(math.floor(box[0]), 0), page.width - 1)
    y0 = min(max(math.floor(box[1]), 0), page.height - 1)
    x1 = max(min(math.ceil(box[2]), page.width), x0 + 1)
    y1 = max(min(math.ceil(box[3]), page.height), y0 + 1)
    return (x0, y0, x1, y1)


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot represent."""
    return _NOT_XML.sub("", text)


def lines_by_block(page: Page) -> list[list[tuple[int, Line]]]:
    """The page's lines grouped by block, in reading order, with their page indices."""
    return [[(i, page.lines[i]) for i in block.line_indices] for block in page.blocks]


def percent(confidence: float) -> int:
    """A 0..1 confidence as a whole percentage 0..100."""
    return min(max(round(confidence * 100), 0), 100)
