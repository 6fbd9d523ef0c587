from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ocrai
from ocrai.cli import main


def test_info_prints_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == ocrai.__version__
    assert info["simd_selected"] in info["simd_supported"]
    assert info["onnxruntime_version"]


def test_info_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "simd_selected" in out
    assert "onnxruntime_version" in out


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert ocrai.__version__ in capsys.readouterr().out


def test_console_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ocrai", "info"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "onnxruntime_version" in result.stdout
