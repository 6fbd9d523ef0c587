"""Calibrated confidences: the shipped maps, the fit, and pages read with them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ocrai import OcrAI, testing
from ocrai import packs as packs_module
from ocrai.calibration import (
    ConfidenceMap,
    calibrate_page,
    expected_calibration_error,
    fit_isotonic,
    length_adjusted,
    line_score,
    load_maps,
    word_scores,
)
from ocrai.results import Block, Char, Line, Models, Page, Word

QUAD = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


@pytest.mark.parametrize("pack", ["ppocrv6-small", "ppocrv6-tiny"])
def test_every_bundled_recogniser_has_monotone_maps(pack: str) -> None:
    maps = load_maps()[packs_module.get_pack(pack).file("rec").name]
    assert set(maps) == {"line", "word"}
    grid = np.linspace(0.0, 1.0, 1001)
    for m in maps.values():
        values = m.apply(grid)
        assert np.all(np.diff(values) >= 0)
        assert values.min() >= 0.0
        assert values.max() <= 1.0
        assert values[-1] > 0.5  # a line read with full confidence is usually right
        assert values[-1] > values[0]  # and the map says something


def test_map_checks_its_knots() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        ConfidenceMap((0.1, 0.5), (0.6, 0.4))
    with pytest.raises(ValueError, match=r"0\.\.1"):
        ConfidenceMap((0.1, 1.5), (0.2, 0.4))
    with pytest.raises(ValueError, match="as many"):
        ConfidenceMap((0.1,), ())
    m = ConfidenceMap((0.5, 0.9), (0.2, 0.8))
    assert m(0.0) == pytest.approx(0.2)  # flat outside the knots
    assert m(0.7) == pytest.approx(0.5)
    assert ConfidenceMap.from_dict(m.to_dict()) == m


def test_fit_isotonic_calibrates(rng: np.random.Generator) -> None:
    raw = rng.uniform(0.5, 1.0, 20000)
    truth = (raw - 0.5) ** 2 * 4  # accuracy far below the raw confidence
    correct = rng.uniform(size=raw.size) < truth
    before = expected_calibration_error(raw, correct)
    fitted = fit_isotonic(raw, correct)
    assert all(b >= a for a, b in zip(fitted.ys, fitted.ys[1:], strict=False))
    after = expected_calibration_error(fitted.apply(raw), correct)
    assert before > 0.2
    assert after < 0.02
    fresh = rng.uniform(0.5, 1.0, 20000)  # held out
    fresh_correct = rng.uniform(size=fresh.size) < (fresh - 0.5) ** 2 * 4
    assert expected_calibration_error(fitted.apply(fresh), fresh_correct) < 0.03


def test_fit_isotonic_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError, match="as many"):
        fit_isotonic([0.5, 0.6], [True])


def test_ece_of_a_perfect_and_a_wrong_predictor() -> None:
    assert expected_calibration_error([1.0, 1.0, 0.0], [True, True, False]) == 0.0
    assert expected_calibration_error([1.0, 1.0], [False, False]) == 1.0


def test_pages_are_calibrated_and_keep_the_raw_confidence() -> None:
    with OcrAI(threads=2) as ai:
        page = ai.recognize(testing.render_page(testing.SAMPLE_TEXT["en"]).image)
    maps = load_maps()[page.models.rec or ""]
    for line in page.lines:
        assert line.raw_confidence is not None
        raw = replace(line, raw_confidence=None)
        assert line.raw_confidence == pytest.approx(np.mean([c.confidence for c in line.chars]))
        line_map, word_map = maps["line"], maps["word"]
        score = length_adjusted(line_score(raw), len(line.text), line_map.length_power)
        assert line.confidence == pytest.approx(line_map(score))
        assert len(line.words) > 1
        for word, product in zip(line.words, word_scores(raw), strict=True):
            assert word.raw_confidence is not None
            adjusted = length_adjusted(product, len(word.text), word_map.length_power)
            assert word.confidence == pytest.approx(word_map(adjusted))
            assert adjusted <= product <= word.raw_confidence
    assert calibrate_page(page) == page  # never twice


def test_unknown_models_keep_their_raw_confidence() -> None:
    line = Line("abc", 0.7, QUAD, words=(Word("abc", 0.7, QUAD),))
    page = Page(10, 10, (line,), (Block((0, 0, 10, 5), (0,)),), models=Models(rec="mine.onnx"))
    assert calibrate_page(page) == page


def test_scores_fall_with_length() -> None:
    chars = tuple(Char(ch, 0.99) for ch in "ab cd")
    short = Line("ab", 0.99, QUAD, chars=chars[:2], words=(Word("ab", 0.99, QUAD),))
    long = Line(
        "ab cd", 0.99, QUAD, chars=chars, words=(Word("ab", 0.99, QUAD), Word("cd", 0.99, QUAD))
    )
    assert line_score(long) < line_score(short) < 0.99
    assert word_scores(long) == pytest.approx([0.99**2, 0.99**2])
    bare = Line("abc", 0.9, QUAD)  # no characters: the confidence to the power of the length
    assert line_score(bare) == pytest.approx(0.9**3)


def test_length_adjusted() -> None:
    assert length_adjusted(0.9, 16, 0.0) == 0.9
    assert length_adjusted(0.9, 16, 0.5) == pytest.approx(0.9**4)
    assert length_adjusted(0.0, 16, 0.5) == 0.0
    assert length_adjusted(0.9, 0, 0.5) == pytest.approx(0.9)
