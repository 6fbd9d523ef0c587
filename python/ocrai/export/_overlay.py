"""Overlays: a page's result drawn over the page's image, for people to look at.

`to_overlay_png` draws every line box and word box over the image, coloured by
confidence (red for unsure, through amber, to green for sure), with the recognised text of
each line beside the image at the height of its line. `to_overlay_html` is the same as
one self-contained HTML document (the image embedded as a data URL, the boxes as SVG): the
text of a word or line shows on hover, and the text is listed beside the image.

Both take the image the page was read from (a numpy uint8 array (H, W) or (H, W, 3|4) in
RGB order, a PIL image, or an ``ocrai.io.LoadedImage``); several pages and their images
are drawn one under the other. Plain Python over Pillow: no native code.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrai.results import Page, Quad

from ._common import as_pages

__all__ = ["confidence_colour", "to_overlay_html", "to_overlay_png"]

# Fonts tried for the text beside the image: Noto CJK covers Latin, Greek, Cyrillic and
# CJK; DejaVu covers the Latin scripts. Pillow's own font is the last resort (Latin only).
_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
_PANEL_BACKGROUND = (255, 255, 255)
_GAP = 16  # pixels between the image and the text panel, and between stacked pages


def confidence_colour(confidence: float) -> tuple[int, int, int]:
    """RGB colour of a confidence: red at 0.5 and below, amber at 0.75, green at 1."""
    t = min(max((confidence - 0.5) / 0.5, 0.0), 1.0)
    if t < 0.5:  # red (220, 40, 40) -> amber (235, 160, 0)
        u = t / 0.5
        return (round(220 + 15 * u), round(40 + 120 * u), round(40 - 40 * u))
    u = (t - 0.5) / 0.5  # amber -> green (30, 160, 60)
    return (round(235 - 205 * u), 160, round(60 * u))


def _rgb_image(image: Any) -> Image.Image:
    """The page image as an RGB PIL image."""
    array = getattr(image, "array", None)  # an ocrai.io.LoadedImage
    if isinstance(array, np.ndarray):
        if getattr(image, "order", "rgb") == "bgr" and array.ndim == 3:
            array = np.ascontiguousarray(array[:, :, [2, 1, 0, *range(3, array.shape[2])]])
        image = array
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            msg = f"expected a uint8 array (H, W) or (H, W, 3|4), not {image.dtype} {image.shape}"
            raise TypeError(msg)
        if image.ndim == 3:
            image = image[:, :, :3] if image.shape[2] >= 3 else image[:, :, 0]
        return Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    msg = f"expected a numpy array, a PIL image or a LoadedImage, not {type(image).__name__}"
    raise TypeError(msg)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _pairs(pages: Page | Iterable[Page], images: Any) -> list[tuple[Page, Image.Image]]:
    page_list = as_pages(pages)
    image_list = [images] if isinstance(pages, Page) else list(images)
    if len(image_list) != len(page_list):
        msg = f"{len(page_list)} pages but {len(image_list)} images"
        raise ValueError(msg)
    pairs = []
    for k, (page, image) in enumerate(zip(page_list, image_list, strict=True)):
        rgb = _rgb_image(image)
        if rgb.size != (page.width, page.height):
            msg = (
                f"page {k} is {page.width}x{page.height} but its image is "
                f"{rgb.size[0]}x{rgb.size[1]}: draw a page over the image it was read from"
            )
            raise ValueError(msg)
        pairs.append((page, rgb))
    return pairs


def _points(quad: Quad) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in quad]


def _panel_font_size(page: Page) -> int:
    heights = sorted(line.bbox[3] - line.bbox[1] for line in page.lines)
    median = heights[len(heights) // 2] if heights else 24.0
    return int(min(max(median * 0.6, 12), 48))


def _draw_one(page: Page, image: Image.Image) -> Image.Image:
    """The image with its boxes, and the text panel to its right."""
    boxes = image.copy()
    draw = ImageDraw.Draw(boxes)
    scale = max(1, round(max(page.width, page.height) / 1000))
    for line in page.lines:
        draw.polygon(
            _points(line.quad), outline=confidence_colour(line.confidence), width=2 * scale
        )
        for word in line.words:
            draw.polygon(
                _points(word.quad), outline=confidence_colour(word.confidence), width=scale
            )
    font = _font(_panel_font_size(page))
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    placed: list[tuple[float, str, tuple[int, int, int]]] = []
    bottom = 0.0
    for line in page.lines:
        _, top, _, low = measure.textbbox((0, 0), line.text or " ", font=font)
        y = max(line.bbox[1], bottom)  # the height of its line, below the text before it
        placed.append((y, line.text, confidence_colour(line.confidence)))
        bottom = y + (low - top) * 1.3
    text_width = max((measure.textlength(text, font=font) for _, text, _ in placed), default=0.0)
    panel_w = int(min(max(text_width + 2 * _GAP, 200), 3 * page.width))
    height = int(max(page.height, bottom + _GAP))
    canvas = Image.new("RGB", (page.width + panel_w, height), _PANEL_BACKGROUND)
    canvas.paste(boxes, (0, 0))
    text_draw = ImageDraw.Draw(canvas)
    x0 = page.width + _GAP
    text_draw.line([(page.width + 2, 0), (page.width + 2, height)], fill=(200, 200, 200), width=2)
    for y, text, colour in placed:
        text_draw.rectangle([x0 - 10, y + 4, x0 - 5, y + 14], fill=colour)
        text_draw.text((x0, y), text, fill=(20, 20, 20), font=font)
    return canvas


def to_overlay_png(pages: Page | Iterable[Page], images: Any) -> bytes:
    """PNG bytes: each page's image with its line and word boxes coloured by confidence,
    its text beside it; several pages (with a sequence of images) one under the other."""
    panels = [_draw_one(page, image) for page, image in _pairs(pages, images)]
    width = max(p.width for p in panels)
    height = sum(p.height for p in panels) + _GAP * (len(panels) - 1)
    sheet = panels[0] if len(panels) == 1 else Image.new("RGB", (width, height), (235, 235, 235))
    if len(panels) > 1:
        y = 0
        for panel in panels:
            sheet.paste(panel, (0, y))
            y += panel.height + _GAP
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _svg_points(quad: Quad) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in quad)


def _hex(colour: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _html_page(k: int, page: Page, image: Image.Image) -> str:
    png = io.BytesIO()
    image.save(png, format="PNG")
    data = base64.b64encode(png.getvalue()).decode("ascii")
    shapes = []
    for i, line in enumerate(page.lines):
        tip = html.escape(f"{line.text} ({line.confidence:.2f})")
        shapes.append(
            f'<polygon class="line" data-line="{i}" points="{_svg_points(line.quad)}" '
            f'stroke="{_hex(confidence_colour(line.confidence))}"><title>{tip}</title></polygon>'
        )
        for word in line.words:
            wtip = html.escape(f"{word.text} ({word.confidence:.2f})")
            shapes.append(
                f'<polygon class="word" data-line="{i}" points="{_svg_points(word.quad)}" '
                f'stroke="{_hex(confidence_colour(word.confidence))}"><title>{wtip}</title>'
                "</polygon>"
            )
    text = "\n".join(
        f'<p data-line="{i}" style="border-left-color:{_hex(confidence_colour(line.confidence))}">'
        f"{html.escape(line.text)}</p>"
        for i, line in enumerate(page.lines)
    )
    w, h = page.width, page.height
    return (
        f'<section class="page" id="page-{k}"><div class="image">'
        f'<img src="data:image/png;base64,{data}" width="{w}" height="{h}" alt="page {k + 1}">'
        f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="none">{"".join(shapes)}</svg></div>'
        f'<div class="text">{text}</div></section>'
    )


_STYLE = """
body { font-family: sans-serif; margin: 1em; }
.page { display: flex; gap: 1em; align-items: flex-start; margin-bottom: 2em; }
.image { position: relative; flex: 0 1 auto; max-width: 65%; }
.image img { display: block; width: 100%; height: auto; }
.image svg { position: absolute; inset: 0; width: 100%; height: 100%; }
polygon { fill: transparent; stroke-width: 2; vector-effect: non-scaling-stroke; }
polygon.word { stroke-width: 1; }
polygon:hover { fill: rgba(255, 220, 0, 0.3); }
.text p { margin: 0.2em 0; padding-left: 0.5em; border-left: 4px solid; white-space: pre-wrap; }
"""


def to_overlay_html(pages: Page | Iterable[Page], images: Any, *, title: str = "ocrai") -> str:
    """One HTML document: each page's image with its boxes (hover a box for its text and
    confidence) and its text beside it. Self-contained: no script, no network."""
    body = "".join(
        _html_page(k, page, image) for k, (page, image) in enumerate(_pairs(pages, images))
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
