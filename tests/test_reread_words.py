"""Fast mode's re-read of doubtful words (``reread="words"``) against whole lines.

A long rendered line with one stretch smudged (blurred, noisy) is a line the tiny
recogniser doubts in one place only: the small one re-reads the words there, and the
reading keeps the tiny recogniser's words elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ocrai import OcrAI
from ocrai.testing import render_page

pytestmark = pytest.mark.models

LINE = "The committee met on Tuesday and approved the budget for the coming year without objection"


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, OcrAI]]:
    folder = tmp_path_factory.mktemp("models")
    made = {
        "fast": OcrAI(folder, threads=1, fast=True),
        "tiny": OcrAI(folder, threads=1, pack="ppocrv6-tiny"),
    }
    yield made
    for ai in made.values():
        ai.free_resources()


def smudged_line() -> np.ndarray:
    """LINE rendered, its middle tenth blurred and noisy (a fixed seed)."""
    image = render_page([LINE], lang="en", font_size=30).image
    height, width = image.shape[:2]
    pil = Image.fromarray(image)
    box = (int(width * 0.45), 0, int(width * 0.55), height)
    pil.paste(pil.crop(box).filter(ImageFilter.GaussianBlur(2.5)), box)
    out = np.asarray(pil).astype(np.int16)
    noise = np.random.default_rng(0).normal(0, 40, out[:, box[0] : box[2]].shape)
    out[:, box[0] : box[2]] += noise.astype(np.int16)
    return np.clip(out, 0, 255).astype(np.uint8)


def test_words_are_spliced_into_the_tiny_reading(engines: dict[str, OcrAI]) -> None:
    image = smudged_line()
    tiny = engines["tiny"].recognize(image)
    words = engines["fast"].recognize(image, reread="words")
    lines = engines["fast"].recognize(image, reread="lines")
    assert len(words.lines) == len(lines.lines) == 1
    line = words.lines[0]
    assert line.model == "fallback"
    # The words away from the smudge are the tiny recogniser's; the smudged ones were read
    # again, and differ from both the tiny reading and the whole-line re-read.
    tiny_words, read_words = tiny.lines[0].text.split(), line.text.split()
    assert read_words[:5] == tiny_words[:5] == LINE.split()[:5]
    assert read_words[-5:] == tiny_words[-5:] == LINE.split()[-5:]
    assert line.text != tiny.lines[0].text
    assert line.text != lines.lines[0].text
    # A well-formed reading: its characters make its text, in order along the line, and
    # its words are its text's words.
    assert "".join(c.text for c in line.chars) == line.text
    assert line.text == line.text.strip()
    assert "  " not in line.text
    for c in line.chars:
        assert 0.0 <= c.x0 <= c.x1 <= 1.0
        assert 0.0 <= c.confidence <= 1.0
    starts = [c.x0 for c in line.chars]
    assert starts == sorted(starts)
    assert [w.text for w in line.words] == line.text.split()


def test_whole_lines_are_the_default(engines: dict[str, OcrAI]) -> None:
    image = smudged_line()
    default = engines["fast"].recognize(image)
    lines = engines["fast"].recognize(image, reread="lines")
    assert default.text == lines.text
    assert [c.confidence for c in default.lines[0].chars] == [
        c.confidence for c in lines.lines[0].chars
    ]


def test_a_pattern_reads_whole_lines(engines: dict[str, OcrAI]) -> None:
    """A pattern judges the whole line, so a constrained reading is re-read whole."""
    image = smudged_line()
    pattern = r"[A-Za-z ]+"
    words = engines["fast"].recognize(image, reread="words", pattern=pattern)
    lines = engines["fast"].recognize(image, reread="lines", pattern=pattern)
    assert words.text == lines.text


def test_a_character_set_still_reads_words(engines: dict[str, OcrAI]) -> None:
    """An allow or deny list masks each character alone, so the doubtful words are re-read
    alone under it (as the plain reading does) and nothing outside it is read."""
    image = smudged_line()
    deny = "Xxq0123456789"
    plain = engines["fast"].recognize(image, reread="words")
    words = engines["fast"].recognize(image, reread="words", denylist=deny)
    lines = engines["fast"].recognize(image, reread="lines", denylist=deny)
    assert not set(deny) & set(plain.text)  # the list denies nothing this line holds
    assert words.text == plain.text
    assert words.text != lines.text
    assert not set(deny) & set(words.text + lines.text)


def test_clean_pages_read_the_same(engines: dict[str, OcrAI], tmp_path: Path) -> None:
    """Where nothing is doubted in part, both scopes give the same page."""
    page = render_page(["Invoice 2024-118: total due 1,284.50 EUR", "Payable within 30 days"])
    path = tmp_path / "page.png"
    Image.fromarray(page.image).save(path)
    assert (
        engines["fast"].recognize(path, reread="words").text
        == engines["fast"].recognize(path, reread="lines").text
    )


def test_a_bad_scope_is_a_value_error(engines: dict[str, OcrAI]) -> None:
    with pytest.raises(ValueError, match="reread"):
        engines["fast"].recognize(smudged_line(), reread="characters")
