"""Accuracy harness: character error rate (CER) of ocrai on labelled image sets.

Reads folders laid out like ``../shared/data`` (a ``manifest.jsonl`` per folder, one JSON
object a line: ``image``, ``text``, ``level`` "page" or "line", ``lang``, and for SROIE
``lines`` with a quad per text line) and prints the CER of each set:

- line-level sets (``level == "line"``): each image is one text line, recognised with
  ``detect=False``;
- sets with ``lines`` (SROIE): each line cropped by its ground-truth quad (rectified),
  recognised with ``detect=False`` and compared case-insensitively, the first 1500 lines
  (``--max-lines``), as the peers were measured in ``notes/peers.md``;
- page-level sets: the whole page recognised, its text compared in reading order;
- ``--rendered``: pages rendered by ``ocrai.testing`` in every language it has text for
  (English, French, Portuguese, Czech, Japanese, Traditional Chinese), one set each.

CER = Levenshtein distance / ground-truth length, summed over the set, after collapsing
runs of whitespace to one space (for Japanese and Chinese, removing all whitespace).

Usage::

    python benchmarks/accuracy.py /work/shared/data/uw3-lines /work/shared/data/sroie \\
        /work/shared/data/tesseract --rendered [--pack small|tiny] [--fast] [--threads N]
    python benchmarks/accuracy.py ... --peer rapidocr   # the same sets read by rapidocr 3.10

The data stays where it is: paths are arguments. ``bench_accuracy.py`` runs the same sets
under pytest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ocrai import testing

SROIE_MAX_LINES = 1500


# ------------------------------------------------------------------------------ scoring


normalize = testing.normalize_text
levenshtein = testing.levenshtein


@dataclass
class SetResult:
    """Errors and timings of one set."""

    name: str
    kind: str
    items: int = 0
    chars: int = 0
    errors: int = 0
    seconds: list[float] = field(default_factory=list)
    worst: list[tuple[float, str, str, str]] = field(default_factory=list)

    @property
    def cer(self) -> float:
        return self.errors / self.chars if self.chars else 0.0

    def add(self, label: str, truth: str, read: str, seconds: float) -> None:
        distance = levenshtein(truth, read)
        self.items += 1
        self.chars += len(truth)
        self.errors += distance
        self.seconds.append(seconds)
        self.worst.append((distance / max(len(truth), 1), label, truth, read))
        self.worst.sort(reverse=True)
        del self.worst[5:]

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "kind": self.kind,
            "items": self.items,
            "chars": self.chars,
            "errors": self.errors,
            "cer": self.cer,
            "median_ms": 1000 * statistics.median(self.seconds) if self.seconds else 0.0,
        }


# ------------------------------------------------------------------------------ sets


@dataclass(frozen=True)
class Sample:
    """One thing to read: an image, its ground truth, how to read and compare it."""

    label: str
    image: np.ndarray
    truth: str
    lang: str
    detect: bool
    casefold: bool = False


def read_manifest(folder: Path) -> list[dict[str, Any]]:
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        msg = f"{folder}: no manifest.jsonl"
        raise FileNotFoundError(msg)
    with manifest.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def crop_quad(image: Image.Image, quad: Sequence[Sequence[float]]) -> np.ndarray:
    """The quad (clockwise from top-left) rectified to an upright RGB rectangle."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = (tuple(map(float, p)) for p in quad)
    width = round(max(np.hypot(x1 - x0, y1 - y0), np.hypot(x2 - x3, y2 - y3)))
    height = round(max(np.hypot(x3 - x0, y3 - y0), np.hypot(x2 - x1, y2 - y1)))
    rectified = image.transform(
        (max(width, 1), max(height, 1)),
        Image.Transform.QUAD,
        (x0, y0, x3, y3, x2, y2, x1, y1),  # upper left, lower left, lower right, upper right
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(rectified.convert("RGB")).copy()


def set_kind(rows: Sequence[dict[str, Any]]) -> str:
    if rows and all("lines" in row for row in rows):
        return "cropped-lines"
    if rows and all(row.get("level") == "line" for row in rows):
        return "lines"
    return "pages"


def folder_samples(folder: Path, *, max_lines: int = SROIE_MAX_LINES) -> Iterator[Sample]:
    """The samples of a manifest folder, in manifest order (see the module docstring)."""
    rows = read_manifest(folder)
    kind = set_kind(rows)
    taken = 0
    for row in rows:
        lang = str(row.get("lang", "en"))
        path = folder / row["image"]
        if kind == "cropped-lines":
            with Image.open(path) as opened:
                image = opened.convert("RGB")
            for k, line in enumerate(row["lines"]):
                if taken >= max_lines:
                    return
                taken += 1
                yield Sample(
                    f"{row['image']}#{k}",
                    crop_quad(image, line["quad"]),
                    line["text"],
                    lang,
                    detect=False,
                    casefold=True,
                )
        else:
            from ocrai.io import load_image

            yield Sample(
                row["image"],
                load_image(path).array,
                row["text"],
                lang,
                detect=kind == "pages",
            )


def rendered_samples(lang: str) -> Iterator[Sample]:
    """A rendered page of `lang` (ocrai.testing), lightly noisy, as a page-level set."""
    from ocrai.testing import SAMPLE_TEXT, render_page

    page = render_page(SAMPLE_TEXT[lang], lang=lang, font_size=36, noise=4.0, seed=7)
    yield Sample(f"rendered-{lang}", page.image, page.text, lang, detect=True)


def rendered_langs() -> list[str]:
    from ocrai.testing import SAMPLE_TEXT

    return list(SAMPLE_TEXT)


# ------------------------------------------------------------------------------ running


def run_set(
    name: str,
    kind: str,
    samples: Iterator[Sample],
    read: Callable[[Sample], str],
) -> SetResult:
    """Reads every sample with `read` (image -> text) and scores it."""
    result = SetResult(name, kind)
    for sample in samples:
        start = time.perf_counter()
        text = read(sample)
        elapsed = time.perf_counter() - start
        truth = normalize(sample.truth, sample.lang, casefold=sample.casefold)
        result.add(
            sample.label, truth, normalize(text, sample.lang, casefold=sample.casefold), elapsed
        )
    return result


def engine_reader(engine: Any, **options: Any) -> Callable[[Sample], str]:
    """`read` for `run_set` from an ``ocrai.OcrAI`` (with `options` for each call)."""

    def read(sample: Sample) -> str:
        page = engine.recognize(sample.image, detect=sample.detect, **options)
        return str(page.text)

    return read


RAPIDOCR_VERSION = "3.10"


def rapidocr_engine(threads: int = 2) -> Any:
    """rapidocr 3.10 (PP-OCRv6 small) as ``notes/peers.md`` ran it: line classifier off,
    `threads` intra-op threads, one inter-op thread. ImportError when it is not installed
    (``pip install --group pyproject.toml:peers``) or another version is."""
    from importlib.metadata import version

    import rapidocr

    installed = version("rapidocr")
    if not installed.startswith(RAPIDOCR_VERSION):
        msg = f"rapidocr {installed} is installed; the peer measured here is {RAPIDOCR_VERSION}"
        raise ImportError(msg)
    return rapidocr.RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


def rapidocr_reader(engine: Any) -> Callable[[Sample], str]:
    """`read` for `run_set` from a rapidocr engine: a BGR image; line images are read
    without detection (``use_det=False``), pages with it, lines joined in its order."""

    def read(sample: Sample) -> str:
        image = sample.image
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        bgr = np.ascontiguousarray(image[:, :, 2::-1])  # RGB(A) -> BGR
        # Every switch on every call: rapidocr 3.10 keeps them from one call to the next.
        result = engine(bgr, use_det=sample.detect, use_cls=False, use_rec=True)
        return "\n".join(result.txts or ())

    return read


def make_engine(
    pack: str = "small",
    *,
    fast: bool = False,
    threads: int | None = None,
    precision: str = "auto",
) -> Any:
    from ocrai import OcrAI

    full = pack if pack.startswith("ppocr") else f"ppocrv6-{pack}"
    return OcrAI(pack=full, fast=fast, threads=threads, precision=precision)


def evaluate(
    folders: Sequence[Path],
    *,
    rendered: bool,
    read: Callable[[Sample], str],
    max_lines: int = SROIE_MAX_LINES,
) -> list[SetResult]:
    results = []
    for folder in folders:
        kind = set_kind(read_manifest(folder))
        results.append(
            run_set(folder.name, kind, folder_samples(folder, max_lines=max_lines), read)
        )
    if rendered:
        for lang in rendered_langs():
            results.append(run_set(f"rendered-{lang}", "pages", rendered_samples(lang), read))
    return results


def format_table(results: Sequence[SetResult]) -> str:
    rows = [("set", "kind", "items", "chars", "CER %", "median ms")]
    for r in results:
        d = r.as_dict()
        rows.append(
            (
                r.name,
                r.kind,
                str(r.items),
                str(r.chars),
                f"{100 * r.cer:.2f}",
                f"{d['median_ms']:.0f}",
            )
        )
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if k < 2 else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="*", type=Path, help="folders with a manifest.jsonl")
    parser.add_argument("--rendered", action="store_true", help="add rendered pages (6 languages)")
    parser.add_argument("--pack", default="small", help="model pack: small or tiny (small)")
    parser.add_argument("--fast", action="store_true", help="the engine's fast mode")
    parser.add_argument("--threads", type=int, default=None, help="engine threads")
    parser.add_argument(
        "--precision",
        choices=("auto", "int8", "fp32"),
        default="auto",
        help="the recogniser's arithmetic (int8: derived by `ocrai models derive`)",
    )
    parser.add_argument(
        "--reread",
        choices=("lines", "words"),
        default="lines",
        help="fast mode: what the small recogniser re-reads of a doubted line (lines)",
    )
    parser.add_argument(
        "--peer",
        choices=["rapidocr"],
        help="read with a peer instead of ocrai: rapidocr 3.10 (2 threads unless --threads)",
    )
    parser.add_argument(
        "--max-lines",
        type=int,
        default=SROIE_MAX_LINES,
        help="cropped-line sets: lines read (1500)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--worst", action="store_true", help="print the worst samples of each set")
    args = parser.parse_args(argv)
    if not args.folders and not args.rendered:
        parser.error("give at least one folder or --rendered")
    if args.peer == "rapidocr":
        threads = args.threads or 2
        read = rapidocr_reader(rapidocr_engine(threads))
        results = evaluate(
            args.folders, rendered=args.rendered, read=read, max_lines=args.max_lines
        )
        title = f"rapidocr {RAPIDOCR_VERSION} accuracy (PP-OCRv6 small, threads {threads})"
    else:
        engine = make_engine(
            args.pack, fast=args.fast, threads=args.threads, precision=args.precision
        )
        try:
            engine.warmup()
            results = evaluate(
                args.folders,
                rendered=args.rendered,
                read=engine_reader(engine, reread=args.reread),
                max_lines=args.max_lines,
            )
        finally:
            engine.free_resources()
        mode = (
            f"pack {args.pack}{' fast' if args.fast else ''}, {engine.precision}, "
            f"{args.reread} re-read, "
            f"threads {engine.threads}"
        )
        title = f"ocrai accuracy ({mode})"
    print(title)
    print(format_table(results))
    if args.worst:
        for r in results:
            for score, label, truth, text in r.worst:
                print(
                    f"{r.name} {label} CER {100 * score:.1f}%\n  truth: {truth!r}\n  read:  {text!r}"
                )
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
