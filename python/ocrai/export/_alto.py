"""ALTO 4 XML (namespace ``http://www.loc.gov/standards/alto/ns-v4#``, schema 4.2):
Description (pixel units, source file, the ocrai processing step) and Layout > Page >
PrintSpace > TextBlock > TextLine > String (with ``SP`` between words). Positions are
whole pixels inside the page (HPOS, VPOS, WIDTH, HEIGHT); ``WC`` is the word confidence
0..1 and ``CONTENT`` its text. One ``Page`` per page. ``LANG`` gives a line's language
(and a word's where it differs from its line's)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ocrai.results import Page

from ._common import IntBox, as_pages, int_box, ocrai_version, xml_text
from ._hocr import line_words

__all__ = ["ALTO_NAMESPACE", "to_alto"]

ALTO_NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{ALTO_NAMESPACE} http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"


def _position(box: IntBox) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


def _sub(parent: ET.Element, name: str, attrib: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, name, attrib or {})


def to_alto(pages: Page | Iterable[Page]) -> str:
    """An ALTO 4 document of one page or several."""
    page_list = as_pages(pages)
    # The namespace declarations are written as plain attributes: ElementTree cannot give
    # unprefixed attributes (HPOS, ...) a default namespace on its own.
    root = ET.Element(
        "alto",
        {"xmlns": ALTO_NAMESPACE, "xmlns:xsi": _XSI, "xsi:schemaLocation": _SCHEMA_LOCATION},
    )
    description = _sub(root, "Description")
    _sub(description, "MeasurementUnit").text = "pixel"
    source = next((page.source for page in page_list if page.source), None)
    if source:
        info = _sub(description, "sourceImageInformation")
        _sub(info, "fileName").text = xml_text(source)
    processing = _sub(description, "Processing", {"ID": "ocrai_processing"})
    _sub(processing, "processingCategory").text = "contentGeneration"
    _sub(processing, "processingStepDescription").text = "text detection and recognition"
    software = _sub(processing, "processingSoftware")
    _sub(software, "softwareName").text = "ocrai"
    _sub(software, "softwareVersion").text = ocrai_version()
    layout = _sub(root, "Layout")
    for p, page in enumerate(page_list, start=1):
        page_el = _sub(
            layout,
            "Page",
            {
                "ID": f"page_{p}",
                "PHYSICAL_IMG_NR": str(p),
                "WIDTH": str(page.width),
                "HEIGHT": str(page.height),
            },
        )
        space = _sub(page_el, "PrintSpace", _position((0, 0, page.width, page.height)))
        line_no = word_no = 0
        for b, block in enumerate(page.blocks, start=1):
            lines = [line for line in block.lines if line.text.strip()]
            if not lines:
                continue
            block_el = _sub(
                space, "TextBlock", {"ID": f"block_{p}_{b}", **_position(int_box(block.bbox, page))}
            )
            for line in lines:
                line_no += 1
                line_attrib = {"ID": f"line_{p}_{line_no}", **_position(int_box(line.bbox, page))}
                if line.language:
                    line_attrib["LANG"] = line.language
                line_el = _sub(block_el, "TextLine", line_attrib)
                previous: IntBox | None = None
                for word in line_words(line):
                    box = int_box(word.bbox, page)
                    if previous is not None:
                        gap_x = min(previous[2], box[0])
                        _sub(
                            line_el,
                            "SP",
                            {
                                "HPOS": str(gap_x),
                                "VPOS": str(min(previous[1], box[1])),
                                "WIDTH": str(max(box[0] - previous[2], 0)),
                            },
                        )
                    word_no += 1
                    confidence = min(max(word.confidence, 0.0), 1.0)
                    string_attrib = {
                        "ID": f"string_{p}_{word_no}",
                        **_position(box),
                        "WC": f"{confidence:.4f}",
                        "CONTENT": xml_text(word.text),
                    }
                    if word.language and word.language != line.language:
                        string_attrib["LANG"] = word.language
                    _sub(line_el, "String", string_attrib)
                    previous = box
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
