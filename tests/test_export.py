"""ocrai.export: each format parsed back and checked against the page it came from."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from ocrai import export
from ocrai.export import (
    ALTO_NAMESPACE,
    FORMATS,
    SCHEMA_ID,
    TSV_COLUMNS,
    XHTML_NAMESPACE,
    from_json,
    json_schema,
    to_alto,
    to_hocr,
    to_json,
    to_text,
    to_tsv,
)
from ocrai.results import Page

jsonschema = pytest.importorskip("jsonschema")

XH = f"{{{XHTML_NAMESPACE}}}"
AL = f"{{{ALTO_NAMESPACE}}}"


@pytest.fixture
def page(page_dict: Callable[..., dict]) -> Page:
    return Page.from_native(page_dict(top_k=1), source='scans/a "quoted" name.png')


@pytest.fixture
def pages(page_dict: Callable[..., dict]) -> list[Page]:
    return [
        Page.from_native(page_dict(), source="doc.tif", page=0),
        Page.from_native(page_dict([["Ünïcödé 東京駅 text"], []]), source="doc.tif", page=1),
        Page.from_native(page_dict([]), source="doc.tif", page=2),
    ]


def expected_box(box: tuple[float, float, float, float], page: Page) -> tuple[int, ...]:
    x0 = min(max(math.floor(box[0]), 0), page.width - 1)
    y0 = min(max(math.floor(box[1]), 0), page.height - 1)
    return (
        x0,
        y0,
        max(min(math.ceil(box[2]), page.width), x0 + 1),
        max(min(math.ceil(box[3]), page.height), y0 + 1),
    )


def text_lines(page: Page) -> list:
    return [line for line in page.lines if line.text.strip()]


# ------------------------------------------------------------------------------ JSON


def test_json_schema_is_valid_and_describes_the_output(page: Page, pages: list[Page]) -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for doc in (to_json(page), to_json(pages), to_json(pages, indent=2)):
        validator.validate(json.loads(doc))


def test_json_round_trip(page: Page, pages: list[Page]) -> None:
    assert from_json(to_json(page)) == [page]
    assert from_json(to_json(pages, indent=1)) == pages
    assert from_json(to_json(page).encode()) == [page]
    assert from_json(to_json(tuple(pages))) == pages


def test_json_document_shape(page: Page) -> None:
    doc = json.loads(to_json(page))
    assert doc["schema"] == SCHEMA_ID == "ocrai.result/1"
    assert doc["generator"].startswith("ocrai ")
    assert len(doc["pages"]) == 1
    assert doc["pages"][0]["text"] == page.text
    assert doc["pages"][0]["source"] == page.source


def test_json_keeps_unicode_readable(pages: list[Page]) -> None:
    assert "東京駅" in to_json(pages)


def test_schema_rejects_broken_documents(page: Page) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    doc = json.loads(to_json(page))
    doc["pages"][0]["lines"][0]["confidence"] = 1.5
    assert not validator.is_valid(doc)
    doc = json.loads(to_json(page))
    doc["pages"][0]["lines"][0]["quad"].pop()
    assert not validator.is_valid(doc)
    doc = json.loads(to_json(page))
    doc["pages"][0]["extra"] = 1
    assert not validator.is_valid(doc)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "no 'schema' key"),
        ('{"pages": []}', "no 'schema' key"),
        ('{"schema": "ocrai.result/2", "pages": []}', "unsupported version 'ocrai.result/2'"),
        ('{"schema": "hocr", "pages": []}', "schema 'hocr', expected 'ocrai.result/1'"),
        ('{"schema": "ocrai.result/1", "pages": []}', "non-empty 'pages' list"),
        ('{"schema": "ocrai.result/1", "pages": {}}', "non-empty 'pages' list"),
        (
            '{"schema": "ocrai.result/1", "pages": [{"width": 5, "height": 5}]}',
            r"^pages\[0\]: page\.lines is missing$",
        ),
    ],
)
def test_from_json_errors(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        from_json(text)


def test_from_json_names_a_deep_error(page: Page) -> None:
    doc = json.loads(to_json([page, page]))
    doc["pages"][1]["lines"][2]["words"][0]["quad"] = [[0, 0]]
    with pytest.raises(ValueError, match=r"^pages\[1\]: page\.lines\[2\]\.words\[0\]\.quad"):
        from_json(json.dumps(doc))


# ------------------------------------------------------------------------------ text


def test_text(page: Page, pages: list[Page]) -> None:
    assert to_text(page) == page.text + "\n"
    assert to_text(pages) == pages[0].text + "\n\f" + "Ünïcödé 東京駅 text\n\f"
    assert to_text(pages[2]) == ""


# ------------------------------------------------------------------------------ hOCR


def parse_title(title: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1] for part in title.split(";")
    }


def test_hocr_is_xhtml_with_the_ocr_classes(pages: list[Page]) -> None:
    document = to_hocr(pages)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html')
    root = ET.fromstring(document)
    assert root.tag == f"{XH}html"
    meta = {m.get("name"): m.get("content") for m in root.iter(f"{XH}meta")}
    assert "ocrx_word" in meta["ocr-capabilities"]
    page_divs = [d for d in root.iter(f"{XH}div") if d.get("class") == "ocr_page"]
    assert len(page_divs) == len(pages)
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for number, (div, page) in enumerate(zip(page_divs, pages, strict=True)):
        props = parse_title(div.get("title", ""))
        assert props["bbox"] == f"0 0 {page.width} {page.height}"
        assert props["ppageno"] == str(number)
        assert props["image"] == '"doc.tif"'
        lines = [s for s in div.iter(f"{XH}span") if s.get("class") == "ocr_line"]
        assert len(lines) == len(text_lines(page))
        for span, line in zip(lines, text_lines(page), strict=True):
            box = tuple(int(v) for v in parse_title(span.get("title", ""))["bbox"].split())
            assert box == expected_box(line.bbox, page)
            words = [w for w in span if w.get("class") == "ocrx_word"]
            assert [w.text for w in words] == [w.text for w in line.words]
            for element, word in zip(words, line.words, strict=True):
                props = parse_title(element.get("title", ""))
                wbox = tuple(int(v) for v in props["bbox"].split())
                assert wbox == expected_box(word.bbox, page)
                assert 0 <= wbox[0] < wbox[2] <= page.width
                assert 0 <= wbox[1] < wbox[3] <= page.height
                assert int(props["x_wconf"]) == round(word.confidence * 100)
        areas = [d for d in div.iter(f"{XH}div") if d.get("class") == "ocr_carea"]
        assert len(areas) == sum(1 for b in page.blocks if any(ln.text for ln in b.lines))
        assert all(a.find(f"{XH}p").get("class") == "ocr_par" for a in areas)  # type: ignore[union-attr]


def test_hocr_escapes_text_and_names(page: Page) -> None:
    document = to_hocr(page)
    assert "&lt;draft&gt;" in document
    assert "&amp;" in document
    root = ET.fromstring(document)
    words = [w.text for w in root.iter(f"{XH}span") if w.get("class") == "ocrx_word"]
    assert "<draft>" in words
    assert "&" in words
    title = root.find(f"{XH}head/{XH}title")
    assert title is not None
    assert title.text == page.source


def test_hocr_drops_characters_xml_cannot_carry(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict([["bell\x07 form\x0c ok"]]), source="x\x00y.png")
    root = ET.fromstring(to_hocr(page))
    words = [w.text for w in root.iter(f"{XH}span") if w.get("class") == "ocrx_word"]
    assert words == ["bell", "form", "ok"]


def test_hocr_of_an_empty_page(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict([]))
    document = to_hocr(page)
    root = ET.fromstring(document)
    assert [d.get("class") for d in root.iter(f"{XH}div")] == ["ocr_page"]
    assert "<div" in document
    assert "/>\n </body>" not in document


def test_a_line_without_words_is_one_word(page_dict: Callable[..., dict]) -> None:
    d = page_dict([["no word list"]])
    d["lines"][0]["words"] = []
    page = Page.from_native(d)
    root = ET.fromstring(to_hocr(page))
    words = [w.text for w in root.iter(f"{XH}span") if w.get("class") == "ocrx_word"]
    assert words == ["no word list"]
    assert "no word list" in to_tsv(page)
    alto = ET.fromstring(to_alto(page))
    assert [s.get("CONTENT") for s in alto.iter(f"{AL}String")] == ["no word list"]


# ------------------------------------------------------------------------------ ALTO


def test_alto_is_v4_with_positions_inside_the_page(pages: list[Page]) -> None:
    root = ET.fromstring(to_alto(pages))
    assert root.tag == f"{AL}alto"
    description = root.find(f"{AL}Description")
    assert description is not None
    assert description.findtext(f"{AL}MeasurementUnit") == "pixel"
    assert description.findtext(f"{AL}sourceImageInformation/{AL}fileName") == "doc.tif"
    software = description.find(f"{AL}Processing/{AL}processingSoftware")
    assert software is not None
    assert software.findtext(f"{AL}softwareName") == "ocrai"
    page_elements = root.findall(f"{AL}Layout/{AL}Page")
    assert len(page_elements) == len(pages)
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    assert len(ids) == len(set(ids))
    for number, (element, page) in enumerate(zip(page_elements, pages, strict=True), start=1):
        assert element.get("PHYSICAL_IMG_NR") == str(number)
        assert (element.get("WIDTH"), element.get("HEIGHT")) == (
            str(page.width),
            str(page.height),
        )
        space = element.find(f"{AL}PrintSpace")
        assert space is not None
        positioned = [
            e for e in space.iter() if e.tag in (f"{AL}TextBlock", f"{AL}TextLine", f"{AL}String")
        ]
        for e in positioned:
            x, y = int(e.get("HPOS", -1)), int(e.get("VPOS", -1))
            w, h = int(e.get("WIDTH", -1)), int(e.get("HEIGHT", -1))
            assert x >= 0, e.attrib
            assert y >= 0, e.attrib
            assert 0 < w <= page.width - x, e.attrib
            assert 0 < h <= page.height - y, e.attrib
        lines = space.findall(f"{AL}TextBlock/{AL}TextLine")
        assert len(lines) == len(text_lines(page))
        for line_el, line in zip(lines, text_lines(page), strict=True):
            x0, y0, x1, y1 = expected_box(line.bbox, page)
            assert (line_el.get("HPOS"), line_el.get("VPOS")) == (str(x0), str(y0))
            assert (line_el.get("WIDTH"), line_el.get("HEIGHT")) == (str(x1 - x0), str(y1 - y0))
            strings = line_el.findall(f"{AL}String")
            assert [s.get("CONTENT") for s in strings] == [w.text for w in line.words]
            for s, word in zip(strings, line.words, strict=True):
                assert float(s.get("WC", -1)) == pytest.approx(word.confidence, abs=1e-4)
            children = [c.tag.removeprefix(AL) for c in line_el]
            assert children == ["String", "SP"] * (len(strings) - 1) + ["String"]


def test_alto_spaces_sit_between_words(page: Page) -> None:
    root = ET.fromstring(to_alto(page))
    line = next(root.iter(f"{AL}TextLine"))
    children = list(line)
    for k in range(1, len(children) - 1, 2):
        before, sp, after = children[k - 1], children[k], children[k + 1]
        assert sp.tag == f"{AL}SP"
        right = int(before.get("HPOS", 0)) + int(before.get("WIDTH", 0))
        assert int(sp.get("HPOS", -1)) == right
        assert right + int(sp.get("WIDTH", -1)) == int(after.get("HPOS", -1))


def test_alto_escapes_content(page: Page) -> None:
    document = to_alto(page)
    assert 'CONTENT="&lt;draft&gt;"' in document
    root = ET.fromstring(document)
    assert "&" in [s.get("CONTENT") for s in root.iter(f"{AL}String")]


def test_coordinates_outside_the_image_are_clipped(page_dict: Callable[..., dict]) -> None:
    d = page_dict([["edge case"]], width=100, height=40)
    d["lines"][0]["quad"] = [[-5.5, -3], [140, -3], [140, 52], [-5.5, 52]]
    d["lines"][0]["words"][0]["quad"] = [[-5.5, -3], [40, -3], [40, 52], [-5.5, 52]]
    d["lines"][0]["words"][1]["quad"] = [[99.5, 0], [160, 0], [160, 52], [99.5, 52]]
    page = Page.from_native(d)
    strings = list(ET.fromstring(to_alto(page)).iter(f"{AL}String"))
    boxes = [tuple(int(s.get(k, -1)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")) for s in strings]
    assert boxes == [(0, 0, 40, 40), (99, 0, 1, 40)]
    rows = [r.split("\t") for r in to_tsv(page).splitlines()[1:]]
    assert [r[6:10] for r in rows if r[0] == "5"] == [
        ["0", "0", "40", "40"],
        ["99", "0", "1", "40"],
    ]


# ------------------------------------------------------------------------------ TSV


def test_tsv_rows(pages: list[Page]) -> None:
    table = to_tsv(pages)
    assert table.endswith("\n")
    rows = [r.split("\t") for r in table.splitlines()]
    assert tuple(rows[0]) == TSV_COLUMNS
    body = rows[1:]
    assert all(len(r) == len(TSV_COLUMNS) for r in body)
    assert [r for r in body if r[0] == "1"] == [
        ["1", str(n), "0", "0", "0", "0", "0", "0", str(p.width), str(p.height), "-1", ""]
        for n, p in enumerate(pages, start=1)
    ]
    words = [r for r in body if r[0] == "5"]
    assert [r[11] for r in words] == [w.text for p in pages for w in p.words]
    assert all(r[10] != "-1" and 0 <= float(r[10]) <= 100 for r in words)
    assert all(r[10] == "-1" for r in body if r[0] != "5")
    first = pages[0]
    lines = [r for r in body if r[0] == "4" and r[1] == "1"]
    assert [(r[2], r[3], r[4]) for r in lines] == [
        ("1", "1", "1"),
        ("1", "1", "2"),
        ("2", "1", "1"),
    ]
    x0, y0, x1, y1 = expected_box(first.lines[1].bbox, first)
    assert lines[1][6:10] == [str(x0), str(y0), str(x1 - x0), str(y1 - y0)]
    word_numbers = [r[5] for r in words if r[1] == "1" and r[4] == "1" and r[2] == "1"]
    assert word_numbers == ["1", "2", "3"]


def test_tsv_text_never_breaks_the_table(page_dict: Callable[..., dict]) -> None:
    d = page_dict([["a b"]])
    d["lines"][0]["words"][0]["text"] = "tab\there\nnl"
    table = to_tsv(Page.from_native(d))
    assert [r.split("\t")[11] for r in table.splitlines()[1:] if r.startswith("5")] == [
        "tab here nl",
        "b",
    ]


# ------------------------------------------------------------------------------ common


@pytest.mark.parametrize("exporter", [to_text, to_json, to_hocr, to_alto, to_tsv])
def test_exporters_check_their_input(exporter: Callable[..., str], page: Page) -> None:
    with pytest.raises(ValueError, match="no pages to export"):
        exporter([])
    with pytest.raises(TypeError, match="item 1 is a dict, not a Page"):
        exporter([page, {}])
    with pytest.raises(TypeError, match="expected a Page or an iterable of Pages, not str"):
        exporter("page")
    assert exporter(iter([page])) == exporter(page)


def test_formats_table() -> None:
    assert set(FORMATS) == {"txt", "json", "hocr", "alto", "tsv"}
    assert FORMATS["alto"] == (export.to_alto, ".xml")
    assert len({ext for _, ext in FORMATS.values()}) == len(FORMATS)


def test_plain_python_layers_never_import_the_native_module() -> None:
    # results and exporters are plain Python: they must stay importable and testable in
    # isolation from the C++ core, so none of their modules imports `_core`.
    import ast
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("ocrai")
    assert spec is not None
    assert spec.origin is not None
    package = Path(spec.origin).parent
    modules = [package / "results.py", *sorted((package / "export").glob("*.py"))]
    offenders = []
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(alias.name for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name == "_core" or name.endswith("._core") for name in names):
                offenders.append(f"{module.name}:{node.lineno}")
    assert offenders == []
