"""End-to-end latency, 2 threads: ocrai beside the OCR peers it finds installed, on the same
decoded images in one run (a dense rendered page of 40 lines and a 1000x300 line).

ocrai runs through ``_core.pipeline.Pipeline`` directly. Peers, loaded and set up by
``peers.py`` (none is a dependency of ocrai; ``pip install --group pyproject.toml:peers``
puts them in a development environment):

- rapidocr 3.10 with PP-OCRv6 small, its line classifier off, 2 intra-op threads;
- rapidocr-ng 5.0.0a5 (native engine, PP-OCRv6 small from rapidocr 3.10's files and the
  dictionary in the recogniser's metadata). It installs as the module ``rapidocr`` too, so
  beside rapidocr 3.10 it lives in its own folder: ``pip install --no-deps --target DIR
  rapidocr-ng==5.0.0a5`` and ``OCRAI_PEER_RAPIDOCR_NG=DIR``;
- tesserocr over Debian's tesseract-ocr and its English data (one thread);
- faster-paddle 1.0.4 (a Rust PP-OCRv6 runtime with its own ONNX Runtime), its bundled
  small model, 2 threads. It takes encoded images only: it is given the PNG bytes, so its
  time includes decoding them (a few ms of the line, ~0.1 s of the page).

An ``ocrai-int8`` variant (the small pack with its int8 recogniser) runs too when
``ocrai models derive`` wrote one into the model store, or ``OCRAI_BENCH_INT8_REC`` names one,
and ``ocrai-checked`` (that int8 recogniser, its doubtful lines re-read by the fp32 one: what
the engine reads with by default, ``precision="auto"``, on a CPU with VNNI);
``ocrai-fast-int8`` (fast mode, both recognisers int8) when the store holds both, and
``ocrai-fast-checked`` (fast mode as auto reads on a CPU with VNNI: the tiny int8
recogniser, its doubtful lines checked by its fp32 one, then the small one in fp32). With
detection on (the default), the line is one lone line on a plain background, which the
pipeline reads without its detector; ``ocrai-checked-detector`` runs the detector on it
anyway (``lone_line=False``), what a line beside other marks costs. The line is also read by
``ocrai-one-line`` and ``ocrai-checked-one-line``: told that the image is one line
(``detect=False``), as Tesseract is (``PSM.SINGLE_LINE``).

Each benchmark checks what it read against the ground truth. Ratios (peer median / ocrai
median) go into ``extra_info`` and a summary at the end of the module.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from ocrai import _core, _runtime, testing

sys.path.insert(0, str(Path(__file__).parent))
import peers  # the peers' loading and set-up, shared with accuracy.py

T = TypeVar("T")

THREADS = 2
PACKS = Path(_core.__file__).parent / "packs"
PAGE_ROUNDS = 5
LINE_ROUNDS = 40  # 30-80 ms each: medians of 10 swung by 30 % on the shared machine
MEDIANS: dict[tuple[str, str], float] = {}
CERS: dict[tuple[str, str], float] = {}
LINE_TEXT = "Invoice 2026-114 for the spring delivery, paid on May 3"


# --- images ----------------------------------------------------------------------------------


def dense_page(lines: int = 40, font_size: int = 30, width: int = 1700) -> testing.RenderedPage:
    """An A4-ish page (1700 x 2160) of 40 full-width English lines."""
    from PIL import ImageFont

    path, index = testing.font_path("en")
    font = ImageFont.truetype(str(path), font_size, index=index)
    words = " ".join(testing.SAMPLE_TEXT["en"] * 20).split()
    text_lines: list[str] = []
    current = ""
    k = 0
    while len(text_lines) < lines:
        candidate = f"{current} {words[k % len(words)]}".strip()
        if font.getlength(candidate) > width - 160:
            text_lines.append(current)
            current = words[k % len(words)]
        else:
            current = candidate
        k += 1
    return testing.render_page(
        text_lines, font_size=font_size, line_spacing=1.7, width=width, noise=3.0
    )


def single_line() -> np.ndarray:
    """A 1000x300 image holding one line of text."""
    from PIL import ImageFont

    path, index = testing.font_path("en")
    size = 80
    while ImageFont.truetype(str(path), size, index=index).getlength(LINE_TEXT) > 920:
        size -= 2
    line = testing.render_page([LINE_TEXT], font_size=size, margin=40, width=1000).image
    image = np.full((300, 1000, 3), 250, np.uint8)
    top = (300 - line.shape[0]) // 2
    image[top : top + line.shape[0]] = line
    return image


@pytest.fixture(scope="module")
def page() -> testing.RenderedPage:
    return dense_page()


@pytest.fixture(scope="module")
def line() -> np.ndarray:
    return single_line()


# --- scoring and reporting -------------------------------------------------------------------


def cer(got: str, truth: str) -> float:
    return testing.cer(got, truth)


def measure(
    benchmark: Any, group: str, name: str, fn: Callable[[], str], truth: str, rounds: int
) -> float:
    """Times `fn` (one warm-up call first), records its median and CER, returns the CER."""
    text = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
    score = cer(text, truth)
    CERS[(group, name)] = score
    benchmark.extra_info.update(
        {"cer": round(score, 5), "threads": THREADS, "simd": _core.simd_info()["selected"]}
    )
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # absent with --benchmark-disable
        MEDIANS[(group, name)] = stats.stats.median
    return score


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not MEDIANS:
        return
    reporter.write_sep("-", f"pipeline latency, {THREADS} threads: median, CER, speedups")
    for (group, name), median in MEDIANS.items():
        line = f"{group:14s} {name:14s} {median:8.3f} s  CER {CERS[(group, name)]:.4f}"
        if name.startswith("ocrai"):
            line += "  " + "  ".join(
                f"{peer}/{name} {m / median:.2f}x"
                for (g, peer), m in MEDIANS.items()
                if g == group and not peer.startswith("ocrai")
            )
        reporter.write_line(line)


# --- ocrai -----------------------------------------------------------------------------------


def pack(name: str) -> dict[str, str]:
    base = PACKS / name
    return {
        "det_model": str(base / f"{name}-det.onnx"),
        "rec_model": str(base / f"{name}-rec.onnx"),
        "rec_dict": str(base / f"{name}-dict.txt"),
    }


def warm_pipeline(
    primary: dict[str, str], fallback: dict[str, str] | None = None, check: str | None = None
) -> Iterator[_core.pipeline.Pipeline]:
    """A pipeline of `primary`'s files (re-reading with `fallback`'s recogniser, checking with
    the recogniser `check` first), warmed up, closed after the module."""
    _runtime.load()
    extra = {}
    if fallback is not None:
        extra = {
            "fallback_rec_model": fallback["rec_model"],
            "fallback_rec_dict": fallback["rec_dict"],
        }
    if check is not None:
        extra["check_rec_model"] = check
    p = _core.pipeline.Pipeline(**primary, **extra, threads=THREADS)
    p.warmup()
    yield p
    p.close()


def small_int8_rec() -> str:
    """The small pack's int8 recogniser, or the benchmark is skipped."""
    path = os.environ.get("OCRAI_BENCH_INT8_REC") or derived_int8_rec()
    if not path:
        pytest.skip("no int8 recogniser: `ocrai models derive` or OCRAI_BENCH_INT8_REC=FILE")
    return path


@pytest.fixture(scope="module")
def ocrai_small() -> Iterator[_core.pipeline.Pipeline]:
    yield from warm_pipeline(pack("ppocrv6-small"))


@pytest.fixture(scope="module")
def ocrai_fast() -> Iterator[_core.pipeline.Pipeline]:
    yield from warm_pipeline(pack("ppocrv6-tiny"), pack("ppocrv6-small"))


@pytest.fixture(scope="module")
def ocrai_int8() -> Iterator[_core.pipeline.Pipeline]:
    yield from warm_pipeline({**pack("ppocrv6-small"), "rec_model": small_int8_rec()})


@pytest.fixture(scope="module")
def ocrai_checked() -> Iterator[_core.pipeline.Pipeline]:
    small = pack("ppocrv6-small")
    yield from warm_pipeline({**small, "rec_model": small_int8_rec()}, small)


@pytest.fixture(scope="module")
def ocrai_fast_int8() -> Iterator[_core.pipeline.Pipeline]:
    tiny, small = derived_int8_rec("ppocrv6-tiny-rec.onnx"), derived_int8_rec()
    if not tiny or not small:
        pytest.skip("no int8 recognisers of both packs: `ocrai models derive`")
    yield from warm_pipeline(
        {**pack("ppocrv6-tiny"), "rec_model": tiny}, {**pack("ppocrv6-small"), "rec_model": small}
    )


@pytest.fixture(scope="module")
def ocrai_fast_checked() -> Iterator[_core.pipeline.Pipeline]:
    tiny = derived_int8_rec("ppocrv6-tiny-rec.onnx")
    if not tiny:
        pytest.skip("no int8 tiny recogniser: `ocrai models derive`")
    fp32 = pack("ppocrv6-tiny")
    yield from warm_pipeline({**fp32, "rec_model": tiny}, pack("ppocrv6-small"), fp32["rec_model"])


def derived_int8_rec(fp32_name: str = "ppocrv6-small-rec.onnx") -> str | None:
    """The int8 recogniser derived from `fp32_name` that `ocrai models derive` wrote into
    the model store, if any."""
    from ocrai.models import ModelStore
    from ocrai.precision import int8_name

    store = ModelStore(create=False)
    name = int8_name(fp32_name)
    entry = store.manifest().get(name) if store.path.is_dir() else None
    if entry is None or not (entry.source or "").startswith("derived:"):
        return None
    return str(store.path_of(name))


def ocrai_reader(
    pipeline: _core.pipeline.Pipeline, image: np.ndarray, options: dict[str, object] | None = None
) -> Callable[[], str]:
    return lambda: "\n".join(line["text"] for line in pipeline.run(image, "rgb", options)["lines"])


def measure_ocrai(
    benchmark: Any,
    group: str,
    name: str,
    pipeline: _core.pipeline.Pipeline,
    image: np.ndarray,
    truth: str,
    rounds: int,
    options: dict[str, object] | None = None,
) -> float:
    """`measure` of one ocrai variant reading `image` (with the run `options`), then its
    ratios against the peers measured before it in `group`; returns the CER."""
    score = measure(benchmark, group, name, ocrai_reader(pipeline, image, options), truth, rounds)
    record_ratios(benchmark, group, name)
    return score


# --- peers -----------------------------------------------------------------------------------


def available(load: Callable[..., T], *args: Any) -> T:
    """`load(*args)` (a peer from ``peers``), or the benchmark is skipped when the peer is
    not there (ImportError, saying why)."""
    try:
        return load(*args)
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def rapidocr_engine() -> Any:
    return available(peers.rapidocr_engine, THREADS)


@pytest.fixture(scope="module")
def rapidocr_ng_engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return available(peers.rapidocr_ng_engine, tmp_path_factory.mktemp("rapidocr-ng"))


def tessdata() -> str:
    """The folder of Debian's English Tesseract data (with a trailing slash, as tesserocr
    wants it); skips without tesserocr or the data."""
    pytest.importorskip("tesserocr")
    found = next(
        (
            p
            for p in Path("/usr/share/tesseract-ocr").glob("*/tessdata")
            if (p / "eng.traineddata").is_file()
        ),
        None,
    )
    if found is None:
        pytest.skip("Debian's tesseract-ocr-eng is not installed")
    return f"{found}/"


@pytest.fixture(scope="module")
def tesseract() -> Iterator[tuple[Any, Any]]:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    tesserocr = pytest.importorskip("tesserocr")
    api = tesserocr.PyTessBaseAPI(path=tessdata(), lang="eng")
    yield tesserocr, api
    api.End()


@pytest.fixture(scope="module")
def faster_paddle_engine() -> Any:
    return available(peers.faster_paddle_engine, THREADS)


def rapid_reader(engine: Any, image: np.ndarray) -> Callable[[], str]:
    bgr = peers.to_bgr(image)
    return lambda: "\n".join(engine(bgr).txts or ())


def tesseract_reader(tess: tuple[Any, Any], image: np.ndarray, mode: str) -> Callable[[], str]:
    from PIL import Image

    tesserocr, api = tess
    pil = Image.fromarray(image)

    def read() -> str:
        api.SetPageSegMode(getattr(tesserocr.PSM, mode))
        api.SetImage(pil)
        text: str = api.GetUTF8Text()
        return text

    return read


# --- the page ---------------------------------------------------------------------------------
# Peers first: each ocrai benchmark then reports its ratio against them in the same run.


@pytest.mark.benchmark(group="pipeline-page")
def test_rapidocr_page(benchmark: Any, rapidocr_engine: Any, page: testing.RenderedPage) -> None:
    reader = rapid_reader(rapidocr_engine, page.image)
    assert measure(benchmark, "pipeline-page", "rapidocr-3.10", reader, page.text, 3) < 0.02


@pytest.mark.benchmark(group="pipeline-page")
def test_rapidocr_ng_page(
    benchmark: Any, rapidocr_ng_engine: Any, page: testing.RenderedPage
) -> None:
    reader = rapid_reader(rapidocr_ng_engine, page.image)
    # It joins and splits lines its own way: compare the words.
    assert measure(benchmark, "pipeline-page", "rapidocr-ng", reader, page.text, 3) < 0.05


@pytest.mark.benchmark(group="pipeline-page")
def test_faster_paddle_page(
    benchmark: Any, faster_paddle_engine: Any, page: testing.RenderedPage
) -> None:
    reader = peers.faster_paddle_reader(faster_paddle_engine, page.image)
    assert measure(benchmark, "pipeline-page", "faster-paddle", reader, page.text, 3) < 0.05


@pytest.mark.benchmark(group="pipeline-page")
def test_tesserocr_page(benchmark: Any, tesseract: Any, page: testing.RenderedPage) -> None:
    reader = tesseract_reader(tesseract, page.image, "AUTO")
    assert measure(benchmark, "pipeline-page", "tesserocr", reader, page.text, 3) < 0.05


# ocrai's variants, each measured after the peers: the name in the summary, the fixture of
# its pipeline.
OCRAI_VARIANTS = {
    "ocrai": "ocrai_small",
    "ocrai-fast": "ocrai_fast",
    "ocrai-int8": "ocrai_int8",
    "ocrai-checked": "ocrai_checked",
    "ocrai-fast-int8": "ocrai_fast_int8",
    "ocrai-fast-checked": "ocrai_fast_checked",
}
# The line's variants: the name in the summary, the page variant whose pipeline reads it,
# the run's options. The "one-line" ones are told that the image is one line
# (``detect=False``: no detector, the image cut to its ink), as Tesseract is (SINGLE_LINE).
LINE_VARIANTS: dict[str, tuple[str, dict[str, object]]] = {
    "ocrai": ("ocrai", {}),
    "ocrai-int8": ("ocrai-int8", {}),
    "ocrai-checked": ("ocrai-checked", {}),
    "ocrai-fast-int8": ("ocrai-fast-int8", {}),
    "ocrai-fast-checked": ("ocrai-fast-checked", {}),
    "ocrai-checked-detector": ("ocrai-checked", {"lone_line": False}),
    "ocrai-one-line": ("ocrai", {"detect": False}),
    "ocrai-checked-one-line": ("ocrai-checked", {"detect": False}),
}


@pytest.mark.benchmark(group="pipeline-page")
@pytest.mark.parametrize("variant", list(OCRAI_VARIANTS))
def test_ocrai_page(
    benchmark: Any,
    facts: dict[str, Any],
    request: pytest.FixtureRequest,
    variant: str,
    page: testing.RenderedPage,
) -> None:
    pipeline = request.getfixturevalue(OCRAI_VARIANTS[variant])
    score = measure_ocrai(
        benchmark, "pipeline-page", variant, pipeline, page.image, page.text, PAGE_ROUNDS
    )
    assert score < 0.005


# --- the line ---------------------------------------------------------------------------------


@pytest.mark.benchmark(group="pipeline-line")
def test_rapidocr_line(benchmark: Any, rapidocr_engine: Any, line: np.ndarray) -> None:
    reader = rapid_reader(rapidocr_engine, line)
    assert measure(benchmark, "pipeline-line", "rapidocr-3.10", reader, LINE_TEXT, 5) < 0.02


@pytest.mark.benchmark(group="pipeline-line")
def test_rapidocr_ng_line(benchmark: Any, rapidocr_ng_engine: Any, line: np.ndarray) -> None:
    reader = rapid_reader(rapidocr_ng_engine, line)
    assert measure(benchmark, "pipeline-line", "rapidocr-ng", reader, LINE_TEXT, 5) < 0.02


@pytest.mark.benchmark(group="pipeline-line")
def test_faster_paddle_line(benchmark: Any, faster_paddle_engine: Any, line: np.ndarray) -> None:
    reader = peers.faster_paddle_reader(faster_paddle_engine, line)
    assert measure(benchmark, "pipeline-line", "faster-paddle", reader, LINE_TEXT, 5) < 0.02


@pytest.mark.benchmark(group="pipeline-line")
def test_tesserocr_line(benchmark: Any, tesseract: Any, line: np.ndarray) -> None:
    reader = tesseract_reader(tesseract, line, "SINGLE_LINE")
    assert measure(benchmark, "pipeline-line", "tesserocr", reader, LINE_TEXT, LINE_ROUNDS) < 0.05


@pytest.mark.benchmark(group="pipeline-line")
@pytest.mark.parametrize("variant", LINE_VARIANTS)
def test_ocrai_line(
    benchmark: Any,
    facts: dict[str, Any],
    request: pytest.FixtureRequest,
    variant: str,
    line: np.ndarray,
) -> None:
    page_variant, options = LINE_VARIANTS[variant]
    pipeline = request.getfixturevalue(OCRAI_VARIANTS[page_variant])
    score = measure_ocrai(
        benchmark, "pipeline-line", variant, pipeline, line, LINE_TEXT, LINE_ROUNDS, options
    )
    assert score == 0


def record_ratios(benchmark: Any, group: str, name: str) -> None:
    """Peer median / our median for every peer measured before us in this group."""
    ours = MEDIANS.get((group, name))
    if not ours:
        return
    for (g, peer), median in MEDIANS.items():
        if g == group and not peer.startswith("ocrai"):
            benchmark.extra_info[f"speedup_vs_{peer}"] = round(median / ours, 2)


# --- the line, readers in alternation ---------------------------------------------------------

# Tesseract's and ocrai's line times move by 30 % between blocks of rounds on the shared
# machine (the same reading, told one line, measured 26 ms in one block and 39 ms in
# another run's): here every round reads the line once with each reader in turn, so that
# each median sees the same moments of the machine.
ALTERNATING_ROUNDS = 100
ALTERNATING: dict[str, dict[str, object]] = {
    "ocrai-checked": {},  # the default reading (auto); the line is one lone line
    "ocrai-checked-detector": {"lone_line": False},
    "ocrai-checked-one-line": {"detect": False},
}


@pytest.mark.benchmark(group="pipeline-line-alternating")
def test_line_alternating_with_tesserocr(
    benchmark: Any, tesseract: Any, ocrai_checked: _core.pipeline.Pipeline, line: np.ndarray
) -> None:
    group = "line-alternating"
    readers = {"tesserocr": tesseract_reader(tesseract, line, "SINGLE_LINE")}
    readers.update({name: ocrai_reader(ocrai_checked, line, o) for name, o in ALTERNATING.items()})
    times: dict[str, list[float]] = {name: [] for name in readers}
    texts: dict[str, str] = {}

    def one_round() -> None:
        for name, read in readers.items():
            start = time.perf_counter()
            texts[name] = read()
            times[name].append(time.perf_counter() - start)

    benchmark.pedantic(one_round, rounds=ALTERNATING_ROUNDS, iterations=1, warmup_rounds=1)
    for name, text in texts.items():
        CERS[(group, name)] = cer(text, LINE_TEXT)
        assert CERS[(group, name)] < (0.05 if name == "tesserocr" else 0.001), name
    if getattr(benchmark, "stats", None) is None:  # --benchmark-disable: one round
        return
    for name, seconds in times.items():
        MEDIANS[(group, name)] = float(np.median(seconds[1:]))  # after the warm-up round
    for name in ALTERNATING:
        ratio = MEDIANS[(group, "tesserocr")] / MEDIANS[(group, name)]
        benchmark.extra_info[f"{name}_speedup_vs_tesserocr"] = round(ratio, 2)
