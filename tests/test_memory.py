"""Memory really goes back: RSS measured in a fresh interpreter around engines that read text.

The baseline. ONNX Runtime is process-wide: its library and its one environment are loaded
by the first engine and never unloaded (unloading it is unsafe), so they are not part of
what `free_resources()` can give back. The baseline is therefore the RSS *after*
``ocrai._runtime.load()`` and *before* the engine is created, with the test images rendered
and the Python modules that the first `recognize` imports already imported. The runtime's
own cost (RSS after loading it minus before) is measured and printed separately (about
13 MB here: 8 MB of library pages, 4-5 MB of heap).

What ORT keeps after its *first* sessions ran is also paid once per process and is inside
``after_free - baseline``: the library's code pages that running the models touched (about
9 MB of file-backed pages, shared and reclaimable by the kernel) and a few MB of global
caches. It must stay under 15 MB; a second engine must then give back everything it took
(within 3 MB), which shows that the residue is one-time and not the engine's.

The cycles. 200 times: create an engine on the tiny pack, read a line (detection and
recognition), free it. The drift is the RSS after the last cycle minus the RSS after the
10th (the first cycles still grow one-time caches); it must stay under 5 MB.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import ocrai
from ocrai import testing

pytestmark = [
    pytest.mark.models,
    # AddressSanitizer's allocator keeps freed memory in quarantine and ignores malloc_trim,
    # so under scripts/sanitize.sh nothing measured here would be about ocrai.
    pytest.mark.skipif(
        bool(ocrai.build_info()["sanitizers"]),
        reason="RSS given back is not measurable under AddressSanitizer",
    ),
]

PROBE = textwrap.dedent(
    """
    import gc, json, os, resource, sys

    def rss():
        out = {}
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0]) / 1024
        return out

    import ocrai
    from ocrai import _runtime
    from ocrai import io, results  # imported by the first recognize: a Python one-time cost
    from ocrai.testing import SAMPLE_TEXT, render_line, render_page

    model_dir, cycles = sys.argv[1], int(sys.argv[2])
    store = ocrai.ModelStore(model_dir)
    store.ensure_pack("ppocrv6-small")
    store.ensure_pack("ppocrv6-tiny")
    images = [render_page(SAMPLE_TEXT[lang]).image for lang in ("en", "fr", "cs")]
    lines = [render_line(SAMPLE_TEXT[lang][1], lang=lang) for lang in ("pt", "ja")]
    gc.collect()
    out = {"before_runtime": rss()}
    _runtime.load()
    out["baseline"] = rss()

    def use_engine():
        ai = ocrai.OcrAI(model_dir)
        texts = [ai.recognize(image).text for image in images]
        texts += [ai.recognize(line, detect=False).text for line in lines]
        loaded = rss()
        ai.free_resources()
        del ai
        gc.collect()
        return texts, loaded

    out["texts"], out["loaded"] = use_engine()
    out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["after_free"] = rss()
    use_engine()
    out["after_second_free"] = rss()

    cycle_rss = []
    for _ in range(cycles):
        with ocrai.OcrAI(model_dir, pack="ppocrv6-tiny") as ai:
            ai.recognize(lines[0])
        del ai
        cycle_rss.append(rss()["VmRSS"])
    out["cycles"] = cycle_rss
    print(json.dumps(out))
    """
)


def run_probe(model_dir: Path, cycles: int) -> dict[str, object]:
    return testing.run_json_script(PROBE, model_dir, str(cycles), timeout=900)


@pytest.mark.slow
def test_free_resources_gives_the_memory_back(tmp_path: Path) -> None:
    figures = run_probe(tmp_path / "models", cycles=200)
    before: dict[str, float] = figures["before_runtime"]  # type: ignore[assignment]
    base: dict[str, float] = figures["baseline"]  # type: ignore[assignment]
    loaded: dict[str, float] = figures["loaded"]  # type: ignore[assignment]
    after: dict[str, float] = figures["after_free"]  # type: ignore[assignment]
    second: dict[str, float] = figures["after_second_free"]  # type: ignore[assignment]
    cycles: list[float] = figures["cycles"]  # type: ignore[assignment]

    def delta(a: dict[str, float], b: dict[str, float]) -> str:
        return (
            f"{b['VmRSS'] - a['VmRSS']:+.1f} MB (heap {b['RssAnon'] - a['RssAnon']:+.1f}, "
            f"mapped files {b['RssFile'] - a['RssFile']:+.1f})"
        )

    print(
        f"\nORT runtime loaded once per process: {delta(before, base)}"
        f"\nbaseline {base['VmRSS']:.1f} MB; loaded {loaded['VmRSS']:.1f} MB; "
        f"peak {figures['peak']:.1f} MB"
        f"\nafter free_resources: {delta(base, after)} vs the baseline"
        f"\nsecond engine, after free_resources: {delta(after, second)} vs the first release"
        f"\n{len(cycles)} create/run/free cycles: after the 10th {cycles[9]:.1f} MB, after the "
        f"last {cycles[-1]:.1f} MB ({cycles[-1] - cycles[9]:+.1f})"
    )
    texts: list[str] = figures["texts"]  # type: ignore[assignment]
    assert all(texts), "the engine read nothing: the measurement would mean nothing"
    assert loaded["VmRSS"] - base["VmRSS"] > 50  # the sessions really were loaded
    assert after["VmRSS"] - base["VmRSS"] < 15
    # ORT's first-use residue (code pages of the library, its global caches) is paid once:
    # a second engine gives back everything it took.
    assert abs(second["VmRSS"] - after["VmRSS"]) < 3
    assert len(cycles) == 200
    assert cycles[-1] - cycles[9] < 5
