"""The framework-free batch core: sources -> page tasks -> one engine per worker -> records.

Every way ocrai reads many documents (``ocrai read`` in one process, on a local Dask cluster,
on an existing Dask scheduler, on Ray Data) is built from three pieces defined here, so that
the distributed adapters (`ocrai.dask`, `ocrai.ray`) stay thin and never import each other:

`PageTask`
    One page to read: the source (a local path or an fsspec URL such as ``s3://...``) and the
    page index. A task carries no pixels: the worker reads the source's bytes itself, so a
    scheduler only ever ships a few dozen bytes per page.

`PageReader`
    The worker-side callable. It owns one `ocrai.OcrAI` per worker process, built lazily on
    the first page with that worker's thread budget, and turns a task into a `PageRecord`.
    A bad page (unreadable data, a missing file, a model error) becomes a record with the
    exception's type and message: it never raises, so one page cannot fail a batch, and
    no framework retries a page whose data is bad. `close` frees the engine.

`PageRecord`
    One page's outcome: source, page, the source's page count, the text, the whole result
    as a JSON document (schema ``ocrai.result/1``, `ocrai.export.to_json`), timings, and the
    error. Records are keyed by (source, page): the engines run a task at least once (a
    page in flight on a lost worker runs again elsewhere), so whoever collects records must
    let a second record of the same key replace the first; the CLI's writer does.

Multi-page sources: the record of page 0 reports the source's page count (read from the file
structure, no page decoded), and the pages after it become tasks of their own, so one big
PDF spreads over every worker. `expand_source` does the same split up front for engines that
want every task before they start (Ray Data).

Test-only hook: when the environment variable ``OCRAI_TESTING_ABORT`` is set to a non-empty
marker, a page whose source file name contains that marker aborts its process (``abort()``,
a native crash) before it is read. It exists so that the tests can show what the adapters do
with a page that kills its worker; it is off unless that variable is set.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .io import PDF_DPI

if TYPE_CHECKING:
    from .results import Page

__all__ = [
    "ABORT_ENV",
    "PageReader",
    "PageRecord",
    "PageTask",
    "ReaderConfig",
    "error_reason",
    "expand_source",
    "is_url",
    "open_source",
]

#: The test-only hook's environment variable (see the module documentation).
ABORT_ENV = "OCRAI_TESTING_ABORT"


def is_url(source: str) -> bool:
    """Whether `source` names an fsspec URL (``scheme://...``) rather than a local path."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.replace("+", "").replace("-", "").isalnum() and len(scheme) > 1


def open_source(source: str) -> Any:
    """What `ocrai.io` reads for `source`: a local path as it is (PDFs are then rendered from
    the file), or the bytes behind a URL, fetched with fsspec, in a file object named after
    the URL (so errors name it). Raises ImportError naming the extra when fsspec is missing."""
    if not is_url(source):
        return source
    try:
        import fsspec
    except ImportError as exc:
        msg = (
            f"{source}: reading URLs needs fsspec (pip install 'ocrai[dask]' or "
            "pip install fsspec, plus the filesystem's package, e.g. s3fs)"
        )
        raise ImportError(msg) from exc
    with fsspec.open(source, "rb") as file:
        data = file.read()
    buffer = io.BytesIO(data)
    buffer.name = source
    return buffer


@dataclass(frozen=True)
class PageTask:
    """One page to read. ``pages`` is the source's page count when already known (None for
    a first look at a source: its reader then counts them)."""

    source: str
    page: int = 0
    pages: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.source, self.page)


@dataclass(frozen=True)
class PageRecord:
    """One page's outcome (see the module documentation). ``result`` is a JSON document of
    schema ``ocrai.result/1`` holding this one page, or None when the page failed; then
    ``error_type`` is the exception's class name and ``error_message`` says why. ``pages`` is
    the source's page count (1 when the source could not be opened). ``timings`` are seconds:
    ``read`` (fetching and decoding), ``recognize`` and ``total``. ``worker`` is
    ``host:pid`` of the process that read it."""

    source: str
    page: int
    pages: int
    text: str = ""
    result: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    worker: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.source, self.page)

    @property
    def ok(self) -> bool:
        return self.error_type is None

    @property
    def error(self) -> str | None:
        """``Type: message`` for a failed page, else None."""
        if self.error_type is None:
            return None
        return f"{self.error_type}: {self.error_message}"

    def to_page(self) -> Page:
        """The page's result as an `ocrai.results.Page` (ValueError for a failed page)."""
        from .export import from_json

        if self.result is None:
            msg = f"{self.source} page {self.page} failed: {self.error}"
            raise ValueError(msg)
        return from_json(self.result)[0]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for dataframes, Ray Data rows, JSON lines)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PageRecord:
        timings = d.get("timings") or {}
        return cls(
            source=str(d["source"]),
            page=int(d["page"]),
            pages=int(d["pages"]),
            text=str(d.get("text") or ""),
            result=None if d.get("result") is None else str(d["result"]),
            error_type=None if d.get("error_type") is None else str(d["error_type"]),
            error_message=None if d.get("error_message") is None else str(d["error_message"]),
            timings={str(k): float(v) for k, v in dict(timings).items()},
            worker=str(d.get("worker") or ""),
        )

    @classmethod
    def failure(cls, task: PageTask, exc: BaseException, *, worker: str = "") -> PageRecord:
        """The record of a task that could not be read, from the exception that said why."""
        return cls(
            source=task.source,
            page=task.page,
            pages=task.pages or 1,
            error_type=type(exc).__name__,
            error_message=error_reason(task.source, exc),
            worker=worker,
        )


def error_reason(source: str, exc: BaseException) -> str:
    """Why reading `source` failed, on one line, without repeating the source's name: an
    OS error's own words (a missing file is "No such file or directory"), the message of
    ocrai's errors and of ValueError/TypeError, else ``Type: message``."""
    from .errors import OcrError

    if isinstance(exc, OSError) and not isinstance(exc, OcrError) and exc.strerror:
        reason = exc.strerror
        # A failed rename names the temporary file first: the target says more.
        shown = exc.filename2 if exc.filename2 is not None else exc.filename
        if shown is not None and os.fspath(shown) != source:
            reason += f": {os.fspath(shown)}"
    else:
        reason = str(exc).strip() or type(exc).__name__
        if not isinstance(exc, (OcrError, ValueError, TypeError)):
            reason = f"{type(exc).__name__}: {reason}"
    reason = " ".join(reason.split())
    return reason.removeprefix(f"{source}: ")


@dataclass(frozen=True)
class ReaderConfig:
    """How a worker's engine is built and how pages are read; picklable, so it travels to
    workers. ``threads`` None = the worker's own thread budget (Dask: its ``nthreads``;
    Ray: its ``num_cpus``); ``options`` go to every ``recognize`` call."""

    pack: str = "ppocrv6-small"
    fast: bool = False
    threads: int | None = None
    model_dir: str | None = None
    detect: bool = True
    max_pixels: int | None = None
    dpi: float = PDF_DPI
    options: tuple[tuple[str, Any], ...] = ()

    def engine(self, threads: int | None) -> Any:
        """A new `ocrai.OcrAI` for this configuration with `threads` (when ours is None)."""
        from .engine import OcrAI

        return OcrAI(
            self.model_dir,
            threads=self.threads if self.threads is not None else threads,
            pack=self.pack,
            fast=self.fast,
        )


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _testing_abort_hook(source: str) -> None:
    marker = os.environ.get(ABORT_ENV, "")
    if marker and marker in source.rstrip("/").rsplit("/", 1)[-1]:
        os.abort()  # test-only: a native crash of this worker process


class PageReader:
    """Reads page tasks with one engine (see the module documentation).

    Either ``engine``, an existing object with ``OcrAI.recognize`` that the caller owns and
    frees, or ``config`` (default `ReaderConfig()`), from which the reader builds its own
    engine on the first page, with ``threads`` as its budget unless the config sets one,
    and frees it in `close`. Safe to call from several threads at once (the engine is built
    once, under a lock). ``on_close`` is called with the reader after its engine is freed.
    """

    def __init__(
        self,
        config: ReaderConfig | None = None,
        *,
        engine: Any = None,
        threads: int | None = None,
        on_close: Callable[[PageReader], None] | None = None,
    ) -> None:
        self.config = config or ReaderConfig()
        self.threads = threads
        self._engine = engine
        self._owned = engine is None
        self._lock = threading.Lock()
        self._closed = False
        self._on_close = on_close
        self.pages_read = 0
        self.engines_built = 0

    @property
    def engine(self) -> Any:
        """The engine, built now if it is not yet (RuntimeError after `close`)."""
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._closed:
                    msg = "this PageReader is closed"
                    raise RuntimeError(msg)
                if self._engine is None:
                    self._engine = self.config.engine(self.threads)
                    self.engines_built += 1
                engine = self._engine
        return engine

    @property
    def loaded(self) -> bool:
        """Whether the reader holds an engine now."""
        return self._engine is not None

    def __call__(self, task: PageTask) -> PageRecord:
        return self.read(task)

    def read(self, task: PageTask) -> PageRecord:
        """The record of one page; never raises for a bad page or source."""
        from .export import to_json
        from .io import load_image, page_count

        worker = _worker_name()
        start = time.perf_counter()
        config = self.config
        try:
            _testing_abort_hook(task.source)
            data = open_source(task.source)
            pages = task.pages
            if pages is None:
                pages = page_count(data, max_pixels=config.max_pixels, dpi=config.dpi)
                if isinstance(data, io.BytesIO):
                    data.seek(0)
            task = PageTask(task.source, task.page, pages)
            loaded = load_image(data, page=task.page, max_pixels=config.max_pixels, dpi=config.dpi)
            read_done = time.perf_counter()
            page = self.engine.recognize(loaded, detect=config.detect, **dict(config.options))
            page = page.with_source(task.source, task.page)
            result = to_json(page)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - a bad page is a record, never a failed batch
            return PageRecord.failure(task, exc, worker=worker)
        end = time.perf_counter()
        self.pages_read += 1
        return PageRecord(
            source=task.source,
            page=task.page,
            pages=pages,
            text=page.text,
            result=result,
            timings={
                "read": read_done - start,
                "recognize": end - read_done,
                "total": end - start,
            },
            worker=worker,
        )

    def close(self) -> None:
        """Frees the engine the reader built (idempotent; an engine given to it is left to
        its owner). Later reads raise RuntimeError, reported as failed records."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            engine, self._engine = self._engine, None
        if engine is not None and self._owned:
            engine.free_resources()
        if self._on_close is not None:
            self._on_close(self)


def expand_source(
    source: str, *, max_pixels: int | None = None, dpi: float = PDF_DPI
) -> list[PageTask]:
    """Every page task of `source`, its page count read from the file structure. A source
    that cannot be opened gives one task (page 0), whose reading reports why."""
    from .io import page_count

    try:
        data = open_source(source)
        pages = page_count(data, max_pixels=max_pixels, dpi=dpi)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - reported by the page task itself
        return [PageTask(source, 0, None)]
    return [PageTask(source, k, pages) for k in range(pages)]
