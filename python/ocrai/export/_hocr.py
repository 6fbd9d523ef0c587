"""hOCR 1.2: XHTML 1.0 with ``ocr_page`` > ``ocr_carea`` > ``ocr_par`` > ``ocr_line`` >
``ocrx_word`` elements. Each carries ``bbox x0 y0 x1 y1`` (whole pixels inside the page)
in its ``title``; words add ``x_wconf`` (confidence 0..100). One ``ocr_page`` per page.
Lines carry their language as ``lang`` (and words where theirs differs); the languages and
scripts (ISO 15924) of all pages are listed in the ``ocr-langs`` and ``ocr-scripts`` meta
elements.
Built with ElementTree, so text and names are escaped; characters XML cannot carry are
dropped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ocrai.languages import ISO_15924
from ocrai.results import Line, Page, Word

from ._common import as_pages, int_box, ocrai_version, percent, xml_text

__all__ = ["XHTML_NAMESPACE", "to_hocr"]

XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"
_PROLOGUE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
    '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
)
_CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"


def _bbox_title(box: tuple[int, int, int, int]) -> str:
    return "bbox {} {} {} {}".format(*box)


def line_words(line: Line) -> tuple[Word, ...]:
    """The words of a line; a line with text but no word list is one word."""
    if line.words or not line.text.strip():
        return line.words
    return (Word(line.text, line.confidence, line.quad),)


def to_hocr(pages: Page | Iterable[Page], *, title: str | None = None) -> str:
    """An hOCR document of one page or several; ``title`` defaults to the first page's
    source."""
    page_list = as_pages(pages)
    html = ET.Element("html", {"xmlns": XHTML_NAMESPACE, "xml:lang": "en", "lang": "en"})
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "title").text = xml_text(title or page_list[0].source or "ocrai")
    ET.SubElement(
        head, "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"}
    )
    ET.SubElement(head, "meta", {"name": "ocr-system", "content": f"ocrai {ocrai_version()}"})
    languages = list(dict.fromkeys(lang for page in page_list for lang in page.languages))
    capabilities = f"{_CAPABILITIES} ocrp_lang" if languages else _CAPABILITIES
    ET.SubElement(head, "meta", {"name": "ocr-capabilities", "content": capabilities})
    if languages:
        ET.SubElement(head, "meta", {"name": "ocr-langs", "content": " ".join(languages)})
        scripts = dict.fromkeys(
            ISO_15924[line.script]
            for page in page_list
            for line in page.lines
            if line.script in ISO_15924
        )
        ET.SubElement(head, "meta", {"name": "ocr-scripts", "content": " ".join(scripts)})
    ET.SubElement(head, "meta", {"name": "ocr-number-of-pages", "content": str(len(page_list))})
    body = ET.SubElement(html, "body")
    for p, page in enumerate(page_list, start=1):
        props = []
        if page.source:
            props.append('image "{}"'.format(xml_text(page.source).replace('"', "'")))
        props += [f"bbox 0 0 {page.width} {page.height}", f"ppageno {p - 1}"]
        page_div = ET.SubElement(
            body, "div", {"class": "ocr_page", "id": f"page_{p}", "title": "; ".join(props)}
        )
        page_div.text = "\n"  # an empty page is <div ...></div>, not <div/>
        line_no = word_no = 0
        for b, block in enumerate(page.blocks, start=1):
            lines = [line for line in block.lines if line.text.strip()]
            if not lines:
                continue
            box = _bbox_title(int_box(block.bbox, page))
            area = ET.SubElement(
                page_div, "div", {"class": "ocr_carea", "id": f"block_{p}_{b}", "title": box}
            )
            par = ET.SubElement(area, "p", {"class": "ocr_par", "id": f"par_{p}_{b}", "title": box})
            for line in lines:
                line_no += 1
                line_attrib = {
                    "class": "ocr_line",
                    "id": f"line_{p}_{line_no}",
                    "title": _bbox_title(int_box(line.bbox, page)),
                }
                if line.language:
                    line_attrib["lang"] = line.language
                span = ET.SubElement(par, "span", line_attrib)
                for word in line_words(line):
                    word_no += 1
                    title_ = f"{_bbox_title(int_box(word.bbox, page))}; x_wconf {percent(word.confidence)}"
                    word_attrib = {
                        "class": "ocrx_word",
                        "id": f"word_{p}_{word_no}",
                        "title": title_,
                    }
                    if word.language and word.language != line.language:
                        word_attrib["lang"] = word.language
                    ET.SubElement(span, "span", word_attrib).text = xml_text(word.text)
    ET.indent(html, space=" ")
    return _PROLOGUE + ET.tostring(html, encoding="unicode") + "\n"
