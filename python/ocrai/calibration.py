"""Calibrated confidences: the probability that a line (or word) is read exactly right.

A recogniser's own confidence (the mean of its characters' probabilities) is high for
nearly every line and says little about how often such a line is wrong. Each bundled
recogniser has a fitted monotone map, raw score -> share of lines read exactly right at
that score, stored in ``calibration.json`` beside this module. The raw score is the
product of the characters' confidences (`line_score`, `word_scores`), which falls with the
length of a line where the mean does not: a long line has more characters to get wrong: an isotonic
regression (pool-adjacent-violators) over the development sets, refitted by
``scripts/fit_calibration.py``. The map is piecewise linear between its knots and flat
outside them, so it never reorders two readings.

`calibrate_page` replaces ``confidence`` of every line and word read by a recogniser that
has a map and keeps the recogniser's own value in ``raw_confidence``; lines of a model
without a map (a custom recogniser) keep their raw confidence (``raw_confidence`` None).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from .results import Line, Page

__all__ = [
    "ConfidenceMap",
    "calibrate_page",
    "expected_calibration_error",
    "fit_isotonic",
    "length_adjusted",
    "load_maps",
]

_DATA = "calibration.json"
FORMAT = "ocrai.calibration/1"


@dataclass(frozen=True)
class ConfidenceMap:
    """A monotone non-decreasing map of 0..1 onto 0..1, piecewise linear between knots."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    #: The map reads ``product ** (length ** length_power)`` (see `length_adjusted`).
    length_power: float = 0.0

    def __post_init__(self) -> None:
        if len(self.xs) != len(self.ys) or not self.xs:
            msg = "a confidence map needs as many knots' x as y, at least one"
            raise ValueError(msg)
        if any(b < a for a, b in zip(self.xs, self.xs[1:], strict=False)) or any(
            b < a for a, b in zip(self.ys, self.ys[1:], strict=False)
        ):
            msg = "a confidence map's knots must be non-decreasing in x and y"
            raise ValueError(msg)
        if not all(0.0 <= v <= 1.0 for v in (*self.xs, *self.ys)):
            msg = "a confidence map's knots lie in 0..1"
            raise ValueError(msg)

    def __call__(self, confidence: float) -> float:
        return float(np.interp(confidence, self.xs, self.ys))

    def apply(self, confidences: Sequence[float] | np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(confidences, dtype=np.float64), self.xs, self.ys)

    def to_dict(self) -> dict[str, Any]:
        # full precision: knots crowd near 1
        return {"x": list(self.xs), "y": list(self.ys), "length_power": self.length_power}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConfidenceMap:
        return cls(
            tuple(float(v) for v in d["x"]),
            tuple(float(v) for v in d["y"]),
            float(d.get("length_power", 0.0)),
        )


def fit_isotonic(
    confidences: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    *,
    min_block: int = 20,
) -> ConfidenceMap:
    """The isotonic regression of `correct` (0/1) on `confidences` (pool adjacent
    violators), as a map through the blocks' mean confidence and accuracy. Blocks of fewer
    than `min_block` readings are pooled with a neighbour first, so that a handful of
    readings never makes a step of their own."""
    x = np.asarray(confidences, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if x.shape != y.shape or x.size == 0:
        msg = "fit_isotonic needs as many outcomes as confidences, at least one"
        raise ValueError(msg)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    # Blocks: [sum_x, sum_y, count]; start with fixed-size chunks of min_block readings.
    blocks: list[list[float]] = []
    for start in range(0, x.size, max(1, min_block)):
        xs, ys = x[start : start + min_block], y[start : start + min_block]
        blocks.append([float(xs.sum()), float(ys.sum()), float(xs.size)])
    if len(blocks) > 1 and blocks[-1][2] < min_block:
        last = blocks.pop()
        blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=False)]
    merged: list[list[float]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] >= merged[-1][1] / merged[-1][2]:
            last = merged.pop()
            merged[-1] = [a + b for a, b in zip(merged[-1], last, strict=False)]
    xs_knots = [b[0] / b[2] for b in merged]
    ys_knots = [b[1] / b[2] for b in merged]
    # Equal mean confidences (many readings at exactly 1.0) keep one knot.
    knots: dict[float, float] = {}
    for kx, ky in zip(xs_knots, ys_knots, strict=False):
        knots[kx] = max(ky, knots.get(kx, 0.0))
    kx_sorted = sorted(knots)
    ky_sorted = list(np.maximum.accumulate([knots[k] for k in kx_sorted]))
    return ConfidenceMap(
        tuple(min(max(v, 0.0), 1.0) for v in kx_sorted),
        tuple(min(max(float(v), 0.0), 1.0) for v in ky_sorted),
    )


def expected_calibration_error(
    confidences: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    bins: int = 10,
) -> float:
    """ECE: the mean over equal-width confidence bins of |accuracy - mean confidence|,
    weighted by the share of readings in the bin."""
    c = np.asarray(confidences, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if c.size == 0:
        return 0.0
    index = np.minimum((c * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() / c.size * abs(y[mask].mean() - c[mask].mean())
    return float(total)


@lru_cache(maxsize=1)
def load_maps() -> dict[str, dict[str, ConfidenceMap]]:
    """The shipped maps: recogniser file name -> {"line": map, "word": map}."""
    text = resources.files("ocrai").joinpath(_DATA).read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("format") != FORMAT:
        msg = f"{_DATA} is not in the {FORMAT} format"
        raise ValueError(msg)
    return {
        model: {level: ConfidenceMap.from_dict(m) for level, m in levels.items()}
        for model, levels in data["models"].items()
    }


def length_adjusted(product: float, length: int, power: float) -> float:
    """``product ** (length ** power)``: with power > 0 a long reading counts as less sure
    than the product of its characters says (fitted per recogniser, 0 = the product)."""
    if power == 0.0 or product <= 0.0:
        return product
    return float(np.exp(np.log(product) * max(1, length) ** power))


def line_score(line: Line) -> float:
    """What the maps read: the product of the line's character confidences (the chance
    that every character is right if they were independent), which, unlike their mean,
    falls with the line's length. Without characters: the confidence to the power of the
    text's length."""
    if line.chars:
        return float(np.prod([c.confidence for c in line.chars]))
    base = line.confidence if line.raw_confidence is None else line.raw_confidence
    return float(base ** max(1, len(line.text)))


def word_scores(line: Line) -> list[float]:
    """The product of each word's character confidences (words are the line's runs of
    characters between spaces); where the runs do not match the words: each word's
    confidence to the power of its length."""
    runs: list[list[float]] = []
    current: list[float] = []
    for c in line.chars:
        if c.text.isspace():
            if current:
                runs.append(current)
            current = []
        else:
            current.append(c.confidence)
    if current:
        runs.append(current)
    if len(runs) == len(line.words):
        return [float(np.prod(run)) for run in runs]
    return [
        float(
            (w.confidence if w.raw_confidence is None else w.raw_confidence) ** max(1, len(w.text))
        )
        for w in line.words
    ]


def _calibrate_line(line: Line, maps: Mapping[str, ConfidenceMap]) -> Line:
    line_map = maps.get("line")
    word_map = maps.get("word", line_map)
    if line_map is None or line.raw_confidence is not None:
        return line
    words = line.words
    if word_map is not None:
        words = tuple(
            replace(
                w,
                confidence=word_map(length_adjusted(score, len(w.text), word_map.length_power)),
                raw_confidence=w.confidence,
            )
            for w, score in zip(line.words, word_scores(line), strict=True)
        )
    return replace(
        line,
        confidence=line_map(
            length_adjusted(line_score(line), len(line.text), line_map.length_power)
        ),
        raw_confidence=line.confidence,
        words=words,
    )


def calibrate_page(page: Page) -> Page:
    """The page with calibrated line and word confidences (see the module docstring)."""
    maps = load_maps()
    primary = maps.get(page.models.rec or "")
    fallback = maps.get(page.models.fallback or "")
    if primary is None and fallback is None:
        return page
    lines = tuple(
        _calibrate_line(line, (fallback if line.model == "fallback" else primary) or {})
        for line in page.lines
    )
    return replace(page, lines=lines)
