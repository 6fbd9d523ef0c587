# Stubs for ocrai._core.ort (cpp/bindings/register_runtime.cpp).
from typing import Any, TypedDict

import numpy.typing as npt

class _RuntimeInfo(TypedDict):
    version: str
    library_path: str
    api_version: int

def load_runtime(library_path: str) -> _RuntimeInfo:
    """Loads the ONNX Runtime shared library once per process and creates the one ORT
    environment. Later calls return the runtime loaded first. Raises RuntimeLoadError."""

def runtime_info() -> _RuntimeInfo | None:
    """The loaded runtime's version, library path and API version, or None."""

def trim_native_heap() -> bool:
    """Returns freed native heap to the operating system (glibc malloc_trim)."""

def set_heap_trim_threshold(size: int) -> bool:
    """Sets glibc's heap trim threshold (M_TRIM_THRESHOLD); False where unsupported.
    A release lowers it while destroying sessions so that per-thread arenas give their free top
    back (malloc_trim cannot), then sets a steady-state value."""

class Session:
    """One ONNX model loaded in ONNX Runtime."""

    def __init__(
        self,
        model_path: str,
        *,
        intra_op_threads: int = 1,
        inter_op_threads: int = 1,
        optimization: str = "all",
        cpu_mem_arena: bool = True,
        allow_spinning: bool = False,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> list[tuple[str, str, list[int]]]: ...
    @property
    def outputs(self) -> list[tuple[str, str, list[int]]]: ...
    @property
    def metadata(self) -> dict[str, str]: ...
    @property
    def closed(self) -> bool: ...
    def run(self, feeds: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        """Runs the model: {input name: array} -> {output name: array}."""
    def close(self) -> None:
        """Destroys the native session now; runs in flight finish first."""
