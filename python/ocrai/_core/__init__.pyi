# Type stubs for the native core ocrai._core (cpp/bindings/module.cpp). Keep in step with
# the bindings; the submodules have their own files beside this one.
from typing import TypedDict

__version__: str

class _BuildInfo(TypedDict):
    version: str
    compiler: str
    cxx_standard: str
    build_type: str
    ort_headers: str
    ort_api_version: int
    sanitizers: bool

class _SimdInfo(TypedDict):
    compiled: list[str]
    supported: list[str]
    selected: str
    int8_dot_product: bool

def build_info() -> _BuildInfo:
    """Facts fixed when the core was compiled."""

def simd_info() -> _SimdInfo:
    """SIMD targets: compiled into this build, supported by this CPU, and the one
    every kernel dispatches to now; whether the CPU has int8 dot products (AVX512-VNNI or
    AVX-VNNI), which make quantised models faster."""

def _set_simd_targets(targets: list[str]) -> str:
    """Test-only: restrict dispatch to the named targets (the scalar reference is always
    allowed); an empty list restores the default. Returns the target now selected."""

from . import kernels as kernels
from . import ort as ort
from . import pipeline as pipeline
