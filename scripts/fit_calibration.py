"""Refits the confidence calibration shipped in python/ocrai/calibration.json.

Reads the development sets (folders laid out like ``../shared/data``: a ``manifest.jsonl``
each), records for every line (and word) the recogniser's raw confidence and whether it
was read exactly right, fits one isotonic map per recogniser on the fitting half, and
prints the expected calibration error (ECE, 10 bins) of line confidence on every set
before (the mean character confidence, what ``confidence`` was, and the product of the
character confidences that the maps read) and after, on the held-out part and on all of
it, as a Markdown table.

What counts as a line and as "exactly right":

- page sets with line geometry (SROIE ``lines`` quads, EHRI and FoNDUE ``line_boxes``):
  the page is read whole, as users read it; each read line is paired with the
  ground-truth line whose box overlaps it most (intersection over union >= 0.5, one to
  one); unpaired lines are left out (they are detection errors, not readings);
- line sets (UW3): each image read as one line (``detect=False``);
- exact: equal after collapsing whitespace; SROIE case-insensitively (its ground truth is
  upper case where receipts are not always), EHRI ignoring whitespace (its ground truth
  normalises spacing around punctuation);
- words: the words of a paired line whose word count equals the ground truth's, in pairs.

Fitting half: SROIE and EHRI pages with an even index in their manifests. Held out: their
odd pages, all of FoNDUE and UW3 (sets the map never saw).

Usage::

    python scripts/fit_calibration.py /work/shared/data [--readings cache.jsonl]
        [--write] [--packs small tiny]

``--readings`` keeps the readings in a file and reuses it when it exists (reading the
sets takes minutes; fitting takes a second). ``--write`` writes the maps into the
package; without it the script only reports.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ocrai import OcrAI
from ocrai.calibration import (
    FORMAT,
    ConfidenceMap,
    expected_calibration_error,
    fit_isotonic,
    length_adjusted,
    line_score,
    word_scores,
)

SETS = ("sroie", "ehri-typewritten", "fondue-en", "uw3-lines")
FIT_SETS = ("sroie", "ehri-typewritten")
PACK_REC = {"small": "ppocrv6-small-rec.onnx", "tiny": "ppocrv6-tiny-rec.onnx"}
OUT = Path(__file__).resolve().parent.parent / "python" / "ocrai" / "calibration.json"
_SPACE = re.compile(r"\s+")


def normalize(text: str, dataset: str) -> str:
    if dataset == "ehri-typewritten":
        return _SPACE.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    return text.lower() if dataset == "sroie" else text


def _box(points: Any) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _truth_lines(row: dict[str, Any]) -> list[tuple[tuple[float, ...], str]]:
    if "lines" in row:
        return [(_box(line["quad"]), line["text"]) for line in row["lines"]]
    return [(tuple(line["box"]), line["text"]) for line in row.get("line_boxes", [])]


def _raw(obj: Any) -> float:
    return float(obj.raw_confidence if obj.raw_confidence is not None else obj.confidence)


def _features(line: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Raw confidences of a line and of its words: the mean character confidence (``raw``,
    what `Line.raw_confidence` holds), the product of the characters' confidences
    (``product``, what the maps read, see `ocrai.calibration.line_score`) and the length."""
    line_f = {"raw": _raw(line), "product": line_score(line), "n": len(line.text)}
    words = [
        {"raw": _raw(w), "product": score, "n": len(w.text)}
        for w, score in zip(line.words, word_scores(line), strict=True)
    ]
    return line_f, words


def read_set(ai: OcrAI, folder: Path, pack: str) -> Iterator[dict[str, Any]]:
    """One record per paired line and word: set, pack, page index, level, raw, correct."""
    dataset = folder.name
    rows = [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines() if x]
    for index, row in enumerate(rows):
        base = {"set": dataset, "pack": pack, "page": index}
        if row.get("level") == "line":
            page = ai.recognize(folder / row["image"], detect=False, orientation="off")
            text = "".join(line.text for line in page.lines)
            feats = _features(page.lines[0])[0] if page.lines else {"raw": 0.0, "product": 0.0}
            ok = normalize(text, dataset) == normalize(row["text"], dataset)
            yield {**base, "level": "line", **feats, "correct": ok}
            continue
        truth = _truth_lines(row)
        if not truth:
            continue
        page = ai.recognize(folder / row["image"], orientation="off")
        pairs = sorted(
            (
                (_iou(line.bbox, box), i, j)
                for i, line in enumerate(page.lines)
                for j, (box, _) in enumerate(truth)
            ),
            reverse=True,
        )
        used_read: set[int] = set()
        used_truth: set[int] = set()
        for iou, i, j in pairs:
            if iou < 0.5:
                break
            if i in used_read or j in used_truth:
                continue
            used_read.add(i)
            used_truth.add(j)
            line, want = page.lines[i], truth[j][1]
            ok = normalize(line.text, dataset) == normalize(want, dataset)
            line_f, word_f = _features(line)
            yield {**base, "level": "line", **line_f, "correct": ok}
            want_words = want.split()
            if len(want_words) == len(line.words):
                for word, w, feats in zip(line.words, want_words, word_f, strict=True):
                    ok_w = normalize(word.text, dataset) == normalize(w, dataset)
                    yield {**base, "level": "word", **feats, "correct": ok_w}


def is_fit(record: dict[str, Any]) -> bool:
    return record["set"] in FIT_SETS and record["page"] % 2 == 0


LENGTH_POWERS = (0.0, 0.25, 0.5)


def score(record: dict[str, Any], power: float) -> float:
    return length_adjusted(record["product"], int(record.get("n", 1)), power)


def fit_map(sample: list[dict[str, Any]]) -> ConfidenceMap:
    """The isotonic map over the length power of LENGTH_POWERS that calibrates best in a
    two-fold split of the fitting pages (pages 0, 4, 8, ... against 2, 6, 10, ..., the
    ECE averaged over both directions and every set): chosen without the held-out part."""

    def cv_error(power: float) -> float:
        errors = []
        for a, b in ((0, 2), (2, 0)):
            fold_a = [r for r in sample if r["page"] % 4 == a]
            fold_b = [r for r in sample if r["page"] % 4 == b]
            m = fit_isotonic([score(r, power) for r in fold_a], [r["correct"] for r in fold_a])
            for dataset in {r["set"] for r in fold_b}:
                part = [r for r in fold_b if r["set"] == dataset]
                values = m.apply([score(r, power) for r in part])
                errors.append(expected_calibration_error(values, [r["correct"] for r in part]))
        return float(np.mean(errors))

    power = min(LENGTH_POWERS, key=cv_error)
    m = fit_isotonic([score(r, power) for r in sample], [r["correct"] for r in sample])
    return ConfidenceMap(m.xs, m.ys, power)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder holding the development sets")
    parser.add_argument("--readings", type=Path, help="cache of the readings (JSON lines)")
    parser.add_argument("--packs", nargs="+", default=["small", "tiny"], choices=list(PACK_REC))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--write", action="store_true", help="write the maps into the package")
    args = parser.parse_args(argv)

    records: list[dict[str, Any]] = []
    if args.readings and args.readings.exists():
        records = [json.loads(x) for x in args.readings.read_text().splitlines() if x]
    done = {(r["pack"], r["set"]) for r in records}
    for pack in args.packs:
        todo = [s for s in SETS if (pack, s) not in done and (args.data / s).is_dir()]
        if not todo:
            continue
        with OcrAI(threads=args.threads, pack=f"ppocrv6-{pack}") as ai:
            for dataset in todo:
                got = list(read_set(ai, args.data / dataset, pack))
                print(f"read {pack} {dataset}: {len(got)} records", file=sys.stderr, flush=True)
                records += got
                if args.readings:
                    with args.readings.open("a") as f:
                        for r in got:
                            f.write(json.dumps(r) + "\n")

    maps: dict[str, dict[str, dict[str, Any]]] = {}
    print(
        "| pack | set | part | lines | read exactly | ECE mean conf. | ECE product | ECE calibrated |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for pack in args.packs:
        fitted: dict[str, ConfidenceMap] = {}
        for level in ("line", "word"):
            sample = [r for r in records if r["pack"] == pack and r["level"] == level and is_fit(r)]
            if sample:
                fitted[level] = fit_map(sample)
        if "line" not in fitted:
            continue
        maps[PACK_REC[pack]] = {level: m.to_dict() for level, m in fitted.items()}
        for dataset in SETS:
            lines = [
                r
                for r in records
                if r["pack"] == pack and r["set"] == dataset and r["level"] == "line"
            ]
            held_out = [r for r in lines if not is_fit(r)]
            parts = [("held-out", held_out)] if len(held_out) == len(lines) else []
            if len(held_out) != len(lines):
                parts = [("held-out", held_out), ("all", lines)]
            for part, chosen in parts:
                if not chosen:
                    continue
                mean = np.array([r["raw"] for r in chosen])
                product = np.array([r["product"] for r in chosen])
                ok = np.array([r["correct"] for r in chosen], dtype=float)
                line_map = fitted["line"]
                calibrated = line_map.apply([score(r, line_map.length_power) for r in chosen])
                print(
                    f"| {pack} | {dataset} | {part} | {len(chosen)} | {ok.mean():.3f} "
                    f"| {expected_calibration_error(mean, ok):.3f} "
                    f"| {expected_calibration_error(product, ok):.3f} "
                    f"| {expected_calibration_error(calibrated, ok):.3f} |"
                )
    if args.write:
        document = {
            "format": FORMAT,
            "comment": "Written by scripts/fit_calibration.py: isotonic maps, product of the "
            "characters' confidences -> P(read exactly right), fitted on the even pages of SROIE "
            "and EHRI-typewritten (../shared/data).",
            "models": maps,
        }
        OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
