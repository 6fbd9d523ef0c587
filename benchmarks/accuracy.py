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
    OCRAI_PEER_RAPIDOCR_NG=DIR python benchmarks/accuracy.py ... --peer rapidocr-ng
    python benchmarks/accuracy.py ... --peer faster-paddle

The peers (loaded and set up by ``peers.py``, as ``bench_pipeline.py`` runs them) read the
same samples, with 2 threads unless ``--threads``:

- ``rapidocr``: rapidocr 3.10, PP-OCRv6 small, line classifier off; line images are read
  without detection (``use_det=False``);
- ``rapidocr-ng``: rapidocr-ng 5.0.0a5 (its native engine) on rapidocr 3.10's PP-OCRv6
  small files, installed apart with ``pip install --no-deps --target DIR rapidocr-ng``
  (its module is ``rapidocr`` too) and found through ``OCRAI_PEER_RAPIDOCR_NG=DIR``. It
  cannot skip detection (``use_det=False`` raises), so line images go through its detector;
  it picks its own thread count (the machine's hardware threads), ``--threads`` aside;
- ``faster-paddle``: faster-paddle 1.0.4 and its bundled small model, given PNG bytes
  (encoding them is in its time). It has no recognition-only call either: line images go
  through its detector.

A peer that fails on a sample (an exception) has that sample counted as read empty; the
failures are listed after the table and counted (``failed``) in the JSON.

ocrai is imported in every run (loading images, rendering pages, scoring), so it must be
importable where a peer runs.

The data stays where it is: paths are arguments. ``bench_accuracy.py`` runs the same sets
under pytest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ocrai import testing

sys.path.insert(0, str(Path(__file__).parent))
import peers  # the peers' loading and set-up, shared with bench_pipeline.py

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
    failed: list[str] = field(default_factory=list)  # labels of samples the reader failed on

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
            "failed": len(self.failed),
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
    return np.array(rectified.convert("RGB"), dtype=np.uint8)  # a copy, writable


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
    *,
    tolerate: bool = False,
) -> SetResult:
    """Reads every sample with `read` (image -> text) and scores it. With `tolerate`, a
    sample that `read` raises on is counted as read empty (and listed in ``failed``)."""
    result = SetResult(name, kind)
    for sample in samples:
        start = time.perf_counter()
        try:
            text = read(sample)
        except Exception as exc:
            if not tolerate:
                raise
            print(f"{name} {sample.label}: {exc!r}; counted as read empty", file=sys.stderr)
            result.failed.append(sample.label)
            text = ""
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


def rapidocr_reader(engine: Any, *, skips_detection: bool = True) -> Callable[[Sample], str]:
    """`read` for `run_set` from a rapidocr (3.10 or -ng) engine: a BGR image, lines joined
    in its order; line images read without detection (``use_det=False``) where the engine
    `skips_detection` (rapidocr 3.10; rapidocr-ng cannot), pages with it."""

    def read(sample: Sample) -> str:
        detect = sample.detect or not skips_detection
        # Every switch on every call: rapidocr 3.10 keeps them from one call to the next.
        result = engine(peers.to_bgr(sample.image), use_det=detect, use_cls=False, use_rec=True)
        return "\n".join(result.txts or ())

    return read


def faster_paddle_reader(engine: Any) -> Callable[[Sample], str]:
    """`read` for `run_set` from a faster-paddle engine: the image as PNG bytes (encoded in
    the timed call), always detected (it has no recognition-only call)."""
    return lambda sample: peers.faster_paddle_reader(engine, sample.image)()


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
    tolerate: bool = False,
) -> list[SetResult]:
    results = []
    for folder in folders:
        kind = set_kind(read_manifest(folder))
        samples = folder_samples(folder, max_lines=max_lines)
        results.append(run_set(folder.name, kind, samples, read, tolerate=tolerate))
    if rendered:
        for lang in rendered_langs():
            samples = rendered_samples(lang)
            results.append(run_set(f"rendered-{lang}", "pages", samples, read, tolerate=tolerate))
    return results


# --peer's choices and what each reads with (for --help).
PEERS = {
    "rapidocr": f"rapidocr {peers.RAPIDOCR_VERSION}, line images without detection",
    "rapidocr-ng": "rapidocr-ng (5.0.0a5) from OCRAI_PEER_RAPIDOCR_NG=DIR, its own thread "
    "count; it cannot skip detection, so line images go through its detector",
    "faster-paddle": "faster-paddle (1.0.4); it cannot skip detection either, so line "
    "images go through its detector",
}


def peer_reader(peer: str, threads: int, keys_dir: Path) -> tuple[Callable[[Sample], str], str]:
    """`read` for `run_set` by `peer` (a key of `PEERS`) and the title of its table."""
    if peer == "rapidocr":
        read = rapidocr_reader(peers.rapidocr_engine(threads))
        return read, f"rapidocr {peers.RAPIDOCR_VERSION} (PP-OCRv6 small, threads {threads})"
    if peer == "rapidocr-ng":
        read = rapidocr_reader(peers.rapidocr_ng_engine(keys_dir), skips_detection=False)
        return read, (
            f"rapidocr-ng {peers.rapidocr_ng_version()} (PP-OCRv6 small from rapidocr "
            f"{peers.RAPIDOCR_VERSION}, its own threads, lines detected)"
        )
    if peer == "faster-paddle":
        read = faster_paddle_reader(peers.faster_paddle_engine(threads))
        return read, (
            f"faster-paddle {peers.faster_paddle_version()} (its small model, threads "
            f"{threads}, lines detected)"
        )
    msg = f"unknown peer {peer!r}"
    raise ValueError(msg)


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
        choices=list(PEERS),
        help="read with a peer instead of ocrai (2 threads unless --threads; see above): "
        + "; ".join(f"{name}: {what}" for name, what in PEERS.items()),
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
    if args.peer:
        with tempfile.TemporaryDirectory(prefix="ocrai-peer-") as keys_dir:
            read, name = peer_reader(args.peer, args.threads or 2, Path(keys_dir))
            results = evaluate(
                args.folders,
                rendered=args.rendered,
                read=read,
                max_lines=args.max_lines,
                tolerate=True,
            )
        title = f"{name} accuracy"
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
    for r in results:
        if r.failed:
            print(f"{r.name}: {len(r.failed)} failed, counted as read empty: {', '.join(r.failed)}")
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
