"""ocrai.results: Page objects from the pipeline's dict, text, dicts and their checks."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Callable

import pytest

from ocrai.results import Block, Line, Page, Timings, Word


def test_from_native_builds_the_tree(page_dict: Callable[..., dict]) -> None:
    d = page_dict()
    page = Page.from_native(d, source="scan.png", page=3)
    assert (page.width, page.height, page.size) == (800, 600, (800, 600))
    assert (page.source, page.page, page.angle, page.deskewed) == ("scan.png", 3, 0.25, False)
    assert [line.text for line in page.lines] == [
        "Invoice 2026-114 <draft>",
        "Total: 1,284.50 & tax",
        "Second column",
    ]
    first = page.lines[0]
    assert first.quad == ((20.0, 20.0), (308.0, 20.0), (308.0, 50.0), (20.0, 50.0))
    assert first.bbox == (20.0, 20.0, 308.0, 50.0)
    assert [w.text for w in first.words] == ["Invoice", "2026-114", "<draft>"]
    assert first.words[1].bbox == (116.0, 20.0, 212.0, 50.0)
    assert len(first.chars) == len(first.text)
    assert first.chars[0].x0 == 0.0
    assert first.chars[-1].x1 == 1.0
    assert (first.det_score, first.model, page.lines[1].model) == (0.88, "primary", "fallback")
    assert [b.line_indices for b in page.blocks] == [(0, 1), (2,)]
    assert page.blocks[1].lines == (page.lines[2],)
    assert page.timings.total == 66.25
    assert page.timings.as_dict()["recognize"] == 40.5
    assert page.models.rec == "ppocrv6-small-rec.onnx"
    assert page.models.cls is None
    assert [w.text for w in page.words][-2:] == ["Second", "column"]


def test_text_joins_lines_and_separates_blocks(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict())
    assert page.text == "Invoice 2026-114 <draft>\nTotal: 1,284.50 & tax\n\nSecond column"


def test_text_skips_empty_lines(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict([["a", "", "  ", "b"], [""], ["c"]]))
    assert page.text == "a\nb\n\nc"


def test_empty_page(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict([]))
    assert page.lines == ()
    assert page.blocks == ()
    assert page.text == ""
    assert list(page.words) == []


def test_pages_are_frozen_hashable_and_equal_by_value(page_dict: Callable[..., dict]) -> None:
    one = Page.from_native(page_dict())
    two = Page.from_native(page_dict())
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.width = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.lines[0].text = "x"  # type: ignore[misc]
    other = Page.from_native(page_dict([["different"]]))
    assert one != other


def test_to_dict_round_trips(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict(top_k=2), source="a.tif", page=1)
    d = page.to_dict()
    json.dumps(d, allow_nan=False)  # plain JSON types only
    assert d["text"] == page.text
    assert d["lines"][0]["bbox"] == list(page.lines[0].bbox)
    assert d["lines"][0]["chars"][0]["alternatives"] == [["I", 0.005]]
    again = Page.from_dict(json.loads(json.dumps(d)))
    assert again == page
    assert again.lines[0].chars[0].alternatives == (("I", 0.005),)


def test_with_source(page_dict: Callable[..., dict]) -> None:
    page = Page.from_native(page_dict())
    moved = page.with_source("b.pdf", 4)
    assert (moved.source, moved.page) == ("b.pdf", 4)
    assert moved.lines == page.lines
    assert page.with_source(None).page == 0


def test_a_result_without_blocks_gets_one(page_dict: Callable[..., dict]) -> None:
    d = page_dict([["one line read without detection"]])
    d["blocks"] = []
    d["lines"][0]["block"] = 7
    page = Page.from_native(d)
    assert len(page.blocks) == 1
    assert page.blocks[0].line_indices == (0,)
    assert page.blocks[0].bbox == page.lines[0].bbox
    assert page.lines[0].block == 0


def test_optional_keys_take_defaults() -> None:
    d = {
        "width": 10,
        "height": 5,
        "lines": [{"text": "x", "confidence": 0.5, "quad": [[0, 0], [4, 0], [4, 5], [0, 5]]}],
    }
    page = Page.from_native(d)
    line = page.lines[0]
    assert (line.det_score, line.block, line.rotated_180, line.model) == (
        1.0,
        0,
        False,
        "primary",
    )
    assert page.timings == Timings()
    assert page.models.det is None


def test_unknown_timing_keys_are_ignored(page_dict: Callable[..., dict]) -> None:
    d = page_dict()
    d["timings"]["load"] = 3.0
    assert Page.from_native(d).timings.total == 66.25


def _broken(page_dict: Callable[..., dict], change: Callable[[dict], object]) -> dict:
    d = copy.deepcopy(page_dict())
    change(d)
    return d


BROKEN: list[tuple[str, Callable[[dict], object], str]] = [
    ("no-width", lambda d: d.pop("width"), r"^page\.width is missing$"),
    ("no-lines", lambda d: d.pop("lines"), r"^page\.lines is missing$"),
    ("float-width", lambda d: d.update(width=10.5), r"page\.width must be an integer"),
    ("zero-size", lambda d: d.update(height=0), r"positive size, not 800x0"),
    ("lines-not-list", lambda d: d.update(lines="abc"), r"page\.lines must be a list, not str"),
    ("line-not-dict", lambda d: d["lines"].__setitem__(0, 5), r"lines\[0\] must be a dict"),
    (
        "three-points",
        lambda d: d["lines"][0]["quad"].pop(),
        r"page\.lines\[0\]\.quad must have 4 points, not 3",
    ),
    (
        "point-3d",
        lambda d: d["lines"][1]["words"][0]["quad"][2].append(1),
        r"page\.lines\[1\]\.words\[0\]\.quad\[2\] must be \[x, y\]",
    ),
    (
        "nan-conf",
        lambda d: d["lines"][0].update(confidence=math.nan),
        r"page\.lines\[0\]\.confidence must be finite, not nan",
    ),
    (
        "inf-coord",
        lambda d: d["lines"][0]["quad"][1].__setitem__(0, math.inf),
        r"quad\[1\]\[0\] must be finite",
    ),
    (
        "bool-number",
        lambda d: d["lines"][0].update(det_score=True),
        r"det_score must be a number, not True",
    ),
    (
        "text-not-str",
        lambda d: d["lines"][0]["chars"][0].update(text=None),
        r"page\.lines\[0\]\.chars\[0\]\.text must be a string, not None",
    ),
    (
        "bad-model",
        lambda d: d["lines"][0].update(model="tiny"),
        r"model must be 'primary' or 'fallback', not 'tiny'",
    ),
    (
        "block-out-of-range",
        lambda d: d["blocks"][1]["lines"].append(9),
        r"^page: block 1 lists line 9, but the page has 3 lines$",
    ),
    (
        "line-twice",
        lambda d: d["blocks"][1]["lines"].append(0),
        r"line 0 is listed in blocks 0 and 1",
    ),
    (
        "orphan-line",
        lambda d: d["blocks"][1]["lines"].clear(),
        r"line 2 \('Second column'\) is in no block",
    ),
    (
        "wrong-block",
        lambda d: d["lines"][2].update(block=0),
        r"line 2 says it is in block 0, but block 1 lists it",
    ),
    (
        "bad-bbox",
        lambda d: d["blocks"][0].update(bbox=[1, 2, 3]),
        r"blocks\[0\]\.bbox must be \[x0, y0, x1, y1\]",
    ),
    ("timings-list", lambda d: d.update(timings=[1, 2]), r"page\.timings must be a dict"),
    (
        "model-number",
        lambda d: d["models"].update(rec=3),
        r"page\.models\.rec must be a string, not 3",
    ),
    (
        "alt-shape",
        lambda d: d["lines"][0]["chars"][0].update(alternatives=[["x", "p"]]),
        r"alternatives\[0\]\[1\] must be a number",
    ),
]


@pytest.mark.parametrize(("change", "match"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_malformed_dicts_name_the_bad_value(
    page_dict: Callable[..., dict], change: Callable[[dict], object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        Page.from_native(_broken(page_dict, change))


def test_from_dict_checks_source_and_page(page_dict: Callable[..., dict]) -> None:
    d = Page.from_native(page_dict()).to_dict()
    d["source"] = 5
    with pytest.raises(ValueError, match=r"page\.source must be a string or null"):
        Page.from_dict(d)
    d["source"] = None
    d["page"] = -1
    with pytest.raises(ValueError, match=r"page\.page must be 0 or more"):
        Page.from_dict(d)


def test_pages_built_directly_fill_block_lines() -> None:
    quad = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
    lines = (Line("a", 0.9, quad), Line("b", 0.8, quad, block=1))
    page = Page(20, 10, lines, (Block((0, 0, 10, 5), (0,)), Block((0, 0, 10, 5), (1,))))
    assert page.blocks[0].lines == (lines[0],)
    assert page.blocks[1].lines == (lines[1],)
    assert page.text == "a\n\nb"
    word = Word("w", 0.5, quad)
    assert word.bbox == (0.0, 0.0, 10.0, 5.0)


def test_keeping_drops_lines_and_renumbers_blocks() -> None:
    def line(text: str, confidence: float, x: float, y: float, block: int) -> Line:
        quad = ((x, y), (x + 10.0, y), (x + 10.0, y + 5.0), (x, y + 5.0))
        return Line(text, confidence, quad, block=block)

    lines = (
        line("stamp", 0.3, 80, 0, 0),  # a block of its own, left empty
        line("one", 0.95, 0, 10, 1),
        line("mark", 0.5, 40, 12, 1),
        line("two", 0.9, 0, 20, 1),
        line("three", 0.99, 0, 40, 2),
    )
    blocks = (
        Block((80, 0, 90, 5), (0,)),
        Block((0, 10, 50, 25), (1, 2, 3)),
        Block((0, 40, 10, 45), (4,)),
    )
    page = Page(100, 50, lines, blocks)
    kept = page.keeping(lambda ln: ln.confidence >= 0.7)
    assert [ln.text for ln in kept.lines] == ["one", "two", "three"]
    assert [b.line_indices for b in kept.blocks] == [(0, 1), (2,)]
    assert [ln.block for ln in kept.lines] == [0, 0, 1]
    assert kept.blocks[0].bbox == (0, 10, 10, 25)  # the mark's box is gone from its block
    assert kept.blocks[1].bbox == (0, 40, 10, 45)  # a block that lost nothing keeps its box
    assert kept.text == "one\ntwo\n\nthree"
    assert page.keeping(lambda ln: True) is page
    assert page.keeping(lambda ln: False).lines == ()
