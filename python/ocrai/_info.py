"""What this installation of ocrai is made of."""

from __future__ import annotations

import platform
from typing import Any

from . import _core, _runtime
from .errors import RuntimeLoadError

__all__ = ["build_info"]


def build_info() -> dict[str, Any]:
    """Versions and capabilities of this installation.

    Returns a dict with the package ``version``, the ``compiler`` and ``build_type`` of the
    core, the SIMD targets (``simd_compiled``, ``simd_supported``, ``simd_selected``), and
    the ONNX Runtime that is loaded (``onnxruntime_version``, ``onnxruntime_library``), or
    ``onnxruntime_error`` saying why it cannot be loaded. Loads ONNX Runtime if needed.
    """
    core = _core.build_info()
    simd = _core.simd_info()
    info: dict[str, Any] = {
        "version": core["version"],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "compiler": core["compiler"],
        "cxx_standard": core["cxx_standard"],
        "build_type": core["build_type"],
        "sanitizers": core["sanitizers"],
        "simd_compiled": simd["compiled"],
        "simd_supported": simd["supported"],
        "simd_selected": simd["selected"],
        "int8_dot_product": simd["int8_dot_product"],
        "ort_headers": core["ort_headers"],
        "ort_api_version": core["ort_api_version"],
    }
    try:
        runtime = _runtime.load()
    except RuntimeLoadError as exc:
        info["onnxruntime_version"] = None
        info["onnxruntime_error"] = str(exc)
    else:
        info["onnxruntime_version"] = runtime["version"]
        info["onnxruntime_library"] = runtime["library_path"]
    return info
