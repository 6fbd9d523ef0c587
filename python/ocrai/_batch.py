"""Batch reading for ``ocrai read``: input expansion, per-file errors, atomic outputs.

`BatchReader` turns the command's inputs (files, folders, fsspec URLs) into sources, gets
one `ocrai.batch.PageRecord` per page from a page source, and hands the records to one
`OutputWriter`. The page source is this process (an object with the engine's ``recognize``
method: an `ocrai.OcrAI`, or a stand-in in tests, so the file handling is tested without
models) or a cluster (``--workers N``, ``--scheduler ADDRESS``: `ocrai.dask.read_pages`);
outputs, progress display, error reports and exit status are the same whichever it is.

One bad file never stops a batch: each failure is reported on stderr with its reason,
every readable file still gets its output, and the exit status says whether anything
failed. Outputs are written to a temporary file in the output folder, then renamed over
the final name, so an interrupted run never leaves a half-written file under that name, and
``--resume`` can skip every source whose output exists. Records are keyed by (source,
page): a page read twice (a retried task) replaces the first record, never duplicates it;
a source's output is assembled from its pages in page order once every page is in.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TextIO

from .batch import (
    PageReader,
    PageRecord,
    PageTask,
    ReaderConfig,
    error_reason,
    is_url,
    open_source,
)
from .export import FORMATS
from .io import PDF_DPI, iter_pages
from .results import Page

__all__ = [
    "IMAGE_SUFFIXES",
    "SOURCE_FORMATS",
    "BatchReader",
    "BatchResult",
    "OutputWriter",
    "Recognizer",
    "expand_inputs",
    "export_document",
    "write_atomic",
]

#: File name endings that a folder is searched for (case-insensitive). Files named on the
#: command line are read whatever their name.
IMAGE_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".jpe",
        ".tif",
        ".tiff",
        ".bmp",
        ".dib",
        ".webp",
        ".gif",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
        ".pdf",
    }
)


class Recognizer(Protocol):
    """What `BatchReader` needs of an engine: ``OcrAI.recognize``."""

    def recognize(self, image: Any, *, detect: bool = ...) -> Page: ...


#: Reads sources on a cluster: given the sources, yields one record per page, in any order
#: (`ocrai.dask.read_pages` bound to a client and a configuration).
PageSource = Callable[[Sequence[str]], Iterable[PageRecord]]

#: Formats whose exporter needs the original source as well as the pages (a searchable PDF
#: draws its text layer over the source's own page images): name -> (exporter, suffix). The
#: exporter gets the pages in page order and the source (a local path or an fsspec URL) and
#: returns the document, str or bytes. These are looked up before `ocrai.export.FORMATS`.
#: Keyword options given to `BatchReader` / `OutputWriter` as ``format_options`` go to these
#: exporters (e.g. the PDF's ``existing_text``).
SOURCE_FORMATS: dict[str, tuple[Callable[..., str | bytes], str]] = {}


def export_document(
    fmt: str, pages: Sequence[Page], source: str, **format_options: object
) -> str | bytes:
    """One source's document in format `fmt`, from its pages in page order."""
    if fmt in SOURCE_FORMATS:
        return SOURCE_FORMATS[fmt][0](pages, source, **format_options)
    return FORMATS[fmt][0](pages)


def _searchable_pdf(pages: Sequence[Page], source: str, *, existing_text: str = "error") -> bytes:
    """The searchable PDF of one source: its own page images (or PDF pages) with `pages`
    as an invisible text layer (`ocrai.export.to_pdf`)."""
    from .export import to_pdf

    opened = open_source(source)  # the path itself, or the bytes behind a URL
    data = opened if isinstance(opened, str) else opened.getvalue()
    return to_pdf(pages, data, existing_text=existing_text)  # type: ignore[arg-type]


def _check_pdf_source(source: str) -> None:
    """Refuses, before any page is read, a source that `to_pdf` would refuse (encrypted,
    zero-size pages, too many pages)."""
    from .export._pdf import check_source

    if not is_url(source):  # a URL is checked by to_pdf once its bytes are fetched
        check_source(Path(source))


def _overlay_png(
    pages: Sequence[Page],
    source: str,
    *,
    dpi: float = PDF_DPI,
    max_pixels: int | None = None,
) -> bytes:
    """The source's pages drawn with their results over them (`ocrai.export.to_overlay_png`):
    the images are loaded again as they were for reading (PDF pages at the same `dpi`)."""
    from .export import to_overlay_png

    images = list(iter_pages(open_source(source), dpi=dpi, max_pixels=max_pixels))
    return to_overlay_png(pages, images)


SOURCE_FORMATS["pdf"] = (_searchable_pdf, ".pdf")
SOURCE_FORMATS["overlay"] = (_overlay_png, ".overlay.png")


def _suffix(fmt: str) -> str:
    return SOURCE_FORMATS[fmt][1] if fmt in SOURCE_FORMATS else FORMATS[fmt][1]


@dataclass(frozen=True)
class BatchInput:
    """A source to read (a local path or an fsspec URL) and where its output goes,
    relative to the output folder."""

    source: str
    relative: Path

    @property
    def path(self) -> Path:
        return Path(self.source)

    @property
    def shown(self) -> Path | str:
        """The source as `BatchResult` lists it: a Path for a local file, else the URL."""
        return self.source if is_url(self.source) else Path(self.source)


@dataclass
class BatchResult:
    """What a batch did: the sources read, the outputs written, the failures with their
    reasons and the sources skipped by ``resume``, in input order."""

    read: list[Path | str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Path | str] = field(default_factory=list)
    pages: int = 0
    failed_pages: int = 0

    @property
    def exit_status(self) -> int:
        return 1 if self.failed else 0


def _has_image_suffix(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


def _expand_url(url: str, recursive: bool) -> tuple[list[BatchInput], str | None]:
    try:
        import fsspec
    except ImportError:
        return [], "reading URLs needs fsspec (pip install 'ocrai[dask]' or pip install fsspec)"
    fs, root = fsspec.core.url_to_fs(url)
    if not fs.isdir(root):
        return [BatchInput(url, Path(PurePosixPath(root).name))], None
    root = root.rstrip("/")
    listed = fs.find(root) if recursive else fs.ls(root, detail=False)
    found = []
    for item in sorted(str(p) for p in listed):
        relative = PurePosixPath(item).relative_to(PurePosixPath(root))
        if (
            _has_image_suffix(item)
            and not any(part.startswith(".") for part in relative.parts)
            and not fs.isdir(item)
        ):
            found.append(BatchInput(fs.unstrip_protocol(item), Path(*relative.parts)))
    if not found:
        return [], "no image files here"
    return found, None


def expand_inputs(
    names: Iterable[str | os.PathLike[str]], *, recursive: bool = False
) -> tuple[list[BatchInput], list[tuple[str, str]]]:
    """Files named as they are; folders replaced by the image files inside them (sorted;
    hidden files skipped; with `recursive`, sub-folders too, their structure kept for the
    outputs); fsspec URLs likewise (a URL of a folder or prefix, e.g. ``s3://bucket/scans/``,
    is listed with fsspec). Returns the inputs and the (name, reason) of folders holding no
    image."""
    inputs: list[BatchInput] = []
    errors: list[tuple[str, str]] = []
    for name in names:
        text = os.fspath(name)
        if is_url(text):
            found, error = _expand_url(text, recursive)
            inputs += found
            if error is not None:
                errors.append((text, error))
            continue
        path = Path(name)
        if not path.is_dir():
            inputs.append(BatchInput(str(path), Path(path.name)))
            continue
        pattern = path.rglob("*") if recursive else path.glob("*")
        found_paths = sorted(
            p
            for p in pattern
            if p.suffix.lower() in IMAGE_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found_paths:
            where = "or its sub-folders " if recursive else ""
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            errors.append((str(path), f"no image files in this folder {where}({suffixes})"))
        inputs += [BatchInput(str(p), p.relative_to(path)) for p in found_paths]
    return inputs, errors


def output_paths(inputs: Sequence[BatchInput], out_dir: Path, suffix: str) -> list[Path]:
    """One output per input: its name with `suffix` for its own suffix. Inputs that would
    share an output (``a.png`` and ``a.jpg``) keep their whole name (``a.png.txt``); any
    clash left gets ``-2``, ``-3``... in input order."""
    first = [out_dir / i.relative.with_suffix(suffix) for i in inputs]
    counts: dict[Path, int] = {}
    for path in first:
        counts[path] = counts.get(path, 0) + 1
    names = [
        out_dir / i.relative.with_name(i.relative.name + suffix) if counts[p] > 1 else p
        for i, p in zip(inputs, first, strict=True)
    ]
    taken: set[Path] = set()
    result = []
    for path in names:
        unique, n = path, 1
        while unique in taken:
            n += 1
            unique = path.with_name(f"{path.stem}-{n}{path.suffix}")
        taken.add(unique)
        result.append(unique)
    return result


def write_atomic(path: Path, content: str | bytes) -> None:
    """Writes `content` (text as UTF-8) to `path` through a temporary file in the same
    folder and an atomic rename: readers see the old file or the whole new one, never part
    of it, and an interrupted write leaves at most the hidden temporary file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def describe_error(name: str, exc: BaseException) -> str:
    """One line: the file and why it failed (see `ocrai.batch.error_reason`)."""
    return f"{name}: {error_reason(name, exc)}"


@dataclass
class SourceOutcome:
    """A source whose pages are all in: its output written (``target``), or why not."""

    index: int
    input: BatchInput
    pages: list[Page]
    target: Path | None = None
    error: str | None = None


@dataclass
class _Assembly:
    pages: int | None = None
    records: dict[int, PageRecord] = field(default_factory=dict)


class OutputWriter:
    """Collects page records in any order and writes one output per source once all of
    its pages are in: the exporter gets the pages in page order and the source (see
    `SOURCE_FORMATS`). A record for a (source, page) already held replaces it; records of a
    source already written are ignored (a late duplicate of a retried task). A source with a
    failed page gets no output; its reason names the first failed page.

    With ``out_dir`` None, documents go to ``stdout``: text as soon as a source and every
    source before it are done (sources separated by a form feed), other formats as one
    document holding every page, at `finish`. ``format_options`` go to the exporters of
    `SOURCE_FORMATS`.
    """

    def __init__(
        self,
        inputs: Sequence[BatchInput],
        *,
        fmt: str,
        out_dir: Path | None,
        stdout: TextIO,
        targets: Sequence[Path | None] | None = None,
        format_options: Mapping[str, object] | None = None,
    ) -> None:
        self.inputs = list(inputs)
        self.fmt = fmt
        self.format_options = dict(format_options or {})
        self.out_dir = out_dir
        self.stdout = stdout
        self._index = {item.source: k for k, item in enumerate(self.inputs)}
        if targets is None:
            targets = [None] * len(self.inputs)
            if out_dir is not None:
                targets = output_paths(self.inputs, out_dir, _suffix(fmt))
        self.targets = list(targets)
        self._counts: dict[str, int] = {}
        self._open: dict[str, _Assembly] = {}
        self._done: dict[int, SourceOutcome] = {}
        self._printed = 0  # sources before this index are printed (or failed)
        self._any_printed = False

    def expected_pages(self) -> int:
        """Pages known so far: the page counts of the sources opened, 1 for each other."""
        return len(self.inputs) + sum(n - 1 for n in self._counts.values())

    def add(self, record: PageRecord) -> SourceOutcome | None:
        """Takes one record; returns the source's outcome when this completed it."""
        index = self._index.get(record.source)
        if index is None or index in self._done:
            return None
        assembly = self._open.setdefault(record.source, _Assembly())
        if assembly.pages is None or record.ok:
            assembly.pages = record.pages
            self._counts[record.source] = record.pages
        assembly.records[record.page] = record
        if len(assembly.records) < assembly.pages or any(
            k not in assembly.records for k in range(assembly.pages)
        ):
            return None
        del self._open[record.source]
        outcome = self._complete(index, [assembly.records[k] for k in range(assembly.pages)])
        self._done[index] = outcome
        self._flush_text()
        return outcome

    def _complete(self, index: int, records: list[PageRecord]) -> SourceOutcome:
        item = self.inputs[index]
        outcome = SourceOutcome(index, item, [])
        bad = next((r for r in records if not r.ok), None)
        if bad is not None:
            reason = bad.error_message or bad.error_type or "failed"
            if len(records) > 1:
                reason = f"page {bad.page}: {reason}"
            outcome.error = reason
            return outcome
        try:
            outcome.pages = [r.to_page() for r in records]
            target = self.targets[index]
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                document = export_document(
                    self.fmt, outcome.pages, item.source, **self.format_options
                )
                write_atomic(target, document)
                outcome.target = target
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - one unwritable output must not stop the batch
            outcome.error = error_reason(item.source, exc)
            outcome.target = None
        return outcome

    def _flush_text(self) -> None:
        if self.out_dir is not None or self.fmt != "txt":
            return
        while self._printed in self._done:
            outcome = self._done[self._printed]
            if outcome.error is None:
                text = export_document(self.fmt, outcome.pages, outcome.input.source)
                assert isinstance(text, str)
                self.stdout.write(("\f" if self._any_printed else "") + text)
                self.stdout.flush()
                self._any_printed = True
            self._printed += 1

    def unfinished(self) -> list[tuple[BatchInput, list[int]]]:
        """Sources with pages never received, and which (the page source ended early)."""
        missing = []
        for k, item in enumerate(self.inputs):
            if k in self._done:
                continue
            assembly = self._open.get(item.source, _Assembly())
            pages = assembly.pages or 1
            missing.append((item, [p for p in range(pages) if p not in assembly.records]))
        return missing

    def finish(self) -> None:
        """Prints the one document of a non-text format when writing to stdout."""
        if self.out_dir is not None or self.fmt == "txt":
            return
        pages = [
            page
            for k in sorted(self._done)
            if self._done[k].error is None
            for page in self._done[k].pages
        ]
        if pages:
            document = export_document(self.fmt, pages, "")
            if isinstance(document, bytes):
                msg = f"-f {self.fmt} writes binary files: give an output folder (--out)"
                raise ValueError(msg)
            self.stdout.write(document)
            self.stdout.flush()


def _clock(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class _Progress:
    """A one-line progress display redrawn in place on a terminal: pages done of those
    known, pages failed, the rate and the time left; silent when disabled."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.total = 0
        self.done = 0
        self.failed = 0
        self.drawn = False
        self.start = time.monotonic()

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False

    def status(self, optional: int = 2) -> str:
        """``12/40 pages, 1 failed, 3.2/s, ETA 0:09`` (the rate in pages per second); the
        last `optional` parts are the rate and the time left, when known."""
        parts = [f"{self.done}/{self.total} pages"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        extra = []
        elapsed = time.monotonic() - self.start
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            extra.append(f"{rate:.1f}/s")
            if self.total > self.done:
                extra.append(f"ETA {_clock((self.total - self.done) / rate)}")
        return ", ".join(parts + extra[:optional])

    def show(self, current: str) -> None:
        if not self.enabled:
            return
        columns = shutil.get_terminal_size((80, 24)).columns
        width = 20 if columns >= 100 else 10
        filled = width * self.done // max(self.total, 1)
        bar = f"ocrai read [{'#' * filled}{'.' * (width - filled)}] "
        wanted = min(len(current), 16)  # the rate and ETA give way to the file name
        for optional in (2, 1, 0):
            text = f"{bar}{self.status(optional)} "
            if len(text) + wanted <= columns - 1:
                break
        room = max(columns - 1 - len(text), 8)
        if len(current) > room:  # keep the end of a long path: the file name
            current = "~" + current[-(room - 1) :]
        text = (text + current)[: max(columns - 1, 1)]
        self._clear()
        self.stream.write(text)
        self.stream.flush()
        self.drawn = True

    def message(self, line: str) -> None:
        self._clear()
        self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.total:
            self.show("done")
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


class BatchReader:
    """Reads sources and writes one output per source.

    The pages are read by `recognizer` in this process, or by ``page_source`` (a function
    from the sources to their page records, e.g. `ocrai.dask.read_pages` on a client); the
    outputs, reports and exit status do not depend on which.

    ``fmt`` is one of ``ocrai.export.FORMATS`` (txt, json, hocr, alto, tsv) or of
    `SOURCE_FORMATS`. With ``out_dir``, each source's output goes to
    ``out_dir/<name><ext>`` (a multi-page file is one multi-page document); without it,
    outputs go to ``stdout``: text as each file is read (files separated by a form feed),
    the other formats as one document holding every page, at the end. ``resume`` skips the
    sources whose output exists (outputs are written atomically: one that exists is
    whole). ``progress``: True, False, or None for a display on a terminal stderr when
    there is more than one file (and stdout is not that terminal). ``options`` are passed to
    ``recognize``; ``max_pixels`` and ``dpi`` to ``ocrai.io``; ``format_options`` to the
    exporter of a `SOURCE_FORMATS` format (``-f pdf``: ``existing_text``, what to do with
    PDF pages that already have text). ``-f pdf`` needs ``out_dir``.
    """

    def __init__(
        self,
        recognizer: Recognizer | None = None,
        *,
        fmt: str = "txt",
        out_dir: str | os.PathLike[str] | None = None,
        recursive: bool = False,
        detect: bool = True,
        progress: bool | None = None,
        max_pixels: int | None = None,
        dpi: float = PDF_DPI,
        options: Mapping[str, object] | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        resume: bool = False,
        page_source: PageSource | None = None,
        format_options: Mapping[str, object] | None = None,
    ) -> None:
        if fmt not in FORMATS and fmt not in SOURCE_FORMATS:
            choices = ", ".join([*FORMATS, *SOURCE_FORMATS])
            msg = f"unknown format {fmt!r}: choose one of {choices}"
            raise ValueError(msg)
        if (recognizer is None) == (page_source is None):
            msg = "give either a recognizer (read here) or a page_source (read elsewhere)"
            raise ValueError(msg)
        if resume and out_dir is None:
            msg = "resume needs an output folder: it skips sources whose output exists"
            raise ValueError(msg)
        if fmt in SOURCE_FORMATS and out_dir is None:
            msg = f"-f {fmt} writes binary files: give an output folder (-o DIR)"
            raise ValueError(msg)
        self.recognizer = recognizer
        self.page_source = page_source
        self.fmt = fmt
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.recursive = recursive
        self.detect = detect
        self.progress = progress
        self.max_pixels = max_pixels
        self.dpi = dpi
        self.options = dict(options or {})
        self.stdout = stdout
        self.stderr = stderr
        self.resume = resume
        self.format_options = dict(format_options or {})

    @property
    def config(self) -> ReaderConfig:
        """How pages are read (the engine itself aside)."""
        return ReaderConfig(
            detect=self.detect,
            max_pixels=self.max_pixels,
            dpi=self.dpi,
            options=tuple(self.options.items()),
        )

    def read_file(self, path: Path) -> list[Page]:
        """Every page of one file, recognised here; the first error ends the file."""
        if self.recognizer is None:
            msg = "read_file reads with a recognizer in this process"
            raise ValueError(msg)
        pages = []
        for loaded in iter_pages(path, max_pixels=self.max_pixels, dpi=self.dpi):
            page = self.recognizer.recognize(loaded, detect=self.detect, **self.options)
            pages.append(page.with_source(str(path), loaded.page))
        return pages

    def _records_here(self, sources: Sequence[str]) -> Iterator[PageRecord]:
        """Every page of every source, in order, read by the recognizer in this process."""
        reader = PageReader(self.config, engine=self.recognizer)
        for source in sources:
            first = reader.read(PageTask(source))
            yield first
            for k in range(1, first.pages):
                yield reader.read(PageTask(source, k, first.pages))

    def run(self, names: Iterable[str | os.PathLike[str]]) -> BatchResult:
        stdout = self.stdout or sys.stdout
        stderr = self.stderr or sys.stderr
        result = BatchResult()
        found, folder_errors = expand_inputs(names, recursive=self.recursive)
        inputs: list[BatchInput] = []
        seen: set[str] = set()
        for item in found:  # a source named twice is read once
            if item.source not in seen:
                seen.add(item.source)
                inputs.append(item)
        progress = _Progress(stderr, self._progress_wanted(stdout, stderr, inputs))
        for name, reason in folder_errors:
            result.failed.append((name, reason))
            progress.failed += 1
            progress.message(f"ocrai: {name}: {reason}")
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        targets = self._targets(inputs)  # names chosen over every input, skipped or not
        if self.resume:
            kept = [
                (item, target)
                for item, target in zip(inputs, targets, strict=True)
                if target is None or not target.is_file()
            ]
            todo = {item.source for item, _ in kept}
            result.skipped = [item.shown for item in inputs if item.source not in todo]
            inputs, targets = [i for i, _ in kept], [t for _, t in kept]
        if self.fmt == "pdf":  # refuse what the PDF writer would, before any page is read
            inputs, targets = self._pdf_writable(inputs, targets, result, progress)
        writer = OutputWriter(
            inputs,
            fmt=self.fmt,
            out_dir=self.out_dir,
            stdout=stdout,
            targets=targets,
            format_options=self.format_options,
        )
        sources = [item.source for item in inputs]
        records = (
            self._records_here(sources) if self.page_source is None else self.page_source(sources)
        )
        outcomes: list[SourceOutcome] = []
        progress.total = writer.expected_pages()
        received: set[tuple[str, int]] = set()
        for record in records:
            outcome = writer.add(record)
            progress.total = writer.expected_pages()
            if record.key not in received:  # a retried page is counted once
                received.add(record.key)
                progress.done += 1
                progress.failed += 0 if record.ok else 1
            if outcome is not None:
                outcomes.append(outcome)
                if outcome.error is not None:
                    progress.message(f"ocrai: {outcome.input.source}: {outcome.error}")
            progress.show(record.source)
        for item, pages in writer.unfinished():  # a page source that lost pages says so
            outcome = SourceOutcome(inputs.index(item), item, [])
            outcome.error = f"no result for page(s) {', '.join(map(str, pages))}"
            outcomes.append(outcome)
            progress.failed += 1
            progress.message(f"ocrai: {item.source}: {outcome.error}")
        progress.finish()
        writer.finish()
        for outcome in sorted(outcomes, key=lambda o: o.index):
            if outcome.error is not None:
                result.failed.append((outcome.input.source, outcome.error))
                continue
            result.read.append(outcome.input.shown)
            if outcome.target is not None:
                result.written.append(outcome.target)
        result.pages = progress.done
        result.failed_pages = progress.failed - len(folder_errors)
        return result

    @staticmethod
    def _pdf_writable(
        inputs: Sequence[BatchInput],
        targets: Sequence[Path | None],
        result: BatchResult,
        progress: _Progress,
    ) -> tuple[list[BatchInput], list[Path | None]]:
        """The inputs a searchable PDF can be made of; the others are reported failed."""
        kept: list[BatchInput] = []
        kept_targets: list[Path | None] = []
        for item, target in zip(inputs, targets, strict=True):
            try:
                if (
                    target is not None
                    and target.exists()
                    and target.resolve() == item.path.resolve()
                ):
                    msg = f"{item.source}: the PDF output would replace the input; choose another -o folder"
                    raise ValueError(msg)
                _check_pdf_source(item.source)
            except (KeyboardInterrupt, SystemExit, MemoryError):
                raise
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                reason = error_reason(item.source, exc)
                result.failed.append((item.source, reason))
                progress.failed += 1
                progress.message(f"ocrai: {item.source}: {reason}")
                continue
            kept.append(item)
            kept_targets.append(target)
        return kept, kept_targets

    def _targets(self, inputs: Sequence[BatchInput]) -> list[Path | None]:
        if self.out_dir is None:
            return [None] * len(inputs)
        return list(output_paths(inputs, self.out_dir, _suffix(self.fmt)))

    def _progress_wanted(
        self, stdout: TextIO, stderr: TextIO, inputs: Sequence[BatchInput]
    ) -> bool:
        if self.progress is not None:
            return self.progress
        if len(inputs) < 2 or not _isatty(stderr):
            return False
        return self.out_dir is not None or not _isatty(stdout)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
