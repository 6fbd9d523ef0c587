"""`ocrai serve` under load, beside the library on the same images.

The server runs as a subprocess on 127.0.0.1 with a 2-thread engine (``--threads 2``,
``--concurrency 2``, a queue long enough that nothing is refused); the load generator is
an asyncio httpx client in this process: C clients, each posting its next request as soon
as its last one is answered (a closed loop). For a 1000x300 line and for a page, at 1, 4
and 16 clients: latency p50/p95/p99 and throughput. Then the library's own
``recognize_many`` (2 threads, in this process, while the server idles) on the same
images: the throughput at 16 clients must be at least 0.9x of it (checked when timing is
on). Last, the RSS of the server after 10,000 line requests must be within 10 MB of its
RSS after the first 100.

With ``--benchmark-disable`` (CI) every count is small, so the file runs in about a
minute; the measured run uses the counts below. The table is printed at the end.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFont

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from ocrai import OcrAI
from ocrai.testing import SAMPLE_TEXT, ServeProcess, font_path, render_page

pytestmark = pytest.mark.models

THREADS = 2
CLIENTS = (1, 4, 16)
# requests per (image, clients) in the measured run; with --benchmark-disable, 4 per client
REQUESTS = {"line": 200, "page": 32}
RSS_REQUESTS, RSS_FIRST = 10_000, 100
# With timing disabled (CI): a longer warm-up, as the first hundred requests of 16 clients
# leave the allocator's per-thread arenas still growing on a loaded machine (measured: the
# growth from request 100 to 300 ranged from -16 to +17 MB over four runs, from 300 to 600
# from +0.1 to +5.1 MB over three runs beside another process reading pages).
RSS_REQUESTS_CI, RSS_FIRST_CI = 600, 300
LINE_TEXT = "Invoice 2026-114 for the spring delivery, paid on May 3"
TARGET_VS_LIBRARY = 0.9
RSS_GROWTH_LIMIT = 10 * 1024 * 1024
# The 300 requests of CI can only show a gross leak (100 KB a request is 30 MB): with the
# engine's int8 and fp32 recognisers both loaded (precision "auto"), the growth from request
# 300 to 600 went -14.4, -7.5, +0.1 (alone on the machine), +18.1 and +20.0 MB (in .ci/run)
# over five runs, so CI allows 32 MB; the 9,900 requests of the timed run keep the 10 MB
# limit (passed with both recognisers loaded).
RSS_GROWTH_LIMIT_CI = 32 * 1024 * 1024

ROWS: dict[tuple[str, int], dict[str, float]] = {}
LIBRARY: dict[str, float] = {}
RSS: dict[str, float] = {}


def line_image() -> np.ndarray:
    """A 1000x300 image holding one line of text (as bench_pipeline's line)."""
    path, index = font_path("en")
    size = 80
    while ImageFont.truetype(str(path), size, index=index).getlength(LINE_TEXT) > 920:
        size -= 2
    line = render_page([LINE_TEXT], font_size=size, margin=40, width=1000).image
    image = np.full((300, 1000, 3), 250, np.uint8)
    top = (300 - line.shape[0]) // 2
    image[top : top + line.shape[0]] = line
    return image


def page_image() -> np.ndarray:
    lines = SAMPLE_TEXT["en"] + SAMPLE_TEXT["fr"] + SAMPLE_TEXT["pt"]
    return render_page(lines, font_size=32).image


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


IMAGES = {"line": line_image, "page": page_image}


@pytest.fixture(scope="module", autouse=True)
def _quiet_client() -> Iterator[None]:
    """httpx logs every request at INFO: thousands of lines here."""
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def bodies() -> dict[str, bytes]:
    return {name: png(make()) for name, make in IMAGES.items()}


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    process = ServeProcess(
        [
            *("--threads", str(THREADS), "--concurrency", "2", "--queue", "64"),
            *("--timeout", "600", "--no-access-log"),
        ]
    )
    try:
        yield process
    finally:
        assert process.stop() == 0


async def load(url: str, body: bytes, clients: int, total: int) -> tuple[list[float], float]:
    """`total` requests from `clients` closed-loop clients; (latencies, wall seconds). Every
    answer must be a 200 with text in it."""
    latencies: list[float] = []
    remaining = total
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(session: Any) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await session.post(
                f"{url}/v1/read?format=text",
                content=body,
                headers={"Content-Type": "image/png"},
            )
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            assert response.text.strip()

    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - started
    return latencies, wall


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@pytest.mark.parametrize("clients", CLIENTS)
@pytest.mark.parametrize("image", list(IMAGES))
def test_serve_load(
    benchmark: Any, server: ServeProcess, bodies: dict[str, bytes], image: str, clients: int
) -> None:
    if benchmark.disabled:
        total = clients if image == "page" else 2 * clients
    else:
        total = max(REQUESTS[image], 4 * clients)
        asyncio.run(load(server.url, bodies[image], clients, clients))  # warm connections

    def run() -> tuple[list[float], float]:
        return asyncio.run(load(server.url, bodies[image], clients, total))

    latencies, wall = benchmark.pedantic(run, rounds=1, iterations=1)
    assert len(latencies) == total
    row = {
        "requests": total,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "throughput_rps": total / wall,
    }
    ROWS[(image, clients)] = row
    benchmark.extra_info.update({k: round(v, 2) for k, v in row.items()})
    benchmark.extra_info["threads"] = THREADS


@pytest.mark.parametrize("image", list(IMAGES))
def test_library_recognize_many(benchmark: Any, bodies: dict[str, bytes], image: str) -> None:
    """The same PNG bodies through `recognize_many` in this process (decoding included,
    as the server does), 2 threads; the server idles meanwhile."""
    total = 4 if benchmark.disabled else REQUESTS[image]
    with OcrAI(threads=THREADS) as ai:
        ai.warmup()
        for _ in ai.recognize_many([bodies[image]] * 2):
            pass

        def run() -> float:
            started = time.perf_counter()
            texts = [p.text for p in ai.recognize_many([bodies[image]] * total)]
            assert all(texts)
            return time.perf_counter() - started

        wall = benchmark.pedantic(run, rounds=1, iterations=1)
    LIBRARY[image] = total / wall
    benchmark.extra_info["throughput_rps"] = round(LIBRARY[image], 2)
    served = ROWS.get((image, 16))
    if served is not None:
        ratio = served["throughput_rps"] / LIBRARY[image]
        benchmark.extra_info["serve16_vs_library"] = round(ratio, 3)
        if not benchmark.disabled:
            assert ratio >= TARGET_VS_LIBRARY, (
                f"{image}: the server at 16 clients reads {served['throughput_rps']:.2f}/s, "
                f"{ratio:.2f}x of recognize_many's {LIBRARY[image]:.2f}/s"
            )


def test_serve_rss_steady(benchmark: Any, server: ServeProcess, bodies: dict[str, bytes]) -> None:
    """RSS of the server after RSS_REQUESTS line requests (16 clients) against its RSS after
    the first RSS_FIRST (RSS_FIRST_CI with timing disabled)."""
    total, warm, limit = (
        (RSS_REQUESTS_CI, RSS_FIRST_CI, RSS_GROWTH_LIMIT_CI)
        if benchmark.disabled
        else (RSS_REQUESTS, RSS_FIRST, RSS_GROWTH_LIMIT)
    )

    def run() -> tuple[int, int]:
        asyncio.run(load(server.url, bodies["line"], 16, warm))
        first = server.rss_bytes()
        asyncio.run(load(server.url, bodies["line"], 16, total - warm))
        return first, server.rss_bytes()

    first, last = benchmark.pedantic(run, rounds=1, iterations=1)
    RSS.update(
        {"requests": total, "warm": warm, "first_mb": first / 2**20, "last_mb": last / 2**20}
    )
    benchmark.extra_info.update({k: round(v, 2) for k, v in RSS.items()})
    assert last - first <= limit, (
        f"RSS grew {(last - first) / 2**20:.1f} MB from request {warm} to {total}"
    )


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not ROWS:
        return
    with capture.global_and_fixture_disabled():
        write_table(reporter)


def write_table(reporter: Any) -> None:
    reporter.write_sep("-", f"ocrai serve on 127.0.0.1, {THREADS} threads")
    reporter.write_line(
        "| image | clients | requests | p50 ms | p95 ms | p99 ms | req/s | vs recognize_many |"
    )
    reporter.write_line("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (image, clients), row in sorted(ROWS.items()):
        library = LIBRARY.get(image)
        ratio = f"{row['throughput_rps'] / library:.2f}x" if library else "-"
        reporter.write_line(
            f"| {image} | {clients} | {row['requests']:.0f} | {row['p50_ms']:.1f} | "
            f"{row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {row['throughput_rps']:.2f} | "
            f"{ratio} |"
        )
    for image, rps in LIBRARY.items():
        reporter.write_line(f"recognize_many, {image}: {rps:.2f} images/s")
    if RSS:
        reporter.write_line(
            f"RSS after {RSS['warm']:.0f} requests {RSS['first_mb']:.1f} MB, after "
            f"{RSS['requests']:.0f} {RSS['last_mb']:.1f} MB "
            f"({RSS['last_mb'] - RSS['first_mb']:+.1f} MB)"
        )
