"""Page orientation: turned pages read upright, coordinates in the input's space, vertical
Japanese and Chinese lines left alone, one native call for an upright page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocrai import OcrAI, testing
from ocrai.cli import _reading_args, build_parser, main
from ocrai.export import from_json
from ocrai.orientation import check_orientation, read_oriented, turn_upright
from ocrai.results import Page

LANGS = ["en", "fr", "pt", "cs", "ja", "zh-hant"]


@pytest.fixture(scope="module")
def ai() -> Iterator[OcrAI]:
    with OcrAI(threads=2) as engine:
        yield engine


def turned(image: np.ndarray, clockwise: int) -> np.ndarray:
    """The image with its content turned clockwise by `clockwise` degrees."""
    return np.ascontiguousarray(np.rot90(image, -clockwise // 90))


def turned_box(
    box: tuple[int, int, int, int], clockwise: int, width: int, height: int
) -> tuple[float, float, float, float]:
    """Where an upright box lies once the page is turned clockwise."""
    x0, y0, x1, y1 = box
    if clockwise == 90:  # (x, y) -> (H - y, x)
        return (height - y1, x0, height - y0, x1)
    if clockwise == 180:
        return (width - x1, height - y1, width - x0, height - y0)
    if clockwise == 270:  # (x, y) -> (y, W - x)
        return (y0, width - x1, y1, width - x0)
    return (x0, y0, x1, y1)


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def signed_area2(quad: tuple[tuple[float, float], ...]) -> float:
    return sum(
        quad[i][0] * quad[(i + 1) % 4][1] - quad[(i + 1) % 4][0] * quad[i][1] for i in range(4)
    )


@pytest.mark.parametrize("lang", LANGS)
def test_turned_pages_read_as_the_upright_page(ai: OcrAI, lang: str) -> None:
    rendered = testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang)
    height, width = rendered.image.shape[:2]
    upright = ai.recognize(rendered.image)
    assert upright.orientation == 0
    base = testing.cer(upright.text, rendered.text, lang)
    for clockwise in (90, 180, 270):
        page = ai.recognize(turned(rendered.image, clockwise))
        got = testing.cer(page.text, rendered.text, lang)
        assert got <= base + 0.005, (lang, clockwise, page.text)
        assert (page.height, page.width) == turned(rendered.image, clockwise).shape[:2]
        assert page.orientation == clockwise, (lang, clockwise)
        assert page.orientation_confidence is not None
        assert 0.5 < page.orientation_confidence <= 1.0, (lang, clockwise)
        # Coordinates in the turned input: every line lies over its text there.
        for line, box in zip(page.lines, rendered.boxes, strict=True):
            want = turned_box(box, clockwise, width, height)
            assert overlap(line.bbox, want) > 0.5, (lang, clockwise, line.text)
            assert signed_area2(line.quad) > 0  # still clockwise in image coordinates
            for word in line.words:
                wx0, wy0, wx1, wy1 = word.bbox
                assert want[0] - 20 <= wx0
                assert wx1 <= want[2] + 20
                assert want[1] - 20 <= wy0
                assert wy1 <= want[3] + 20


def test_off_reads_a_turned_page_as_it_is(ai: OcrAI) -> None:
    rendered = testing.render_page(testing.SAMPLE_TEXT["en"])
    page = ai.recognize(turned(rendered.image, 180), orientation="off")
    assert page.orientation == 0
    assert page.orientation_confidence is None
    assert testing.cer(page.text, rendered.text, "en") > 0.3


@pytest.mark.parametrize("clockwise", [0, 90, 180, 270])
def test_explicit_orientation(ai: OcrAI, clockwise: int) -> None:
    rendered = testing.render_page(testing.SAMPLE_TEXT["fr"], lang="fr")
    page = ai.recognize(turned(rendered.image, clockwise), orientation=clockwise)
    assert page.orientation == clockwise
    assert page.orientation_confidence == 1.0
    assert testing.cer(page.text, rendered.text, "fr") < 0.02


def render_vertical(lines: list[str], lang: str, size: int = 36) -> np.ndarray:
    """Vertical writing: columns of upright characters, right to left."""
    font = testing._font(lang, size, False)
    step, advance = int(size * 1.8), int(size * 1.1)
    width = 120 + step * len(lines)
    height = 120 + advance * max(len(line) for line in lines)
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        x = width - 60 - step * (i + 1) + (step - size) // 2
        for j, ch in enumerate(line):
            draw.text((x, 60 + j * advance), ch, font=font, fill=(20, 20, 20))
    return np.asarray(image).copy()


@pytest.mark.parametrize("lang", ["ja", "zh-hant"])
def test_vertical_cjk_lines_still_read(ai: OcrAI, lang: str) -> None:
    lines = testing.SAMPLE_TEXT[lang]
    page = ai.recognize(render_vertical(lines, lang))
    assert page.orientation == 0
    assert page.orientation_confidence is not None
    assert page.orientation_confidence > 0.5
    assert testing.cer(page.text, "\n".join(lines), lang) < 0.03
    for line in page.lines:
        x0, y0, x1, y1 = line.bbox
        assert y1 - y0 > 3 * (x1 - x0)  # read as the tall columns they are


@pytest.mark.parametrize("lang", ["ja", "zh-hant"])
def test_a_cjk_page_turned_a_quarter_is_not_vertical_writing(ai: OcrAI, lang: str) -> None:
    """Both read alike (the pipeline reads tall lines turned a quarter): the page turned 90
    degrees is told apart by its characters lying on their side, and costs a cut-up reading
    of its tall lines and the upright reading; vertical writing costs the cut-up reading."""
    rendered = testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang)
    calls: list[tuple[int, ...]] = []

    def read(array: np.ndarray) -> Page:
        calls.append(array.shape)
        return ai.recognize(array, orientation="off")

    page = read_oriented(read, turned(rendered.image, 90), "auto")
    assert page.orientation == 90
    assert page.orientation_confidence is not None
    assert page.orientation_confidence > 0.7
    assert len(calls) == 3
    assert calls[-1] == rendered.image.shape  # read upright at last
    # Its lines are wide in the upright page, tall in the input it came as.
    for line in page.lines:
        x0, y0, x1, y1 = line.bbox
        if len(line.text) > 3:
            assert y1 - y0 > x1 - x0
    calls.clear()
    page = read_oriented(read, render_vertical(testing.SAMPLE_TEXT[lang], lang), "auto")
    assert page.orientation == 0
    assert len(calls) == 2


def test_an_upright_page_is_read_once(ai: OcrAI) -> None:
    rendered = testing.render_page(testing.SAMPLE_TEXT["cs"], lang="cs")
    calls: list[tuple[int, ...]] = []
    totals: list[float] = []

    def read(array: np.ndarray) -> Page:
        calls.append(array.shape)
        page = ai.recognize(array, orientation="off")
        totals.append(page.timings.total)
        return page

    page = read_oriented(read, rendered.image, "auto")
    assert calls == [rendered.image.shape]
    assert page.orientation == 0
    calls.clear()
    page = read_oriented(read, turned(rendered.image, 180), "auto")
    assert page.orientation == 180
    assert len(calls) == 2
    assert page.timings.total == pytest.approx(sum(totals[-2:]))  # both readings counted
    calls.clear()
    read_oriented(read, turned(rendered.image, 180), "auto", detect=False)
    assert len(calls) == 1  # one line: never turned by auto


def test_blank_page(ai: OcrAI) -> None:
    page = ai.recognize(np.full((200, 300), 255, np.uint8))
    assert page.lines == ()
    assert page.orientation == 0
    assert page.orientation_confidence == 0.0


def test_turn_upright_undoes_a_clockwise_turn(rng: np.random.Generator) -> None:
    image = rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    for clockwise in (0, 90, 180, 270):
        back = turn_upright(turned(image, clockwise), clockwise)
        assert back.flags.c_contiguous
        np.testing.assert_array_equal(back, image)


@pytest.mark.parametrize("bad", ["up", 45, -90, True, None, "90"])
def test_bad_orientation(bad: object) -> None:
    with pytest.raises(ValueError, match="orientation must be one of"):
        check_orientation(bad)
    with pytest.raises(ValueError, match="orientation must be one of"):
        OcrAI(orientation=bad)  # type: ignore[arg-type]


def test_cli_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["read", "x.png", "--orientation", "180"])
    assert args.orientation == 180
    args = build_parser().parse_args(["read", "x.png", "--languages", "cs, zh-hant"])
    assert _reading_args(args) == {"orientation": "auto", "languages": ["cs", "zh-Hant"]}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["read", "x.png", "--orientation", "45"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["read", "x.png", "--languages", "cs,english language"])
    assert "BCP 47" in capsys.readouterr().err

    rendered = testing.render_page(testing.SAMPLE_TEXT["cs"], lang="cs")
    path = tmp_path / "turned.png"
    Image.fromarray(turned(rendered.image, 180)).save(path)
    assert main(["read", str(path), "-f", "json", "-t", "1", "--languages", "cs"]) == 0
    (page,) = from_json(capsys.readouterr().out)
    assert page.orientation == 180
    assert page.languages == ("cs",)
    assert testing.cer(page.text, rendered.text, "cs") < 0.05
    assert main(["read", str(path), "-t", "1", "--orientation", "off"]) == 0
    assert testing.cer(capsys.readouterr().out, rendered.text, "cs") > 0.3
