"""OCRmyPDF with ocrai against OCRmyPDF with Tesseract, side by side on one scanned PDF.

    python benchmarks/ocrmypdf_compare.py DATA [--pages 6] [--jobs 2] [--repeat 1]

DATA is the folder holding the labelled development sets ``ehri-typewritten`` and
``fondue-en`` (their images and ``manifest.jsonl``). The script builds one scanned PDF of
pages from both sets (the images embedded as they are, by img2pdf, at their own
resolution) in a temporary folder, then runs, ``--repeat`` rounds of each in turn,

    ocrmypdf --jobs N --output-type pdf -l eng+deu      (Debian's tesseract-ocr)
    ocrmypdf --plugin ocrai.ocrmypdf --ocrai-mode default ...       (ocrai: -l eng+deu too)
    ocrmypdf --plugin ocrai.ocrmypdf --jobs N --output-type pdf          (the defaults: fast
                                            mode, doubtful words re-read, int8 if derived)
    ocrmypdf --plugin ocrai.ocrmypdf --ocrai-precision fp32 ...   (the defaults, not derived)
    ocrmypdf --plugin ocrai.ocrmypdf --ocrai-reread lines --ocrai-precision fp32 ...
    ocrmypdf --plugin ocrmypdf_rapidocr -l eng ...      (when that plugin is installed;
                                                        it reads one language)

and prints the median wall time of each, its ratio to Tesseract's, and the character error
rate of each output's text (pdftotext, page by page) against the ground truth, whitespace
runs collapsed (``cer``) and whitespace removed (``cer_nospace``: EHRI's ground truth
normalises the spacing around punctuation). Every output is checked with ``qpdf --check``.
Nothing is written to the repository; ``--json FILE`` saves the figures.

Exits 0 without measuring (and says why) when ocrmypdf, tesseract with the pages'
languages, pdftotext or the data are missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ocrai.testing import cer

#: Pages of the development sets, and the Tesseract language of each set's pages.
SETS = {
    "fondue-en": "eng",
    "ehri-typewritten": "eng+deu",
}


def _skip(reason: str) -> None:
    print(f"ocrmypdf_compare: skipped: {reason}")
    sys.exit(0)


def _pages(data: Path, count: int) -> list[dict[str, Any]]:
    """`count` pages, alternately from fondue-en and from EHRI's English and German pages."""
    picked: list[list[dict[str, Any]]] = []
    for name in SETS:
        manifest = data / name / "manifest.jsonl"
        if not manifest.exists():
            _skip(f"{manifest} not found")
        rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
        rows = [r for r in rows if r.get("lang", "en") in ("en", "de")]
        rows.sort(key=lambda r: r["image"])
        for r in rows:
            r["path"] = str(data / name / r["image"])
            r["set"] = name
        picked.append(rows)
    out: list[dict[str, Any]] = []
    for k in range(count):
        rows = picked[k % len(picked)]
        out.append(rows[(k // len(picked)) * 3 % len(rows)])  # spread over each set
    return out


def _build_pdf(pages: list[dict[str, Any]], folder: Path) -> Path:
    import img2pdf
    from PIL import Image

    files = []
    for k, row in enumerate(pages):
        path = Path(row["path"])
        with Image.open(path) as image:
            if image.mode in ("RGBA", "LA", "P") or image.format not in ("JPEG", "PNG"):
                # img2pdf embeds images as they are and refuses transparency: flatten it.
                flat = folder / f"page{k}.png"
                dpi = image.info.get("dpi", (300, 300))
                image.convert("RGB").save(flat, dpi=dpi)
                path = flat
        files.append(str(path))
    pdf = folder / "scan.pdf"
    pdf.write_bytes(img2pdf.convert(files))
    return pdf


def _run_once(name: str, command: list[str], out: Path) -> float:
    if out.exists():
        out.unlink()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        msg = f"{name}: ocrmypdf failed with status {done.returncode}"
        raise SystemExit(msg)
    return seconds


def _qpdf_check(out: Path) -> str:
    check = subprocess.run(
        ["qpdf", "--check", str(out)], capture_output=True, text=True, check=False
    )
    if check.returncode == 0 and "WARNING" not in check.stdout:
        return "clean"
    return check.stdout[-500:]


def _score(out: Path, pages: list[dict[str, Any]]) -> dict[str, float]:
    read_all, truth_all = [], []
    for k, row in enumerate(pages, start=1):
        text = subprocess.run(
            ["pdftotext", "-f", str(k), "-l", str(k), "-enc", "UTF-8", str(out), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        read_all.append(text)
        truth_all.append(row["text"])
    read, truth = "\n".join(read_all), "\n".join(truth_all)
    nospace = cer("".join(read.split()), "".join(truth.split()))
    return {"cer": cer(read, truth), "cer_nospace": nospace}


def _int8_state() -> str:
    from ocrai import OcrAI
    from ocrai.precision import fast_int8_cpu

    try:
        OcrAI(fast=True, precision="int8").free_resources()
    except FileNotFoundError:
        return "not derived (run `ocrai models derive` first to measure it)"
    return "derived, used" if fast_int8_cpu() else "derived, not used (no VNNI)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder with ehri-typewritten and fondue-en")
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)

    try:
        import img2pdf  # noqa: F401
        import ocrmypdf  # noqa: F401
    except ImportError:
        _skip("ocrmypdf is not installed (pip install 'ocrai[ocrmypdf]')")
    for program in ("tesseract", "pdftotext", "qpdf"):
        if shutil.which(program) is None:
            _skip(f"{program} is not installed (Debian: tesseract-ocr, poppler-utils, qpdf)")
    langs = subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True, check=False
    ).stdout.split()
    if not {"eng", "deu"} <= set(langs):
        _skip("Tesseract's eng and deu data are missing (tesseract-ocr-eng, tesseract-ocr-deu)")

    pages = _pages(args.data, args.pages)
    ocrmypdf_cmd = [sys.executable, "-m", "ocrmypdf", "--jobs", str(args.jobs)]
    ocrmypdf_cmd += ["--output-type", "pdf", "--quiet"]
    with tempfile.TemporaryDirectory(prefix="ocrmypdf-compare-") as tmp:
        folder = Path(tmp)
        source = _build_pdf(pages, folder)
        # The pages' languages for Tesseract and for ocrai (where -l rules out other scripts).
        langs = ["-l", "eng+deu"]
        plugin = ["--plugin", "ocrai.ocrmypdf", *langs]
        runs = [
            ("tesseract", langs),
            ("ocrai-default", [*plugin, "--ocrai-mode", "default"]),
            ("ocrai-fast", [*plugin, "--ocrai-mode", "fast"]),
            # the plugin's defaults where `ocrai models derive` was never run
            ("ocrai-fast-fp32", [*plugin, "--ocrai-precision", "fp32"]),
            (
                "ocrai-fast-lines-fp32",
                [*plugin, "--ocrai-reread", "lines", "--ocrai-precision", "fp32"],
            ),
        ]
        try:
            import ocrmypdf_rapidocr  # noqa: F401

            runs.append(("rapidocr", ["--plugin", "ocrmypdf_rapidocr", "-l", "eng"]))
        except ImportError:
            print("ocrmypdf_compare: ocrmypdf-rapidocr is not installed; left out")
        # Round after round, every engine once per round: a machine whose load changes
        # during the run slows every engine alike instead of the ones that ran then.
        times: dict[str, list[float]] = {name: [] for name, _ in runs}
        for _ in range(args.repeat):
            for name, extra in runs:
                out = folder / f"{name}.pdf"
                command = [*ocrmypdf_cmd, *extra, str(source), str(out)]
                times[name].append(_run_once(name, command, out))
        results = []
        for name, _ in runs:
            out = folder / f"{name}.pdf"
            result: dict[str, Any] = {
                "engine": name,
                "seconds": statistics.median(times[name]),
                "runs": times[name],
                "qpdf_check": _qpdf_check(out),
            }
            result.update(_score(out, pages))
            results.append(result)
    base = results[0]["seconds"]  # Tesseract's
    load = os.getloadavg()
    print(
        f"{len(pages)} pages ({', '.join(p['image'] for p in pages)}), --jobs {args.jobs}, "
        f"{args.repeat} run(s) each, load average before/after {load[0]:.2f}"
    )
    print(f"ocrai's int8 recognisers: {_int8_state()} (the plugin's --ocrai-precision auto)")
    print(f"{'engine':<11} {'seconds':>8} {'x tess.':>8} {'CER %':>7} {'CER % no space':>15} qpdf")
    for r in results:
        r["ratio_to_tesseract"] = r["seconds"] / base
        print(
            f"{r['engine']:<11} {r['seconds']:8.1f} {r['ratio_to_tesseract']:8.2f} "
            f"{100 * r['cer']:7.2f} {100 * r['cer_nospace']:15.2f} {r['qpdf_check']}"
        )
    if args.json:
        args.json.write_text(json.dumps({"pages": [p["image"] for p in pages], "results": results},
                                        indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
