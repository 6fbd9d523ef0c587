"""Batch reading for ``ocrai read``: input expansion, per-file errors, atomic outputs.

`BatchReader` reads files with any object that has the engine's ``recognize`` method (an
`ocrai.OcrAI`, or a stand-in in tests), so the file handling is tested without models.
One bad file never stops a batch: each failure is reported on stderr with its reason,
every readable file still gets its output, and the exit status says whether anything
failed. Outputs are written to a temporary file in the output folder, then renamed over
the final name, so an interrupted run never leaves a half-written file under that name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from .errors import OcrError
from .export import FORMATS, to_overlay_png
from .io import PDF_DPI, LoadedImage, iter_pages
from .results import Page

__all__ = [
    "IMAGE_SUFFIXES",
    "BatchReader",
    "BatchResult",
    "Recognizer",
    "expand_inputs",
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


@dataclass(frozen=True)
class BatchInput:
    """A file to read and where its output goes, relative to the output folder."""

    path: Path
    relative: Path


@dataclass
class BatchResult:
    """What a batch did: the files read, the outputs written and the failures with their
    reasons, in input order."""

    read: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return 1 if self.failed else 0


def expand_inputs(
    names: Iterable[str | os.PathLike[str]], *, recursive: bool = False
) -> tuple[list[BatchInput], list[tuple[str, str]]]:
    """Files named as they are; folders replaced by the image files inside them (sorted;
    hidden files skipped; with `recursive`, sub-folders too, their structure kept for the
    outputs). Returns the inputs and the (name, reason) of folders holding no image."""
    inputs: list[BatchInput] = []
    errors: list[tuple[str, str]] = []
    for name in names:
        path = Path(name)
        if not path.is_dir():
            inputs.append(BatchInput(path, Path(path.name)))
            continue
        pattern = path.rglob("*") if recursive else path.glob("*")
        found = sorted(
            p
            for p in pattern
            if p.suffix.lower() in IMAGE_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            where = "or its sub-folders " if recursive else ""
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            errors.append((str(path), f"no image files in this folder {where}({suffixes})"))
        inputs += [BatchInput(p, p.relative_to(path)) for p in found]
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


#: The format that draws each page's result over its image (`ocrai.export.to_overlay_png`):
#: one PNG per input file, written into the output folder only.
OVERLAY_FORMAT = "overlay"
OVERLAY_SUFFIX = ".overlay.png"


def write_atomic(path: Path, text: str | bytes) -> None:
    """Writes `text` (str as UTF-8, or bytes) to `path` through a temporary file in the same folder and an
    atomic rename: readers see the old file or the whole new one, never part of it, and
    an interrupted write leaves at most the hidden temporary file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(text.encode("utf-8") if isinstance(text, str) else text)
            file.flush()
            os.fsync(file.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def describe_error(name: str, exc: BaseException) -> str:
    """One line: the file and why it failed, without repeating the name."""
    if isinstance(exc, OSError) and not isinstance(exc, OcrError) and exc.strerror:
        reason = exc.strerror
        # A failed rename names the temporary file first: the target says more.
        shown = exc.filename2 if exc.filename2 is not None else exc.filename
        if shown is not None and os.fspath(shown) != name:
            reason += f": {os.fspath(shown)}"
    else:
        reason = str(exc).strip() or type(exc).__name__
        if not isinstance(exc, (OcrError, ValueError, TypeError)):
            reason = f"{type(exc).__name__}: {reason}"
    reason = " ".join(reason.split())
    return reason if reason.startswith(f"{name}: ") else f"{name}: {reason}"


class _Progress:
    """A one-line progress bar redrawn in place on a terminal; silent when disabled."""

    def __init__(self, stream: TextIO, total: int, enabled: bool) -> None:
        self.stream = stream
        self.total = total
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self.drawn = False

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False

    def show(self, current: str) -> None:
        if not self.enabled:
            return
        columns = shutil.get_terminal_size((80, 24)).columns
        width = 20
        filled = width * self.done // max(self.total, 1)
        failed = f", {self.failed} failed" if self.failed else ""
        text = f"ocrai read [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
        text += f"{failed} "
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
    """Reads files with `recognizer` and writes one output per file.

    ``fmt`` is one of ``ocrai.export.FORMATS`` (txt, json, hocr, alto, tsv). With
    ``out_dir``, each file's output goes to ``out_dir/<name><ext>`` (a multi-page file is
    one multi-page document); without it, outputs go to ``stdout``: text as each file is
    read (files separated by a form feed), the other formats as one document holding every
    page, at the end. ``progress``: True, False, or None for a bar on a terminal stderr
    when there is more than one file (and stdout is not that terminal). ``options`` are
    passed to ``recognize``; ``max_pixels`` and ``dpi`` to ``ocrai.io.iter_pages``.
    """

    def __init__(
        self,
        recognizer: Recognizer,
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
    ) -> None:
        if fmt not in FORMATS and fmt != OVERLAY_FORMAT:
            msg = f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}, {OVERLAY_FORMAT}"
            raise ValueError(msg)
        if fmt == OVERLAY_FORMAT and out_dir is None:
            msg = "the overlay format writes PNG files: give an output folder"
            raise ValueError(msg)
        self.recognizer = recognizer
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
        self._images: list[LoadedImage] = []  # the last file's pages, kept for overlays

    def read_file(self, path: Path) -> list[Page]:
        """Every page of one file, recognised; the first error ends the file."""
        pages = []
        self._images = []
        for loaded in iter_pages(path, max_pixels=self.max_pixels, dpi=self.dpi):
            page = self.recognizer.recognize(loaded, detect=self.detect, **self.options)
            pages.append(page.with_source(str(path), loaded.page))
            if self.fmt == OVERLAY_FORMAT:
                self._images.append(loaded)
        return pages

    def run(self, names: Iterable[str | os.PathLike[str]]) -> BatchResult:
        stdout = self.stdout or sys.stdout
        stderr = self.stderr or sys.stderr
        if self.fmt == OVERLAY_FORMAT:
            exporter, suffix = None, OVERLAY_SUFFIX
        else:
            exporter, suffix = FORMATS[self.fmt]
        result = BatchResult()
        inputs, folder_errors = expand_inputs(names, recursive=self.recursive)
        progress = _Progress(stderr, len(inputs), self._progress_wanted(stdout, stderr, inputs))
        for name, reason in folder_errors:
            result.failed.append((name, reason))
            progress.message(f"ocrai: {name}: {reason}")
        targets: list[Path | None] = [None] * len(inputs)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            targets = list(output_paths(inputs, self.out_dir, suffix))
        collected: list[Page] = []
        printed = 0
        for item, target in zip(inputs, targets, strict=True):
            name = str(item.path)
            progress.show(name)
            try:
                pages = self.read_file(item.path)
                if target is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if exporter is None:
                        images, self._images = self._images, []
                        write_atomic(target, to_overlay_png(pages, images))
                    else:
                        write_atomic(target, exporter(pages))
                    result.written.append(target)
                elif self.fmt == "txt" and exporter is not None:
                    stdout.write(("\f" if printed else "") + exporter(pages))
                    stdout.flush()
                    printed += 1
                else:
                    collected += pages
                result.read.append(item.path)
            except (KeyboardInterrupt, SystemExit, MemoryError):
                raise
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                reason = describe_error(name, exc)
                result.failed.append((name, reason.removeprefix(f"{name}: ")))
                progress.failed += 1
                progress.message(f"ocrai: {reason}")
            progress.done += 1
        progress.finish()
        if collected and exporter is not None:
            stdout.write(exporter(collected))
            stdout.flush()
        return result

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
