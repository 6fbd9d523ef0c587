"""Calibrated confidences: the shipped maps, the fit, and pages read with them."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from ocrai import OcrAI, testing
from ocrai import packs as packs_module
from ocrai.calibration import (
    CONTEXTS,
    FORMAT,
    CalibrationMaps,
    CalibrationRecord,
    ConfidenceMap,
    LogisticMap,
    calibrate_page,
    context_key,
    expected_calibration_error,
    fit_isotonic,
    fit_logistic,
    fit_maps,
    length_adjusted,
    line_score,
    load_maps,
    word_scores,
)
from ocrai.results import Block, Char, Line, Models, Page, Word

ROOT = Path(__file__).resolve().parent.parent
QUAD = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


@pytest.mark.parametrize("pack", ["ppocrv6-small", "ppocrv6-tiny"])
@pytest.mark.parametrize("context", CONTEXTS)
def test_every_bundled_recogniser_has_monotone_maps(pack: str, context: str) -> None:
    maps = load_maps().lookup(packs_module.get_pack(pack).file("rec").name, context)
    assert set(maps) == {"line", "word"}
    grid = np.linspace(0.0, 1.0, 1001)
    for m in maps.values():
        with np.errstate(divide="ignore"):
            values = m.calibrate(np.log(grid), np.full(grid.size, 20.0))
        assert np.all(np.diff(values) >= 0)
        assert values.min() >= 0.0
        assert values.max() <= 1.0
        assert values[-1] > 0.5  # a line read with full confidence is usually right
        assert values[-1] > values[0]  # and the map says something


def test_shipped_maps_have_their_own_contexts() -> None:
    """Every bundled recogniser has maps fitted for pages and for whole-image lines, and
    fast mode's two recognisers for what fast mode gives each."""
    maps = load_maps().models
    small, tiny = (
        packs_module.get_pack(p).file("rec").name for p in ("ppocrv6-small", "ppocrv6-tiny")
    )
    assert {"page", "line", "page/fast"} <= set(maps[small])
    assert {"page/fast", "line/fast"} <= set(maps[tiny])  # alone, the tiny pack uses these


def test_the_format_is_versioned_and_checked() -> None:
    maps = load_maps()
    document = {"format": FORMAT, **maps.to_dict()}
    assert CalibrationMaps.from_dict(json.loads(json.dumps(document))) == maps
    shipped = json.loads(resources.files("ocrai").joinpath("calibration.json").read_text())
    assert shipped["format"] == FORMAT == "ocrai.calibration/2"
    with pytest.raises(ValueError, match=r"format 'ocrai.calibration/1', this ocrai reads"):
        CalibrationMaps.from_dict({**document, "format": "ocrai.calibration/1"})
    with pytest.raises(ValueError, match="format None"):
        CalibrationMaps.from_dict({"models": {}})
    model = next(iter(document["models"]))
    bad = {"format": FORMAT, "models": {model: {"sideways": {}}}}
    with pytest.raises(ValueError, match="unknown context 'sideways'"):
        CalibrationMaps.from_dict(bad)
    bad = {"format": FORMAT, "models": {model: {"page": {"char": {"x": [0.5], "y": [0.5]}}}}}
    with pytest.raises(ValueError, match="unknown level 'char'"):
        CalibrationMaps.from_dict(bad)


def test_lookup_falls_back_to_the_nearest_context() -> None:
    m = ConfidenceMap((0.0, 1.0), (0.1, 0.9))
    maps = CalibrationMaps({"r.onnx": {"page": {"line": m}}})
    for context in CONTEXTS:
        assert maps.lookup("r.onnx", context) == {"line": m}
    assert maps.lookup("other.onnx", "page") == {}
    assert context_key(detected=True, fast=False) == "page"
    assert context_key(detected=False, fast=True) == "line/fast"


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
    maps = load_maps().lookup(page.models.rec or "", "page")
    for line in page.lines:
        assert line.raw_confidence is not None
        raw = replace(line, raw_confidence=None)
        assert line.raw_confidence == pytest.approx(np.mean([c.confidence for c in line.chars]))
        assert line.confidence == pytest.approx(_through(maps["line"], line_score(raw), line))
        assert len(line.words) > 1
        for word, product in zip(line.words, word_scores(raw), strict=True):
            assert word.raw_confidence is not None
            assert product <= word.raw_confidence
            assert word.confidence == pytest.approx(_through(maps["word"], product, word))
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


def _line_map_of(page: Page, line: Line, context: str) -> float:
    model = page.models.fallback if line.model == "fallback" else page.models.rec
    m = load_maps().lookup(model or "", context)["line"]
    return _through(m, line_score(replace(line, raw_confidence=None)), line)


def _through(m: ConfidenceMap | LogisticMap, product: float, read: Line | Word) -> float:
    """What map `m` says of a reading of this product of confidences and length."""
    log_product = np.log(product) if product > 0 else -np.inf
    return float(m.calibrate(np.array([log_product]), np.array([float(len(read.text))]))[0])


def test_the_context_of_a_reading_picks_its_map() -> None:
    """A whole-image line (detect=False, or a lone line that detection leaves to it) takes
    the ``line`` map, a detected one the ``page`` map; a fast engine's lines take the
    ``/fast`` maps of the recogniser that read each (tiny, or small for a re-read)."""
    image = testing.render_line("Invoice 2024-118: 4 items, total 93.50 EUR")
    with OcrAI(threads=2) as ai:
        whole = ai.recognize(image, detect=False)
        lone = ai.recognize(image)
        detected = ai.recognize(image, lone_line=False)
    for page in (whole, lone):
        (line,) = page.lines
        assert line.confidence == pytest.approx(_line_map_of(page, line, "line"))
    for line in detected.lines:
        assert line.confidence == pytest.approx(_line_map_of(detected, line, "page"))
    page = testing.render_page(testing.SAMPLE_TEXT["cs"], lang="cs")
    with OcrAI(threads=2, fast=True) as ai:
        fast = ai.recognize(page.image)
    assert {line.model for line in fast.lines} == {"primary", "fallback"}  # both kinds here
    for line in fast.lines:
        assert line.confidence == pytest.approx(_line_map_of(fast, line, "page/fast"))


def _records(
    rng: np.random.Generator, group: str, n: int, slope: float, context: str = "page"
) -> list[CalibrationRecord]:
    """Synthetic readings: 10-40 characters, P(right) = product ** slope."""
    out = []
    for _ in range(n):
        length = int(rng.integers(10, 40))
        chars = tuple(1.0 - rng.beta(0.3, 30.0, length))
        p = float(np.prod(chars)) ** slope
        out.append(
            CalibrationRecord("r.onnx", context, chars, length, bool(rng.uniform() < p), group)
        )
    return out


def test_fit_maps_calibrates_sets_it_never_saw(rng: np.random.Generator) -> None:
    """Fitted on three sets, the map is calibrated on a fourth drawn alike; each context
    gets its own map (here the whole-image lines are right more often at one score)."""
    train = [
        r
        for g in ("a", "b", "c")
        for r in _records(rng, g, 800, 3.0) + _records(rng, g, 400, 0.5, "line")
    ]
    maps = fit_maps(train)
    assert set(maps.models["r.onnx"]) == {"page", "line"}
    for context, slope in (("page", 3.0), ("line", 0.5)):
        fresh = _records(rng, "d", 3000, slope, context)
        raw = np.array([float(np.mean(r.chars)) for r in fresh])
        ok = np.array([r.correct for r in fresh])
        assert expected_calibration_error(raw, ok) > 0.08
        assert expected_calibration_error(maps.line_confidences(fresh), ok) < 0.035, context
    few = fit_maps(_records(rng, "a", 100, 3.0))  # under MIN_READINGS: no map
    assert few.models == {}


def test_fit_isotonic_weights_sets() -> None:
    # Two sets at one confidence: 90 % right (900 readings) and 50 % (100 readings); with
    # equal weight per set the map says 70 %.
    x = np.full(1000, 0.8)
    y = np.r_[np.arange(900) % 10 != 0, np.arange(100) % 2 == 0]
    w = np.r_[np.full(900, 1000 / (2 * 900)), np.full(100, 1000 / (2 * 100))]
    assert fit_isotonic(x, y)(0.8) == pytest.approx(0.86)
    assert fit_isotonic(x, y, weights=w)(0.8) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="positive weights"):
        fit_isotonic(x, y, weights=np.zeros(1000))


def test_logistic_maps(rng: np.random.Generator) -> None:
    """Fitted on readings whose P(right) falls with their nats and length, the logistic
    map recovers it, falls with the nats, and round-trips through its dict."""
    n = 20000
    length = rng.integers(5, 60, n).astype(float)
    log_product = -rng.gamma(0.5, 0.2, n) * length / 10
    nats = np.log(-log_product + 1e-4)
    truth = 1 / (1 + np.exp(-(1.0 - 1.5 * nats - 0.3 * np.log(length))))
    correct = rng.uniform(size=n) < truth
    m = fit_logistic(log_product, length, correct)
    assert m.nats == pytest.approx(-1.5, abs=0.15)
    assert m.length == pytest.approx(-0.3, abs=0.2)
    values = m.calibrate(log_product, length)
    assert expected_calibration_error(values, correct) < 0.02
    falling = m.calibrate(np.array([-0.001, -0.01, -0.1, -1.0, -np.inf]), np.full(5, 20.0))
    assert np.all(np.diff(falling) < 0)
    assert falling[-1] == 0.0
    maps = CalibrationMaps({"r.onnx": {"page": {"line": m}}})
    assert CalibrationMaps.from_dict({"format": FORMAT, **maps.to_dict()}) == maps
    with pytest.raises(ValueError, match="nats < 0"):
        LogisticMap(0.0, 0.5, 0.0)
    bad = {"format": FORMAT, "models": {"r.onnx": {"page": {"line": {"kind": "spline"}}}}}
    with pytest.raises(ValueError, match="unknown kind of confidence map 'spline'"):
        CalibrationMaps.from_dict(bad)


def test_fit_calibration_script_reads_sets_and_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refit command on a small rendered stand-in for ../shared/data: a page set with
    line boxes and a line set; every line read right, the table printed per set."""
    script = _script()

    pages = tmp_path / "fondue-en"
    pages.mkdir()
    rendered = testing.render_page(testing.SAMPLE_TEXT["en"])
    Image.fromarray(rendered.image).save(pages / "p.png")
    boxes = [
        {"box": list(b), "text": t} for b, t in zip(rendered.boxes, rendered.lines, strict=True)
    ]
    row = {"image": "p.png", "text": rendered.text, "level": "page", "line_boxes": boxes}
    (pages / "manifest.jsonl").write_text(json.dumps(row) + "\n")
    lines = tmp_path / "uw3-lines"
    lines.mkdir()
    rows = []
    for k, text in enumerate(("Calibrated lines", "read whole")):
        Image.fromarray(testing.render_line(text)).save(lines / f"{k}.png")
        rows.append(json.dumps({"image": f"{k}.png", "text": text, "level": "line"}))
    (lines / "manifest.jsonl").write_text("\n".join(rows) + "\n")

    cache = tmp_path / "readings.jsonl"
    assert (
        script.main([str(tmp_path), "--jobs", "1", "--modes", "small", "--readings", str(cache)])
        == 0
    )
    records = [json.loads(x) for x in cache.read_text().splitlines()]
    page_lines = [r for r in records if r["set"] == "fondue-en" and r["level"] == "line"]
    assert len([r for r in page_lines if not r.get("crop")]) == len(rendered.lines)
    assert any(r.get("crop") and r["context"] == "line" for r in page_lines)  # cut out, whole
    assert all(r["correct"] for r in page_lines)
    assert {r["context"] for r in records if r["set"] == "uw3-lines"} == {"line"}
    out = capsys.readouterr().out
    assert f"| small | fondue-en | {len(rendered.lines)} |" in out
    assert "| small | uw3-lines | 2 |" in out
    assert "worst leave-one-set-out line ECE" in out
    assert all(r["text"] and r["truth"] for r in records)  # judged again when fitting

    # --reread reads a mode again in place of its records in the cache (not beside them)
    cache.write_text(cache.read_text().replace('"correct": true', '"correct": false'))
    args = [str(tmp_path), "--jobs", "1", "--modes", "small", "--readings", str(cache)]
    assert script.main([*args, "--reread", "small"]) == 0
    again = [json.loads(x) for x in cache.read_text().splitlines()]
    assert len(again) == len(records)
    assert all(r["correct"] for r in again if r["set"] == "fondue-en" and r["level"] == "line")


def _script() -> ModuleType:
    """scripts/fit_calibration.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "fit_calibration", ROOT / "scripts" / "fit_calibration.py"
    )
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_the_judge_reads_forms_the_ground_truths_do_not_keep_apart() -> None:
    """Typographic quotes, apostrophes and dashes and EHRI's Cyrillic ä/ö are the plain
    characters; SROIE and EHRI ignore spacing, SROIE case; a tesseract line whose ground
    truth could not write a character is not judged; any other difference is wrong."""
    judge = _script().judge
    curly = "he said \u201cI don't\u2014\u201d"
    assert judge(curly, 'he said "I don\u2019t\u2013"', "fondue-en")
    assert judge("estab-", "estab\u00ac", "fondue-en")
    assert judge("zun\u00e4chst", "zun\u04d3chst", "ehri-typewritten")  # Cyrillic a
    assert judge("Total:", "TOTAL :", "sroie")
    assert judge("Čís, jedn.", "Čís,jedn.", "ehri-typewritten")
    assert judge("a  b ", "a b", "uw3-lines")
    assert judge("Café, housed", "Caf~~, housed", "tesseract") is None
    assert judge("Cafe", "Caf~~", "fondue-en") is False  # only the tesseract pages' mark
    assert not judge("Total:", "TOTAL :", "fondue-en")  # spacing and case count elsewhere
    assert not judge("I am", "l am", "fondue-en")
    assert not judge("112.46", "112.45", "sroie")
    assert not judge("zunachst", "zun\u04d3chst", "ehri-typewritten")


def test_records_are_judged_again_from_their_texts() -> None:
    """A record that keeps its texts takes the judge's verdict of today, not the one it was
    written with; one the judge cannot tell is left out; an old record without texts keeps
    its own."""
    script = _script()
    base = {"mode": "small", "level": "line", "chars": [0.9], "n": 1}
    records = [
        {**base, "set": "fondue-en", "text": "it\u2019s", "truth": "it's", "correct": False},
        {**base, "set": "tesseract", "text": "é", "truth": "~", "correct": False},
        {**base, "set": "sroie", "correct": True},
    ]
    assert [(r["set"], r["correct"]) for r in script.judged(records)] == [
        ("fondue-en", True),
        ("sroie", True),
    ]


def test_noise_floor_is_what_calibrated_confidences_score(rng: np.random.Generator) -> None:
    """The ECE of perfectly calibrated confidences is not 0 on a finite set: the floor is
    what such confidences score on average, and falls as the set grows."""
    floor = _script().noise_floor
    small, large = rng.uniform(0.6, 1.0, 50), rng.uniform(0.6, 1.0, 5000)
    outcomes = rng.uniform(size=(300, small.size)) < small
    drawn = np.mean([expected_calibration_error(small, o) for o in outcomes])
    assert floor(small) == pytest.approx(drawn, rel=0.15)
    assert floor(large) < floor(small) / 4
    assert floor(np.ones(100)) == 0.0
