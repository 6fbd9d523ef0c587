"""ocrai: offline OCR for Python with a native C++ core."""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only reached by a broken install
    msg = (
        "the native core ocrai._core could not be imported; ocrai must be installed with "
        "`pip install .` from a source checkout (a compiler, CMake and network access to "
        f"PyPI and npm are needed for the build): {exc}"
    )
    raise ImportError(msg) from exc

from ._info import build_info
from .errors import (
    ImageError,
    ImageTooLargeError,
    InferenceError,
    ModelError,
    OcrError,
    PageIndexError,
    ResourcesReleasedError,
    RuntimeLoadError,
)

__version__: str = _core.__version__

__all__ = [
    "ImageError",
    "ImageTooLargeError",
    "InferenceError",
    "ModelError",
    "OcrError",
    "PageIndexError",
    "ResourcesReleasedError",
    "RuntimeLoadError",
    "__version__",
    "build_info",
]
