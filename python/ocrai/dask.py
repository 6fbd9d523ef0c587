"""ocrai on Dask (``pip install 'ocrai[dask]'``): one engine per worker, pages as tasks.

The pieces, all thin over `ocrai.batch`:

`OcrWorkerPlugin`
    A `distributed.WorkerPlugin` that gives each worker one `ocrai.batch.PageReader`. The
    engine inside is built lazily, in the thread of the first task that needs it, with the
    worker's ``nthreads`` as its thread budget (start workers with ``--nthreads 1`` per
    core you give OCR, or one worker with ``--nthreads N``: one engine either way), and
    freed in `teardown`, which Dask runs when the worker closes, when it gets SIGTERM and
    when the plugin is unregistered (`release_engines`). A freed engine is logged on the
    worker and reported as a scheduler event (topic ``ocrai``) while the worker can still
    send one.

`read_pages`
    Reads sources on a `distributed.Client` and yields one `ocrai.batch.PageRecord` per
    page as pages complete. At most ``window`` tasks are in flight (twice the cluster's
    threads by default), so a million sources never become a million futures; a task is a
    (source, page) pair, never pixels. A multi-page source's first page reports its page
    count and its other pages then become tasks of their own. A page whose worker died
    while reading it more often than the scheduler allows
    (``distributed.scheduler.allowed-failures``) fails with ``KilledWorker``; it is
    submitted again at most ``retries`` times (a page that was only queued on a dying
    worker then completes), then reported as a failed record, and the job goes on.

`read_bag`
    The same reading as a `dask.bag.Bag` of records, for users who compose it with other
    Dask work.

`connect`
    The client of ``ocrai read --scheduler ADDRESS`` (an existing scheduler) or
    ``--workers N`` (a local cluster of N single-thread worker processes).

Dask runs a task at least once: a page in flight on a lost worker runs again elsewhere. The
tasks have no side effects and the records are keyed by (source, page), so a consumer keeps
the last record of each key (as ``ocrai read`` does) and nothing is duplicated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, cast

import dask.config
import distributed
from distributed import Client, WorkerPlugin, as_completed

from .batch import PageReader, PageRecord, PageTask, ReaderConfig, expand_source

__all__ = [
    "EVENT_TOPIC",
    "PLUGIN_NAME",
    "OcrWorkerPlugin",
    "connect",
    "read_bag",
    "read_pages",
    "register_engines",
    "release_engines",
]

#: The name the plugin is registered under unless told otherwise.
PLUGIN_NAME = "ocrai"
#: The scheduler event topic of the plugin's reports (`Client.get_events`).
EVENT_TOPIC = "ocrai"

# A child of the "distributed" logger: dask's worker command configures that one, so these
# lines reach the worker's log without ocrai configuring logging in someone else's process.
_log = logging.getLogger("distributed.ocrai")


class OcrWorkerPlugin(WorkerPlugin):
    """One lazily built ocrai engine per Dask worker (see the module documentation)."""

    def __init__(self, config: ReaderConfig | None = None, name: str = PLUGIN_NAME) -> None:
        self.config = config or ReaderConfig()
        self.name = name
        self.reader: PageReader | None = None
        self._worker: Any = None

    def setup(self, worker: Any) -> None:
        self._worker = worker
        self.reader = PageReader(self.config, threads=worker.state.nthreads)

    def teardown(self, worker: Any) -> None:
        reader, self.reader = self.reader, None
        if reader is None:
            return
        loaded = reader.loaded
        reader.close()
        report = {
            "action": "engine-freed",
            "worker": worker.address,
            "pid": os.getpid(),
            "pages": reader.pages_read,
            "loaded": loaded,
        }
        _log.info(
            "ocrai: engine freed on %s (pid %d) after %d pages",
            worker.address,
            os.getpid(),
            reader.pages_read,
        )
        with contextlib.suppress(Exception):  # a closing worker may have lost its scheduler
            worker.log_event(EVENT_TOPIC, report)

    def read(self, task: PageTask) -> PageRecord:
        if self.reader is None:
            msg = f"the ocrai plugin {self.name!r} was torn down on this worker"
            raise RuntimeError(msg)
        return self.reader.read(task)


_process_reader: dict[ReaderConfig, PageReader] = {}


def _read_task(task: PageTask, plugin_name: str, config: ReaderConfig) -> PageRecord:
    """Runs on a worker: the page's record, read with the worker's engine."""
    try:
        worker = distributed.get_worker()
    except ValueError:  # not on a distributed worker (a bag on the local scheduler)
        reader = _process_reader.get(config)
        if reader is None:
            reader = _process_reader.setdefault(config, PageReader(config))
        return reader.read(task)
    plugin = worker.plugins.get(plugin_name)
    if plugin is None:
        msg = (
            f"no ocrai plugin {plugin_name!r} on worker {worker.address}: call "
            "ocrai.dask.register_engines(client, ...) first"
        )
        raise LookupError(msg)
    return cast("OcrWorkerPlugin", plugin).read(task)


def register_engines(
    client: Client, config: ReaderConfig | None = None, *, name: str = PLUGIN_NAME
) -> str:
    """Registers `OcrWorkerPlugin` on every worker of `client`'s cluster, present and
    future (a restarted worker gets it again). No engine is built until a page needs it.
    A plugin already registered under `name` is replaced (its engines freed)."""
    client.register_plugin(OcrWorkerPlugin(config, name), name=name)
    return name


def release_engines(client: Client, *, name: str = PLUGIN_NAME) -> None:
    """Unregisters the plugin: every worker frees its engine now, the cluster stays up."""
    client.unregister_worker_plugin(name)


def _cluster_threads(client: Client) -> int:
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def _killed_message(exc: BaseException, submissions: int) -> str:
    """KilledWorker, said for a page: how often its worker died, and the last one."""
    allowed = getattr(exc, "allowed_failures", None)
    last = getattr(getattr(exc, "last_worker", None), "address", None)
    deaths = (
        f"{submissions * (allowed + 1)} worker deaths"
        if isinstance(allowed, int)
        else "worker deaths"
    )
    tries = "once" if submissions == 1 else f"{submissions} times"
    where = f", the last on {last}" if last else ""
    return (
        f"the worker process reading this page died every time it was tried (submitted "
        f"{tries}, {deaths}{where}): a native crash or running out of memory; see the "
        "worker's log"
    )


def read_pages(
    client: Client,
    sources: Iterable[str],
    *,
    config: ReaderConfig | None = None,
    window: int | None = None,
    retries: int = 1,
    register: bool = True,
    plugin_name: str = PLUGIN_NAME,
) -> Iterator[PageRecord]:
    """Reads `sources` (local paths the workers can open, or fsspec URLs) on `client`'s
    cluster; yields one record per page as pages complete (see the module documentation).

    ``window``: tasks in flight at most (default twice the cluster's threads). ``retries``:
    how many more times a page whose task failed (its workers died) is submitted before it
    is reported failed. ``register``: register the engines plugin first (False when the
    caller did, with `register_engines`). Closing the iterator early cancels the tasks in
    flight. The engines stay on the workers afterwards: `release_engines` frees them.
    """
    config = config or ReaderConfig()
    if retries < 0:
        msg = f"retries must be 0 or more, not {retries}"
        raise ValueError(msg)
    if register:
        register_engines(client, config, name=plugin_name)
    limit = window if window is not None else 2 * _cluster_threads(client)
    if limit < 1:
        msg = f"window must be 1 or more, not {limit}"
        raise ValueError(msg)
    return _stream(client, iter(sources), config, window=limit, retries=retries, name=plugin_name)


def _stream(
    client: Client,
    sources: Iterator[str],
    config: ReaderConfig,
    *,
    window: int,
    retries: int,
    name: str,
) -> Iterator[PageRecord]:
    queued: deque[PageTask] = deque()  # later pages of opened sources go first
    flight: dict[Any, tuple[PageTask, int]] = {}
    # Results come with their completion, gathered in the background many at a time: a
    # result fetched per future (future.result()) costs a round trip to a worker each.
    completed = as_completed(with_results=True, raise_errors=False)

    def submit(task: PageTask, attempt: int) -> None:
        future = client.submit(
            _read_task,
            task,
            name,
            config,
            key=f"ocrai-page-{uuid.uuid4().hex}",
            pure=False,
        )
        flight[future] = (task, attempt)
        completed.add(future)

    def refill() -> None:
        while len(flight) < window:
            if queued:
                submit(queued.popleft(), 1)
                continue
            source = next(sources, None)
            if source is None:
                return
            submit(PageTask(str(source)), 1)

    try:
        refill()
        while flight:
            future, outcome = next(completed)
            task, attempt = flight.pop(future)
            if isinstance(outcome, PageRecord):
                record = outcome
            else:
                exc = outcome if isinstance(outcome, BaseException) else future.exception()
                future.release()
                if attempt <= retries:
                    submit(task, attempt + 1)
                    continue
                failure = PageRecord.failure(task, exc)
                if type(exc).__name__ == "KilledWorker":
                    failure = PageRecord(
                        source=task.source,
                        page=task.page,
                        pages=task.pages or 1,
                        error_type="KilledWorker",
                        error_message=_killed_message(exc, attempt),
                    )
                record = failure
            future.release()
            if task.page == 0 and task.pages is None and record.pages > 1:
                later = [PageTask(task.source, k, record.pages) for k in range(1, record.pages)]
                queued.extendleft(reversed(later))
            refill()
            yield record
    finally:
        for future in flight:
            future.cancel()


def read_bag(
    sources: Iterable[str],
    *,
    client: Client | None = None,
    config: ReaderConfig | None = None,
    npartitions: int | None = None,
    plugin_name: str = PLUGIN_NAME,
) -> Any:
    """A `dask.bag.Bag` of the sources' page records (`ocrai.batch.PageRecord`). The page
    tasks are made on the workers (each source's page count read there); ``npartitions``
    spreads them over that many partitions (default: one partition per source). The
    engines plugin is registered on `client` (default: the current client); without a
    distributed client, each process reading the bag uses one engine of its own."""
    import dask.bag

    config = config or ReaderConfig()
    if client is None:
        with contextlib.suppress(ValueError):
            client = distributed.get_client()
    if client is not None:
        register_engines(client, config, name=plugin_name)
    names = [str(s) for s in sources]
    tasks = (
        dask.bag.from_sequence(names, partition_size=1)
        .map(expand_source, max_pixels=config.max_pixels, dpi=config.dpi)
        .flatten()
    )
    if npartitions is not None:
        tasks = tasks.repartition(npartitions=npartitions)
    return tasks.map(_read_task, plugin_name, config)


@contextlib.contextmanager
def connect(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    timeout: float = 30.0,
) -> Iterator[Client]:
    """A client of the scheduler at `scheduler` (e.g. ``tcp://10.0.0.5:8786``), or of a
    local cluster of `workers` single-thread worker processes on 127.0.0.1 (closed on
    exit). The local scheduler hands each worker one task at a time
    (``worker-saturation`` 1.0), so a page that crashes its worker takes no queued page
    down with it."""
    if (scheduler is None) == (workers is None):
        msg = "give a scheduler address or a number of workers"
        raise ValueError(msg)
    if scheduler is not None:
        client = Client(scheduler, timeout=f"{timeout}s")
        try:
            yield client
        finally:
            client.close()
        return
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # No dashboard; the scheduler's own HTTP endpoints (health, metrics) on a free
            # port rather than 8787, which another cluster on the machine may hold.
            scheduler_kwargs={"dashboard_address": ":0"},
        )
    try:
        with Client(cluster, timeout=f"{timeout}s") as client:
            yield client
    finally:
        cluster.close()
