from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import ocrai
from ocrai import _core


def test_version_matches_distribution() -> None:
    assert ocrai.__version__ == importlib.metadata.version("ocrai")
    assert _core.build_info()["version"] == ocrai.__version__


def test_build_info_reports_simd_and_onnxruntime() -> None:
    info = ocrai.build_info()
    assert info["simd_selected"] in info["simd_supported"]
    assert set(info["simd_supported"]) <= set(info["simd_compiled"])
    assert "scalar" in info["simd_supported"]
    assert info["onnxruntime_version"] == importlib.metadata.version("onnxruntime")
    assert (
        info["onnxruntime_library"].endswith(tuple(f".{n}" for n in ("so", "dylib", "dll")))
        or ".so." in info["onnxruntime_library"]
    )
    assert info["ort_api_version"] >= 29
    assert info["compiler"]


def test_simd_override_is_reversible() -> None:
    default = _core.simd_info()["selected"]
    assert _core._set_simd_targets(["scalar"]) == "scalar"
    assert _core.simd_info()["selected"] == "scalar"
    assert _core._set_simd_targets([]) == default


def test_import_does_not_load_onnxruntime() -> None:
    # Importing ocrai must stay cheap: neither the ORT library nor its Python module loads
    # until an engine or session needs them.
    code = (
        "import sys, ocrai; from ocrai import _core; "
        "assert _core.ort.runtime_info() is None; "
        "assert 'onnxruntime' not in sys.modules; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
