"""Reading control on real fields: the amount lines of SROIE receipts read plainly, with a
digits-only allow list, and with an amount pattern; Tesseract's whitelist beside them.

The lines: every ground-truth line of the receipts in ``<data>/sroie/manifest.jsonl`` whose
text is an amount (digits with one decimal point and two decimals, thousands commas allowed:
totals, prices, cash, change), cropped by its quad (rectified, as ``accuracy.py`` does) and
read with ``detect=False``. Scoring: CER summed over the lines (Levenshtein distance / length
of the ground truth), as everywhere in the project.

Modes:

- ``plain``: no reading control;
- ``digits``: ``allowlist="0123456789."``; ``digits-comma``: the same with ``,``;
- ``pattern``: ``pattern=AMOUNT`` (the line must be one amount), ``allowlist`` unset;
- ``tesseract-whitelist``: Tesseract 5 (tesserocr where installed, else the ``tesseract``
  program, else skipped) with ``tessedit_char_whitelist`` set to the same digits, one line
  per image (page segmentation mode 7), and ``tesseract``, the same without the whitelist.

Usage::

    python benchmarks/reading_control.py /work/shared/data/sroie [--max-lines N] [--fast]

``bench_reading.py`` runs the same under pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from PIL import Image

from ocrai import testing

#: An amount as the receipts print it: the ground truth of every line this benchmark reads.
AMOUNT = r"\d{1,3}(,\d{3})*\.\d{2}|\d+\.\d{2}"
#: Digits and the decimal point: what these receipts' amounts are made of (none of the 969
#: amount lines of the set's 100 receipts has a thousands separator).
DIGITS = "0123456789."
#: The same with the comma, for amounts that may have one: every comma read on these lines
#: is a misread point, so this list cannot fix those ("0,00").
DIGITS_COMMA = "0123456789.,"


def _load_accuracy() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ocrai_accuracy", Path(__file__).with_name("accuracy.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def amount_lines(root: Path, max_lines: int | None = None) -> Iterator[tuple[np.ndarray, str]]:
    """(rectified RGB crop, ground truth) of every amount line of the SROIE set in `root`."""
    crop_quad = _load_accuracy().crop_quad
    count = 0
    with (root / "manifest.jsonl").open(encoding="utf-8") as manifest:
        for row in manifest:
            record = json.loads(row)
            wanted = [ln for ln in record.get("lines", []) if re.fullmatch(AMOUNT, ln["text"])]
            if not wanted:
                continue
            with Image.open(root / record["image"]) as image:
                image.load()
                for line in wanted:
                    yield crop_quad(image, line["quad"]), line["text"]
                    count += 1
                    if max_lines is not None and count >= max_lines:
                        return


@dataclass
class ModeResult:
    mode: str
    errors: int = 0
    chars: int = 0
    lines: int = 0
    matched: int = 0  # lines whose reading fully matches AMOUNT
    flagged: int = 0  # lines read with a pattern where nothing matched
    seconds: list[float] = field(default_factory=list)

    @property
    def cer(self) -> float:
        return 100.0 * self.errors / max(1, self.chars)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "lines": self.lines,
            "chars": self.chars,
            "cer_percent": round(self.cer, 3),
            "match_percent": round(100.0 * self.matched / max(1, self.lines), 1),
            "pattern_fallbacks": self.flagged,
            "median_ms": round(1000 * float(np.median(self.seconds)), 2) if self.seconds else 0,
        }


def score(mode: str, lines: list[tuple[np.ndarray, str]], read: Callable[..., Any]) -> ModeResult:
    result = ModeResult(mode)
    for crop, truth in lines:
        start = time.perf_counter()
        text, flagged = read(crop)
        result.seconds.append(time.perf_counter() - start)
        result.errors += testing.levenshtein(testing.normalize_text(text), truth)
        result.chars += len(truth)
        result.lines += 1
        result.matched += re.fullmatch(AMOUNT, text) is not None
        result.flagged += flagged
    return result


def ocrai_reader(ai: Any, **options: Any) -> Callable[[np.ndarray], tuple[str, bool]]:
    def read(crop: np.ndarray) -> tuple[str, bool]:
        page = ai.recognize(crop, detect=False, **options)
        flagged = any(line.pattern_matched is False for line in page.lines)
        return page.text, flagged

    return read


def tesseract_reader(
    whitelist: str | None, program_fallback: bool = True
) -> Callable[[np.ndarray], tuple[str, bool]] | None:
    """Tesseract reading one line (PSM 7), through tesserocr when installed (with Debian's
    English data), else (with `program_fallback`) the `tesseract` program; None when neither
    is there."""
    try:
        import tesserocr  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        tesserocr = None
    tessdata = next(
        (
            str(p)
            for p in sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"))
            if (p / "eng.traineddata").is_file()
        ),
        None,
    )
    if tesserocr is not None and tessdata is not None:
        api = tesserocr.PyTessBaseAPI(
            path=f"{tessdata}/", lang="eng", psm=tesserocr.PSM.SINGLE_LINE
        )
        if whitelist is not None:
            api.SetVariable("tessedit_char_whitelist", whitelist)

        def read_api(crop: np.ndarray) -> tuple[str, bool]:
            api.SetImage(Image.fromarray(crop))
            return str(api.GetUTF8Text()).strip(), False

        return read_api
    program = shutil.which("tesseract") if program_fallback else None
    if program is None:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="ocrai-tess-"))

    def read_cli(crop: np.ndarray) -> tuple[str, bool]:
        path = tmp / "line.png"
        Image.fromarray(crop).save(path)
        args = [program, str(path), "stdout", "--psm", "7", "-l", "eng"]
        if whitelist is not None:
            args += ["-c", f"tessedit_char_whitelist={whitelist}"]
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
        return done.stdout.strip(), False

    return read_cli


def run(
    root: Path, max_lines: int | None, fast: bool = False, tesseract: bool = True
) -> dict[str, ModeResult]:
    from ocrai import OcrAI

    lines = list(amount_lines(root, max_lines))
    results: dict[str, ModeResult] = {}
    with OcrAI(fast=fast) as ai:
        ai.warmup()
        for mode, options in (
            ("plain", {}),
            ("digits", {"allowlist": DIGITS}),
            ("digits-comma", {"allowlist": DIGITS_COMMA}),
            ("pattern", {"pattern": AMOUNT}),
            ("digits+pattern", {"allowlist": DIGITS, "pattern": AMOUNT}),
        ):
            results[mode] = score(mode, lines, ocrai_reader(ai, **options))
    if tesseract:
        for mode, whitelist in (("tesseract", None), ("tesseract-whitelist", DIGITS)):
            reader = tesseract_reader(whitelist)
            if reader is not None:
                results[mode] = score(mode, lines, reader)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sroie", type=Path, help="the SROIE folder (with manifest.jsonl)")
    parser.add_argument("--max-lines", type=int, default=None, help="read at most N lines")
    parser.add_argument("--fast", action="store_true", help="tiny pack, small re-reads")
    parser.add_argument("--no-tesseract", action="store_true", help="skip Tesseract")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    results = run(args.sroie, args.max_lines, args.fast, not args.no_tesseract)
    rows = [r.as_dict() for r in results.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'mode':22} {'lines':>6} {'CER %':>7} {'match %':>8} {'fallbacks':>9} {'ms':>7}")
    for r in rows:
        print(
            f"{r['mode']:22} {r['lines']:6d} {r['cer_percent']:7.2f} {r['match_percent']:8.1f} "
            f"{r['pattern_fallbacks']:9d} {r['median_ms']:7.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
