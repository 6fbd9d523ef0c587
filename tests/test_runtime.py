"""The ONNX Runtime binding: loading, sessions, errors, lifetime, threads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import ocrai
from ocrai import _core, _runtime


@pytest.fixture(scope="module", autouse=True)
def _runtime_loaded() -> None:
    _runtime.load()


def test_runtime_is_loaded_once_per_process() -> None:
    first = _runtime.load()
    again = _core.ort.load_runtime("/nonexistent/libonnxruntime.so")
    assert again == first
    assert first["version"].count(".") == 2


def test_session_runs_and_returns_exact_values(affine_model: Callable[..., Path]) -> None:
    path = affine_model([1.0, 2.0, -3.0], [0.5, 0.0, 1.0])
    session = _core.ort.Session(str(path), intra_op_threads=2)
    assert session.name == "affine.onnx"
    assert session.inputs == [("x", "float32", [-1, 3])]
    assert session.outputs == [("y", "float32", [-1, 3])]
    assert session.metadata == {"ocrai.test": "affine"}

    x = np.array([[1.0, -1.0, 2.0], [0.0, 4.0, -3.0]], dtype=np.float32)
    y = session.run({"x": x})["y"]
    expected = np.maximum(x * np.array([1.0, 2.0, -3.0]) + np.array([0.5, 0.0, 1.0]), 0.0)
    np.testing.assert_array_equal(y, expected.astype(np.float32))
    assert y.dtype == np.float32
    assert y.shape == (2, 3)

    session.close()
    assert session.closed
    session.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        session.run({"x": x})


def test_outputs_outlive_the_session(affine_model: Callable[..., Path]) -> None:
    session = _core.ort.Session(str(affine_model([2.0], [0.0])))
    y = session.run({"x": np.ones((4, 1), np.float32)})["y"]
    session.close()
    del session
    np.testing.assert_array_equal(y, np.full((4, 1), 2.0, np.float32))


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(ocrai.ModelError, match=r"nope\.onnx"):
        _core.ort.Session(str(missing))


@pytest.mark.parametrize("content", [b"", b"not a model" * 20], ids=["empty", "garbage"])
def test_corrupt_model_raises_model_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(content)
    with pytest.raises(ocrai.ModelError, match=r"corrupt\.onnx"):
        _core.ort.Session(str(path))


def test_truncated_model_raises_model_error(
    tmp_path: Path, affine_model: Callable[..., Path]
) -> None:
    data = affine_model([1.0, 2.0], [0.0, 0.0]).read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ocrai.ModelError, match=r"truncated\.onnx"):
        _core.ort.Session(str(path))


def test_bad_feeds_are_rejected_clearly(affine_model: Callable[..., Path]) -> None:
    session = _core.ort.Session(str(affine_model([1.0, 1.0], [0.0, 0.0])))
    with pytest.raises(ValueError, match="shape"):
        session.run({"x": np.zeros((1, 3), np.float32)})
    with pytest.raises(ValueError, match="float32"):
        session.run({"x": np.zeros((1, 2), np.float64)})
    with pytest.raises(ValueError, match="missing input 'x'"):
        session.run({})
    with pytest.raises(ValueError, match="unknown input 'z'"):
        session.run({"x": np.zeros((1, 2), np.float32), "z": np.zeros(1, np.float32)})
    with pytest.raises(ValueError, match="C-contiguous"):
        session.run({"x": np.zeros((2, 4), np.float32)[:, ::2]})
    with pytest.raises(TypeError, match="numpy array"):
        session.run({"x": [[1.0, 2.0]]})
    # The session still works after every rejected call.
    y = session.run({"x": np.ones((1, 2), np.float32)})["y"]
    np.testing.assert_array_equal(y, np.ones((1, 2), np.float32))


def test_threads_share_one_session(affine_model: Callable[..., Path]) -> None:
    session = _core.ort.Session(str(affine_model([3.0, -1.0, 0.5, 2.0], [1.0, 1.0, 1.0, 1.0])))
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((64, 4)).astype(np.float32) for _ in range(8)]
    expected = [session.run({"x": x})["y"] for x in inputs]
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = [session.run({"x": inputs[i]})["y"] for _ in range(50)]
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(8):
        for y in results[i]:
            np.testing.assert_array_equal(y, expected[i])


def test_close_while_running_is_safe(affine_model: Callable[..., Path]) -> None:
    session = _core.ort.Session(str(affine_model([1.0] * 16, [0.0] * 16)))
    x = np.ones((20000, 16), np.float32)
    outcomes: list[str] = []

    def work() -> None:
        for _ in range(200):
            try:
                session.run({"x": x})
            except ValueError:
                outcomes.append("closed")
                return
        outcomes.append("finished")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    session.close()
    for t in threads:
        t.join()
    assert len(outcomes) == 4
    assert session.closed


def _run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_missing_runtime_fails_at_first_use_not_import(tmp_path: Path) -> None:
    result = _run_python(
        """
        import ocrai
        from ocrai import _runtime
        try:
            _runtime.load()
        except ocrai.RuntimeLoadError as exc:
            print("RuntimeLoadError:", exc)
        """,
        {"OCRAI_ORT_LIBRARY": str(tmp_path / "libonnxruntime.so.missing")},
    )
    assert result.returncode == 0, result.stderr
    assert "RuntimeLoadError:" in result.stdout
    assert "libonnxruntime.so.missing" in result.stdout


def test_library_that_is_not_onnxruntime_is_rejected(tmp_path: Path) -> None:
    libm = next(Path("/").glob("lib*/**/libm.so.6"), None)
    if libm is None:
        pytest.skip("no libm.so.6 to stand in for a foreign library")
    result = _run_python(
        """
        import ocrai
        from ocrai import _runtime
        try:
            _runtime.load()
        except ocrai.RuntimeLoadError as exc:
            print("RuntimeLoadError:", exc)
        """,
        {"OCRAI_ORT_LIBRARY": str(libm)},
    )
    assert result.returncode == 0, result.stderr
    assert "not an ONNX Runtime library" in result.stdout


FAKE_OLD_ORT = r"""
#include <stddef.h>
typedef struct OrtApi OrtApi;
typedef struct OrtApiBase {
  const OrtApi* (*GetApi)(unsigned int version);
  const char* (*GetVersionString)(void);
} OrtApiBase;
static const OrtApi* get_api(unsigned int version) { (void)version; return NULL; }
static const char* version_string(void) { return "1.10.0"; }
static const OrtApiBase base = {get_api, version_string};
const OrtApiBase* OrtGetApiBase(void) { return &base; }
"""


def test_too_old_onnxruntime_is_named(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a stand-in for an old ONNX Runtime")
    source = tmp_path / "fake_ort.c"
    source.write_text(FAKE_OLD_ORT)
    library = tmp_path / "libonnxruntime.so.1.10.0"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    result = _run_python(
        """
        import ocrai
        from ocrai import _runtime
        try:
            _runtime.load()
        except ocrai.RuntimeLoadError as exc:
            print("RuntimeLoadError:", exc)
        """,
        {"OCRAI_ORT_LIBRARY": str(library)},
    )
    assert result.returncode == 0, result.stderr
    assert "onnxruntime 1.10.0" in result.stdout
    assert "too old" in result.stdout


def test_telemetry_files_are_not_written(tmp_path: Path, affine_model: Callable[..., Path]) -> None:
    model = affine_model([1.0], [0.0])
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env_without = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import numpy as np; from ocrai import _core, _runtime; _runtime.load(); "
                f"s = _core.ort.Session({str(model)!r}); "
                "s.run({'x': np.ones((1, 1), np.float32)})"
            ),
        ],
        capture_output=True,
        text=True,
        env={**env_without, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = [p.relative_to(home) for p in home.rglob("*")]
    assert not [p for p in written if "Microsoft" in str(p) or "onnxruntime" in str(p)], written
