"""Engine cold start and memory, beside a plain onnxruntime baseline on the same models.

Cold start: each round runs a fresh interpreter that reads one rendered text line (no
detection: the line is the whole image) and exits; the benchmark times the whole process,
interpreter start included (the same for both). The baseline does the work with the
``onnxruntime`` Python package: import it, create the det and rec sessions of the same
pack, run the recogniser, decode greedily. Both must read the line right. Each script also
reports its split, after the input is read: ``construct_s`` (imports, runtime, engine or
sessions created) and ``first_result_s`` (the first recognition; for ocrai this includes
loading the models, which the engine does lazily). ocrai's script also reports RSS: before
the engine (ocrai and ONNX Runtime loaded), loaded, peak, after free_resources, and the
runtime's one-time cost; the residue after free_resources includes ORT's first-use costs,
paid once per process (see tests/test_memory.py). All of it lands in
``benchmark.extra_info``.

Many pages: `recognize_many` beside a loop of `recognize` on the same engine.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import testing
from ocrai.models import ModelStore
from ocrai.testing import render_line

LINE_TEXT = "Please pay the total of $1,284.50 by May 3."

OCRAI_SCRIPT = textwrap.dedent(
    """
    import time
    import gc, json, os, resource, sys
    import numpy as np

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    line = np.load(sys.argv[2])
    t_in = time.perf_counter()  # reading the input is not part of the cold start
    rss_import0 = rss_mb()
    import ocrai
    import ocrai.io, ocrai.results  # else imported by the first recognize
    rss_import = rss_mb()
    ocrai._runtime.load()  # what OcrAI() does first; measured apart: it is once per process
    rss_runtime = rss_mb()
    ai = ocrai.OcrAI(sys.argv[1])
    t1 = time.perf_counter()
    page = ai.recognize(line, detect=False)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loaded = rss_mb()
    ai.free_resources()
    del ai
    gc.collect()
    print(json.dumps({
        "text": page.text,
        "construct_s": t1 - t_in,
        "first_result_s": t2 - t1,
        "rss_before_import_mb": rss_import0,
        "rss_import_mb": rss_import,
        "rss_before_engine_mb": rss_runtime,
        "rss_loaded_mb": loaded,
        "rss_peak_mb": peak,
        "rss_after_free_mb": rss_mb(),
    }))
    """
)

BASELINE_SCRIPT = textwrap.dedent(
    """
    import time
    import json, sys
    import numpy as np

    line = np.load(sys.argv[2])
    t_in = time.perf_counter()
    import onnxruntime as ort
    from PIL import Image

    d = sys.argv[1]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    det = ort.InferenceSession(d + "/ppocrv6-small-det.onnx", opts, providers=["CPUExecutionProvider"])
    rec = ort.InferenceSession(d + "/ppocrv6-small-rec.onnx", opts, providers=["CPUExecutionProvider"])
    with open(d + "/ppocrv6-small-dict.txt", encoding="utf-8") as f:
        symbols = [s.rstrip("\\r\\n") for s in f] + [" "]
    t1 = time.perf_counter()
    h, w = line.shape[:2]
    width = max(8, int(round(48 * w / h)))
    img = np.asarray(Image.fromarray(line).resize((width, 48), Image.BILINEAR), np.float32)
    x = ((img[:, :, ::-1] / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].copy()
    probs = rec.run(None, {"x": x})[0][0]
    best = probs.argmax(axis=1)
    text, prev = [], 0
    for i in best:
        if i != prev and i != 0:
            text.append(symbols[i - 1])
        prev = i
    t2 = time.perf_counter()
    print(json.dumps({
        "text": "".join(text).strip(),
        "construct_s": t1 - t_in,
        "first_result_s": t2 - t1,
    }))
    """
)


@pytest.fixture(scope="module")
def engine_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("engine")
    store = ModelStore(root / "models")
    store.ensure_pack("ppocrv6-small")
    line_path = root / "line.npy"
    np.save(line_path, render_line(LINE_TEXT))
    return store.path, line_path


def run_script(script: str, model_dir: Path, line: Path) -> dict[str, Any]:
    return testing.run_json_script(script, model_dir, line, timeout=300)


def record(benchmark: Any, runs: list[dict[str, Any]]) -> None:
    for key in runs[0]:
        if key != "text":
            values = sorted(float(r[key]) for r in runs)
            benchmark.extra_info[key] = round(values[len(values) // 2], 4)


@pytest.mark.benchmark(group="engine-cold-start")
def test_cold_start_ocrai(
    benchmark: Any, facts: dict[str, Any], engine_inputs: tuple[Path, Path]
) -> None:
    runs: list[dict[str, Any]] = []

    def cold() -> dict[str, Any]:
        runs.append(run_script(OCRAI_SCRIPT, *engine_inputs))
        return runs[-1]

    out = benchmark.pedantic(cold, rounds=3, iterations=1)
    assert out["text"] == LINE_TEXT
    record(benchmark, runs)
    benchmark.extra_info["ort_runtime_once_mb"] = round(
        out["rss_before_engine_mb"] - out["rss_import_mb"], 1
    )
    # What free_resources gave back, against the RSS before the engine was created.
    assert out["rss_after_free_mb"] - out["rss_before_engine_mb"] < 15


@pytest.mark.benchmark(group="engine-cold-start")
def test_cold_start_onnxruntime_python(
    benchmark: Any, facts: dict[str, Any], engine_inputs: tuple[Path, Path]
) -> None:
    pytest.importorskip("onnxruntime")
    runs: list[dict[str, Any]] = []

    def cold() -> dict[str, Any]:
        runs.append(run_script(BASELINE_SCRIPT, *engine_inputs))
        return runs[-1]

    out = benchmark.pedantic(cold, rounds=3, iterations=1)
    assert out["text"] == LINE_TEXT
    record(benchmark, runs)


# --- many images: recognize_many beside a loop of recognize -------------------------------


@pytest.fixture(scope="module")
def batch_engine(engine_inputs: tuple[Path, Path]) -> Iterator[Any]:
    from ocrai import OcrAI

    with OcrAI(engine_inputs[0]) as ai:
        ai.warmup()
        yield ai


@pytest.fixture(scope="module")
def batch_pages() -> list[np.ndarray]:
    from ocrai.testing import SAMPLE_TEXT, render_page

    return [render_page(SAMPLE_TEXT[lang] * 2).image for lang in ("en", "fr", "pt", "cs")]


@pytest.mark.benchmark(group="engine-many-pages")
def test_pages_recognize_many(
    benchmark: Any, facts: dict[str, Any], batch_engine: Any, batch_pages: list[np.ndarray]
) -> None:
    texts = benchmark.pedantic(
        lambda: [p.text for p in batch_engine.recognize_many(batch_pages)],
        rounds=3,
        warmup_rounds=1,
    )
    benchmark.extra_info["threads"] = batch_engine.threads
    assert texts == [batch_engine.recognize(p).text for p in batch_pages]


@pytest.mark.benchmark(group="engine-many-pages")
def test_pages_recognize_loop(
    benchmark: Any, facts: dict[str, Any], batch_engine: Any, batch_pages: list[np.ndarray]
) -> None:
    texts = benchmark.pedantic(
        lambda: [batch_engine.recognize(p).text for p in batch_pages],
        rounds=3,
        warmup_rounds=1,
    )
    benchmark.extra_info["threads"] = batch_engine.threads
    assert all(texts)
