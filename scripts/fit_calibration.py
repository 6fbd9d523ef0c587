"""Refits the confidence calibration shipped in python/ocrai/calibration.json, in one command.

    python scripts/fit_calibration.py /work/shared/data [--jobs 2] [--write]
        [--readings cache.jsonl [--reread fast]] [--modes small fast tiny]

It reads every development set (folders laid out like ``../shared/data``, a
``manifest.jsonl`` each) with each engine mode, records for every line (and word) the
recogniser's character confidences, the context known at read time (which recogniser, whether
the line was detected on a page or is the whole image, whether fast mode re-read it) and whether
it was read exactly right, fits the maps (`ocrai.calibration.fit_maps`) and prints the
expected calibration error (ECE, 10 bins) of line confidence on every set, before and after
calibration, as Markdown tables:

- ``in-sample``: the shipped maps (fitted on every set) on each set;
- ``leave-one-set-out``: maps fitted on the other sets only, on the set left out: how the maps
  do on pages they never saw, which is what a user's pages are.

What counts as a line and as "exactly right":

- pages (every page set): the page is read whole, as users read it (``detect=True``); each
  read line is paired with a ground-truth line: by box overlap where the set has line boxes
  (SROIE quads, EHRI and FoNDUE ``line_boxes``; intersection over union >= 0.5, one to one),
  by text where it has none (the tesseract pages: the closest ground-truth line, CER < 0.5,
  one to one); unpaired lines are left out (detection errors, not readings);
- whole-image lines (``detect=False``): the UW3 line images, and lines cut out of the page
  sets' boxes (a share of them, `CROPS`), so that maps of whole-image lines are fitted and
  checked on more than one set;
- exact (`judge`): equal after collapsing whitespace and reading typographic forms of
  quotes, apostrophes and dashes as their plain ones (the ground truths do not keep them
  apart: FoNDUE's writes curly and straight apostrophes, en and em dashes for the same
  print and marks a line-end hyphen with a not sign, the tesseract pages' are ASCII), and
  EHRI's Cyrillic a and o with diaeresis as the German letters they stand for (`_FORMS`);
  SROIE case-insensitively (its ground truth is upper case where receipts are not always),
  SROIE and EHRI ignoring whitespace (their ground truths space punctuation their own way:
  "TOTAL :" for a printed "Total:"); tesseract lines whose ground truth marks a character
  it could not write (``~``) are left out;
- words: the words of a paired line whose word count equals the ground truth's, in pairs.

Each record keeps the text read and its ground truth, and is judged when the maps are
fitted, so that a change of the judge needs no new reading. The ``noise`` column is the
ECE that perfectly calibrated confidences would score on as many lines as a set has
(`noise_floor`): on the 52 UW3 lines an ECE near it is as good as can be told.

Modes (``--modes``, default ``small fast``): ``small`` (the default engine: where the int8
recogniser has been derived, its lines and those the fp32 one re-read are fitted together,
under the fp32 recogniser's name, as the engine calibrates them), ``fast``
(``fast=True``: the tiny recogniser, doubtful lines re-read by the small one) and ``tiny``
(``pack="ppocrv6-tiny"`` alone, whose lines otherwise take the fast mode's tiny maps).

``--jobs N`` reads with N processes of one thread each (one per mode and set); on the shared
2-core machine ``--jobs 2`` read everything in 414 s and ``--jobs 1`` in 527 s (load 2-4,
shared with other work; 1163 s at load 9-14), and fitting and checking took 11 s.
``--all-pages`` reads every page of SROIE and EHRI too (about twice the time).
``--readings FILE`` keeps the readings and reuses those already there (fitting alone
takes seconds); a mode and set already in it is not read again: ``--reread fast`` reads
fast mode again in place of its records there (after fast mode's reading path changed). ``--write`` writes the maps into
the package; without it the script only reports.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ocrai import OcrAI, testing
from ocrai import calibration as cal
from ocrai.calibration import expected_calibration_error, line_context, word_char_confidences
from ocrai.precision import fp32_of

SETS = ("uw3-lines", "sroie", "tesseract", "ehri-typewritten", "fondue-en")
MODES = {
    "small": {},
    "fast": {"fast": True},
    "tiny": {"pack": "ppocrv6-tiny"},
}
#: Lines cut out of each page set and read whole (``detect=False``): every k-th box.
CROPS = {"sroie": 16, "ehri-typewritten": 6, "fondue-en": 4}
#: Pages read of the large sets: every k-th (``--all-pages`` reads every page).
PAGE_STEP = {"sroie": 2, "ehri-typewritten": 2}
OUT = Path(__file__).resolve().parent.parent / "python" / "ocrai" / "calibration.json"
_SPACE = re.compile(r"\s+")


#: Forms of one printed character that the ground truths do not keep apart, each read as
#: the plain one: typographic quotes, apostrophes and dashes (FoNDUE's writes curly and
#: straight apostrophes, en and em dashes for the same print, and marks a line-end hyphen
#: with a not sign; the tesseract pages' is ASCII), and the Cyrillic a and o with diaeresis
#: that EHRI's writes for some German ones (the same glyphs).
_FORMS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ac", "-"),
        "\u04d3": "\u00e4",
        "\u04e7": "\u00f6",
        "\u04d2": "\u00c4",
        "\u04e6": "\u00d6",
    }
)
#: Sets whose ground truth spaces punctuation its own way (EHRI's ",že" typed is ", že";
#: SROIE's "TOTAL :" printed is "Total:"): compared without whitespace.
_SPACING_FREE = frozenset({"ehri-typewritten", "sroie"})
#: A ground-truth line holding this cannot be judged: the tesseract pages' (ISRI) mark of a
#: character their ASCII transcription could not write (``Caf~~`` for Café).
_UNWRITTEN = {"tesseract": "~"}


def normalize(text: str, dataset: str) -> str:
    """The form in which a reading and its ground truth are compared (see `judge`)."""
    text = text.translate(_FORMS)
    if dataset in _SPACING_FREE:
        text = _SPACE.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    return text.lower() if dataset == "sroie" else text


def judge(read: str, truth: str, dataset: str) -> bool | None:
    """Whether `read` is `truth` exactly (after `normalize`); None where the ground truth
    cannot tell (`_UNWRITTEN`): such readings are left out."""
    mark = _UNWRITTEN.get(dataset)
    if mark is not None and mark in truth:
        return None
    return normalize(read, dataset) == normalize(truth, dataset)


def _box(points: Any) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _truth_lines(row: dict[str, Any]) -> list[tuple[tuple[float, ...] | None, str]]:
    if "lines" in row:
        return [(_box(line["quad"]), line["text"]) for line in row["lines"]]
    if "line_boxes" in row:
        return [(tuple(line["box"]), line["text"]) for line in row["line_boxes"]]
    return [(None, t) for t in row["text"].split("\n") if t.strip()]


def _records(
    page: Any, line: Any, want: str, base: dict[str, Any], *, detected: bool, fast: bool
) -> Iterator[dict[str, Any]]:
    """The line's record and its words' (where the word counts agree)."""
    dataset = base["set"]
    context = line_context(line, page.models, detected=detected, fast=fast)
    chars = [round(c.confidence, 6) for c in line.chars]
    ok = judge(line.text, want, dataset)
    yield {
        **base,
        "level": "line",
        **context,
        "n": len(line.text),
        "chars": chars,
        "correct": ok,
        "confidence": line.confidence,  # as the engine gave it, with the maps it shipped
        "det": round(line.det_score, 6),
        "height": round(line.bbox[3] - line.bbox[1], 1),
        "text": line.text,
        "truth": want,
    }
    want_words = want.split()
    if len(want_words) == len(line.words):
        for word, w, wchars in zip(
            line.words, want_words, word_char_confidences(line), strict=True
        ):
            ok_w = judge(word.text, w, dataset)
            yield {
                **base,
                "level": "word",
                **context,
                "n": len(word.text),
                "chars": [round(c, 6) for c in wchars],
                "correct": ok_w,
                "text": word.text,
                "truth": w,
            }


def _pairs(page: Any, truth: list[tuple[tuple[float, ...] | None, str]]) -> Any:
    """(read line index, truth index) pairs, one to one, best first."""
    if truth and truth[0][0] is not None:
        scored = [
            (_iou(line.bbox, box), i, j)
            for i, line in enumerate(page.lines)
            for j, (box, _) in enumerate(truth)
        ]
        floor = 0.5
    else:
        scored = [
            (1.0 - testing.cer(line.text, text), i, j)
            for i, line in enumerate(page.lines)
            for j, (_, text) in enumerate(truth)
            if line.text.strip()
        ]
        floor = 0.5
    used_read: set[int] = set()
    used_truth: set[int] = set()
    for value, i, j in sorted(scored, reverse=True):
        if value < floor:
            break
        if i in used_read or j in used_truth:
            continue
        used_read.add(i)
        used_truth.add(j)
        yield i, j


def read_set(
    mode: str,
    folder: Path,
    threads: int = 1,
    *,
    max_pages: int | None = None,
    crops: bool = True,
    all_pages: bool = False,
) -> list[dict[str, Any]]:
    """The records of one set read in one mode (run in a worker process): every
    `PAGE_STEP`-th page (every page with `all_pages`) of the first `max_pages` images where
    given, and no cut-out lines without `crops`."""
    dataset = folder.name
    rows = [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines() if x]
    rows = rows[:max_pages]
    step = 1 if all_pages else PAGE_STEP.get(dataset, 1)
    fast = bool(MODES[mode].get("fast"))
    out: list[dict[str, Any]] = []
    with OcrAI(threads=threads, orientation="off", **MODES[mode]) as ai:  # type: ignore[arg-type]
        for index, row in enumerate(rows):
            if index % step:
                continue
            base = {"set": dataset, "mode": mode, "page": index}
            if row.get("level") == "line":
                page = ai.recognize(folder / row["image"], detect=False)
                if page.lines:
                    out += _records(
                        page, page.lines[0], row["text"], base, detected=False, fast=fast
                    )
                continue
            truth = _truth_lines(row)
            page = ai.recognize(folder / row["image"])
            for i, j in _pairs(page, truth):
                out += _records(page, page.lines[i], truth[j][1], base, detected=True, fast=fast)
            every = CROPS.get(dataset)
            if every is None or not crops:
                continue
            with Image.open(folder / row["image"]) as im:
                image = im.convert("RGB")
            for k, (box, text) in enumerate(truth):
                if box is None or (index * 7 + k) % every:
                    continue
                x0, y0, x1, y1 = box
                pad = 0.15 * (y1 - y0)
                crop = image.crop((max(0, x0 - pad), max(0, y0 - pad), x1 + pad, y1 + pad))
                if crop.width < 4 or crop.height < 4:
                    continue
                read = ai.recognize(np.asarray(crop), detect=False)
                if read.lines:
                    crop_base = {**base, "crop": True}
                    out += _records(read, read.lines[0], text, crop_base, detected=False, fast=fast)
    return out


def collect(
    data: Path,
    modes: Sequence[str],
    jobs: int,
    readings: Path | None,
    *,
    all_pages: bool = False,
    reread: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The records of every mode and set: those in `readings` where it has them (less the
    modes in `reread`, whose records it loses), the others read now and added to it."""
    records: list[dict[str, Any]] = []
    if readings and readings.exists():
        records = [json.loads(x) for x in readings.read_text().splitlines() if x]
        if reread:
            records = [r for r in records if r["mode"] not in reread]
            readings.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = {(r["mode"], r["set"]) for r in records}
    todo = [
        (mode, s)
        for mode in modes
        for s in SETS
        if (mode, s) not in done and (data / s / "manifest.jsonl").is_file()
    ]
    # Longest first, so that the workers finish together.
    weight = {"ehri-typewritten": 5, "sroie": 4, "fondue-en": 3, "tesseract": 1, "uw3-lines": 1}
    todo.sort(key=lambda t: -weight.get(t[1], 1) * (2 if t[0] == "small" else 1))
    start = time.perf_counter()

    def keep(mode: str, dataset: str, got: list[dict[str, Any]]) -> None:
        elapsed = time.perf_counter() - start
        print(f"read {mode} {dataset}: {len(got)} records ({elapsed:.0f} s)", file=sys.stderr)
        records.extend(got)
        if readings:
            with readings.open("a") as f:
                for r in got:
                    f.write(json.dumps(r) + "\n")

    if jobs <= 1:
        for mode, s in todo:
            keep(mode, s, read_set(mode, data / s, all_pages=all_pages))
        return records
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(read_set, mode, data / s, all_pages=all_pages): (mode, s)
            for mode, s in todo
        }
        for future in as_completed(futures):
            keep(*futures[future], future.result())
    return records


def judged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records judged afresh by `judge` where they keep both texts (so that a change of
    the judge needs no new reading), less those whose ground truth cannot tell."""
    out = []
    untold = 0
    for record in records:
        r = record
        if "truth" in r:
            r = {**r, "correct": judge(r["text"], r["truth"], r["set"])}
        else:
            untold += 1
        if r["correct"] is not None:
            out.append(r)
    if untold:
        print(
            f"{untold} records without their texts (read by an older script): "
            "judged as when they were read",
            file=sys.stderr,
        )
    return out


def noise_floor(confidences: np.ndarray, draws: int = 200) -> float:
    """The mean ECE of `confidences` against outcomes drawn from them: what a perfectly
    calibrated map scores on a set of this size and spread (a small set's ECE is mostly
    this noise)."""
    rng = np.random.default_rng(0)
    outcomes = rng.uniform(size=(draws, confidences.size)) < confidences
    return float(np.mean([expected_calibration_error(confidences, o) for o in outcomes]))


def _as_record(r: dict[str, Any]) -> cal.CalibrationRecord:
    # The default engine reads with an int8 recogniser checked by the fp32 one it was
    # derived from (precision "auto"); `calibrate_page` gives both the fp32 one's maps, so
    # their lines are fitted as one population under its name.
    return cal.CalibrationRecord(
        model=fp32_of(r["model"]),
        context=r["context"],
        chars=tuple(r["chars"]),
        length=int(r["n"]),
        correct=bool(r["correct"]),
        group=r["set"],
        level=r["level"],
    )


def _ece_rows(
    records: list[dict[str, Any]], modes: Sequence[str]
) -> tuple[list[str], float, cal.CalibrationMaps]:
    """Rows of the line ECE table per mode and set, the worst leave-one-set-out ECE of the
    sets' own lines, and the maps fitted on everything."""
    maps = cal.fit_maps([_as_record(r) for r in records])
    held_out = {
        dataset: cal.fit_maps([_as_record(r) for r in records if r["set"] != dataset])
        for dataset in SETS
    }
    rows = []
    worst = 0.0
    for mode in modes:
        for dataset in SETS:
            for cut in (False, True):
                chosen = [
                    r
                    for r in records
                    if r["mode"] == mode
                    and r["set"] == dataset
                    and r["level"] == "line"
                    and bool(r.get("crop")) == cut
                ]
                if not chosen:
                    continue
                ok = np.array([r["correct"] for r in chosen], dtype=float)
                mean = np.array([float(np.mean(r["chars"])) if r["chars"] else 0.0 for r in chosen])
                lines = [_as_record(r) for r in chosen]
                in_sample = maps.line_confidences(lines)
                loso = expected_calibration_error(held_out[dataset].line_confidences(lines), ok)
                if not cut:
                    worst = max(worst, loso)
                name = f"{dataset} (lines cut out, whole)" if cut else dataset
                rows.append(
                    f"| {mode} | {name} | {len(chosen)} | {ok.mean():.3f} "
                    f"| {expected_calibration_error(mean, ok):.3f} "
                    f"| {expected_calibration_error(in_sample, ok):.3f} | {loso:.3f} "
                    f"| {noise_floor(in_sample):.3f} |"
                )
    return rows, worst, maps


def ece_table(records: list[dict[str, Any]], modes: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The Markdown table of line ECE per mode and set, and the maps fitted on everything."""
    rows, worst, maps = _ece_rows(records, modes)
    head = [
        (
            "| mode | set | lines | read exactly | ECE before (mean conf.) "
            "| ECE after, in-sample | ECE after, leave-one-set-out | noise |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    text = "\n".join(head + rows)
    return f"{text}\n\nworst leave-one-set-out line ECE of a set: {worst:.3f}", maps.to_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder holding the development sets")
    parser.add_argument("--readings", type=Path, help="cache of the readings (JSON lines)")
    parser.add_argument("--modes", nargs="+", default=["small", "fast"], choices=list(MODES))
    parser.add_argument("--all-pages", action="store_true", help="read every page of every set")
    parser.add_argument("--jobs", type=int, default=2, help="reading processes, 1 thread each")
    parser.add_argument("--write", action="store_true", help="write the maps into the package")
    parser.add_argument(
        "--reread",
        nargs="+",
        default=[],
        choices=list(MODES),
        help="read these modes again, in place of their records in --readings",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    records = judged(
        collect(
            args.data,
            args.modes,
            args.jobs,
            args.readings,
            all_pages=args.all_pages,
            reread=args.reread,
        )
    )
    read_s = time.perf_counter() - start
    table, document = ece_table(records, args.modes)
    print(table)
    print(
        f"reading {read_s:.0f} s, fitting and checking {time.perf_counter() - start - read_s:.0f} s",
        file=sys.stderr,
    )
    if args.write:
        document = {
            "format": cal.FORMAT,
            "comment": "Written by scripts/fit_calibration.py from ../shared/data "
            "(every development set, every mode): see ocrai/calibration.py.",
            **document,
        }
        OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
