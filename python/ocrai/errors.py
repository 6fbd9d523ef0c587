"""Exceptions raised by ocrai.

Every exception that ocrai raises on purpose derives from `OcrError`, and also from the
built-in exception a caller would naturally catch (`RuntimeError`, `ValueError`, ...), so
existing ``except`` clauses keep working. The native core's C++ exceptions are mapped to
these classes in one place (``cpp/bindings/register_errors.cpp``).
"""

from __future__ import annotations

__all__ = [
    "ImageError",
    "ImageTooLargeError",
    "InferenceError",
    "ModelError",
    "OcrError",
    "PageIndexError",
    "ResourcesReleasedError",
    "RuntimeLoadError",
]


class OcrError(Exception):
    """Base class of the errors that ocrai raises on purpose."""


class RuntimeLoadError(OcrError, RuntimeError):
    """ONNX Runtime is missing, cannot be loaded, or is too old for this build of ocrai."""


class ModelError(OcrError, RuntimeError):
    """A model file cannot be loaded or does not fit its role; the message names the file."""


class InferenceError(OcrError, RuntimeError):
    """ONNX Runtime failed while running a loaded model."""


class ResourcesReleasedError(OcrError, RuntimeError):
    """The engine's native resources were released by ``free_resources()``; create a new one."""


class ImageError(OcrError, ValueError):
    """An image input cannot be used: an unknown format, truncated or corrupt data, zero
    size, an unsupported pixel mode or value range. The message names the source."""


class ImageTooLargeError(ImageError):
    """The image has more pixels than the configured limit (``max_pixels`` or the
    ``OCRAI_MAX_PIXELS`` environment variable); raised from the header, before decoding."""


class PageIndexError(ImageError, IndexError):
    """The requested page does not exist in a multi-page input (TIFF, PDF)."""
