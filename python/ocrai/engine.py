"""`OcrAI`: the engine. It owns one native pipeline, a thread budget and a model store.

Lifetime
    ``OcrAI()`` loads the ONNX Runtime library (once per process) and makes sure the files of
    its model pack are in the model directory (copying them from the bundled packs the first
    time, sha256-checked, no network). It loads no model: the native pipeline (every ORT
    session, its buffers and thread pools) is created by the first `recognize` call, or now
    by `warmup`. With two threads or more, a recogniser's one-thread session (for lines read
    side by side) waits for the first page that has such lines: a single line never needs
    it, and `warmup` creates it too.

    `free_resources` releases all of it. Calls that run the pipeline hold a shared lock while
    the native code runs without the GIL; `free_resources` takes the lock exclusively, so it
    waits for the calls in flight, then closes the pipeline, returns the freed native heap
    to the operating system, gives back the thread budget and the hold on the model files,
    and marks the engine released. It is idempotent. Afterwards every call that needs the
    pipeline (`recognize`, `recognize_many`, `warmup`) raises `ResourcesReleasedError`; the
    model-store methods (`list_local`, `get_local_path`, `models`, `install`, `remove`,
    `verify`, `prune`) keep working, since they only touch files: releasing first and then
    cleaning up the model directory is the intended order.

    ``with OcrAI() as ai:`` releases on exit; an engine that is garbage-collected, or still
    alive at interpreter exit, is released too (`weakref.finalize`, no ``__del__``).

    The process-wide ONNX Runtime (the library and its one environment) is loaded once and
    never unloaded, whatever the engines do: unloading it is unsafe (thread-local state and
    static destructors inside the library).

Threads
    One engine serves any number of threads at once. Each engine has a thread budget that
    its native pipeline uses (ORT intra-op threads and the kernels' row striping):
    ``threads=N`` is honoured as given; ``threads=None`` takes the cores that live engines
    of the process have not reserved yet (at least one), so several engines together stay
    within the cores available to the process until there are more engines than cores. A
    released engine returns its share.

Asyncio
    `recognize_async` and `recognize_many_async` run the same calls on executor threads,
    so an event loop is never blocked by decoding or inference; cancelling drops a result.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _core, _runtime
from . import packs as _packs
from . import reading as _reading
from .errors import ResourcesReleasedError
from .languages import normalize_language
from .models import ModelInfo, ModelStore, VerifyResult, check_name
from .orientation import OrientationMode, check_orientation

if TYPE_CHECKING:
    # asyncio and concurrent.futures are imported where they are used: ``import ocrai`` is
    # part of every cold start, and most readers never await (34 ms of imports).
    import asyncio
    from concurrent.futures import Executor, Future
    from types import TracebackType

    from typing_extensions import Self

    from .io import ColorOrder, ImageSource, LoadedImage
    from .reading import CharSet
    from .results import Page

__all__ = ["OcrAI", "available_cores"]

_FAST_PACK = "ppocrv6-tiny"
_CLS_PACK = "ppocrv5-cls"
_CLASSIFY_MODES = ("off", "on", "auto")
_MAX_THREADS = 1024  # the native core's limit (kMaxThreads in cpu.h)

#: Lines found on a page and read at a mean character confidence below this are left out,
#: unless the engine or the call sets ``min_confidence`` (0 keeps every line). On the
#: development pages (../shared/data), 57 of the 59 lines below it were stamps,
#: handwriting or marks that the transcriptions leave out (the other two: page numbers,
#: "- 2 -"); without them EHRI's typewritten pages read at 3.54 % CER instead of 3.89 %
#: (fast mode 3.79 instead of 4.17). The lowest line on the other sets' pages was a
#: misread byline at 0.756; none lies below 0.75, and those sets read the same. Chosen on
#: EHRI, the only set with lines below it (0.5 gave 3.83 %, 0.75 3.49 % but leaves no
#: margin). A line read alone (``detect=False``) is always kept.
UNSURE_LINE = 0.7

_ROLE_KIND: dict[str, str] = {
    "det_model": "det",
    "rec_model": "rec",
    "rec_dict": "dict",
    "cls_model": "cls",
    "fallback_rec_model": "rec",
    "fallback_rec_dict": "dict",
    "check_rec_model": "rec",
}


# --- the process-wide thread budget ------------------------------------------------------


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _ThreadBudget:
    """Threads reserved by the live engines of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reserved: dict[int, int] = {}
        self._next = 0

    def reserve(self, requested: int | None) -> tuple[int, int]:
        """Reserves `requested` threads, or the unreserved cores (at least 1) when None.
        Returns (token, threads)."""
        with self._lock:
            if requested is None:
                free = available_cores() - sum(self._reserved.values())
                threads = max(1, free)
            else:
                threads = requested
            self._next += 1
            self._reserved[self._next] = threads
            return self._next, threads

    def release(self, token: int) -> None:
        with self._lock:
            self._reserved.pop(token, None)

    def reserved(self) -> int:
        with self._lock:
            return sum(self._reserved.values())


_budget = _ThreadBudget()


# --- the lock between calls and free_resources ------------------------------------------


class _ReleaseLock:
    """A readers-writer lock where a waiting writer blocks new readers.

    Calls that use the pipeline are readers; `free_resources` is the writer. Once it waits,
    calls that start later wait too and then find the engine released: they can never
    starve it. Readers must not re-enter (a nested shared acquire behind a waiting writer
    would deadlock), and none of ours does.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_shared(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_shared(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_exclusive(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True

    def release_exclusive(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


class _NativeHeap:
    """Keeps the freed native heap returnable to the OS while pipelines are loaded.

    glibc's ``malloc_trim`` gives back the free pages of every arena but cannot shrink the
    top of the per-thread arenas (those of ORT's intra-op threads, of the pipeline's
    workers, of every thread that called `recognize`). Only free() shrinks them, and only
    past glibc's trim threshold, which glibc raises by itself up to 64 MiB once large
    blocks have been freed. So from the moment the first pipeline of the process loads until
    the last one is released, the threshold is kept low (128 KiB); every release trims the
    heap; the last one sets the threshold to 64 MiB, where glibc's own adjustment ends up.

    Measured on the 2-core development machine (PP-OCRv6 small, threads=2, three pages):
    lowering the threshold only while a release destroys its sessions still left 9-17 MB of
    freed heap resident in one release out of three (arenas whose top was not touched by the
    release); with it low while pipelines are loaded the RSS after every release was within
    0.3 MB of the same value. A user who sets ``MALLOC_TRIM_THRESHOLD_`` keeps it: ocrai then
    only trims.
    """

    _LOW = 128 * 1024
    _STEADY = 64 * 1024 * 1024  # glibc's dynamic maximum: 2 x DEFAULT_MMAP_THRESHOLD_MAX

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = 0

    @staticmethod
    def _managed() -> bool:
        return "MALLOC_TRIM_THRESHOLD_" not in os.environ

    def pipeline_loading(self) -> None:
        with self._lock:
            self._loaded += 1
            if self._loaded == 1 and self._managed():
                _core.ort.set_heap_trim_threshold(self._LOW)

    def pipeline_released(self) -> None:
        with self._lock:
            self._loaded -= 1
            _core.ort.trim_native_heap()
            if self._loaded == 0 and self._managed():
                _core.ort.set_heap_trim_threshold(self._STEADY)


_native_heap = _NativeHeap()


class _State:
    """Everything the engine must release, kept apart from the engine so that the
    finaliser holds no reference to it (else it would never be collected)."""

    def __init__(self, threads_token: int) -> None:
        self.lock = _ReleaseLock()
        self.create_lock = threading.Lock()
        self.pipeline: Any = None  # _core.pipeline.Pipeline, created on first use
        self.threads_token = threads_token
        self.holds: list[Any] = []
        self.released = False

    def release(self) -> None:
        self.lock.acquire_exclusive()
        try:
            if self.released:
                return
            self.released = True
            pipeline, self.pipeline = self.pipeline, None
            if pipeline is not None:
                pipeline.close()  # every session, buffer and thread pool, now
                del pipeline
                _native_heap.pipeline_released()  # trims the heap
            for hold in self.holds:
                hold.release()
            self.holds.clear()
            _budget.release(self.threads_token)
        finally:
            self.lock.release_exclusive()


def _released_error() -> ResourcesReleasedError:
    msg = (
        "this OcrAI engine's native resources were released by free_resources(); "
        "create a new OcrAI() to recognise more images"
    )
    return ResourcesReleasedError(msg)


class OcrAI:
    """An OCR engine: reads text from images with the models of one model pack.

    Parameters
    ----------
    model_dir
        The model directory; default ``$OCRAI_MODEL_DIR``, else the per-user data directory
        (see `ocrai.models`). Created when missing.
    threads
        The thread budget of this engine (see the module docstring), 1 to 1024; None = a
        fair share.
    pack
        The model pack: ``"ppocrv6-small"`` (default, every supported language) or
        ``"ppocrv6-tiny"`` (about 3.5x cheaper, no Japanese kana).
    fast
        Read with the tiny pack and re-read the lines it is not sure about with `pack`'s
        recogniser.
    classify
        The 180-degree line classifier: ``"off"`` (default; it flips upright lines too
        often), ``"on"`` for every line, ``"auto"`` for low-confidence lines only. When not
        off, its model (pack ``ppocrv5-cls``) is loaded.
    options
        Default options of every `recognize` call (the keys of the native pipeline, e.g.
        ``det_max_side``, ``box_thresh``, ``rec_batch``); per-call options override them.
    det_model, rec_model, rec_dict, cls_model
        Names of files in the model directory that replace the pack's (custom models
        installed with `install`).
    auto_install
        Copy the pack's files that are missing in the model directory from the packs
        bundled with the package, now (default True). With False, or when the package was
        built without bundled packs, a missing file raises FileNotFoundError when the
        models load, naming the file and how to install it.
    allowlist, denylist, pattern, words, word_weight
        Reading control, the defaults of every call (see `recognize`).
    orientation
        ``"auto"`` (default): find whether a page is turned by 90, 180 or 270 degrees and
        read it upright (an upright page costs no second reading, see
        `ocrai.orientation`); ``"off"``; or 0, 90, 180, 270: the page's text is turned
        clockwise by that much. Coordinates stay in the input image's space.
    languages
        The pages' languages (BCP 47 tags, e.g. ``("cs", "ja")``), which name each line's
        language among those of its script (see `ocrai.languages`); None: told from the
        text where it can be.
    precision
        The recognisers' arithmetic (see `ocrai.precision`): ``"auto"`` (default) reads
        with the int8 recogniser derived by ``ocrai models derive`` when it is in the model
        directory and the CPU has VNNI, and re-reads the lines it doubts with the fp32
        recogniser (the fp32 reading's accuracy at close to int8's speed; in fast mode the
        tiny int8 recogniser is checked by its fp32 one before the small one re-reads in
        fp32), else fp32; ``"int8"`` requires the int8 file and reads with it alone (in fast
        mode, both recognisers'); ``"fp32"`` never uses it. A custom ``rec_model`` is
        loaded as given.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        threads: int | None = None,
        pack: str = _packs.DEFAULT_PACK,
        fast: bool = False,
        *,
        classify: str = "off",
        options: Mapping[str, object] | None = None,
        det_model: str | None = None,
        rec_model: str | None = None,
        rec_dict: str | None = None,
        cls_model: str | None = None,
        auto_install: bool = True,
        allowlist: CharSet | None = None,
        denylist: CharSet | None = None,
        pattern: str | re.Pattern[str] | None = None,
        words: str | Iterable[str] | None = None,
        word_weight: float | None = None,
        orientation: OrientationMode = "auto",
        languages: Sequence[str] | None = None,
        precision: str = "auto",
    ) -> None:
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
            msg = f"threads must be a positive int or None, got {threads!r}"
            raise TypeError(msg)
        if threads is not None and not 1 <= threads <= _MAX_THREADS:
            msg = f"threads must be >= 1 and <= {_MAX_THREADS}, got {threads}"
            raise ValueError(msg)
        if classify not in _CLASSIFY_MODES:
            msg = f"classify must be one of {_CLASSIFY_MODES}, got {classify!r}"
            raise ValueError(msg)
        _runtime.load()
        self._store = ModelStore(model_dir)
        accurate = _packs.get_pack(pack)
        primary = _packs.get_pack(_FAST_PACK) if fast else accurate
        fallback = accurate if fast and accurate.name != primary.name else None

        # (role, file name, pack it comes from or None for a custom file)
        files: dict[str, tuple[str, str | None]] = {
            "det_model": _choose(det_model, primary, "det"),
            "rec_model": _choose(rec_model, primary, "rec"),
            "rec_dict": _choose(rec_dict, primary, "dict"),
        }
        if fallback is not None:
            files["fallback_rec_model"] = (fallback.file("rec").name, fallback.name)
            files["fallback_rec_dict"] = (fallback.file("dict").name, fallback.name)
        if classify != "off" or cls_model is not None:
            files["cls_model"] = _choose(cls_model, _packs.get_pack(_CLS_PACK), "cls")
        self._precision = _choose_precision(self._store, files, precision, custom=rec_model)
        for name, _ in files.values():
            check_name(name)  # custom names too, before anything is reserved
        self._files = files

        if auto_install:
            for pack_name in sorted({p for _, p in files.values() if p is not None}):
                kinds = {_ROLE_KIND[r] for r, (_, p) in files.items() if p == pack_name}
                self._store.ensure_pack(pack_name, kinds)

        self._orientation = check_orientation(orientation)
        self._languages = () if languages is None else _language_tags(languages)
        self._options: dict[str, object] = dict(options or {})
        reading = {
            "allowlist": allowlist,
            "denylist": denylist,
            "pattern": pattern,
            "words": words,
            "word_weight": word_weight,
        }
        self._options.update({k: v for k, v in reading.items() if v is not None})
        _check_reading(self._options)  # bad values fail here, not at the first call
        self._alphabet: str | None = None
        if classify != "off":
            self._options.setdefault("classify", classify)
        self._pack = primary.name
        self._fast = fast

        # Nothing below can fail: what is reserved here is given back by the finaliser.
        token, self._threads = _budget.reserve(threads)
        state = _State(token)
        state.holds.append(self._store.hold([name for name, _ in files.values()]))
        self._state = state
        self._finalizer = weakref.finalize(self, state.release)

    # -- the tutorial's API --

    def list_local(self) -> list[str]:
        """Sorted names of the model files in `get_local_path()` (see `ocrai.models` for
        what counts as one). Works after `free_resources`."""
        return self._store.list_local()

    def get_local_path(self) -> str:
        """Absolute path of the model directory. Works after `free_resources`."""
        return str(self._store.path)

    def free_resources(self) -> None:
        """Releases every native resource of this engine now (see the module docstring):
        waits for the calls in flight, closes every ONNX Runtime session, buffer and thread
        pool, returns the freed heap to the OS. Idempotent; no file handle stays open."""
        self._finalizer()

    # -- the model store --

    @property
    def store(self) -> ModelStore:
        """The engine's model store."""
        return self._store

    def models(self) -> list[ModelInfo]:
        """A record for every model file in the model directory (see `ModelStore.models`)."""
        return self._store.models()

    def install(self, source: str | os.PathLike[str], **kwargs: Any) -> list[ModelInfo]:
        """Installs a pinned pack, a local wheel of a pinned source, or a local model file
        (see `ModelStore.install`)."""
        return self._store.install(source, **kwargs)

    def remove(self, name: str, *, force: bool = False) -> str:
        """Deletes a model file; PermissionError for a file in use by a live engine (call
        `free_resources` first)."""
        return str(self._store.remove(name, force=force))

    def verify(self) -> list[VerifyResult]:
        """Checks every recorded file's sha256 (see `ModelStore.verify`)."""
        return self._store.verify()

    def prune(self, *, dry_run: bool = False) -> list[str]:
        """Removes outdated model files that are not in use (see `ModelStore.prune`)."""
        return self._store.prune(dry_run=dry_run)

    # -- state --

    @property
    def threads(self) -> int:
        """This engine's thread budget."""
        return self._threads

    @property
    def pack(self) -> str:
        """The model pack that reads first (``ppocrv6-tiny`` when fast)."""
        return self._pack

    @property
    def precision(self) -> str:
        """The arithmetic of the recogniser that reads first: ``"int8"`` or ``"fp32"``."""
        return self._precision

    @property
    def model_files(self) -> dict[str, str]:
        """The model files this engine loads, by role (det_model, rec_model, ...)."""
        return {role: str(self._store.path_of(name)) for role, (name, _) in self._files.items()}

    @property
    def released(self) -> bool:
        """Whether `free_resources` has run."""
        return self._state.released

    @property
    def loaded(self) -> bool:
        """Whether the native pipeline is loaded now."""
        return self._state.pipeline is not None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.free_resources()

    def __repr__(self) -> str:
        state = "released" if self.released else ("loaded" if self.loaded else "not loaded")
        return (
            f"OcrAI(model_dir={self.get_local_path()!r}, pack={self._pack!r}, "
            f"fast={self._fast}, threads={self._threads}, {state})"
        )

    # -- running --

    def _create_pipeline(self) -> Any:
        args: dict[str, Any] = {}
        for role, (name, pack) in self._files.items():
            args[role] = str(self._store.require(name, pack))
        from ._core import pipeline as _pipeline

        # The fallback recogniser (fast mode's small one, auto's fp32 one) is created by the
        # first line it re-reads: a page read surely never waits for it (a cold start, import
        # to first line, 0.33 s -> 0.27 s with auto's), and its files are the store's
        # sha256-checked pack files, which leaves little for that late check to refuse.
        return _pipeline.Pipeline(**args, threads=self._threads, fallback_on_first_use=True)

    @contextlib.contextmanager
    def _using(self) -> Iterator[Any]:
        """The pipeline, loaded if needed, held against `free_resources` for the block."""
        state = self._state
        state.lock.acquire_shared()
        try:
            if state.released:
                raise _released_error()
            pipeline = state.pipeline
            if pipeline is None:
                with state.create_lock:
                    if state.pipeline is None:
                        _native_heap.pipeline_loading()
                        try:
                            state.pipeline = self._create_pipeline()
                        except BaseException:
                            _native_heap.pipeline_released()
                            raise
                    pipeline = state.pipeline
            yield pipeline
        finally:
            state.lock.release_shared()

    def warmup(self) -> OcrAI:
        """Loads every model now and runs each once on a tiny input; returns the engine."""
        with self._using() as pipeline:
            pipeline.warmup()
        return self

    def _check_alive(self) -> None:
        if self._state.released:
            raise _released_error()

    def recognize(
        self,
        image: ImageSource,
        *,
        detect: bool = True,
        order: ColorOrder | None = None,
        page: int = 0,
        **options: object,
    ) -> Page:
        """Reads the text of one image.

        `image` is anything `ocrai.io.load_image` takes (a path, bytes, a numpy uint8 array
        (H, W) or (H, W, 3|4), a PIL image) or an already loaded `ocrai.io.LoadedImage`.
        ``detect=False`` reads the image as one text line, without the detector: a plain
        margin around the text is cut to the margin the detector would leave (0.3 of the
        text's height), so that a loosely cut field reads at its text's size. With
        detection, a small image whose ink is one line of text and nothing else, on a plain
        background, is read so without the detector (``page.models.det`` is then None;
        ``lone_line=False`` runs the detector anyway). Lines found
        on a page and read at a mean confidence below `UNSURE_LINE` (0.7: stamps,
        handwriting, marks) are left out unless ``min_confidence`` is given (0 keeps
        all). `order` says whether a numpy colour array is "rgb" (default) or "bgr"; `page`
        picks the page of a multi-page file. Other keyword options go to the native
        pipeline and override the engine's defaults, as do ``orientation=`` and
        ``languages=`` (see the class).
        Raises ResourcesReleasedError after `free_resources`.

        Reading control (also engine defaults; a call's value replaces the engine's):
        ``allowlist`` / ``denylist`` (a str or a set of characters): readings use only the
        allowed characters and none of the denied (the space is a character: allow " " for
        several words); the model's other classes are masked before decoding and
        confidences renormalised over the allowed ones. A character no recogniser of the
        engine can read raises ValueError naming it. ``pattern`` (a regular expression, str
        or compiled): the whole line must match it; lines are decoded by a constrained beam
        search, a line whose reading already matches is kept as it is, and when nothing
        matches the line keeps its plain reading with ``Line.pattern_matched`` False.
        ``words`` (an iterable of str, or a str of whitespace-separated words): a lexicon
        readings are drawn toward, each character of a listed word adding ``word_weight``
        (default 1.0) to the reading's log-probability; words are cut at spaces and ASCII
        punctuation.
        """
        self._check_alive()
        opts = self._reading_options(options)
        loaded = self._load(image, order=order, page=page)
        return self._run(loaded, detect, opts)

    def recognize_many(
        self,
        images: Iterable[ImageSource],
        *,
        detect: bool = True,
        order: ColorOrder | None = None,
        workers: int | None = None,
        **options: object,
    ) -> Iterator[Page]:
        """Reads many images, yielding one page per image in input order.

        By default (``workers=1``) each image is recognised in the calling thread while the
        next one is decoded on a helper thread (decoders release the GIL): the native run
        already spreads one image over the engine's whole thread budget. ``workers=N`` runs N
        images at once on N threads that share the engine's pools (ORT's intra-op threads,
        the kernels' workers), which adds up to N - 1 threads, their callers, to the budget;
        it pays when the budget is larger than one image can use. On the 2-core development
        machine, 2 workers, 1 worker and a plain loop of `recognize` were within 3 % of
        each other on rendered pages (inference is over 95 % of the time).

        `images` is consumed lazily, at most two per worker ahead of the page being yielded.
        An error on one image is raised when its turn to be yielded comes; the images after
        it that have not started are not read. Closing the iterator early cancels what has
        not started.
        """
        self._check_alive()
        n_workers = 1 if workers is None else workers
        if n_workers < 1:
            msg = f"workers must be >= 1, got {n_workers}"
            raise ValueError(msg)
        # The pattern is compiled once for the whole call.
        opts = self._reading_options(options)
        return self._recognize_many(iter(images), detect, order, n_workers, opts)

    def _recognize_many(
        self,
        images: Iterator[ImageSource],
        detect: bool,
        order: ColorOrder | None,
        n_workers: int,
        options: dict[str, object],
    ) -> Iterator[Page]:
        from concurrent.futures import ThreadPoolExecutor

        def one(image: ImageSource) -> Page:
            return self._run(self._load(image, order=order, page=0), detect, options)

        if n_workers == 1:
            # One image is decoded ahead on a helper thread (decoders release the GIL) while
            # the current one is recognised here.
            loads: deque[Future[LoadedImage]] = deque()
            with ThreadPoolExecutor(1, thread_name_prefix="ocrai-load") as loader:
                try:
                    for image in images:
                        loads.append(loader.submit(self._load, image, order=order, page=0))
                        if len(loads) > 1:
                            yield self._run(loads.popleft().result(), detect, options)
                    while loads:
                        yield self._run(loads.popleft().result(), detect, options)
                finally:
                    for fut in loads:
                        fut.cancel()
            return
        window = 2 * n_workers
        runs: deque[Future[Page]] = deque()
        with ThreadPoolExecutor(n_workers, thread_name_prefix="ocrai") as pool:
            try:
                for image in images:
                    runs.append(pool.submit(one, image))
                    if len(runs) >= window:
                        yield runs.popleft().result()
                while runs:
                    yield runs.popleft().result()
            finally:
                for run in runs:
                    run.cancel()

    # -- asyncio --

    async def recognize_async(
        self,
        image: ImageSource,
        *,
        detect: bool = True,
        order: ColorOrder | None = None,
        page: int = 0,
        executor: Executor | None = None,
        **options: object,
    ) -> Page:
        """`recognize` for asyncio code: decoding and the native run happen on a thread of
        `executor` (default: the event loop's default executor), never on the event loop;
        the native code runs without the GIL, so the loop keeps serving meanwhile.

        Cancelling the awaiting task drops the result: a call that has not started yet
        never starts; one that has started finishes on its thread (native code cannot be
        interrupted) and its page is discarded. The engine stays usable either way, and
        `free_resources` still waits for the calls running on threads."""
        import asyncio

        self._check_alive()
        call = functools.partial(
            self.recognize, image, detect=detect, order=order, page=page, **options
        )
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    async def recognize_many_async(
        self,
        images: Iterable[ImageSource] | AsyncIterable[ImageSource],
        *,
        detect: bool = True,
        order: ColorOrder | None = None,
        concurrency: int = 1,
        executor: Executor | None = None,
        **options: object,
    ) -> AsyncIterator[Page]:
        """Reads many images (a plain or an async iterable), yielding one page per image in
        input order; up to `concurrency` images are read at once (see `recognize_many` on
        when more than one pays). An error is raised when its image's turn comes; closing
        the iterator, or cancelling the task iterating it, cancels the calls not yet
        yielded (see `recognize_async`)."""
        import asyncio

        self._check_alive()
        if concurrency < 1:
            msg = f"concurrency must be >= 1, got {concurrency}"
            raise ValueError(msg)
        runs: deque[asyncio.Task[Page]] = deque()
        pipeline_options: dict[str, Any] = dict(options)

        def start(image: ImageSource) -> None:
            call = self.recognize_async(
                image, detect=detect, order=order, executor=executor, **pipeline_options
            )
            runs.append(asyncio.ensure_future(call))

        try:
            if isinstance(images, AsyncIterable):
                async for image in images:
                    start(image)
                    if len(runs) >= concurrency:
                        yield await runs.popleft()
            else:
                for image in images:
                    start(image)
                    if len(runs) >= concurrency:
                        yield await runs.popleft()
            while runs:
                yield await runs.popleft()
        finally:
            for run in runs:
                run.cancel()
                run.add_done_callback(_retrieve)  # an error of a dropped run is not news

    @staticmethod
    def _load(image: ImageSource, *, order: ColorOrder | None, page: int) -> LoadedImage:
        from .io import load_image

        return load_image(image, order=order, page=page)  # a LoadedImage comes back as is

    def _reading_options(self, options: Mapping[str, object]) -> dict[str, object]:
        """A call's options with the reading control (the engine's, replaced by the call's)
        in the native pipeline's form: ``allow``/``deny`` strs, the pattern compiled to an
        automaton over the characters the engine's recognisers read, ``words`` a list.
        The engine's other defaults are added by `_run`."""
        merged = {**self._options, **options}
        _check_reading(merged)
        native: dict[str, object] = {k: v for k, v in options.items() if k not in _READING}
        for key in _READING:
            native.pop(_NATIVE_READING[key], None)
        if merged.get("allowlist") is not None:
            native["allow"] = _reading.char_set(merged["allowlist"], "allowlist")
        if merged.get("denylist") is not None:
            native["deny"] = _reading.char_set(merged["denylist"], "denylist")
        pattern = merged.get("pattern")
        if pattern is not None:
            native["pattern"] = _reading.compile_pattern(
                pattern,
                self._model_alphabet(),
            )
        if merged.get("words") is not None:
            native["words"] = _reading.word_list(merged["words"])
        if merged.get("word_weight") is not None:
            native["word_weight"] = merged["word_weight"]
        return native

    def _model_alphabet(self) -> str:
        """Every character the engine's recognisers can read (their dictionaries)."""
        if self._alphabet is None:
            from ._core import pipeline as _pipeline

            chars: set[str] = {" "}
            for role in ("rec_dict", "fallback_rec_dict"):
                if role in self._files:
                    name, pack = self._files[role]
                    d = _pipeline.Dictionary(str(self._store.require(name, pack)))
                    for cls in range(1, d.num_classes):
                        chars.update(d.symbol(cls))
            self._alphabet = "".join(sorted(chars))
        return self._alphabet

    def _run(self, loaded: LoadedImage, detect: bool, options: Mapping[str, object]) -> Page:
        from .calibration import calibrate_page
        from .languages import annotate_page
        from .orientation import read_oriented
        from .results import Page

        engine_opts = {k: v for k, v in self._options.items() if k not in _READING}
        opts: dict[str, object] = {**engine_opts, "detect": detect, **options}
        orientation = check_orientation(opts.pop("orientation", self._orientation))
        given = opts.pop("languages", None)
        languages = self._languages if given is None else _language_tags(given)
        with self._using() as pipeline:

            def read(array: Any) -> Page:
                native = pipeline.run(array, loaded.order, opts)
                return Page.from_native(native, source=loaded.name, page=loaded.page)

            page = read_oriented(read, loaded.array, orientation, detect=detect)
        if detect and "min_confidence" not in opts:
            # After the orientation is chosen: a page turned the wrong way reads every line
            # unsure, and must still be seen to read at all.
            page = page.keeping(lambda line: line.confidence >= UNSURE_LINE)
        # A lone line (no detector ran) is cut and read as the image read as one line.
        detected = detect and page.models.det is not None
        return annotate_page(calibrate_page(page, detected=detected), languages)


def _language_tags(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (normalize_language(value),)
    if not isinstance(value, Iterable):
        msg = f"languages must be a sequence of language tags, got {value!r}"
        raise TypeError(msg)
    return tuple(normalize_language(tag) for tag in value)


def _retrieve(task: asyncio.Task[Page]) -> None:
    if not task.cancelled():
        task.exception()


_READING = ("allowlist", "denylist", "pattern", "words", "word_weight")
_NATIVE_READING = {
    "allowlist": "allow",
    "denylist": "deny",
    "pattern": "pattern",
    "words": "words",
    "word_weight": "word_weight",
}


def _check_reading(options: Mapping[str, object]) -> None:
    """Type and range checks of the reading-control options (the native core checks the
    characters against the models)."""
    for key in ("allowlist", "denylist"):
        if options.get(key) is not None:
            _reading.char_set(options[key], key)
    pattern = options.get("pattern")
    if pattern is not None:
        # Syntax and regularity, over no characters yet: the models' come at the call.
        _reading.compile_pattern(pattern, "")
    if options.get("words") is not None:
        _reading.word_list(options["words"])
    weight = options.get("word_weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            msg = f"word_weight must be a number, got {weight!r}"
            raise TypeError(msg)
        if not 0 <= weight <= 100:  # NaN fails too
            msg = f"word_weight must be in [0, 100], got {weight!r}"
            raise ValueError(msg)


def _choose_precision(
    store: ModelStore,
    files: dict[str, tuple[str, str | None]],
    precision: str,
    *,
    custom: str | None,
) -> str:
    """Swaps the pack's recognisers in `files` for their int8 versions where `precision`
    asks for them (see `ocrai.precision`); returns the primary recogniser's precision.

    Under ``"auto"`` only the primary recogniser may go int8 (packs in `AUTO_INT8_PACKS`, in
    fast mode `AUTO_INT8_FAST_PACKS`), checked by the fp32 recogniser it was derived from
    (see `ocrai.precision`): in the default mode that one becomes the fallback that re-reads
    the lines the int8 one doubts; in fast mode it becomes the check between the int8 one
    and the fallback (the small recogniser, in fp32)."""
    from . import precision as _precision

    wanted = _precision.check_precision(precision)
    used = "fp32"
    # auto checks int8 with the pack's fp32 recogniser and dictionary; a custom dictionary
    # (nothing to check with) stays fp32 under auto, and so does fast mode's fallback.
    checkable = files["rec_dict"][1] == files["rec_model"][1]
    fast = "fallback_rec_model" in files
    auto_packs = _precision.AUTO_INT8_FAST_PACKS if fast else _precision.AUTO_INT8_PACKS
    for role in ("rec_model", "fallback_rec_model"):
        if role not in files or (role == "rec_model" and custom is not None):
            continue
        name, pack = files[role]
        if pack is None:
            continue
        auto_fp32 = not checkable or role == "fallback_rec_model"
        role_wants = "fp32" if wanted == "auto" and auto_fp32 else wanted
        choice = _precision.choose_rec(store, name, pack, role_wants, auto_packs=auto_packs)
        files[role] = (choice.name, pack)
        if role == "rec_model":
            used = choice.precision
    if wanted == "auto" and used == "int8":
        name, pack = files["rec_model"]
        if fast:
            files["check_rec_model"] = (_precision.fp32_of(name), pack)
        else:
            files["fallback_rec_model"] = (_precision.fp32_of(name), pack)
            files["fallback_rec_dict"] = files["rec_dict"]
    return used


def _choose(name: str | None, pack: _packs.Pack, kind: _packs.FileKind) -> tuple[str, str | None]:
    if name is not None:
        return name, None
    return pack.file(kind).name, pack.name
