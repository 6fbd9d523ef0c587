"""Calibrated confidences: the probability that a line (or word) is read exactly right.

A recogniser's own confidence (the mean of its characters' probabilities) is high for
nearly every line and says little about how often such a line is wrong. Each bundled
recogniser has fitted monotone maps, raw score -> share of lines read exactly right at
that score, stored in ``calibration.json`` beside this module, one per reading context
(`context_key`): what is known when a line is read and changes how often a score is right:

- ``page``: a line found by detection on a page; ``line``: the whole image read as one line
  (``detect=False``), which the recogniser reads more often right at the same score;
- ``/fast``: the engine is in fast mode, where the tiny recogniser keeps the lines it is sure
  of and the small one re-reads those it doubted (``Line.model == "fallback"``): both are
  other populations than the same recogniser's lines in a plain engine.

The raw score is the product of the characters' confidences (`line_score`, `word_scores`),
which falls with the length of a line where the mean does not, raised to ``length **
length_power`` (`length_adjusted`, the power fitted per map). Each map is an isotonic
regression (pool-adjacent-violators) over every development set, each set weighing the
same, refitted by ``scripts/fit_calibration.py`` (`fit_maps`), which also checks it
leave-one-set-out. A map is piecewise linear between its knots and flat outside them, so
it never reorders two readings of one context. A context without a map of its own uses the
nearest one (`CONTEXT_FALLBACKS`).

`calibrate_page` replaces ``confidence`` of every line and word read by a recogniser that
has a map and keeps the recogniser's own value in ``raw_confidence``; lines of a model
without a map (a custom recogniser) keep their raw confidence (``raw_confidence`` None).
The file's format is versioned (`FORMAT`); a file of another version is refused by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from .precision import fp32_of
from .results import Line, Models, Page

__all__ = [
    "CONTEXT_FALLBACKS",
    "CalibrationMaps",
    "CalibrationRecord",
    "ConfidenceMap",
    "LogisticMap",
    "calibrate_page",
    "context_key",
    "expected_calibration_error",
    "fit_isotonic",
    "fit_logistic",
    "fit_maps",
    "length_adjusted",
    "line_context",
    "line_score",
    "load_maps",
    "word_char_confidences",
    "word_scores",
]

_DATA = "calibration.json"
FORMAT = "ocrai.calibration/2"
CONTEXTS = ("page", "line", "page/fast", "line/fast")
#: Where a context has no map of its own, the first of these that has one is used.
CONTEXT_FALLBACKS: dict[str, tuple[str, ...]] = {
    "page": ("page", "line", "page/fast", "line/fast"),
    "line": ("line", "page", "line/fast", "page/fast"),
    "page/fast": ("page/fast", "page", "line/fast", "line"),
    "line/fast": ("line/fast", "line", "page/fast", "page"),
}


@dataclass(frozen=True)
class LogisticMap:
    """P(right) = 1 / (1 + exp(-(bias + nats * log(N) + length * log(n)))), with N the
    nats the reading's characters are unsure by (minus the log of their confidences'
    product) and n its length: fewer coefficients than an isotonic map has knots, so it
    carries better from the sets it was fitted on to others. `nats` < 0, so that it never
    reorders two readings of one length."""

    bias: float
    nats: float
    length: float

    def __post_init__(self) -> None:
        if not all(np.isfinite((self.bias, self.nats, self.length))) or self.nats >= 0:
            msg = "a logistic confidence map needs finite coefficients and nats < 0"
            raise ValueError(msg)

    def calibrate(self, log_product: np.ndarray, length: np.ndarray) -> np.ndarray:
        nats = np.log(np.maximum(-np.asarray(log_product, dtype=np.float64), 0.0) + _NATS_FLOOR)
        z = self.bias + self.nats * nats + self.length * np.log(np.maximum(length, 1.0))
        with np.errstate(over="ignore"):
            return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "logistic", "bias": self.bias, "nats": self.nats, "length": self.length}


#: Added to the nats of a reading before their log: a reading sure of every character.
_NATS_FLOOR = 1e-4


def fit_logistic(
    log_product: np.ndarray,
    length: np.ndarray,
    correct: np.ndarray,
    weights: np.ndarray | None = None,
) -> LogisticMap:
    """The (weighted) logistic regression of `correct` on log(nats) and log(length), by
    Newton's method with a small ridge. ValueError when the fit does not come out falling
    with the nats."""
    n = np.asarray(log_product).size
    finite = np.isfinite(log_product)
    if not finite.all():  # a character read at confidence 0: right or wrong, it says nothing
        log_product, length, correct = log_product[finite], length[finite], correct[finite]
        weights = None if weights is None else weights[finite]
        n = int(finite.sum())
    nats = np.log(np.maximum(-np.asarray(log_product, dtype=np.float64), 0.0) + _NATS_FLOOR)
    x = np.column_stack([np.ones(n), nats, np.log(np.maximum(length, 1.0))])
    y = np.asarray(correct, dtype=np.float64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    beta = np.zeros(3)
    for _ in range(100):
        with np.errstate(over="ignore"):
            p = 1.0 / (1.0 + np.exp(-x @ beta))
        gradient = x.T @ (w * (p - y)) + 1e-3 * beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(3)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return LogisticMap(float(beta[0]), float(beta[1]), float(beta[2]))


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

    def calibrate(self, log_product: np.ndarray, length: np.ndarray) -> np.ndarray:
        """Calibrated confidences of readings: the logs of their characters' confidences'
        products and their lengths."""
        return self.apply(np.exp(log_product * np.maximum(length, 1.0) ** self.length_power))

    def to_dict(self) -> dict[str, Any]:
        # full precision: knots crowd near 1
        return {
            "kind": "isotonic",
            "x": list(self.xs),
            "y": list(self.ys),
            "length_power": self.length_power,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConfidenceMap:
        return cls(
            tuple(float(v) for v in d["x"]),
            tuple(float(v) for v in d["y"]),
            float(d.get("length_power", 0.0)),
        )


AnyMap = ConfidenceMap | LogisticMap


def map_from_dict(d: Mapping[str, Any]) -> AnyMap:
    kind = d.get("kind", "isotonic")
    if kind == "isotonic":
        return ConfidenceMap.from_dict(d)
    if kind == "logistic":
        return LogisticMap(float(d["bias"]), float(d["nats"]), float(d["length"]))
    msg = f"unknown kind of confidence map {kind!r}"
    raise ValueError(msg)


def fit_isotonic(
    confidences: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    *,
    min_block: int = 20,
    weights: Sequence[float] | np.ndarray | None = None,
) -> ConfidenceMap:
    """The isotonic regression of `correct` (0/1) on `confidences` (pool adjacent
    violators), as a map through the blocks' (weighted) mean confidence and accuracy.
    Blocks of fewer than `min_block` readings are pooled with a neighbour first, so that a
    handful of readings never makes a step of their own. `weights` (default 1 each) let
    every development set weigh the same whatever its size."""
    x = np.asarray(confidences, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if x.shape != y.shape or x.shape != w.shape or x.size == 0:
        msg = "fit_isotonic needs as many outcomes (and weights) as confidences, at least one"
        raise ValueError(msg)
    if not np.all(w > 0):
        msg = "fit_isotonic needs positive weights"
        raise ValueError(msg)
    order = np.argsort(x, kind="stable")
    x, y, w = x[order], y[order], w[order]
    # Blocks: [sum_wx, sum_wy, sum_w, count]; start with chunks of min_block readings.
    blocks: list[list[float]] = []
    for start in range(0, x.size, max(1, min_block)):
        part = slice(start, start + min_block)
        ws = w[part]
        blocks.append(
            [float((ws * x[part]).sum()), float((ws * y[part]).sum()), float(ws.sum()), ws.size]
        )
    if len(blocks) > 1 and blocks[-1][3] < min_block:
        last = blocks.pop()
        blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=False)]
    merged: list[list[float]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] >= merged[-1][1] / merged[-1][2]:
            last = merged.pop()
            merged[-1] = [a + b for a, b in zip(merged[-1], last, strict=False)]
    xs_knots = [b[0] / b[2] for b in merged]  # weighted means
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


def _char_runs(line: Line) -> list[list[float]]:
    """The character confidences of the line's runs of characters between spaces."""
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
    return runs


def word_scores(line: Line) -> list[float]:
    """The product of each word's character confidences (words are the line's runs of
    characters between spaces); where the runs do not match the words: each word's
    confidence to the power of its length."""
    runs = _char_runs(line)
    if len(runs) == len(line.words):
        return [float(np.prod(run)) for run in runs]
    return [
        float(
            (w.confidence if w.raw_confidence is None else w.raw_confidence) ** max(1, len(w.text))
        )
        for w in line.words
    ]


def word_char_confidences(line: Line) -> list[list[float]]:
    """Each word's character confidences (the line's runs of characters between spaces);
    where the runs do not match the words: each word's confidence repeated its length."""
    runs = _char_runs(line)
    if len(runs) == len(line.words):
        return runs
    return [
        [w.confidence if w.raw_confidence is None else w.raw_confidence] * max(1, len(w.text))
        for w in line.words
    ]


def context_key(*, detected: bool, fast: bool) -> str:
    """The reading context a map is fitted for: ``page`` (a line found by detection) or
    ``line`` (the whole image read as one line, ``detect=False``), with ``/fast`` where the
    engine is in fast mode (its tiny recogniser's lines are those it was sure of, the small
    one's those it doubted)."""
    return ("page" if detected else "line") + ("/fast" if fast else "")


def line_context(line: Line, models: Models, *, detected: bool, fast: bool) -> dict[str, str]:
    """The recogniser file that read `line` and its `context_key`."""
    model = models.fallback if line.model == "fallback" else models.rec
    return {"model": model or "", "context": context_key(detected=detected, fast=fast)}


@dataclass(frozen=True)
class CalibrationRecord:
    """One reading of the development sets: which recogniser in which context read it, its
    characters' confidences, its length and whether it was read exactly right; `group` is
    its development set (sets weigh the same and are left out in turn); `level`: ``line`` or
    ``word``."""

    model: str
    context: str
    chars: tuple[float, ...]
    length: int
    correct: bool
    group: str = ""
    level: str = "line"

    @property
    def product(self) -> float:
        return float(np.prod(self.chars)) if self.chars else 0.0


@dataclass(frozen=True)
class CalibrationMaps:
    """The maps of every recogniser: file name -> context -> level (``line``, ``word``)."""

    models: Mapping[str, Mapping[str, Mapping[str, AnyMap]]]

    def lookup(self, model: str, context: str) -> Mapping[str, AnyMap]:
        """The maps of `model` in `context`, or in the nearest context that has them
        (`CONTEXT_FALLBACKS`); empty for a recogniser without maps. An int8 recogniser
        without maps of its own reads the maps of the fp32 one it was derived from."""
        contexts = self.models.get(model) or self.models.get(fp32_of(model), {})
        for candidate in CONTEXT_FALLBACKS.get(context, (context,)):
            if candidate in contexts:
                return contexts[candidate]
        return {}

    def confidence(self, record: CalibrationRecord, level: str = "line") -> float | None:
        """The calibrated confidence of a record, None without a map for it."""
        maps = self.lookup(record.model, record.context)
        m = maps.get(level, maps.get("line"))
        if m is None:
            return None
        log_product = np.log(record.product) if record.product > 0 else -np.inf
        return float(m.calibrate(np.array([log_product]), np.array([float(record.length)]))[0])

    def line_confidences(self, records: Sequence[CalibrationRecord]) -> np.ndarray:
        """Calibrated confidences of line records (the mean character confidence where a
        record's recogniser has no map)."""
        out = []
        for r in records:
            value = self.confidence(r, "line")
            out.append(float(np.mean(r.chars)) if value is None and r.chars else value or 0.0)
        return np.asarray(out, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": {
                model: {
                    context: {level: m.to_dict() for level, m in levels.items()}
                    for context, levels in contexts.items()
                }
                for model, contexts in self.models.items()
            }
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMaps:
        """Maps from a document in the `FORMAT` format; ValueError naming what is wrong."""
        if data.get("format") != FORMAT:
            msg = f"calibration maps in format {data.get('format')!r}, this ocrai reads {FORMAT!r}"
            raise ValueError(msg)
        models: dict[str, dict[str, dict[str, AnyMap]]] = {}
        for model, contexts in data["models"].items():
            for context, levels in contexts.items():
                if context not in CONTEXTS:
                    msg = f"calibration maps of {model}: unknown context {context!r}"
                    raise ValueError(msg)
                for level in levels:
                    if level not in ("line", "word"):
                        msg = f"calibration maps of {model}/{context}: unknown level {level!r}"
                        raise ValueError(msg)
            models[model] = {
                context: {level: map_from_dict(m) for level, m in levels.items()}
                for context, levels in contexts.items()
            }
        return cls(models)


@lru_cache(maxsize=1)
def load_maps() -> CalibrationMaps:
    """The shipped maps (``calibration.json`` beside this module)."""
    text = resources.files("ocrai").joinpath(_DATA).read_text(encoding="utf-8")
    try:
        return CalibrationMaps.from_dict(json.loads(text))
    except ValueError as error:
        msg = f"{_DATA}: {error}"
        raise ValueError(msg) from error


#: Candidates of the fit, chosen leave-one-set-out (see `fit_maps`).
LENGTH_POWERS = (0.0, 0.25, 0.5, 0.75)
MIN_BLOCKS = (20, 50, 100)
#: A context with fewer line readings than this takes the nearest context's map.
MIN_READINGS = 150


@dataclass(frozen=True)
class _Sample:
    """Records of one recogniser, context and level as arrays."""

    log_product: np.ndarray
    length: np.ndarray
    correct: np.ndarray
    group: np.ndarray

    @classmethod
    def of(cls, records: Sequence[CalibrationRecord]) -> _Sample:
        with np.errstate(divide="ignore"):
            log_product = np.array(
                [np.sum(np.log(r.chars)) if r.chars else -np.inf for r in records]
            )
        return cls(
            log_product,
            np.array([max(1, r.length) for r in records], dtype=np.float64),
            np.array([r.correct for r in records], dtype=np.float64),
            np.array([r.group for r in records]),
        )

    def scores(self, power: float, mask: np.ndarray | None = None) -> np.ndarray:
        """`length_adjusted` products, vectorised."""
        log_product, length = self.log_product, self.length
        if mask is not None:
            log_product, length = log_product[mask], length[mask]
        return np.exp(log_product * length**power)

    def _weights(self, group: np.ndarray) -> np.ndarray:
        names, index, counts = np.unique(group, return_inverse=True, return_counts=True)
        return np.asarray(group.size / (names.size * counts[index]), dtype=np.float64)

    def fit(self, kind: Candidate, mask: np.ndarray | None = None) -> AnyMap:
        """The map of the (masked) records, every set weighing the same: logistic
        (`kind` None) or isotonic with (length power, block size) `kind`."""
        keep = np.ones(self.correct.size, bool) if mask is None else mask
        weights = self._weights(self.group[keep])
        if kind is None:
            return fit_logistic(
                self.log_product[keep], self.length[keep], self.correct[keep], weights
            )
        power, min_block = kind
        m = fit_isotonic(
            self.scores(power, keep), self.correct[keep], min_block=min_block, weights=weights
        )
        return ConfidenceMap(m.xs, m.ys, power)

    def held_out_error(self, kind: Candidate) -> float:
        """The mean over the sets of the ECE on a set of the map fitted on the others (on
        every record when there is one set only); inf where a fit fails."""
        groups = np.unique(self.group)
        try:
            if groups.size < 2:
                m = self.fit(kind)
                values = m.calibrate(self.log_product, self.length)
                return expected_calibration_error(values, self.correct)
            errors = []
            for group in groups:
                mine = self.group == group
                m = self.fit(kind, ~mine)
                values = m.calibrate(self.log_product[mine], self.length[mine])
                errors.append(expected_calibration_error(values, self.correct[mine]))
        except ValueError:
            return float("inf")
        return float(np.mean(errors))


#: A kind of map to fit: None for logistic, (length power, block size) for isotonic.
Candidate = tuple[float, int] | None
CANDIDATES: tuple[Candidate, ...] = (
    None,
    *((p, b) for p in LENGTH_POWERS for b in MIN_BLOCKS),
)


def fit_maps(
    records: Sequence[CalibrationRecord], *, min_readings: int = MIN_READINGS
) -> CalibrationMaps:
    """One line map and one word map per recogniser and context with at least
    `min_readings` line readings. Each map's kind (logistic, or isotonic with a length
    power among `LENGTH_POWERS` and a block size among `MIN_BLOCKS`) is chosen by the
    leave-one-set-out ECE (each set left out
    in turn, the map fitted on the rest), then the map is fitted on every set."""
    by_key: dict[tuple[str, str, str], list[CalibrationRecord]] = {}
    for r in records:
        by_key.setdefault((r.model, r.context, r.level), []).append(r)
    models: dict[str, dict[str, dict[str, AnyMap]]] = {}
    for (model, context, level), chosen in sorted(by_key.items()):
        lines = by_key.get((model, context, "line"), [])
        if len(lines) < min_readings or len(chosen) < min_readings:
            continue
        sample = _Sample.of(chosen)
        kind = min(CANDIDATES, key=sample.held_out_error)
        models.setdefault(model, {}).setdefault(context, {})[level] = sample.fit(kind)
    return CalibrationMaps(models)


def _calibrated(m: AnyMap, product: float, length: int) -> float:
    with np.errstate(divide="ignore"):
        log_product = np.log(max(product, 0.0))
    return float(m.calibrate(np.array([log_product]), np.array([float(length)]))[0])


def _calibrate_line(line: Line, maps: Mapping[str, AnyMap]) -> Line:
    line_map = maps.get("line")
    word_map = maps.get("word", line_map)
    if line_map is None or line.raw_confidence is not None:
        return line
    words = line.words
    if word_map is not None:
        words = tuple(
            replace(
                w,
                confidence=_calibrated(word_map, score, len(w.text)),
                raw_confidence=w.confidence,
            )
            for w, score in zip(line.words, word_scores(line), strict=True)
        )
    return replace(
        line,
        confidence=_calibrated(line_map, line_score(line), len(line.text)),
        raw_confidence=line.confidence,
        words=words,
    )


def calibrate_page(page: Page, *, detected: bool = True) -> Page:
    """The page with calibrated line and word confidences (see the module docstring);
    `detected`: its lines were found by detection (False: the image read as one line)."""
    maps = load_maps()
    # Fast mode is a fallback of another recogniser; the fp32 recogniser that checks the int8
    # one derived from it (precision "auto") reads in the plain contexts.
    fast = page.models.fallback is not None and fp32_of(page.models.fallback) != fp32_of(
        page.models.rec or ""
    )
    context = context_key(detected=detected, fast=fast)
    primary = maps.lookup(page.models.rec or "", context)
    fallback = maps.lookup(page.models.fallback or "", context)
    if not primary and not fallback:
        return page
    lines = tuple(
        _calibrate_line(line, fallback if line.model == "fallback" else primary)
        for line in page.lines
    )
    return replace(page, lines=lines)
