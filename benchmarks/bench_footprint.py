"""Cold start and peak memory of a fresh process, ocrai beside Tesseract (tesserocr) in one run.

Cold start: a fresh interpreter imports the engine, creates it and reads a 1000x300 PNG of
one text line (the line of bench_pipeline.py) from its file; ocrai with detection on, 2
threads, Tesseract (one thread, OMP_THREAD_LIMIT=1) in single-line mode. The benchmark times
the whole process, interpreter start included; the script reports its own parts from before
the first import to the text (``import_s``, ``engine_s``, ``first_read_s``, ``cold_s``), and
the ratio of the medians of ``cold_s`` goes into ``extra_info`` and the summary.

Peak memory: ``ocrai read PAGE`` (the command line, default options) of an A4 page at 300 dpi
(2480x3508, 46 dense lines), beside a process that reads the same PNG with tesserocr (page
segmentation AUTO). Peak RSS is each process's own high-water mark (VmHWM).

``ocrai-auto`` runs both again with the int8 recogniser that ``ocrai models derive`` wrote
into the user's model store beside the pack (what precision "auto" reads with on a CPU with
VNNI); skipped without one.

Targets of the engine (issue 11): cold start at most 0.3 s, peak RSS of the A4 read at most
300 MB. They are read from the summary, never asserted here (the machine is shared).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import testing

BENCH = Path(__file__).parent
sys.path.insert(0, str(BENCH))
import bench_pipeline  # the same line and page renderer as the latency benchmarks

COLD_ROUNDS = 5
RSS_ROUNDS = 3
MEDIANS: dict[tuple[str, str], float] = {}
A4 = (3508, 2480)

OCRAI_COLD = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import json, sys
    import ocrai
    t1 = time.perf_counter()
    ai = ocrai.OcrAI(sys.argv[1], threads=2)
    t2 = time.perf_counter()
    page = ai.recognize(sys.argv[2])
    t3 = time.perf_counter()
    print(json.dumps({
        "text": page.text, "import_s": t1 - t0, "engine_s": t2 - t1,
        "first_read_s": t3 - t2, "cold_s": t3 - t0,
        "detect_ms": page.timings.detect, "recognize_ms": page.timings.recognize,
    }))
    """
)

TESSERACT_COLD = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import json, sys
    import tesserocr
    t1 = time.perf_counter()
    api = tesserocr.PyTessBaseAPI(path=sys.argv[1], lang="eng", psm=tesserocr.PSM.SINGLE_LINE)
    t2 = time.perf_counter()
    api.SetImageFile(sys.argv[2])
    text = api.GetUTF8Text()
    t3 = time.perf_counter()
    print(json.dumps({
        "text": text.strip(), "import_s": t1 - t0, "engine_s": t2 - t1,
        "first_read_s": t3 - t2, "cold_s": t3 - t0,
    }))
    """
)

# Peak RSS is the process's VmHWM, written to stderr at exit: ru_maxrss (getrusage, wait4)
# would count the forking pytest process's RSS, which the child inherits until exec.
HIGH_WATER = textwrap.dedent(
    """
    import atexit, sys

    def high_water():
        with open("/proc/self/status") as f:
            kib = next(int(s.split()[1]) for s in f if s.startswith("VmHWM:"))
        sys.stderr.write(f"\\nVmHWM {kib}\\n")

    atexit.register(high_water)
    """
)

OCRAI_READ = HIGH_WATER + textwrap.dedent(
    """
    from ocrai.cli import main
    sys.exit(main(["read", sys.argv[1]]))
    """
)

TESSERACT_PAGE = HIGH_WATER + textwrap.dedent(
    """
    import tesserocr
    with tesserocr.PyTessBaseAPI(path=sys.argv[1], lang="eng") as api:
        api.SetImageFile(sys.argv[2])
        sys.stdout.write(api.GetUTF8Text())
    """
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from PIL import Image

    from ocrai.models import ModelStore

    root = tmp_path_factory.mktemp("footprint")
    store = ModelStore(root / "models")
    store.ensure_pack("ppocrv6-small")
    line = root / "line.png"
    Image.fromarray(bench_pipeline.single_line()).save(line)
    rendered = bench_pipeline.dense_page(lines=46, font_size=42, width=A4[1])
    assert rendered.image.shape[0] <= A4[0], rendered.image.shape
    canvas = np.full((*A4, 3), 250, np.uint8)
    canvas[: rendered.image.shape[0]] = rendered.image
    page = root / "a4.png"
    Image.fromarray(canvas).save(page)
    return {
        "models": store.path,
        "int8_models": _store_with_int8(root / "models-int8"),
        "line": line,
        "page": page,
        "page_text": rendered.text,
    }


def _store_with_int8(path: Path) -> Path | None:
    """A store of the small pack and the int8 recogniser that ``ocrai models derive`` wrote
    into the user's store (recorded as derived, so that precision "auto" reads with it
    where the CPU has VNNI); None when there is none."""
    from ocrai.models import ModelStore
    from ocrai.precision import int8_name

    derived = bench_pipeline.derived_int8_rec()
    if derived is None:
        return None
    name = int8_name("ppocrv6-small-rec.onnx")
    entry = ModelStore(create=False).manifest()[name]
    store = ModelStore(path)
    store.ensure_pack("ppocrv6-small")
    store.install_file(
        derived, kind="rec", name=name, source=entry.source, pack=entry.pack, validate=False
    )
    return store.path


def run_peak(args: list[str], **env: str) -> tuple[str, float]:
    """`args` (a script of HIGH_WATER) run to the end, Tesseract on one thread; its stdout
    and its peak RSS in MiB."""
    done = subprocess.run(
        args,
        capture_output=True,
        check=False,
        timeout=600,
        env={**os.environ, "OMP_THREAD_LIMIT": "1", **env},
    )
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 0, err
    peak_kib = int(err.rsplit("VmHWM ", 1)[1].split()[0])
    return done.stdout.decode(), peak_kib / 1024


def record(benchmark: Any, group: str, name: str, runs: list[dict[str, Any]], key: str) -> None:
    for k in runs[0]:
        if k != "text":
            values = sorted(float(r[k]) for r in runs)
            benchmark.extra_info[k] = round(values[len(values) // 2], 4)
    MEDIANS[(group, name)] = float(benchmark.extra_info[key])
    for (g, peer), value in MEDIANS.items():
        if g == group and peer != name and name.startswith("ocrai"):
            benchmark.extra_info[f"{key}_vs_{peer}"] = round(benchmark.extra_info[key] / value, 2)


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not MEDIANS:
        return
    reporter.write_sep("-", "fresh process: cold start (s) and peak RSS (MiB), medians")
    for (group, name), value in MEDIANS.items():
        line = f"{group:18s} {name:10s} {value:8.3f}"
        if name.startswith("ocrai"):
            line += "  " + "  ".join(
                f"{name}/{peer} {value / v:.2f}x"
                for (g, peer), v in MEDIANS.items()
                if g == group and peer != name
            )
        reporter.write_line(line)


# --- cold start ------------------------------------------------------------------------------
# The peer first: ocrai's benchmark then reports its ratio against it.


@pytest.mark.benchmark(group="cold-start")
def test_cold_start_tesserocr(benchmark: Any, inputs: dict[str, Any]) -> None:
    data = bench_pipeline.tessdata()
    runs: list[dict[str, Any]] = []

    def cold() -> dict[str, Any]:
        runs.append(testing.run_json_script(TESSERACT_COLD, data, inputs["line"], timeout=300))
        return runs[-1]

    out = benchmark.pedantic(cold, rounds=COLD_ROUNDS, iterations=1)
    assert testing.cer(out["text"], bench_pipeline.LINE_TEXT) < 0.05
    record(benchmark, "cold-start", "tesserocr", runs, "cold_s")


def _models(inputs: dict[str, Any], variant: str) -> Path:
    """The model store of an ocrai variant: ``ocrai`` the pack's fp32 files; ``ocrai-auto``
    with the derived int8 recogniser too (skipped when the user's store has none)."""
    if variant == "ocrai":
        return Path(inputs["models"])
    if inputs["int8_models"] is None:
        pytest.skip("no derived int8 recogniser in the model store: `ocrai models derive`")
    return Path(inputs["int8_models"])


@pytest.mark.benchmark(group="cold-start")
@pytest.mark.parametrize("variant", ["ocrai", "ocrai-auto"])
def test_cold_start_ocrai(benchmark: Any, inputs: dict[str, Any], variant: str) -> None:
    models = _models(inputs, variant)
    runs: list[dict[str, Any]] = []

    def cold() -> dict[str, Any]:
        runs.append(testing.run_json_script(OCRAI_COLD, models, inputs["line"], timeout=300))
        return runs[-1]

    out = benchmark.pedantic(cold, rounds=COLD_ROUNDS, iterations=1)
    assert out["text"] == bench_pipeline.LINE_TEXT
    record(benchmark, "cold-start", variant, runs, "cold_s")


# --- peak RSS of reading an A4 page ------------------------------------------------------------


@pytest.mark.benchmark(group="peak-rss-a4")
def test_peak_rss_tesserocr(benchmark: Any, inputs: dict[str, Any]) -> None:
    data = bench_pipeline.tessdata()
    runs: list[dict[str, Any]] = []

    def read() -> dict[str, Any]:
        text, peak = run_peak([sys.executable, "-c", TESSERACT_PAGE, data, str(inputs["page"])])
        runs.append({"text": text, "peak_rss_mib": peak})
        return runs[-1]

    out = benchmark.pedantic(read, rounds=RSS_ROUNDS, iterations=1)
    assert testing.cer(out["text"], inputs["page_text"]) < 0.05
    record(benchmark, "peak-rss-a4", "tesserocr", runs, "peak_rss_mib")


@pytest.mark.benchmark(group="peak-rss-a4")
@pytest.mark.parametrize("variant", ["ocrai", "ocrai-auto"])
def test_peak_rss_ocrai_read(benchmark: Any, inputs: dict[str, Any], variant: str) -> None:
    models = _models(inputs, variant)
    runs: list[dict[str, Any]] = []

    def read() -> dict[str, Any]:
        text, peak = run_peak(
            [sys.executable, "-c", OCRAI_READ, str(inputs["page"])], OCRAI_MODEL_DIR=str(models)
        )
        runs.append({"text": text, "peak_rss_mib": peak})
        return runs[-1]

    out = benchmark.pedantic(read, rounds=RSS_ROUNDS, iterations=1)
    assert testing.cer(out["text"], inputs["page_text"]) < 0.01
    record(benchmark, "peak-rss-a4", variant, runs, "peak_rss_mib")
