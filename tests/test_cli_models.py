"""``ocrai models list|path|install|remove|verify|prune``, run in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrai.cli import main
from ocrai.models import ENV_MODEL_DIR, ModelStore

pytestmark = pytest.mark.models

Capsys = pytest.CaptureFixture[str]


def models(d: Path, *args: str) -> int:
    return main(["models", "--model-dir", str(d), *args])


def test_path_uses_the_option_then_the_environment(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert models(tmp_path / "a", "path") == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "a")
    assert (tmp_path / "a").is_dir()
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path / "env"))
    assert main(["models", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "env")


def test_install_list_verify_remove(tmp_path: Path, capsys: Capsys) -> None:
    d = tmp_path / "m"
    assert models(d, "list") == 0
    assert "no model files" in capsys.readouterr().out

    assert models(d, "install", "ppocrv6-tiny") == 0
    out = capsys.readouterr().out
    assert "installed ppocrv6-tiny-rec.onnx (rec, 4.5 MB)" in out
    (d / "old_thing.onnx").write_bytes(b"x")

    assert models(d, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "old_thing.onnx",
        "ppocrv6-tiny-det.onnx",
        "ppocrv6-tiny-dict.txt",
        "ppocrv6-tiny-rec.onnx",
    ]
    assert lines[0].endswith("unrecorded")
    assert "PP-OCRv6 tiny  6.0" in lines[3]

    assert models(d, "list", "--json") == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records][1:] == [
        "ppocrv6-tiny-det.onnx",
        "ppocrv6-tiny-dict.txt",
        "ppocrv6-tiny-rec.onnx",
    ]
    assert records[3]["kind"] == "rec"
    assert records[3]["sha256"] == ModelStore(d).manifest()["ppocrv6-tiny-rec.onnx"].sha256

    assert models(d, "verify") == 0
    out = capsys.readouterr().out
    assert "ok          ppocrv6-tiny-rec.onnx" in out
    assert "unrecorded  old_thing.onnx" in out

    (d / "ppocrv6-tiny-dict.txt").write_text("changed")
    assert models(d, "verify", "--json") == 1
    status = {r["name"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert status["ppocrv6-tiny-dict.txt"] == "corrupt"

    assert models(d, "remove", "old_thing.onnx", "ppocrv6-tiny-dict.txt") == 0
    assert capsys.readouterr().out.splitlines() == [
        "removed old_thing.onnx",
        "removed ppocrv6-tiny-dict.txt",
    ]
    assert ModelStore(d).list_local() == ["ppocrv6-tiny-det.onnx", "ppocrv6-tiny-rec.onnx"]


def test_install_a_local_file_and_prune(
    tmp_path: Path, capsys: Capsys, affine_model: Callable[..., Path]
) -> None:
    d = tmp_path / "m"
    src = affine_model([1.0], [0.0])
    for version in ("1.0", "1.1"):
        args = ["--kind", "rec", "--family", "F", "--variant", "v", "--version", version]
        assert models(d, "install", str(src), *args, "--name", f"f-{version}.onnx") == 0
    capsys.readouterr()
    assert models(d, "list") == 0
    assert "outdated" in next(
        line for line in capsys.readouterr().out.splitlines() if "1.0" in line
    )
    assert models(d, "prune", "--dry-run") == 0
    assert capsys.readouterr().out.strip() == "would remove f-1.0.onnx"
    assert ModelStore(d).list_local() == ["f-1.0.onnx", "f-1.1.onnx"]
    assert models(d, "prune") == 0
    assert capsys.readouterr().out.strip() == "removed f-1.0.onnx"
    assert models(d, "prune") == 0
    assert capsys.readouterr().out.strip() == "nothing to prune"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["remove", "../escape.onnx"], "invalid model name"),
        (["remove", "absent.onnx"], "not in the model directory"),
        (["install", "ppocrv9"], "neither a local file nor a model pack"),
        (["verify", "--json"], None),
    ],
)
def test_errors_are_one_line_on_stderr(
    tmp_path: Path, capsys: Capsys, args: list[str], message: str | None
) -> None:
    status = models(tmp_path / "m", *args)
    captured = capsys.readouterr()
    if message is None:
        assert status == 0
        assert json.loads(captured.out) == []
        return
    assert status == 1
    assert captured.out == ""
    assert captured.err.startswith(f"ocrai models {args[0]}: error: ")
    assert message in captured.err
    assert len(captured.err.splitlines()) == 1


def test_an_action_is_required(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["models"])
    assert exc.value.code == 2
    assert "ACTION" in capsys.readouterr().err
