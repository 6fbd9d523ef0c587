"""Overlays: boxes drawn over the page image in confidence colours, the text beside it
(PNG) or on hover (HTML); ``ocrai read -f overlay`` writes the PNG."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocrai import cli
from ocrai.export import confidence_colour, to_overlay_html, to_overlay_png
from ocrai.results import Page
from ocrai.testing import SAMPLE_TEXT, render_page


def blank(page: Page) -> np.ndarray:
    return np.full((page.height, page.width, 3), 255, np.uint8)


def test_confidence_colours() -> None:
    assert confidence_colour(0.2) == confidence_colour(0.5) == (220, 40, 40)
    assert confidence_colour(0.75) == (235, 160, 0)
    assert confidence_colour(1.0) == (30, 160, 60)
    reds = [confidence_colour(c / 20)[0] for c in range(10, 21)]
    greens = [confidence_colour(c / 20)[2] for c in range(15, 21)]
    assert reds[-1] < reds[0]
    assert greens == sorted(greens)


def test_png_draws_boxes_in_their_colour(page_dict: Callable[..., dict]) -> None:
    page = Page.from_dict(page_dict())
    out = Image.open(io.BytesIO(to_overlay_png(page, blank(page)))).convert("RGB")
    assert out.height >= page.height
    assert out.width > page.width + 100  # the text panel
    pixels = np.asarray(out)
    for line in page.lines:
        (x0, y0), _, (x1, _), _ = line.quad
        mid = int((x0 + x1) / 2)
        assert tuple(pixels[int(y0), mid]) == confidence_colour(line.confidence)
    panel = pixels[:, page.width + 4 :]
    assert (panel < 100).any(), "the text is written beside the image"
    image_part = pixels[: page.height, : page.width]
    assert (image_part == 255).all(axis=2).mean() > 0.8  # boxes, not a filled page


def test_png_of_several_pages_stacks_them(page_dict: Callable[..., dict]) -> None:
    pages = [Page.from_dict(page_dict(width=400, height=300)) for _ in range(2)]
    one = Image.open(io.BytesIO(to_overlay_png(pages[0], blank(pages[0]))))
    two = Image.open(io.BytesIO(to_overlay_png(pages, [blank(p) for p in pages])))
    assert two.height > 2 * one.height - 1


def test_image_must_match_the_page(page_dict: Callable[..., dict]) -> None:
    page = Page.from_dict(page_dict())
    with pytest.raises(ValueError, match="image it was read from"):
        to_overlay_png(page, np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="1 pages but 2 images"):
        to_overlay_png([page], [blank(page), blank(page)])
    with pytest.raises(TypeError, match="uint8"):
        to_overlay_png(page, blank(page).astype(np.float32))


def test_html_has_the_text_on_hover(page_dict: Callable[..., dict]) -> None:
    page = Page.from_dict(page_dict())
    document = to_overlay_html(page, Image.fromarray(blank(page)))
    assert document.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in document
    words = [w.text for w in page.words]
    titles = re.findall(r"<title>([^<]*) \(\d\.\d\d\)</title>", document)
    for word in words:
        assert word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in titles
    assert document.count('class="word"') == len(words)
    assert "http" not in document.replace("http://www.w3.org", "")  # self-contained
    assert "<script" not in document


@pytest.mark.models
def test_read_writes_an_overlay_png(tmp_path: Path) -> None:
    rendered = render_page(SAMPLE_TEXT["cs"], lang="cs")
    source = tmp_path / "stranka.png"
    Image.fromarray(rendered.image).save(source)
    out = tmp_path / "out"
    assert cli.main(["read", "-f", "overlay", "-o", str(out), "-t", "2", str(source)]) == 0
    written = out / "stranka.overlay.png"
    image = np.asarray(Image.open(written).convert("RGB"))
    height, width = rendered.image.shape[:2]
    assert image.shape[0] >= height
    assert image.shape[1] > width
    assert np.array_equal(image[:5, :5], rendered.image[:5, :5])  # the page, where no box is
    green = np.array(confidence_colour(1.0))
    near_green = (np.abs(image[:height, :width].astype(int) - green).sum(axis=2) < 60).sum()
    assert near_green > 100, "sure lines are boxed in green"


def test_read_overlay_needs_an_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["read", "-f", "overlay", str(tmp_path / "x.png")]) == 2
    assert "-o DIR" in capsys.readouterr().err
