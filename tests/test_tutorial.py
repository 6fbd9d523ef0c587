"""The reference tutorial's complete example script, run unchanged but for its import line,
against a model directory that also holds files named ``old_*.onnx``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ocrai.models import ENV_MODEL_DIR

pytestmark = pytest.mark.models

# The reference tutorial ships beside the checkout (shared/reference, as in CI); its text is
# not the project's, so the test reads the script from there instead of carrying a copy.
TUTORIAL = Path("reference") / "tutorial-fr.md"
ORIGINAL_IMPORT = "from aspose.ocr.ai import AsposeAI"
OUR_IMPORT = "from ocrai import OcrAI as AsposeAI"


def find_tutorial() -> Path | None:
    """shared/reference/tutorial-fr.md beside the checkout (or a worktree of it), or under
    $OCRAI_SHARED."""
    candidates = [Path(os.environ["OCRAI_SHARED"])] if os.environ.get("OCRAI_SHARED") else []
    candidates += [parent / "shared" for parent in Path(__file__).resolve().parents[1:4]]
    return next((c / TUTORIAL for c in candidates if (c / TUTORIAL).is_file()), None)


def tutorial_script() -> str:
    """The tutorial's last complete example (the last ```python block with a main()), with
    only its import line changed to name ocrai."""
    path = find_tutorial()
    if path is None:
        pytest.skip(
            "the reference tutorial (shared/reference/tutorial-fr.md) is not beside the checkout"
        )
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    complete = [b for b in blocks if "def main():" in b and "__main__" in b]
    assert complete, f"no complete example script in {path}"
    script = complete[-1]
    assert script.count(ORIGINAL_IMPORT) == 1, "the tutorial's import line changed"
    return script.replace(ORIGINAL_IMPORT, OUR_IMPORT)


DEFAULT_FILES = ["ppocrv6-small-det.onnx", "ppocrv6-small-dict.txt", "ppocrv6-small-rec.onnx"]


def test_the_tutorial_script_runs(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ["old_en_ocr_v1.onnx", "old_fr_ocr_v1.onnx", "en_ocr_v2.onnx"]:
        (models / name).write_bytes(b"an older model")
    script = tmp_path / "ocr_cleanup.py"
    script.write_text(tutorial_script(), encoding="utf-8")
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
