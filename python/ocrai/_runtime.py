"""Finding and loading the ONNX Runtime shared library.

The core does not link against ONNX Runtime: it dlopen()s the library inside the installed
``onnxruntime`` wheel, found here without importing the ``onnxruntime`` Python module (which
would cost time and memory for nothing). ``OCRAI_ORT_LIBRARY`` points at another library file.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import TypedDict

from . import _core
from .errors import RuntimeLoadError

__all__ = ["RuntimeInfo", "find_library", "load"]

_ENV_LIBRARY = "OCRAI_ORT_LIBRARY"
_lock = threading.Lock()


class RuntimeInfo(TypedDict):
    version: str
    library_path: str
    api_version: int


def find_library() -> Path:
    """Path of the ONNX Runtime shared library that `load` would use."""
    override = os.environ.get(_ENV_LIBRARY)
    if override:
        path = Path(override)
        if not path.is_file():
            msg = f"{_ENV_LIBRARY}={override} is not a file"
            raise RuntimeLoadError(msg)
        return path
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        msg = (
            "ONNX Runtime is not installed: ocrai needs the onnxruntime package "
            "(pip install 'onnxruntime>=1.29'), or set OCRAI_ORT_LIBRARY to a libonnxruntime.so"
        )
        raise RuntimeLoadError(msg)
    candidates: list[Path] = []
    for location in spec.submodule_search_locations:
        capi = Path(location) / "capi"
        candidates += sorted(capi.glob("libonnxruntime.so*"))
        candidates += sorted(capi.glob("libonnxruntime*.dylib"))
        candidates += sorted(capi.glob("onnxruntime.dll"))
    # The versioned file is the library; the providers_shared helper is not.
    candidates = [c for c in candidates if "providers" not in c.name]
    if not candidates:
        where = ", ".join(spec.submodule_search_locations)
        msg = f"the onnxruntime package at {where} has no ONNX Runtime shared library in capi/"
        raise RuntimeLoadError(msg)
    return candidates[0]


def load() -> RuntimeInfo:
    """Loads ONNX Runtime once per process and returns what was loaded."""
    info = _core.ort.runtime_info()
    if info is not None:
        return info
    with _lock:
        info = _core.ort.runtime_info()
        if info is None:
            info = _core.ort.load_runtime(str(find_library()))
    return info
