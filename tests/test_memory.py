"""Memory really goes back: RSS measured in a fresh interpreter around engines that read text.

The baseline. ONNX Runtime is process-wide: its library and its one environment are loaded
by the first engine and never unloaded (unloading it is unsafe), so they are not part of
what `free_resources()` can give back. The baseline is therefore the RSS *after* the
runtime is loaded and *before* the engine is created, with the test images already
rendered; the runtime's own one-time cost (RSS after `ocrai._runtime.load()` minus RSS
before it) is measured and reported separately. What ORT keeps after its first session
(kernel registries and per-thread caches, a few MB, also once per process) stays inside the
15 MB tolerance and is reported as part of ``after_free - baseline``.

The cycles. 200 times: create an engine on the tiny pack, read a line (detection and
recognition), free it. The drift is the RSS after the last cycle minus the RSS after the
10th (the first cycles still grow one-time caches); it must stay under 5 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.models

PROBE = textwrap.dedent(
    """
    import gc, json, os, resource, sys

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    import ocrai
    from ocrai import _runtime
    from ocrai.testing import SAMPLE_TEXT, render_line, render_page

    model_dir, cycles = sys.argv[1], int(sys.argv[2])
    store = ocrai.ModelStore(model_dir)
    store.ensure_pack("ppocrv6-small")
    store.ensure_pack("ppocrv6-tiny")
    images = [render_page(SAMPLE_TEXT[lang]).image for lang in ("en", "fr", "cs")]
    lines = [render_line(SAMPLE_TEXT[lang][1], lang=lang) for lang in ("pt", "ja")]
    gc.collect()
    out = {"before_runtime": rss_mb()}
    _runtime.load()
    out["baseline"] = rss_mb()

    ai = ocrai.OcrAI(model_dir)
    texts = [ai.recognize(image).text for image in images]
    texts += [ai.recognize(line, detect=False).text for line in lines]
    out["loaded"] = rss_mb()
    out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ai.free_resources()
    del ai
    gc.collect()
    out["after_free"] = rss_mb()
    out["texts"] = texts

    cycle_rss = []
    for _ in range(cycles):
        with ocrai.OcrAI(model_dir, pack="ppocrv6-tiny") as ai:
            ai.recognize(lines[0])
        del ai
        cycle_rss.append(rss_mb())
    out["cycles"] = cycle_rss
    print(json.dumps(out))
    """
)


def run_probe(model_dir: Path, cycles: int) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(model_dir), str(cycles)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    figures: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return figures


@pytest.mark.slow
def test_free_resources_gives_the_memory_back(tmp_path: Path) -> None:
    figures = run_probe(tmp_path / "models", cycles=200)
    baseline = float(figures["baseline"])  # type: ignore[arg-type]
    loaded = float(figures["loaded"])  # type: ignore[arg-type]
    after = float(figures["after_free"])  # type: ignore[arg-type]
    cycles: list[float] = figures["cycles"]  # type: ignore[assignment]
    runtime_cost = baseline - float(figures["before_runtime"])  # type: ignore[arg-type]
    print(
        f"\nORT runtime (once per process): {runtime_cost:.1f} MB; baseline {baseline:.1f} MB;"
        f" loaded {loaded:.1f} MB; peak {figures['peak']:.1f} MB;"
        f" after free_resources {after:.1f} MB (+{after - baseline:.1f});"
        f" cycles: 10th {cycles[9]:.1f} MB, last {cycles[-1]:.1f} MB"
    )
    texts: list[str] = figures["texts"]  # type: ignore[assignment]
    assert all(texts), "the engine read nothing: the measurement would mean nothing"
    assert loaded - baseline > 50  # the sessions really were loaded
    assert after - baseline < 15
    assert len(cycles) == 200
    assert cycles[-1] - cycles[9] < 5
