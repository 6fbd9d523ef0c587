"""The ASGI app: routes, admission control and limits, over one engine's async API.

One `OcrAI` per app (so per server process): its thread budget is shared by every request.
The native runs happen on a pool of ``Limits.concurrency`` threads; decoding and exporting
on a second small pool, so that the next request's image is decoded while the engine reads
the current one (as ``recognize_many`` does); nothing of it runs on the event loop. At most ``concurrency + queue``
reads are admitted at once; the next one is answered ``429`` with ``Retry-After`` at once,
before its body is read, so a burst never builds an unbounded backlog.

Every error is a JSON object ``{"error": kind, "message": ..., "status": code}``: bad
query parameters 400, an empty body 400, a wrong content type 415, a body or image over
the limits 413, data that is not a readable image 422, a read over the time limit 504.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocrai import export
from ocrai.engine import OcrAI
from ocrai.errors import (
    ImageError,
    ImageTooLargeError,
    OcrError,
    PageIndexError,
    ResourcesReleasedError,
)
from ocrai.io import PDF_DPI, LoadedImage, iter_pages, load_image
from ocrai.results import Page

from ._metrics import Metrics
from ._options import FORMATS, QueryError, ReadRequest, parse_query

__all__ = ["Limits", "create_app"]

_log = logging.getLogger("ocrai.serve")
_access_log = logging.getLogger("ocrai.serve.access")
_STATIC = Path(__file__).resolve().parent / "static"
_T = TypeVar("_T")

#: Body media types taken as an encoded image or PDF; any image/* is taken too.
_RAW_TYPES = frozenset({"application/octet-stream", "application/pdf", ""})
_TEXT_EXPORTERS = {"json": "json", "text": "txt", "hocr": "hocr", "alto": "alto", "tsv": "tsv"}


@dataclass(frozen=True)
class Limits:
    """What one server accepts. ``concurrency``: reads running at once (threads of the
    read pool); ``queue``: reads admitted beyond those, waiting; ``timeout_s``: the most a
    read may take, from admission to its answer; ``max_body_bytes``: the request body;
    ``max_pixels``: pixels of one decoded page (checked from the header, before decoding);
    ``max_pages``: pages of one document read in one request; ``max_header_bytes``: the
    request's header lines together (431 with a JSON reason over it; the HTTP layer itself
    refuses, with its own plain 400, headers over four times that)."""

    concurrency: int = 2
    queue: int = 16
    timeout_s: float = 60.0
    max_body_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_pages: int = 32
    max_header_bytes: int = 16 * 1024
    dpi: float = PDF_DPI

    def __post_init__(self) -> None:
        for name in (
            "concurrency",
            "max_body_bytes",
            "max_pixels",
            "max_pages",
            "max_header_bytes",
        ):
            if getattr(self, name) < 1:
                msg = f"{name} must be at least 1, not {getattr(self, name)}"
                raise ValueError(msg)
        if self.queue < 0:
            msg = f"queue must be 0 or more, not {self.queue}"
            raise ValueError(msg)
        if not self.timeout_s > 0 or not self.dpi > 0:
            msg = "timeout_s and dpi must be more than 0"
            raise ValueError(msg)


class HTTPError(Exception):
    """An answer other than 200, with its kind (the ``errors`` metric's label)."""

    def __init__(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": self.kind, "message": self.message, "status": self.status}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _engine_error(exc: BaseException) -> HTTPError:
    """The HTTP answer to an exception of decoding or reading, with the engine's message."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ImageTooLargeError):
        return HTTPError(413, "image_too_large", message)
    if isinstance(exc, PageIndexError):
        return HTTPError(400, "bad_page", message)
    if isinstance(exc, ImageError):
        return HTTPError(422, "bad_image", message)
    if isinstance(exc, ResourcesReleasedError):
        return HTTPError(503, "shutting_down", message)
    if isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, OcrError):
        return HTTPError(400, "bad_option", message)  # the native pipeline's option checks
    return HTTPError(500, "engine", f"{type(exc).__name__}: {message}")


class _PageReader:
    """The pages of one body, decoded one at a time on pool threads; `close` may come
    from any thread, while a decode runs (the lock makes it wait)."""

    def __init__(self, body: bytes, page: int | None, limits: Limits, dpi: float) -> None:
        self._lock = threading.Lock()
        self._pages: Iterator[LoadedImage]
        if page is None:
            self._pages = iter_pages(body, max_pixels=limits.max_pixels, dpi=dpi)
        else:
            self._pages = iter([load_image(body, page=page, max_pixels=limits.max_pixels, dpi=dpi)])

    def next(self) -> LoadedImage | None:
        with self._lock:
            return next(self._pages, None)

    def close(self) -> None:
        with self._lock:
            close = getattr(self._pages, "close", None)
            if callable(close):
                close()


class _BodyTooLarge(Exception):
    pass


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive` that raises _BodyTooLarge once the body passes `limit` bytes (whatever
    Content-Length said, chunked bodies included)."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge
        return message

    return limited


class Service:
    """The state of one app: its engine, read pool, admission count and metrics."""

    def __init__(self, make_engine: Callable[[], OcrAI], limits: Limits, metrics: Metrics) -> None:
        self.make_engine = make_engine
        self.limits = limits
        self.metrics = metrics
        self.engine: OcrAI | None = None
        self.pool: ThreadPoolExecutor | None = None  # the native runs
        self.io_pool: ThreadPoolExecutor | None = None  # decoding and exporting
        self.ready = False
        self.admitted = 0
        self.service_time = 1.0  # seconds per read, smoothed: the Retry-After estimate

    # -- lifetime --

    async def start(self) -> None:
        self.pool = ThreadPoolExecutor(self.limits.concurrency, thread_name_prefix="ocrai-read")
        self.io_pool = ThreadPoolExecutor(
            self.limits.concurrency + 1, thread_name_prefix="ocrai-decode"
        )
        loop = asyncio.get_running_loop()
        self.engine = await loop.run_in_executor(self.pool, self.make_engine)
        self.metrics.engine_threads.set(self.engine.threads)
        await loop.run_in_executor(self.pool, self.engine.warmup)
        self.metrics.engine_loaded.set(1)
        self.ready = True
        _log.info(
            "ready: pack %s, %d threads, %d reads at once, queue %d",
            self.engine.pack,
            self.engine.threads,
            self.limits.concurrency,
            self.limits.queue,
        )

    async def stop(self) -> None:
        """After the server has stopped accepting and finished the requests in flight:
        waits for reads still running on the pool (a timed-out one), frees the engine."""
        self.ready = False
        loop = asyncio.get_running_loop()
        for pool in (self.pool, self.io_pool):
            if pool is not None:
                await loop.run_in_executor(None, pool.shutdown, True)
        if self.engine is not None:
            await loop.run_in_executor(None, self.engine.free_resources)
        self.metrics.engine_loaded.set(0)
        _log.info("stopped: engine resources freed")

    # -- admission --

    def admit(self) -> None:
        if self.admitted >= self.limits.concurrency + self.limits.queue:
            waiting = self.admitted - self.limits.concurrency + 1
            retry = math.ceil(waiting * self.service_time / self.limits.concurrency)
            raise HTTPError(
                429,
                "overloaded",
                f"the server is reading {self.admitted} requests, its most; retry later",
                {"Retry-After": str(max(1, retry))},
            )
        self.admitted += 1
        self._gauges()

    def leave(self, seconds: float | None) -> None:
        self.admitted -= 1
        self._gauges()
        if seconds is not None:
            self.service_time = 0.8 * self.service_time + 0.2 * seconds

    def _gauges(self) -> None:
        self.metrics.in_flight.set(self.admitted)
        self.metrics.queue_depth.set(max(0, self.admitted - self.limits.concurrency))

    # -- reading --

    async def run(self, func: Callable[..., _T], *args: Any) -> _T:
        """`func(*args)` on the decoding pool."""
        return await asyncio.get_running_loop().run_in_executor(self.io_pool, func, *args)

    async def read(self, body: bytes, name: str | None, query: ReadRequest) -> bytes:
        """Decodes, reads and exports one document; the response body."""
        engine = self.engine
        if engine is None:
            raise HTTPError(503, "not_ready", "the engine is not loaded yet")
        dpi = query.dpi if query.dpi is not None else self.limits.dpi
        keep_images = query.format == "overlay"
        options: dict[str, Any] = dict(query.options)
        pages: list[Page] = []
        images: list[LoadedImage] = []
        reader = await self.run(_PageReader, body, query.page, self.limits, dpi)
        try:
            while (loaded := await self.run(reader.next)) is not None:
                if len(pages) == self.limits.max_pages:
                    msg = (
                        f"the document has more than {self.limits.max_pages} pages, the most "
                        "one request reads: ask for one page with ?page=N"
                    )
                    raise HTTPError(413, "too_many_pages", msg)
                page = await engine.recognize_async(loaded, executor=self.pool, **options)
                pages.append(page if name is None else page.with_source(name, loaded.page))
                self.metrics.pages.inc()
                if keep_images:
                    images.append(loaded)
        finally:
            if self.io_pool is not None:
                self.io_pool.submit(reader.close)  # after a decode still running, if any
        return await self.run(_export, query.format, pages, images, body)


def _export(fmt: str, pages: list[Page], images: list[LoadedImage], body: bytes) -> bytes:
    if fmt == "overlay":
        return export.to_overlay_png(pages, images)
    if fmt == "pdf":
        return export.to_pdf(pages, body)
    exporter, _ = export.FORMATS[_TEXT_EXPORTERS[fmt]]
    return exporter(pages).encode("utf-8")


def _pdf_writer_installed() -> bool:
    """Whether ``ocrai.export.to_pdf`` can run here: it needs the ``ocrai[pdf]`` extra."""
    return all(importlib.util.find_spec(name) is not None for name in ("pikepdf", "fontTools"))


async def _read_body(request: Request, limit: int) -> tuple[bytes, str | None]:
    """The document and its file name: the whole body, or the first file part of a
    multipart form."""
    limited = Request(request.scope, _limited(request.receive, limit))
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        return await limited.body(), None
    async with limited.form(max_files=1, max_fields=16, max_part_size=64 * 1024) as form:
        for _, value in form.multi_items():
            if not isinstance(value, str):
                return await value.read(), value.filename or None
    raise HTTPError(400, "no_file", "the multipart form holds no file part")


def _check_headers(request: Request, limits: Limits) -> None:
    header_bytes = sum(len(name) + len(value) + 4 for name, value in request.scope["headers"])
    if header_bytes > limits.max_header_bytes:
        msg = (
            f"the request's headers ({header_bytes} bytes) are over the limit of "
            f"{limits.max_header_bytes} bytes"
        )
        raise HTTPError(431, "headers_too_large", msg)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (media in _RAW_TYPES or media.startswith("image/") or media == "multipart/form-data"):
        msg = (
            f"content type {media!r} is not an image: send the image or PDF as the body with "
            "its type (image/png, application/pdf, application/octet-stream) or as a file "
            "in a multipart/form-data form"
        )
        raise HTTPError(415, "unsupported_media_type", msg)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPError(
                400, "bad_content_length", f"Content-Length {declared!r} is not a number"
            )
        if int(declared) > limits.max_body_bytes:
            msg = f"the body ({declared} bytes) is over the limit of {limits.max_body_bytes} bytes"
            raise HTTPError(413, "body_too_large", msg)


def create_app(make_engine: Callable[[], OcrAI], limits: Limits | None = None) -> Starlette:
    """The app. `make_engine` is called once, at startup, on a pool thread."""
    limits = limits or Limits()
    metrics = Metrics()
    service = Service(make_engine, limits, metrics)

    async def read(request: Request) -> Response:
        started = time.perf_counter()
        request.state.route = "/v1/read"
        try:
            try:
                query = parse_query(request.query_params.multi_items())
            except QueryError as exc:
                raise HTTPError(400, "bad_query", str(exc)) from exc
            _check_headers(request, limits)
            if query.format == "pdf" and not _pdf_writer_installed():
                msg = "format=pdf needs the PDF writer: pip install 'ocrai[pdf]' on the server"
                raise HTTPError(501, "not_implemented", msg)
            service.admit()
        except HTTPError as exc:
            metrics.errors.labels(exc.kind).inc()
            request.state.error = exc.kind
            return exc.response()
        finished: float | None = None
        try:
            body, name = await asyncio.wait_for(
                _read_body(request, limits.max_body_bytes), limits.timeout_s
            )
            if not body:
                raise HTTPError(400, "empty_body", "the request has no image: the body is empty")
            left = limits.timeout_s - (time.perf_counter() - started)
            content = await asyncio.wait_for(service.read(body, name, query), max(left, 0.001))
            finished = time.perf_counter() - started
            return Response(content, media_type=FORMATS[query.format])
        except HTTPError as exc:
            error = exc
        except _BodyTooLarge:
            msg = f"the body is over the limit of {limits.max_body_bytes} bytes"
            error = HTTPError(413, "body_too_large", msg)
        except asyncio.TimeoutError:
            msg = f"the read took more than the limit of {limits.timeout_s:g} s"
            error = HTTPError(504, "timeout", msg)
        except Exception as exc:  # noqa: BLE001 - every failure gets a JSON answer
            error = _engine_error(exc)
            if error.status >= 500:
                _log.exception("read failed")
        finally:
            service.leave(finished)
        metrics.errors.labels(error.kind).inc()
        request.state.error = error.kind
        return error.response()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_: Request) -> Response:
        if service.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "loading"}, status_code=503)

    async def metrics_route(_: Request) -> Response:
        media = "text/plain; version=0.0.4; charset=utf-8"
        return Response(metrics.exposition(), media_type=media)

    async def index(_: Request) -> Response:
        return FileResponse(_STATIC / "index.html", media_type="text/html; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/v1/read", read, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_route, methods=["GET"]),
            Mount("/static", StaticFiles(directory=_STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(_AccessLog, metrics=metrics)
    return app


class _AccessLog:
    """One JSON line per request on the ``ocrai.serve.access`` logger, and the request
    counters and latency histogram."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - started
            state = scope.get("state", {})
            path = scope.get("path", "")
            route = state.get("route") or (path if path in _ROUTES else "other")
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            client = scope.get("client") or ("", 0)
            record = {
                "ts": round(time.time(), 3),
                "client": f"{client[0]}:{client[1]}",
                "method": scope.get("method"),
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "status": status,
                "bytes": sent,
                "ms": round(seconds * 1000, 1),
            }
            if "error" in state:
                record["error"] = state["error"]
            _access_log.info("%s", json.dumps(record, separators=(",", ":")))


_ROUTES = frozenset({"/", "/v1/read", "/healthz", "/readyz", "/metrics"})
