"""The reference tutorial's complete example script, run unchanged but for its import line,
against a model directory that also holds files named ``old_*.onnx``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocrai.models import ENV_MODEL_DIR

pytestmark = pytest.mark.models

# The complete example of the reference tutorial; the only change is its first import line,
# which named the original vendor's module (`from aspose.ocr.ai import AsposeAI`).
TUTORIAL_SCRIPT = """\
# Full script: how to free ocr, list ai, get ocr paths, and list ocr models
from ocrai import OcrAI as AsposeAI
import os

def main():
    # Initialize OCR AI
    ocr_ai = AsposeAI()

    # 1️⃣ List all local OCR models
    local_models = ocr_ai.list_local()
    print("Models on disk:", local_models)

    # 2️⃣ Optional: clean up old models
    for model_name in local_models:
        if model_name.startswith("old_"):
            os.remove(os.path.join(ocr_ai.get_local_path(), model_name))
            print(f"Deleted {model_name}")

    # 3️⃣ Show where the models live (how to get ocr)
    model_dir = ocr_ai.get_local_path()
    print("Model directory:", model_dir)

    # 4️⃣ Audit models (list ocr models)
    for name in ocr_ai.list_local():
        status = "OLD" if name.startswith("old_") else "CURRENT"
        print(f"{status}: {os.path.join(model_dir, name)}")

    # 5️⃣ Finally, free all native resources (how to free ocr)
    ocr_ai.free_resources()
    print("All OCR resources have been released.")

if __name__ == "__main__":
    main()
"""

DEFAULT_FILES = ["ppocrv6-small-det.onnx", "ppocrv6-small-dict.txt", "ppocrv6-small-rec.onnx"]


def test_the_tutorial_script_runs(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ["old_en_ocr_v1.onnx", "old_fr_ocr_v1.onnx", "en_ocr_v2.onnx"]:
        (models / name).write_bytes(b"an older model")
    script = tmp_path / "ocr_cleanup.py"
    script.write_text(TUTORIAL_SCRIPT, encoding="utf-8")
    env = {**os.environ, ENV_MODEL_DIR: str(models), "PYTHONIOENCODING": "utf-8"}

    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    # The first use put the default pack into the directory, beside the user's files.
    listed = sorted(["en_ocr_v2.onnx", "old_en_ocr_v1.onnx", "old_fr_ocr_v1.onnx", *DEFAULT_FILES])
    current = sorted(["en_ocr_v2.onnx", *DEFAULT_FILES])
    assert result.stdout.splitlines() == [
        f"Models on disk: {listed}",
        "Deleted old_en_ocr_v1.onnx",
        "Deleted old_fr_ocr_v1.onnx",
        f"Model directory: {models}",
        *(f"CURRENT: {models / name}" for name in current),
        "All OCR resources have been released.",
    ]
    left = sorted(p.name for p in models.iterdir() if not p.name.startswith("."))
    assert left == current
    # Nothing holds the directory: it can be renamed (the tutorial's own check).
    models.rename(tmp_path / "renamed")


def test_the_compact_listing_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path))
    (tmp_path / "old_x.onnx").write_bytes(b"x")
    from ocrai import OcrAI as AsposeAI

    ai = AsposeAI()
    print(ai.list_local())
    ai.free_resources()
    assert capsys.readouterr().out.strip() == str(sorted(["old_x.onnx", *DEFAULT_FILES]))
