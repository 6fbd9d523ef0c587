"""Page orientation: find whether a page is turned by 0, 90, 180 or 270 degrees and read it
upright, with coordinates in the input image's space.

``Page.orientation`` is how far the page's text is turned clockwise in the input image
(a page fed into the scanner upside down: 180); reading turns it back.

How ``"auto"`` decides (measured on the rendered pages of the six test languages and the
development pages of ``../shared/data``):

1. The page is read as it is, in one native call. Upright pages read with a high character
   confidence: every development page (SROIE receipts, EHRI typewritten pages, FoNDUE book
   pages, the tesseract test pages) read at 0.96-1.00, weighted by characters, while pages
   turned by 90 or 180 degrees read as garbage at 0.56-0.74 and with a third of the
   characters. At or above `GOOD_READING` the reading stands: no second call, so an upright
   page costs only the statistics below (microseconds).
2. The native pipeline reads lines at least 1.5x taller than wide turned a quarter (vertical
   text), so a page turned 90 degrees clockwise already reads well: its lines are tall. When
   most lines are tall, the page is turned 90 degrees and is read again upright, for its
   layout (blocks and reading order). Japanese and Chinese tall lines may be vertical
   writing instead, and the recogniser reads those turned a quarter as well as a turned
   page's lines: the tall lines are cut into one cell per character and the cells read in a
   row (`_vertical_writing`); vertical writing's upright characters read again, a turned
   page's characters lying on their side do not.
3. A doubtful reading is compared with the page read turned: by 180 degrees first when its
   lines are wide, by 270 when they are tall, then the remaining turns. The first reading
   at or above `GOOD_READING` whose lines are wide wins; otherwise the best score
   (characters times their mean confidence, halved where the lines are tall: the pipeline
   reads Japanese and Chinese turned a quarter as vertical lines) does, if it beats the
   page as given by a margin.

The orientation confidence is the chosen reading's character-weighted mean confidence when
one reading decided (for tall Japanese or Chinese lines, times the share of the cut-up
reading that decided: vertical writing's share, or what a turned page's lacks), else its
share of the scores of the readings compared. Decisions use
the recogniser's raw confidence (``Line.raw_confidence`` where a page is calibrated). A
page read more than once reports the time of all its readings in ``Page.timings``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from itertools import pairwise
from typing import Literal

import numpy as np

from .results import Block, Line, Page, Point, Quad, Timings

__all__ = [
    "GOOD_READING",
    "ORIENTATIONS",
    "OrientationMode",
    "check_orientation",
    "read_oriented",
    "turn_upright",
]

OrientationMode = Literal["auto", "off", 0, 90, 180, 270]
ORIENTATIONS = (0, 90, 180, 270)
_MODES = ("auto", "off", *ORIENTATIONS)

#: Character-weighted mean confidence at or above which a reading is taken as upright.
GOOD_READING = 0.85
#: Share of lines (of two characters or more) taller than wide by this much that makes a
#: page's lines "tall" (the pipeline's own vertical-line ratio).
_TALL_RATIO = 1.5
_TALL_SHARE = 0.6
#: A turned reading replaces a doubtful upright one only with a score this much higher
#: (turned pages' right readings scored 2-30x their upright garbage on the rendered pages).
_TURN_MARGIN = 1.25
#: Weight of the score of a doubtful reading whose lines are tall (see `read_oriented`).
_TALL_WEIGHT = 0.5

#: Tall lines cut into cells to tell vertical writing from a page turned a quarter (their
#: recognition is the cost: 3 lines cost about a rendered 4-line page's reading).
_RESTACK_LINES = 3
#: The restacked reading's share of the first reading's score at or above which tall lines
#: are vertical writing: the rendered vertical ja/zh-hant pages restack at 0.87-0.99 of it,
#: the rendered pages turned a quarter at 0.01-0.19.
_VERTICAL_SHARE = 0.5

Reader = Callable[[np.ndarray], Page]


def check_orientation(value: object) -> OrientationMode:
    """The orientation mode `value`, or ValueError naming the accepted ones."""
    if isinstance(value, bool) or value not in _MODES:
        msg = f"orientation must be one of {_MODES}, got {value!r}"
        raise ValueError(msg)
    return value  # type: ignore[return-value]


def turn_upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """The image turned counter-clockwise by `orientation` degrees (a page whose text is
    turned clockwise by `orientation` comes out upright), C-contiguous."""
    k = orientation // 90 % 4
    if k == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k))


def _reading_stats(page: Page) -> tuple[int, float, float, bool]:
    """(characters, their mean confidence, score, whether most lines are tall)."""
    n = 0
    total = 0.0
    tall = counted = 0
    for line in page.lines:
        k = len(line.text.strip())
        n += k
        raw = line.confidence if line.raw_confidence is None else line.raw_confidence
        total += raw * k
        if k >= 2:
            x0, y0, x1, y1 = line.bbox
            counted += 1
            tall += (y1 - y0) > _TALL_RATIO * (x1 - x0)
    mean = total / n if n else 0.0
    return n, mean, total, counted > 0 and tall >= _TALL_SHARE * counted


def _is_cjk(text: str) -> bool:
    cjk = sum(
        1
        for ch in text
        if "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"
    )
    letters = sum(1 for ch in text if ch.isalpha())
    return letters > 0 and cjk * 2 >= letters


def _vertical_writing(read: Reader, image: np.ndarray, first: Page) -> tuple[float, Page | None]:
    """How far the tall lines of `first` (a page of Japanese or Chinese read well) are vertical
    writing rather than the lines of a page turned a quarter, 0..1, and the reading that tells.

    The pipeline reads a tall line turned a quarter, and the recogniser reads characters
    lying on their side nearly as well as upright ones, so both read alike. What differs is
    the characters: upright in vertical writing, on their side on a turned page. The tall
    lines are cut into one cell per character and the cells laid in a row (`_restacked`):
    vertical writing then reads as well as it did (upright characters), a turned page's
    sideways characters read as garbage. The share is the restacked reading's score
    (characters times their mean confidence) over the first reading's score of the same
    lines."""
    tall = _tall_lines(first)
    image_cut = _restacked(image, tall)
    if image_cut is None:
        return 1.0, None
    checked = read(image_cut)
    wanted = sum(_line_score(line) for line in tall)
    got = sum(_line_score(line) for line in checked.lines)
    return (min(1.0, got / wanted) if wanted > 0 else 1.0), checked


def _tall_lines(page: Page) -> list[Line]:
    """The page's tall lines of two characters or more, the longest `_RESTACK_LINES`."""
    tall = [
        line
        for line in page.lines
        if len(line.text.strip()) >= 2
        and (line.bbox[3] - line.bbox[1]) > _TALL_RATIO * (line.bbox[2] - line.bbox[0])
    ]
    tall.sort(key=lambda line: -len(line.text.strip()))
    return tall[:_RESTACK_LINES]


def _line_score(line: Line) -> float:
    """Characters read times their mean (raw) confidence."""
    raw = line.confidence if line.raw_confidence is None else line.raw_confidence
    return len("".join(line.text.split())) * raw


def _restacked(image: np.ndarray, tall: list[Line]) -> np.ndarray | None:
    """The `tall` lines cut into as many equal cells as they have
    characters, each line's cells laid side by side, one line under the other: a column of
    upright characters (vertical writing) becomes a row of upright characters, while a column
    of a turned page's characters becomes a row of characters lying on their side. None when
    the page has no tall line to cut."""
    cut: list[np.ndarray] = []
    height, width = image.shape[:2]
    for line in tall:
        x0, y0, x1, y1 = (round(v) for v in line.bbox)
        x0, x1 = max(0, x0), min(width, x1)
        y0, y1 = max(0, y0), min(height, y1)
        n = len("".join(line.text.split()))
        y0, y1 = _inked_rows(image[y0:y1, x0:x1], y0)
        if x1 - x0 < 4 or y1 - y0 < 2 * n:
            continue
        edges = np.linspace(y0, y1, n + 1).round().astype(int)
        cells = [image[a:b, x0:x1] for a, b in pairwise(edges)]
        rows = max(c.shape[0] for c in cells)
        cells = [_padded(c, rows, c.shape[1]) for c in cells]
        cut.append(np.concatenate(cells, axis=1))
    if not cut:
        return None
    side = max(c.shape[1] for c in cut)
    margin = max(c.shape[0] for c in cut)
    rows = [_padded(c, c.shape[0] + margin, side + 2 * margin) for c in cut]
    return np.ascontiguousarray(_padded(np.concatenate(rows, axis=0), 0, 0, margin))


def _inked_rows(crop: np.ndarray, top: int) -> tuple[int, int]:
    """The first and past-the-last row of `crop` (whose first row is `top` in the image)
    holding ink: darker than halfway between the crop's paper and its darkest pixel."""
    gray = crop.astype(np.float64)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    paper, ink = float(np.quantile(gray, 0.9)), float(gray.min())
    inked = np.flatnonzero(gray.min(axis=1) < (paper + ink) / 2)
    if paper - ink < 16 or inked.size == 0:
        return top, top + crop.shape[0]
    return top + int(inked[0]), top + int(inked[-1]) + 1


def _padded(part: np.ndarray, height: int, width: int, extra: int = 0) -> np.ndarray:
    """`part` centred on a background (its brightest tenth's colour) at least `height` x
    `width`, plus `extra` pixels on every side."""
    h, w = part.shape[:2]
    height, width = max(height, h) + 2 * extra, max(width, w) + 2 * extra
    flat = part.reshape(h * w, -1)
    brightness = flat.astype(np.float64).sum(axis=1)
    paper = flat[brightness >= np.quantile(brightness, 0.9)].mean(axis=0)
    out = np.empty((height, width, *part.shape[2:]), dtype=part.dtype)
    out[...] = paper.astype(part.dtype).reshape(part.shape[2:] or ())
    top, left = (height - h) // 2, (width - w) // 2
    out[top : top + h, left : left + w] = part
    return out


def read_oriented(
    read: Reader, image: np.ndarray, mode: OrientationMode, *, detect: bool = True
) -> Page:
    """Reads `image` with `read` (an image array -> Page in that array's coordinates) in the
    orientation `mode` asks for, and returns the page in the input's coordinates with
    ``orientation`` and ``orientation_confidence`` set. Without detection (one line) only an
    explicit orientation turns the image."""
    if mode == "off" or (mode == "auto" and not detect):
        return read(image)
    if mode != "auto":
        turn = int(mode)
        page = _to_input_space(read(turn_upright(image, turn)), turn, image)
        return replace(page, orientation=turn, orientation_confidence=1.0)

    first = read(image)
    n, mean, score, tall = _reading_stats(first)
    if n == 0:
        return replace(first, orientation=0, orientation_confidence=0.0)
    if mean >= GOOD_READING:
        if not tall:
            return replace(first, orientation=0, orientation_confidence=mean)
        taken = [first]
        turned_share = 1.0  # how sure the page is turned rather than written vertically
        if _is_cjk(first.text):
            vertical, checked = _vertical_writing(read, image, first)
            if checked is not None:
                taken.append(checked)
            if vertical >= _VERTICAL_SHARE:
                timings = _summed([p.timings for p in taken])
                return replace(
                    first, orientation=0, orientation_confidence=mean * vertical, timings=timings
                )
            turned_share = 1.0 - vertical
        upright = read(turn_upright(image, 90))
        taken.append(upright)
        timings = _summed([p.timings for p in taken])
        n_u, mean_u, _, tall_u = _reading_stats(upright)
        if n_u and mean_u >= GOOD_READING and not tall_u:
            page = _to_input_space(upright, 90, image)
            confidence = mean_u * turned_share
            return replace(page, orientation=90, orientation_confidence=confidence, timings=timings)
        # Tall lines that do not read turned: vertical text after all.
        return replace(first, orientation=0, orientation_confidence=mean, timings=timings)

    readings: dict[int, tuple[Page, float]] = {0: (first, score * (_TALL_WEIGHT if tall else 1))}
    for turn in (270, 180, 90) if tall else (180, 270, 90):
        page = read(turn_upright(image, turn))
        n_t, mean_t, score_t, tall_t = _reading_stats(page)
        # A turn that leaves the lines tall is a quarter off, however well the pipeline
        # reads tall lines: the next turns are tried (Japanese and Chinese read sideways).
        readings[turn] = (page, score_t * (_TALL_WEIGHT if tall_t else 1))
        if n_t and mean_t >= GOOD_READING and not tall_t and score_t > score:
            break
    best = max(readings, key=lambda t: readings[t][1])
    if best and readings[best][1] < _TURN_MARGIN * readings[0][1]:
        best = 0  # a doubtful page that reads no better turned stays as it is
    page, best_score = readings[best]
    scores = sum(s for _, s in readings.values())
    confidence = best_score / scores if scores > 0 else 0.0
    if best:
        page = _to_input_space(page, best, image)
    timings = _summed([p.timings for p, _ in readings.values()])
    return replace(page, orientation=best, orientation_confidence=confidence, timings=timings)


def _summed(timings: list[Timings]) -> Timings:
    """The time of every reading a page took (each stage summed)."""
    names = [f.name for f in fields(Timings)]
    return Timings(**{name: sum(getattr(t, name) for t in timings) for name in names})


# --- coordinates of a turned reading back in the input image ---------------------------


def _point_mapper(turn: int, width: int, height: int) -> Callable[[Point], Point]:
    """Maps a point of the image turned counter-clockwise by `turn` degrees back into the
    input image of `width` x `height` pixels."""
    if turn == 90:  # rot90 k=1: turned (x', y') came from (W - y', x')
        return lambda p: (width - p[1], p[0])
    if turn == 180:
        return lambda p: (width - p[0], height - p[1])
    if turn == 270:  # rot90 k=3: (x', y') came from (y', H - x')
        return lambda p: (p[1], height - p[0])
    return lambda p: p


def _to_input_space(page: Page, turn: int, image: np.ndarray) -> Page:
    """A page read from the image turned by `turn` with its coordinates in the input's.
    A quad keeps its point order: the text's top-left corner stays its top-left."""
    if turn == 0:
        return page
    height, width = int(image.shape[0]), int(image.shape[1])
    to_input = _point_mapper(turn, width, height)

    def quad(q: Quad) -> Quad:
        a, b, c, d = (to_input(p) for p in q)
        return (a, b, c, d)

    lines = tuple(
        replace(
            line,
            quad=quad(line.quad),
            words=tuple(replace(w, quad=quad(w.quad)) for w in line.words),
        )
        for line in page.lines
    )
    blocks = []
    for block in page.blocks:
        x0, y0, x1, y1 = block.bbox
        corners = [to_input(p) for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        xs = [p[0] for p in corners]
        ys = [p[1] for p in corners]
        blocks.append(Block((min(xs), min(ys), max(xs), max(ys)), block.line_indices))
    return replace(page, width=width, height=height, lines=lines, blocks=tuple(blocks))
