"""ocrai.testing: the renderer's ground truth and the scoring every reported CER uses."""

from __future__ import annotations

import numpy as np
import pytest

from ocrai import testing


def dynamic_programming_distance(a: str, b: str) -> int:
    """The textbook O(len(a) * len(b)) table, the definition the fast version must match."""
    table = np.zeros((len(a) + 1, len(b) + 1), dtype=np.int64)
    table[:, 0] = np.arange(len(a) + 1)
    table[0, :] = np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i, j] = min(
                table[i - 1, j] + 1,
                table[i, j - 1] + 1,
                table[i - 1, j - 1] + (a[i - 1] != b[j - 1]),
            )
    return int(table[-1, -1])


def test_levenshtein_matches_the_table(rng: np.random.Generator) -> None:
    alphabet = ["a", "b", " ", "c", "é", "東"]
    for _ in range(300):
        a = "".join(rng.choice(alphabet, rng.integers(0, 12)))
        b = "".join(rng.choice(alphabet, rng.integers(0, 12)))
        assert testing.levenshtein(a, b) == dynamic_programming_distance(a, b), (a, b)


@pytest.mark.parametrize(
    ("read", "truth", "lang", "expected"),
    [
        ("Hello  world\n", "Hello world", "en", 0.0),
        ("Hello word", "Hello world", "en", 1 / 11),
        ("東京 駅", "東京駅", "ja", 0.0),
        ("東京\n駅", "東京駅", "zh-hant", 0.0),
        ("", "", "en", 0.0),
        ("x", "", "en", 1.0),
        ("", "abc", "en", 1.0),
    ],
)
def test_cer(read: str, truth: str, lang: str, expected: float) -> None:
    assert testing.cer(read, truth, lang) == pytest.approx(expected)


def test_cer_casefold() -> None:
    assert testing.cer("TOTAL: 12.50", "total: 12.50", casefold=True) == 0.0
    assert testing.cer("TOTAL: 12.50", "total: 12.50") > 0


def test_rendered_pages_carry_their_truth() -> None:
    page = testing.render_page(["first line", "second line"], font_size=24)
    assert page.text == "first line\nsecond line"
    assert page.image.dtype == np.uint8
    assert page.image.ndim == 3
    height, width = page.image.shape[:2]
    for left, top, right, bottom in page.boxes:
        assert 0 <= left < right <= width
        assert 0 <= top < bottom <= height
        # Ink inside each box, paper outside the boxes' rows.
        assert page.image[top:bottom, left:right].min() < 100
    assert page.image[: page.boxes[0][1] - 2].min() > 200


def test_columns_read_left_column_first() -> None:
    page = testing.render_columns([["left one", "left two"], ["right one"]])
    assert page.lines == ("left one", "left two", "right one")
    assert page.boxes[2][0] > page.boxes[0][2]
