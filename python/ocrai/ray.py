"""ocrai on Ray Data (``pip install 'ocrai[ray]'``): a thin adapter over `ocrai.batch`.

`RayPageReader` is the callable class for ``Dataset.map_batches``: each actor of the pool
owns one `ocrai.batch.PageReader` (one engine, built on its first page with the actor's
``num_cpus`` as its thread budget), turns a batch of (source, page) rows into record rows,
and frees the engine when Ray shuts the pool down (``__del__``, which Ray 2.60 calls on a
graceful shutdown) or when `close` is called.

`dataset` builds the pipeline: page tasks made on the driver (each source's page count read
from its structure; sources are local paths or fsspec URLs the actors can open), then
``map_batches`` on an `ray.data.ActorPoolStrategy` with safe defaults. Ray's own defaults
restart a dead actor and retry its tasks forever, so a page that crashes its process would
never let the job end: here actor restarts and task retries are bounded, and each actor
gets one batch at a time, so a crash takes only its own batch down.

`read_pages` runs it and yields one `ocrai.batch.PageRecord` per page. The dataset is
allowed as many errored blocks as it has (``DataContext.max_errored_blocks``, restored
afterwards): a block lost with its actor is not a failed job. Pages with no row are read
once more (``retries``), then reported as failed records; bad pages are records with their
error from the start.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import ray
import ray.data

from .batch import PageReader, PageRecord, PageTask, ReaderConfig, expand_source

__all__ = ["RECORD_COLUMNS", "RayPageReader", "dataset", "read_pages", "record_from_row"]

#: The columns of the record rows (``timings`` is a JSON object in a string; absent
#: ``result``, ``error_type`` and ``error_message`` are empty strings, so that every block
#: has the same Arrow schema).
RECORD_COLUMNS = (
    "source",
    "page",
    "pages",
    "text",
    "result",
    "error_type",
    "error_message",
    "timings",
    "worker",
)


def _row(record: PageRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "page": record.page,
        "pages": record.pages,
        "text": record.text,
        "result": record.result or "",
        "error_type": record.error_type or "",
        "error_message": record.error_message or "",
        "timings": json.dumps(record.timings),
        "worker": record.worker,
    }


def record_from_row(row: dict[str, Any]) -> PageRecord:
    """The `PageRecord` of one output row of `dataset`."""
    return PageRecord(
        source=str(row["source"]),
        page=int(row["page"]),
        pages=int(row["pages"]),
        text=str(row["text"]),
        result=str(row["result"]) or None,
        error_type=str(row["error_type"]) or None,
        error_message=str(row["error_message"]) or None,
        timings={str(k): float(v) for k, v in json.loads(str(row["timings"])).items()},
        worker=str(row["worker"]),
    )


class RayPageReader:
    """The callable class of ``map_batches``: one engine per actor (see the module
    documentation). Batches have the columns ``source``, ``page`` and ``pages`` (0 when
    unknown); the result has `RECORD_COLUMNS`, one row per input row."""

    def __init__(self, config: ReaderConfig | None = None, threads: int | None = None) -> None:
        self._reader = PageReader(config, threads=threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        rows = []
        for source, page, pages in zip(batch["source"], batch["page"], batch["pages"], strict=True):
            task = PageTask(str(source), int(page), int(pages) or None)
            rows.append(_row(self._reader.read(task)))
        return {column: [row[column] for row in rows] for column in RECORD_COLUMNS}

    @property
    def reader(self) -> PageReader:
        return self._reader

    def close(self) -> None:
        """Frees the engine now (idempotent)."""
        self._reader.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown may have torn down modules
            self.close()


def _tasks(sources: Iterable[str], config: ReaderConfig) -> list[PageTask]:
    return [
        task
        for source in sources
        for task in expand_source(str(source), max_pixels=config.max_pixels, dpi=config.dpi)
    ]


def dataset(
    sources: Iterable[str] | Iterable[PageTask],
    *,
    config: ReaderConfig | None = None,
    workers: int = 2,
    cpus_per_worker: float = 1,
    batch_size: int = 1,
    max_task_retries: int = 2,
    max_restarts: int = 2,
    reader_class: type[RayPageReader] = RayPageReader,
) -> Any:
    """A `ray.data.Dataset` of record rows (`RECORD_COLUMNS`) for `sources` (or page
    tasks), read by an actor pool of `workers` actors of `cpus_per_worker` CPUs each
    (their engines' thread budget), `batch_size` pages per batch, with bounded task retries
    and actor restarts. ``reader_class`` may be a subclass of `RayPageReader`."""
    config = config or ReaderConfig()
    items = list(sources)
    tasks = [t for t in items if isinstance(t, PageTask)]
    if len(tasks) < len(items):
        tasks = _tasks([str(s) for s in items], config)
    rows = [{"source": t.source, "page": t.page, "pages": t.pages or 0} for t in tasks]
    threads = max(1, int(cpus_per_worker))
    pool = max(1, min(workers, len(rows)))
    # One block per page: a block lost with a crashed actor loses only that page.
    blocks = ray.data.from_items(rows, override_num_blocks=max(1, len(rows)))
    return blocks.map_batches(
        reader_class,
        fn_constructor_kwargs={"config": config, "threads": threads},
        batch_size=batch_size,
        # A fixed pool: with one batch in flight per actor, Ray's autoscaler would never
        # reach its utilisation threshold to grow a pool past its minimum.
        compute=ray.data.ActorPoolStrategy(size=pool, max_tasks_in_flight_per_actor=1),
        num_cpus=cpus_per_worker,
        max_task_retries=max_task_retries,
        max_restarts=max_restarts,
    )


def read_pages(
    sources: Iterable[str],
    *,
    config: ReaderConfig | None = None,
    retries: int = 1,
    **dataset_options: Any,
) -> Iterator[PageRecord]:
    """Reads `sources` on Ray Data; yields one record per page (see the module
    documentation). ``dataset_options`` go to `dataset`."""
    config = config or ReaderConfig()
    tasks = _tasks(sources, config)
    seen: set[tuple[str, int]] = set()
    expanded: set[str] = set()
    context = ray.data.DataContext.get_current()
    saved = context.max_errored_blocks
    try:
        for _ in range(retries + 1):
            todo = [t for t in tasks if t.key not in seen]
            if not todo:
                break
            context.max_errored_blocks = len(todo)  # at most one block per page
            for row in dataset(todo, config=config, **dataset_options).iter_rows():
                record = record_from_row(row)
                if record.key in seen:
                    continue
                seen.add(record.key)
                if record.page == 0 and record.pages > 1 and record.source not in expanded:
                    # A source counted only now (its first look failed on the driver).
                    expanded.add(record.source)
                    known = {t.key for t in tasks}
                    tasks += [
                        PageTask(record.source, k, record.pages)
                        for k in range(1, record.pages)
                        if (record.source, k) not in known
                    ]
                yield record
    finally:
        context.max_errored_blocks = saved
    for task in tasks:
        if task.key not in seen:
            yield PageRecord(
                source=task.source,
                page=task.page,
                pages=task.pages or 1,
                error_type="WorkerDied",
                error_message=(
                    f"no result: the Ray actor reading this page died each time it was "
                    f"tried ({retries + 1} runs, each with bounded actor restarts): a "
                    "native crash or running out of memory"
                ),
            )
