"""ink_bounds: where an image differs from its plain background (the detector's area)."""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import _core, testing

ink_bounds = _core.pipeline.ink_bounds


def reference(image: np.ndarray, tolerance: int, give_up_height: int = 0) -> tuple[int, ...]:
    """The definition, in numpy: border median per channel (the lower median), plain when
    95 % of the border is within tolerance, then the box around every differing pixel."""
    pixels = image if image.ndim == 3 else image[:, :, None]
    h, w = pixels.shape[:2]
    ring = np.zeros((h, w), bool)
    ring[0, :] = ring[-1, :] = ring[:, 0] = ring[:, -1] = True
    border = pixels[ring].astype(int)
    n = len(border)
    median = np.sort(border, axis=0)[(n + 1) // 2 - 1]
    ink = (np.abs(pixels.astype(int) - median) > tolerance).any(axis=2)
    if (~ink[ring]).sum() < 0.95 * n:
        return (0, 0, w, h)
    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return (0, 0, 0, 0)
    if give_up_height and ys.max() + 1 - ys.min() >= give_up_height:
        return (0, 0, w, h)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def test_a_block_of_ink_on_white() -> None:
    image = np.full((300, 1000), 250, np.uint8)
    image[120:160, 40:930] = 10
    assert ink_bounds(image, tolerance=24) == (40, 120, 930, 160)
    assert ink_bounds(image, tolerance=24, give_up_height=40) == (0, 0, 1000, 300)
    assert ink_bounds(image, tolerance=24, give_up_height=41) == (40, 120, 930, 160)


def test_colour_differences_count_in_any_channel() -> None:
    image = np.zeros((50, 80, 3), np.uint8)
    image[:] = (30, 120, 200)
    image[10, 20] = (30, 120, 230)  # blue differs by 30
    image[40, 70] = (30, 140, 200)  # green differs by 20: within 24
    assert ink_bounds(image, tolerance=24) == (20, 10, 21, 11)
    assert ink_bounds(image, tolerance=19) == (20, 10, 71, 41)


def test_no_ink_and_no_plain_background() -> None:
    image = np.full((64, 64, 4), 200, np.uint8)
    assert ink_bounds(image, tolerance=10) == (0, 0, 0, 0)
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert ink_bounds(photo, tolerance=24) == (0, 0, 64, 64)


def test_tiny_images() -> None:
    assert ink_bounds(np.zeros((1, 1), np.uint8), tolerance=0) == (0, 0, 0, 0)
    assert ink_bounds(np.zeros((0, 5), np.uint8), tolerance=0) == (0, 0, 0, 0)
    row = np.array([[0, 0, 0, 90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], np.uint8)
    assert ink_bounds(row, tolerance=24) == (3, 0, 4, 1)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_matches_the_definition_on_random_images(channels: int) -> None:
    rng = np.random.default_rng(channels)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(1, 90, 2))
        background = rng.integers(0, 256, channels)
        image = np.empty((h, w, channels), np.uint8)
        image[:] = background
        noise = rng.integers(-12, 13, image.shape)
        image = np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)
        for _ in range(int(rng.integers(0, 6))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            image[y, x] = rng.integers(0, 256, channels)
        if channels == 1:
            image = image[:, :, 0]
        tolerance = int(rng.integers(0, 40))
        give_up = int(rng.integers(0, h + 1))
        # Padded rows: a view into a wider array.
        wide = np.zeros((h, w + 3, *image.shape[2:]), np.uint8)
        wide[:, :w] = image
        padded = wide[:, :w]
        want = reference(image, tolerance, give_up)
        assert ink_bounds(image, tolerance=tolerance, give_up_height=give_up) == want
        assert ink_bounds(padded, tolerance=tolerance, give_up_height=give_up) == want


def test_bad_arguments() -> None:
    image = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="tolerance"):
        ink_bounds(image, tolerance=256)
    with pytest.raises(ValueError, match="tolerance"):
        ink_bounds(image, tolerance=-1)
    with pytest.raises(ValueError, match="give_up_height"):
        ink_bounds(image, tolerance=3, give_up_height=-1)
    with pytest.raises(TypeError):
        ink_bounds(image.astype(np.float32), tolerance=3)


# --- lone_text_line: one line of text and nothing else --------------------------------------

lone_text_line = _core.pipeline.lone_text_line
NONE = (0, 0, 0, 0)


def lone_reference(image: np.ndarray, tolerance: int) -> tuple[int, ...]:
    """The definition, in numpy (ink.h): the ink box with a margin on every side, at least 8
    px tall and twice as wide, ink in every row, no row under a quarter of the fullest row's ink
    between the first and last with half of it (the core), the core at least 0.4 of its
    height, its columns' longest runs of ink at least 0.4 of its height at the 90th
    percentile, no row inked across 0.85 of it, no gap of columns wider than its height,
    centre rows of its left and right
    thirds within 0.2 of its height."""
    box = reference(image, tolerance)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    if x1 <= x0 or x0 == 0 or y0 == 0 or x1 == w or y1 == h:
        return NONE
    height, width = y1 - y0, x1 - x0
    if height < 8 or width < 2 * height:
        return NONE
    pixels = image if image.ndim == 3 else image[:, :, None]
    ring = np.zeros((h, w), bool)
    ring[0, :] = ring[-1, :] = ring[:, 0] = ring[:, -1] = True
    border = pixels[ring].astype(int)
    median = np.sort(border, axis=0)[(len(border) + 1) // 2 - 1]
    ink = (np.abs(pixels.astype(int) - median) > tolerance).any(axis=2)[y0:y1, x0:x1]
    rows = ink.sum(axis=1)
    if (rows == 0).any() or (rows > 0.85 * width).any():
        return NONE
    full = np.flatnonzero(rows >= rows.max() / 2)
    core = rows[full[0] : full[-1] + 1]
    if (core < rows.max() / 4).any() or height > 2.5 * len(core):
        return NONE
    longest = np.zeros(width, int)
    run = np.zeros(width, int)
    for row in ink:
        run = np.where(row, run + 1, 0)
        longest = np.maximum(longest, run)
    gap = widest = 0
    for column in longest:
        gap = 0 if column else gap + 1
        widest = max(widest, gap)
    if widest > height:
        return NONE
    strokes = np.sort(longest[longest > 0])
    if strokes[len(strokes) * 9 // 10] < 0.4 * height:
        return NONE
    third = width // 3
    centres = []
    for part in (ink[:, :third], ink[:, width - third :]):
        counts = part.sum(axis=1)
        if counts.sum() == 0:
            return NONE
        centres.append((counts * np.arange(height)).sum() / counts.sum())
    return box if abs(centres[0] - centres[1]) <= 0.2 * height else NONE


def on_canvas(
    block: np.ndarray, size: tuple[int, int] = (300, 1000), at: tuple[int, int] = (100, 40)
) -> np.ndarray:
    image = np.full((*size, 3), 250, np.uint8)
    y, x = at
    image[y : y + block.shape[0], x : x + block.shape[1]] = block[: size[0] - y, : size[1] - x]
    return image


LINE = "Invoice 2026-114 for the spring delivery"


@pytest.mark.parametrize("lang", ["en", "fr", "pt", "cs", "ja", "zh-hant"])
def test_one_rendered_line_is_lone(lang: str) -> None:
    image = on_canvas(testing.render_line(testing.SAMPLE_TEXT[lang][0], lang=lang, font_size=30))
    want = ink_bounds(image, tolerance=24)
    assert lone_text_line(image, tolerance=24) == want != NONE
    assert lone_reference(image, 24) == want


def test_what_the_detector_must_answer_is_not_lone() -> None:
    line = testing.render_line(LINE, font_size=30)
    cases = {
        "two lines": on_canvas(testing.render_page([LINE, LINE], font_size=30, margin=12).image),
        "fields apart": on_canvas(
            np.hstack(
                [line[:, :200], np.full((line.shape[0], 300, 3), 250, np.uint8), line[:, 200:500]]
            )
        ),
        "skewed": on_canvas(testing.rotate_image(line, 3.0)),
        "vertical": on_canvas(
            np.ascontiguousarray(line.transpose(1, 0, 2)[:700]), size=(800, 300), at=(40, 100)
        ),
        "cut at the border": on_canvas(
            line[:, ink_bounds(line, tolerance=24)[0] + 1 :], at=(100, 0)
        ),
        "small": on_canvas(testing.render_line(LINE, font_size=7, margin=4)),
        "skewed lines": on_canvas(
            testing.rotate_image(testing.render_page([LINE, LINE, LINE], font_size=30).image, 4.0),
            size=(400, 1000),
            at=(20, 40),
        ),
    }
    framed = on_canvas(line)
    framed[100, 30:700] = framed[100 + line.shape[0], 30:700] = 0
    framed[100 : 101 + line.shape[0], 30] = framed[100 : 101 + line.shape[0], 699] = 0
    cases["framed"] = framed
    underlined = on_canvas(line)
    underlined[100 + line.shape[0] - 8, 55:600] = 0
    cases["underlined"] = underlined
    noisy = on_canvas(line)
    noisy[0] = np.random.default_rng(0).integers(0, 256, noisy[0].shape, dtype=np.uint8)
    noisy[:, 0] = 0
    cases["no plain background"] = noisy
    for name, image in cases.items():
        assert lone_text_line(image, tolerance=24) == NONE, name
        assert lone_reference(image, 24) == NONE, name
    # The same line unrotated, apart and whole: lone.
    assert lone_text_line(on_canvas(line), tolerance=24) != NONE


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_lone_matches_the_definition_on_random_bars(channels: int) -> None:
    # Bars of "letters" (columns of ink, some left out) of random heights and places: one,
    # two, apart, overlapping, with specks.
    rng = np.random.default_rng(10 + channels)
    seen = set()
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(20, 120, 2))
        image = np.full((h, 3 * w, channels), 230, np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            y = int(rng.integers(1, h - 4))
            x = int(rng.integers(1, 3 * w - 8))
            bh, bw = int(rng.integers(2, 30)), int(rng.integers(4, 3 * w))
            bar = image[y : y + bh, x : x + bw]
            letters = rng.uniform(size=bar.shape[1]) < rng.uniform(0.4, 1.0)
            bar[:, letters] = rng.integers(0, 150)
        for _ in range(int(rng.integers(0, 3))):
            image[int(rng.integers(0, h)), int(rng.integers(0, 3 * w))] = 0
        if channels == 1:
            image = image[:, :, 0]
        want = lone_reference(image, 24)
        seen.add(want == NONE)
        assert lone_text_line(image, tolerance=24) == want
    assert seen == {True, False}


def test_lone_bad_arguments() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        lone_text_line(np.zeros((4, 4), np.uint8), tolerance=300)
    with pytest.raises(TypeError):
        lone_text_line(np.zeros((4, 4), np.float32), tolerance=3)
