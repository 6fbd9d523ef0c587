"""Orientation detection's cost per page, 2 threads, beside Tesseract's OSD.

On a rendered page of running English text (``testing.render_paragraph``, 1100 px wide,
12 lines), read by one engine in one run:

- ``off``: the page read upright without detection (the baseline);
- ``auto-upright``: the same page with ``orientation="auto"`` (what auto costs on the pages
  that need nothing: the target is under 10 % of ``off``);
- ``auto-overhead``: what auto adds to an upright page beside its one reading (the
  statistics that let the reading stand), the reading replayed;
- ``auto-90`` / ``auto-180`` / ``auto-270``: the page turned clockwise, found and read
  upright (what a turned page costs);
- ``tesseract-osd``: Tesseract's orientation and script detection alone (``PSM.OSD_ONLY``,
  tesserocr over Debian's tesseract-ocr with ``osd.traineddata``; skipped when either is
  missing), which finds the orientation but reads nothing.

Every benchmark checks its answer (the orientation found, the text read). The ratios to
``off`` (medians) go into ``extra_info`` and a summary at the end of the module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import OcrAI, testing
from ocrai.orientation import read_oriented

ROUNDS = 5
MEDIANS: dict[str, float] = {}


@pytest.fixture(scope="module")
def page() -> testing.RenderedPage:
    return testing.render_paragraph("en")


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrAI]:
    with OcrAI(threads=2) as ai:
        ai.warmup()
        yield ai


def turned(image: np.ndarray, clockwise: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(image, -clockwise // 90))


def record(benchmark: Any, name: str) -> None:
    if benchmark.stats is None:  # --benchmark-disable: the checks ran, nothing was timed
        return
    MEDIANS[name] = benchmark.stats.stats.median
    if "off" in MEDIANS and name != "off":
        benchmark.extra_info["ratio_to_off"] = MEDIANS[name] / MEDIANS["off"]


@pytest.mark.benchmark(group="orientation")
def test_off(benchmark: Any, engine: OcrAI, page: testing.RenderedPage) -> None:
    result = benchmark.pedantic(
        lambda: engine.recognize(page.image, orientation="off"), rounds=ROUNDS, warmup_rounds=1
    )
    assert testing.cer(result.text, page.text, "en") < 0.02
    record(benchmark, "off")


@pytest.mark.benchmark(group="orientation")
@pytest.mark.parametrize("clockwise", [0, 90, 180, 270])
def test_auto(benchmark: Any, engine: OcrAI, page: testing.RenderedPage, clockwise: int) -> None:
    image = turned(page.image, clockwise)
    result = benchmark.pedantic(
        lambda: engine.recognize(image, orientation="auto"), rounds=ROUNDS, warmup_rounds=1
    )
    assert result.orientation == clockwise
    assert testing.cer(result.text, page.text, "en") < 0.02
    record(benchmark, "auto-upright" if clockwise == 0 else f"auto-{clockwise}")


@pytest.mark.benchmark(group="orientation-overhead")
def test_auto_overhead_on_an_upright_page(
    benchmark: Any, engine: OcrAI, page: testing.RenderedPage
) -> None:
    """What auto adds to an upright page beside its one native call: the statistics that
    decide it stands (the reading itself is replayed, not timed)."""
    upright = engine.recognize(page.image, orientation="off")
    calls: list[int] = []

    def replay(_: np.ndarray) -> Any:
        calls.append(1)
        return upright

    assert read_oriented(replay, page.image, "auto").orientation == 0
    assert calls == [1]  # one reading of an upright page
    result = benchmark(lambda: read_oriented(replay, page.image, "auto"))
    assert result.orientation == 0
    record(benchmark, "auto-overhead")


@pytest.fixture(scope="module")
def osd() -> Iterator[Any]:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    tesserocr = pytest.importorskip("tesserocr")
    tessdata = next(
        (
            p
            for p in Path("/usr/share/tesseract-ocr").glob("*/tessdata")
            if (p / "osd.traineddata").is_file()
        ),
        None,
    )
    if tessdata is None:
        pytest.skip("Debian's tesseract-ocr (osd.traineddata) is not installed")
    api = tesserocr.PyTessBaseAPI(path=f"{tessdata}/", lang="osd", psm=tesserocr.PSM.OSD_ONLY)
    yield api
    api.End()


@pytest.mark.benchmark(group="orientation")
@pytest.mark.parametrize("clockwise", [0, 180])
def test_tesseract_osd(
    benchmark: Any, osd: Any, page: testing.RenderedPage, clockwise: int
) -> None:
    from PIL import Image

    pil = Image.fromarray(turned(page.image, clockwise))

    def detect() -> Any:
        osd.SetImage(pil)
        return osd.DetectOrientationScript()

    found = benchmark.pedantic(detect, rounds=ROUNDS, warmup_rounds=1)
    # Tesseract reports how far to turn the page clockwise to make it upright.
    assert found is not None
    assert (360 - found["orient_deg"]) % 360 == clockwise
    record(benchmark, f"tesseract-osd-{clockwise}")


def test_summary() -> None:
    """Prints the medians and ratios to ``off`` (run with -s to see them)."""
    if "off" not in MEDIANS:
        pytest.skip("the benchmarks did not run")
    for name, median in MEDIANS.items():
        print(f"{name:20s} {median * 1000:10.3f} ms  {median / MEDIANS['off']:.5f}x off")
