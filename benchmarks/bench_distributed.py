"""Reading on Dask beside one process, and what one scheduler can feed.

Group ``distributed-pages``: 40 rendered pages (PNG files, read from disk by whoever reads
them), each round read both ways, in alternating order so that the load of a shared machine
weighs on both alike:

- one process: one `OcrAI` with a budget of 2 threads, `recognize_many` over the paths;
- Dask: `ocrai.dask.read_pages` on a local cluster of two single-thread worker processes
  (what ``--workers 2`` starts), one engine each.

Both engines are built and warm before the timing starts (a cluster and its engines start
once per job, not per page). ``extra_info`` holds the median time of each, the throughput
ratio (one-process time / Dask time; target at least 0.95), the time to the first result,
peak RSS (``ru_maxrss``: of each worker process; of this process, harness included, for the
one-process run) and the seconds per page of one single-thread worker.

Group ``distributed-scheduler``: the sustained rate of ``read_pages`` through one scheduler
with a trivial engine (no OCR; 8x8 pixel images) on two workers of 4 threads, so that the
scheduler and the client, not OCR, are the limit; on a 2-core machine they share the cores
with the workers, so this is a lower bound. Workers one scheduler can feed = tasks per
second x seconds per page per single-thread worker; recorded when both ran (README "On a
cluster").
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

distributed = pytest.importorskip("distributed")

from ocrai import OcrAI
from ocrai import dask as ocrai_dask
from ocrai.batch import PageReader, ReaderConfig
from ocrai.results import Page
from ocrai.testing import SAMPLE_TEXT, render_page

N_PAGES = 40
ROUNDS = 3
N_TRIVIAL = 1500
# With --benchmark-disable (CI) each benchmark runs once, to stay correct: fewer pages.
N_PAGES_UNTIMED = 6
N_TRIVIAL_UNTIMED = 200
FACTS: dict[str, float] = {}


def _untimed(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("benchmark_disable"))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> list[str]:
    folder = tmp_path_factory.mktemp("bench-pages")
    langs = ["en", "fr", "pt", "cs"]
    paths = []
    for k in range(N_PAGES_UNTIMED if _untimed(request) else N_PAGES):
        lang = langs[k % 4]
        lines = SAMPLE_TEXT[lang][k % 2 :] + SAMPLE_TEXT[lang][: k % 2]
        path = folder / f"page{k:02d}.png"
        Image.fromarray(render_page(lines, lang=lang, seed=k).image).save(path)
        paths.append(str(path))
    return paths


def _timed(stream: Iterator[tuple[str, str]]) -> tuple[dict[str, str], float, float]:
    """The texts by source, the time to the first one and the time to the last."""
    start = time.perf_counter()
    first = None
    texts = {}
    for source, text in stream:
        if first is None:
            first = time.perf_counter() - start
        texts[source] = text
    return texts, first or 0.0, time.perf_counter() - start


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Any]:
    with ocrai_dask.connect(workers=2) as client:
        ocrai_dask.register_engines(client, ReaderConfig())
        try:
            yield client
        finally:
            ocrai_dask.release_engines(client)


@pytest.mark.benchmark(group="distributed-pages")
def test_dask_2_workers_beside_one_process(
    benchmark: Any, pages: list[str], two_workers: Any, facts: dict[str, Any]
) -> None:
    """Each round reads the pages both ways, in alternating order, so that the load of a
    shared machine weighs on both alike; the benchmark's own time is the pair."""
    client = two_workers
    # Warm: each worker builds its engine on its first page (one page each, at once).
    warm = list(ocrai_dask.read_pages(client, pages[:2], register=False))
    assert all(r.ok for r in warm)
    assert len({r.worker for r in warm}) == 2
    times: dict[str, list[float]] = {"one_process": [], "dask": []}
    firsts: dict[str, list[float]] = {"one_process": [], "dask": []}
    texts: dict[str, dict[str, str]] = {}
    with OcrAI(threads=2) as engine:
        engine.warmup()

        def one_process() -> None:
            stream = zip(pages, (p.text for p in engine.recognize_many(pages)), strict=True)
            texts["one_process"], first, total = _timed(stream)
            firsts["one_process"].append(first)
            times["one_process"].append(total)

        def dask() -> None:
            records = ocrai_dask.read_pages(client, pages, register=False)
            texts["dask"], first, total = _timed((r.source, r.text) for r in records)
            firsts["dask"].append(first)
            times["dask"].append(total)

        def pair() -> None:
            runs = (one_process, dask) if len(times["dask"]) % 2 == 0 else (dask, one_process)
            for run in runs:
                run()

        benchmark.pedantic(pair, rounds=ROUNDS, iterations=1)
        process_rss = _peak_rss_mb()
    assert texts["dask"] == texts["one_process"]  # the same texts, every page once
    assert len(texts["dask"]) == len(pages)
    assert all(texts["dask"].values())
    workers_rss = client.run(_peak_rss_mb)
    local_s, dask_s = statistics.median(times["one_process"]), statistics.median(times["dask"])
    FACTS["seconds_per_page_per_worker"] = 2 * dask_s / len(pages)
    benchmark.extra_info.update(
        {
            "pages": len(pages),
            "rounds": len(times["dask"]),
            "one_process_threads": 2,
            "one_process_s": round(local_s, 3),
            "dask_workers": 2,
            "dask_threads_per_worker": 1,
            "dask_s": round(dask_s, 3),
            "throughput_dask_vs_one_process": round(local_s / dask_s, 3),
            "throughput_target": 0.95,
            "first_result_s_one_process": _median(firsts["one_process"]),
            "first_result_s_dask": _median(firsts["dask"]),
            "peak_rss_mb_one_process": round(process_rss, 1),
            "peak_rss_mb_per_dask_worker": sorted(round(v, 1) for v in workers_rss.values()),
            "seconds_per_page_per_worker": round(2 * dask_s / len(pages), 3),
        }
    )


class _TrivialEngine:
    """No OCR: the scheduler's and the client's work per task is all that is left."""

    def recognize(self, image: Any, **options: Any) -> Page:
        return Page(width=1, height=1)


class _TrivialPlugin(ocrai_dask.OcrWorkerPlugin):
    def setup(self, worker: Any) -> None:
        self.reader = PageReader(engine=_TrivialEngine())


@pytest.fixture(scope="module")
def tiny_sources(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> list[str]:
    folder = tmp_path_factory.mktemp("tiny")
    paths = []
    for k in range(50):
        path = folder / f"t{k:02d}.png"
        Image.new("L", (8, 8), k).save(path)
        paths.append(str(path))
    n = N_TRIVIAL_UNTIMED if _untimed(request) else N_TRIVIAL
    return [paths[k % len(paths)] for k in range(n)]


@pytest.mark.benchmark(group="distributed-scheduler")
def test_scheduler_tasks_per_second(
    benchmark: Any, tiny_sources: list[str], facts: dict[str, Any]
) -> None:
    import cloudpickle
    import dask.config

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
            cluster = distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=4,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": ":0"},
            )
        try:
            with distributed.Client(cluster) as client:
                client.register_plugin(_TrivialPlugin(name="trivial"), name="trivial")

                def run() -> int:
                    records = ocrai_dask.read_pages(
                        client, tiny_sources, register=False, plugin_name="trivial", window=64
                    )
                    return sum(1 for r in records if r.ok)

                done = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
        finally:
            cluster.close()
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert done == len(tiny_sources)
    extra: dict[str, Any] = {"tasks": done, "workers": 2, "threads_per_worker": 4}
    if benchmark.stats is not None:
        rate = done / benchmark.stats.stats.median
        extra["tasks_per_s"] = round(rate)
        per_page = FACTS.get("seconds_per_page_per_worker")
        if per_page:
            extra["workers_one_scheduler_feeds"] = int(rate * per_page)
    benchmark.extra_info.update(extra)
