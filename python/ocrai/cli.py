"""The ``ocrai`` command line.

``ocrai info`` prints versions, SIMD targets and the ONNX Runtime in use; ``ocrai read``
reads image files (see `_add_read`). Each command is
one ``_add_<name>`` function that adds its parser and sets ``handler``; ``main`` returns the
exit status instead of calling ``sys.exit``, so tests can call it in-process.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._batch import BatchReader, Recognizer
from ._info import build_info
from .errors import OcrError
from .export import FORMATS
from .io import PDF_DPI

__all__ = ["main"]


def _cmd_info(args: argparse.Namespace) -> int:
    info = build_info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            print(f"{key:<{width}}  {shown}")
    return 0 if info.get("onnxruntime_version") else 1


def _add_info(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("info", help="versions, SIMD targets and ONNX Runtime")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_cmd_info)


_READ_PACKS = {"small": "ppocrv6-small", "tiny": "ppocrv6-tiny"}


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be 1 or more, not {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        msg = f"must be more than 0, not {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _open_engine(args: argparse.Namespace) -> Any:
    # Imported when the command runs: the engine loads the native runtime and models.
    engine = importlib.import_module("ocrai.engine")
    return engine.OcrAI(threads=args.threads, pack=_READ_PACKS[args.pack], fast=args.fast)


def _cmd_read(
    args: argparse.Namespace, make_engine: Callable[[argparse.Namespace], Recognizer] = _open_engine
) -> int:
    """Reads every file; one output per file (or stdout); 1 when any file failed, 2 when
    nothing could be read at all (no models, no output folder)."""
    if args.out is not None:
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(
                f"ocrai: error: cannot create the output folder {args.out}: {exc}", file=sys.stderr
            )
            return 2
    try:
        engine = make_engine(args)
    except (OcrError, OSError, ValueError, ImportError) as exc:
        print(f"ocrai: error: cannot load the models: {exc}", file=sys.stderr)
        return 2
    reader = BatchReader(
        engine,
        fmt=args.format,
        out_dir=args.out,
        recursive=args.recursive,
        detect=not args.no_detect,
        progress=args.progress,
        max_pixels=args.max_pixels,
        dpi=args.dpi,
    )
    try:
        result = reader.run(args.files)
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    finally:
        free = getattr(engine, "free_resources", None)
        if callable(free):
            free()
    if result.failed:
        total = len(result.read) + len(result.failed)
        print(f"ocrai: {len(result.failed)} of {total} inputs failed", file=sys.stderr)
    return result.exit_status


def _add_read(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "read",
        help="read the text of image files",
        description=(
            "Reads the text of image files (PNG, JPEG, TIFF, BMP, WebP, GIF, PNM; PDF with "
            "pypdfium2). Folders are searched for image files. Writes one output per file "
            "into --out, or prints to stdout. A file that cannot be read is reported on "
            "stderr and the others are still read; the exit status is 1 when any failed."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files or folders")
    parser.add_argument(
        "-f", "--format", choices=list(FORMATS), default="txt", help="output format (txt)"
    )
    parser.add_argument(
        "-o", "--out", metavar="DIR", help="write <name>.<format> files here (default: stdout)"
    )
    parser.add_argument(
        "--pack", choices=list(_READ_PACKS), default="small", help="model pack (small)"
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="read with the tiny pack, re-reading unsure lines with --pack's recogniser",
    )
    parser.add_argument(
        "-t", "--threads", type=_positive_int, metavar="N", help="threads (default: cores)"
    )
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="search folders' sub-folders too"
    )
    parser.add_argument(
        "--no-detect", action="store_true", help="every image is one text line: skip detection"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: on a terminal, for several files)",
    )
    parser.add_argument(
        "--max-pixels",
        type=_positive_int,
        metavar="N",
        help="refuse larger images (default: $OCRAI_MAX_PIXELS or 100000000)",
    )
    parser.add_argument(
        "--dpi",
        type=_positive_float,
        default=PDF_DPI,
        metavar="DPI",
        help=f"resolution of rendered PDF pages ({PDF_DPI:g})",
    )
    parser.set_defaults(handler=_cmd_read)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocrai", description="Offline OCR with a native core.")
    parser.add_argument("--version", action="version", version=f"ocrai {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_info(commands)
    _add_read(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except KeyboardInterrupt:
        print("ocrai: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
