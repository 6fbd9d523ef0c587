"""The engine's asyncio API: same pages as the blocking calls, the loop kept free,
cancellation that drops a result and leaves the engine usable, free_resources waiting for
the calls still running on threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from ocrai import OcrAI, ResourcesReleasedError
from ocrai.testing import SAMPLE_TEXT, render_line, render_page

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrAI]:
    with OcrAI(threads=2) as ai:
        ai.warmup()
        yield ai


@pytest.fixture(scope="module")
def page_image() -> np.ndarray:
    return render_page(SAMPLE_TEXT["en"] * 3).image


class RecordingPool(ThreadPoolExecutor):
    """A pool that keeps the futures of what it was given, to see what ran."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future


def test_recognize_async_equals_recognize(engine: OcrAI, page_image: np.ndarray) -> None:
    page = asyncio.run(engine.recognize_async(page_image))
    assert page.lines == engine.recognize(page_image).lines
    line = render_line("Asynchronous line 7")
    got = asyncio.run(engine.recognize_async(line, detect=False, top_k=1))
    assert got.text == engine.recognize(line, detect=False, top_k=1).text == "Asynchronous line 7"


def test_the_event_loop_keeps_running(engine: OcrAI, page_image: np.ndarray) -> None:
    async def run() -> int:
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        beat = asyncio.ensure_future(heartbeat())
        await engine.recognize_async(page_image)
        beat.cancel()
        return ticks

    ticks = asyncio.run(run())
    assert ticks >= 3, "the loop was blocked while the page was read"


def test_recognize_many_async_in_order(engine: OcrAI) -> None:
    texts = [f"Line number {k} in order" for k in range(6)]
    images = [render_line(t) for t in texts]

    async def source() -> AsyncIterator[np.ndarray]:
        for image in images:
            await asyncio.sleep(0)
            yield image

    async def collect(concurrency: int, from_async: bool) -> list[str]:
        found = engine.recognize_many_async(
            source() if from_async else images, detect=False, concurrency=concurrency
        )
        return [page.text async for page in found]

    assert asyncio.run(collect(1, False)) == texts
    assert asyncio.run(collect(3, True)) == texts
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(collect(0, False))


def test_an_error_comes_at_its_turn(engine: OcrAI) -> None:
    async def run() -> list[str]:
        out = []
        images = [render_line("First good line"), b"not an image", render_line("never read")]
        async for page in engine.recognize_many_async(images, detect=False, concurrency=1):
            out.append(page.text)
        return out

    with pytest.raises(ValueError, match="not an image"):
        asyncio.run(run())


def test_cancelled_before_start_never_runs(engine: OcrAI, page_image: np.ndarray) -> None:
    pool = RecordingPool(1)

    async def run() -> None:
        first = asyncio.ensure_future(engine.recognize_async(page_image, executor=pool))
        second = asyncio.ensure_future(engine.recognize_async(page_image, executor=pool))
        await asyncio.sleep(0.05)  # the first runs, the second waits for the one worker
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        assert (await first).lines

    asyncio.run(run())
    pool.shutdown(wait=True)
    assert pool.futures[0].done()
    assert not pool.futures[0].cancelled()
    assert pool.futures[1].cancelled(), "a cancelled call that had not started must not run"


def test_cancelled_while_running_drops_the_result(engine: OcrAI, page_image: np.ndarray) -> None:
    pool = RecordingPool(1)

    async def run() -> None:
        task = asyncio.ensure_future(engine.recognize_async(page_image, executor=pool))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # at once: the native call goes on on its thread
        assert not pool.futures[0].done()
        # the engine stays usable, and the next call is right
        line = render_line("Still usable after cancel")
        page = await engine.recognize_async(line, detect=False, executor=pool)
        assert page.text == "Still usable after cancel"

    asyncio.run(run())
    pool.shutdown(wait=True)
    assert pool.futures[0].result().lines  # it finished; nobody took its page


def test_timeout_cancels(engine: OcrAI, page_image: np.ndarray) -> None:
    async def run() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(engine.recognize_async(page_image), 0.01)
        assert (await engine.recognize_async(page_image)).lines

    asyncio.run(run())


def test_closing_the_iterator_cancels_the_rest(engine: OcrAI) -> None:
    pool = RecordingPool(1)
    images = [render_page(SAMPLE_TEXT["fr"]).image for _ in range(4)]

    async def run() -> str:
        pages = engine.recognize_many_async(images, concurrency=3, executor=pool)
        first = await pages.__anext__()
        await pages.aclose()
        return first.text

    assert "Facture" in asyncio.run(run())
    pool.shutdown(wait=True)
    assert any(f.cancelled() for f in pool.futures), "the calls not started are cancelled"


def test_free_resources_waits_for_a_cancelled_call(page_image: np.ndarray) -> None:
    ai = OcrAI(threads=2)
    ai.warmup()
    pool = RecordingPool(1)

    async def run() -> None:
        task = asyncio.ensure_future(ai.recognize_async(page_image, executor=pool))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        running = pool.futures[0]
        assert not running.done()
        ai.free_resources()  # waits for the native call still running
        assert running.done()
        assert running.result().lines
        with pytest.raises(ResourcesReleasedError):
            await ai.recognize_async(page_image)

    asyncio.run(run())
    pool.shutdown(wait=True)
