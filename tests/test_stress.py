"""Stress: many threads share one engine on a random mix of images (pages, lines, blank and
tiny images, an extreme strip, with and without detection), and ``free_resources()`` comes
at a random moment.

What must hold: no crash; every page a thread got is identical (timings aside) to the page
a single thread read from the same image before; every thread's first failure is
ResourcesReleasedError, and so is every later call on the engine. The random choices come
from a seed printed with the result, so a failure can be replayed (OCRAI_STRESS_SEED).
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import OcrAI, ResourcesReleasedError
from ocrai.models import ModelStore
from ocrai.results import Page
from ocrai.testing import SAMPLE_TEXT, render_line, render_page

pytestmark = pytest.mark.models

THREADS = 8


def comparable(page: Page) -> dict[str, Any]:
    d = page.to_dict()
    del d["timings"]
    return d


def workload(rng: np.random.Generator) -> list[tuple[str, np.ndarray, bool]]:
    """(name, image, detect) items: the kinds of image a service sees, in random order."""
    total = render_line("Total 1,284.50")
    rgba = np.concatenate([total, np.full((*total.shape[:2], 1), 255, np.uint8)], axis=2)
    items: list[tuple[str, np.ndarray, bool]] = [
        ("page-en", render_page(SAMPLE_TEXT["en"][:3], font_size=26).image, True),
        ("page-cs", render_page(SAMPLE_TEXT["cs"][:2], lang="cs", font_size=24).image, True),
        ("line-fr", render_line(SAMPLE_TEXT["fr"][1], lang="fr"), False),
        ("line-pt-detect", render_line(SAMPLE_TEXT["pt"][0], lang="pt"), True),
        ("line-ja", render_line(SAMPLE_TEXT["ja"][0], lang="ja"), False),
        ("line-noisy", render_line(SAMPLE_TEXT["en"][1], noise=25.0, seed=3), False),
        ("rgba-line", rgba, False),
        ("blank-page", np.full((500, 400, 3), 255, np.uint8), True),
        ("black-gray", np.zeros((120, 300), np.uint8), True),
        ("tiny-1x1", np.full((1, 1, 3), 7, np.uint8), True),
        ("tiny-3x5", rng.integers(0, 256, (3, 5), dtype=np.uint8), False),
        ("noise", rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), True),
        ("strip-1x3000", np.full((1, 3000), 200, np.uint8), True),
    ]
    order = rng.permutation(len(items))
    return [items[i] for i in order]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stress") / "models"
    store = ModelStore(path)
    for pack in ("ppocrv6-tiny", "ppocrv6-small", "ppocrv5-cls"):
        store.ensure_pack(pack)
    return path


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"pack": "ppocrv6-tiny", "threads": 2}, id="tiny"),
        pytest.param({"fast": True, "classify": "auto", "threads": 2}, id="fast-classify"),
    ],
)
def test_threads_share_one_engine_and_free_resources_comes_at_a_random_moment(
    model_dir: Path, config: dict[str, Any]
) -> None:
    seed = int(os.environ.get("OCRAI_STRESS_SEED", random.SystemRandom().randrange(2**32)))
    rng = np.random.default_rng(seed)
    items = workload(rng)
    ai = OcrAI(model_dir, **config)
    # The single-thread reference, image by image.
    reference = [comparable(ai.recognize(image, detect=detect)) for _, image, detect in items]
    assert sum(bool(r["lines"]) for r in reference) >= 5, "the workload reads too little"

    results: dict[int, list[tuple[int, dict[str, Any]]]] = {n: [] for n in range(THREADS)}
    endings: dict[int, BaseException | None] = dict.fromkeys(range(THREADS))
    progress = threading.Semaphore(0)
    start = threading.Barrier(THREADS + 1)

    def worker(n: int) -> None:
        order = random.Random(seed + n)
        start.wait()
        try:
            while True:
                i = order.randrange(len(items))
                _, image, detect = items[i]
                page = ai.recognize(image, detect=detect)
                results[n].append((i, comparable(page)))
                progress.release()
        except BaseException as exc:  # noqa: BLE001 - every ending is checked below
            endings[n] = exc

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(THREADS)]
    for t in threads:
        t.start()
    start.wait()
    # A random moment: after 4 to 40 pages, then up to 50 ms later (mid-call, most likely).
    wanted = int(rng.integers(4, 41))
    for _ in range(wanted):
        assert progress.acquire(timeout=300), "the threads stopped making progress"
    time.sleep(float(rng.uniform(0, 0.05)))
    pipeline = ai._state.pipeline
    ai.free_resources()
    assert pipeline.closed
    for t in threads:
        t.join(300)
        assert not t.is_alive()

    done = sum(len(r) for r in results.values())
    print(f"\nstress seed {seed}: {done} pages on {THREADS} threads before the release")
    assert done >= wanted
    for n in range(THREADS):
        assert isinstance(endings[n], ResourcesReleasedError), (seed, n, endings[n])
        for i, page in results[n]:
            assert page == reference[i], (seed, items[i][0])
    for _, image, detect in items[:3]:
        with pytest.raises(ResourcesReleasedError):
            ai.recognize(image, detect=detect)
    with pytest.raises(ResourcesReleasedError):
        ai.recognize_many([items[0][1]])
    with pytest.raises(ResourcesReleasedError):
        ai.warmup()
    assert ai.released
