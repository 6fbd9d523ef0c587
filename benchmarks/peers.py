"""The OCR peers the benchmarks read beside ocrai, loaded and configured in one place.

Used by ``bench_pipeline.py`` (latency) and ``accuracy.py`` (CER). None of them is a
dependency of ocrai (``pip install --group pyproject.toml:peers`` puts them in a development
environment):

- rapidocr 3.10, PP-OCRv6 small (its bundled files), line classifier off;
- rapidocr-ng 5.0.0a5, a native PP-OCRv6 engine run on rapidocr 3.10's det/rec files and the
  dictionary in the recogniser's metadata. It installs as the module ``rapidocr`` too, so
  beside rapidocr 3.10 it lives in its own folder (``pip install --no-deps --target DIR
  rapidocr-ng==5.0.0a5``, then ``OCRAI_PEER_RAPIDOCR_NG=DIR``) and is loaded from there
  under the name ``rapidocr_ng``. It always detects: ``use_det=False`` raises;
- faster-paddle 1.0.4, a Rust PP-OCRv6 runtime with its own ONNX Runtime and its bundled
  small model. It reads encoded images only (given PNG bytes here) and always detects: its
  API (``ocr``, ``ocr_batch``, ``ocr_base64``, ``prepare``) has no recognition-only call.

Plain Python (no pytest): a peer that is not there raises ImportError saying why, which the
benchmarks turn into a skip.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

RAPIDOCR_VERSION = "3.10"
RAPIDOCR_NG_ENV = "OCRAI_PEER_RAPIDOCR_NG"
RAPIDOCR_NG_MODULE = "rapidocr_ng"


def to_bgr(image: np.ndarray) -> np.ndarray:
    """A grey, RGB or RGBA image as contiguous BGR, the ndarray order of the rapidocr peers."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, 2::-1])  # RGB(A) -> BGR


# --- rapidocr 3.10 ---------------------------------------------------------------------------


def rapidocr_310() -> Any:
    """rapidocr 3.10's package. ImportError when it is not installed or another version is."""
    try:
        installed = version("rapidocr")
    except PackageNotFoundError:
        msg = f"rapidocr {RAPIDOCR_VERSION} is not installed (the module rapidocr is not it)"
        raise ImportError(msg) from None
    if not installed.startswith(RAPIDOCR_VERSION):
        msg = f"rapidocr {installed} is installed; the peer measured here is {RAPIDOCR_VERSION}"
        raise ImportError(msg)
    return importlib.import_module("rapidocr")


def rapidocr_engine(threads: int = 2) -> Any:
    """rapidocr 3.10 (PP-OCRv6 small) as ``notes/peers.md`` ran it: line classifier off,
    `threads` intra-op threads, one inter-op thread. ImportError without it or onnxruntime."""
    rapidocr = rapidocr_310()
    if importlib.util.find_spec("onnxruntime") is None:
        msg = "onnxruntime is not installed (rapidocr 3.10 runs on it)"
        raise ImportError(msg)
    return rapidocr.RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.log_level": "error",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


# --- rapidocr-ng -----------------------------------------------------------------------------


def load_rapidocr_ng() -> Any:
    """rapidocr-ng's package (import name ``rapidocr``) from the folder named by
    ``OCRAI_PEER_RAPIDOCR_NG``, under the name ``rapidocr_ng``. ImportError without it."""
    if RAPIDOCR_NG_MODULE in sys.modules:
        return sys.modules[RAPIDOCR_NG_MODULE]
    folder = os.environ.get(RAPIDOCR_NG_ENV)
    if not folder:
        msg = f"rapidocr-ng: set {RAPIDOCR_NG_ENV} to its pip --target folder"
        raise ImportError(msg)
    root = Path(folder) / "rapidocr"
    spec = importlib.util.spec_from_file_location(
        RAPIDOCR_NG_MODULE, root / "__init__.py", submodule_search_locations=[str(root)]
    )
    if spec is None or spec.loader is None or not (root / "_native.py").is_file():
        msg = f"no rapidocr-ng package in {folder} ({RAPIDOCR_NG_ENV})"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[RAPIDOCR_NG_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[RAPIDOCR_NG_MODULE]
        raise
    return module


def rapidocr_ng_version() -> str:
    return str(load_rapidocr_ng().__version__)


def rapidocr_ng_engine(keys_dir: Path) -> Any:
    """rapidocr-ng on rapidocr 3.10's PP-OCRv6 small det/rec files, its dictionary the rec
    model's metadata "character" (written into `keys_dir`, which must outlive the engine's
    first call: it reads the file then), line classifier off (it has none). Its thread count
    is its own (the machine's hardware threads): it has no setting for it. ImportError
    without rapidocr 3.10 or rapidocr-ng."""
    models = Path(rapidocr_310().__file__).parent / "models"  # the same PP-OCRv6 small files
    ng = load_rapidocr_ng()
    from ocrai import _core, _runtime

    _runtime.load()
    rec = models / "PP-OCRv6_rec_small.onnx"
    keys = keys_dir / "ppocrv6_small_dict.txt"
    keys.write_text(_core.ort.Session(str(rec)).metadata["character"], encoding="utf-8")
    return ng.RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.log_level": "error",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(rec),
            "Rec.rec_keys_path": str(keys),
        }
    )


# --- faster-paddle ---------------------------------------------------------------------------


def faster_paddle_engine(threads: int = 2) -> Any:
    """faster-paddle's engine with its bundled small model and a budget of `threads`.
    ImportError when it is not installed."""
    faster_paddle = importlib.import_module("faster_paddle")
    return faster_paddle.OcrEngine(model_size="small", threads=threads)


def faster_paddle_version() -> str:
    return version("faster-paddle")


def png_bytes(image: np.ndarray) -> bytes:
    """`image` (grey, RGB or RGBA) encoded as PNG, quickly (compression level 1)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def faster_paddle_reader(engine: Any, image: np.ndarray) -> Callable[[], str]:
    """A call reading `image` (encoded once, as PNG, beforehand) with a faster-paddle engine."""
    encoded = png_bytes(image)
    # "structured_text" is its reading in reading order ("text" groups lines its own way).
    return lambda: str(engine.ocr(encoded)["structured_text"])
