"""Tesseract-style TSV: a header, then one row per page (level 1), block (2), paragraph
(3, one per block), line (4) and word (5), with the columns ``level page_num block_num
par_num line_num word_num left top width height conf text``. Numbers count from 1 within
their parent, as Tesseract's do; boxes are whole pixels inside the page; ``conf`` is -1
except on words, where it is the confidence 0..100; tabs and line breaks in text become
spaces. Several pages share one header."""

from __future__ import annotations

from collections.abc import Iterable

from ocrai.results import Page

from ._common import IntBox, as_pages, int_box
from ._hocr import line_words

__all__ = ["TSV_COLUMNS", "to_tsv"]

TSV_COLUMNS = (
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
)
_CLEAN = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def _row(
    level: int, numbers: tuple[int, int, int, int, int], box: IntBox, conf: str, text: str
) -> str:
    x0, y0, x1, y1 = box
    fields = [str(level), *map(str, numbers), str(x0), str(y0), str(x1 - x0), str(y1 - y0)]
    return "\t".join([*fields, conf, text.translate(_CLEAN)])


def to_tsv(pages: Page | Iterable[Page]) -> str:
    """A TSV table of one page or several."""
    rows = ["\t".join(TSV_COLUMNS)]
    for p, page in enumerate(as_pages(pages), start=1):
        rows.append(_row(1, (p, 0, 0, 0, 0), (0, 0, page.width, page.height), "-1", ""))
        block_no = 0
        for block in page.blocks:
            lines = [line for line in block.lines if line.text.strip()]
            if not lines:
                continue
            block_no += 1
            box = int_box(block.bbox, page)
            rows.append(_row(2, (p, block_no, 0, 0, 0), box, "-1", ""))
            rows.append(_row(3, (p, block_no, 1, 0, 0), box, "-1", ""))
            for n, line in enumerate(lines, start=1):
                rows.append(_row(4, (p, block_no, 1, n, 0), int_box(line.bbox, page), "-1", ""))
                for w, word in enumerate(line_words(line), start=1):
                    rows.append(
                        _row(
                            5,
                            (p, block_no, 1, n, w),
                            int_box(word.bbox, page),
                            f"{min(max(word.confidence, 0.0), 1.0) * 100:.2f}",
                            word.text,
                        )
                    )
    return "\n".join(rows) + "\n"
