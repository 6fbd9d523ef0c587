"""Shared fixtures: SIMD targets, tiny ONNX models written by the tests themselves, and a
model directory of the test session's own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ocrai import _core
from ocrai.testing import ServeProcess

SUPPORTED_TARGETS: list[str] = _core.simd_info()["supported"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="run the tests marked soak (minutes each)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="a soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _session_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Engines created without a model directory (and subprocesses) use a folder of this
    test session, never the user's data directory; tests that need another set their own."""
    path = tmp_path_factory.mktemp("ocrai-models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCRAI_MODEL_DIR", str(path))
        yield path


@pytest.fixture(params=SUPPORTED_TARGETS, ids=SUPPORTED_TARGETS)
def simd_target(request: pytest.FixtureRequest) -> Iterator[str]:
    """Forces every kernel onto one SIMD target for the test, then restores the default."""
    selected = _core._set_simd_targets([request.param])
    assert selected == request.param
    try:
        yield selected
    finally:
        _core._set_simd_targets([])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def write_affine_model(path: Path, scale: list[float], bias: list[float]) -> Path:
    """Writes y = relu(x * scale + bias) over a (n, len(scale)) float32 input: a model small
    enough to write in a test and whose outputs are known exactly."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    width = len(scale)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width])
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["x", "scale"], ["scaled"]),
            helper.make_node("Add", ["scaled", "bias"], ["shifted"]),
            helper.make_node("Relu", ["shifted"], ["y"]),
        ],
        "affine",
        [x],
        [y],
        [
            helper.make_tensor("scale", TensorProto.FLOAT, [width], scale),
            helper.make_tensor("bias", TensorProto.FLOAT, [width], bias),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model.metadata_props.add(key="ocrai.test", value="affine")
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def affine_model(tmp_path: Path) -> Callable[..., Path]:
    def make(scale: list[float], bias: list[float], name: str = "affine.onnx") -> Path:
        return write_affine_model(tmp_path / name, scale, bias)

    return make


def make_page_dict(
    blocks: list[list[str]] | None = None,
    *,
    width: int = 800,
    height: int = 600,
    top_k: int = 0,
) -> dict:
    """A page dict shaped like the native pipeline's (Appendix A.2 of the team brief) with
    consistent geometry: block b is a column, its lines stacked 40 px apart, every
    character 12 px wide, words split on spaces. For tests of results and exporters that
    do not need the models."""
    if blocks is None:
        blocks = [["Invoice 2026-114 <draft>", "Total: 1,284.50 & tax"], ["Second column"]]
    column = (width - 40) / max(len(blocks), 1)
    lines: list[dict] = []
    block_dicts: list[dict] = []
    for b, texts in enumerate(blocks):
        left = 20 + b * column
        indices = []
        for i, text in enumerate(texts):
            top = 20 + 40 * i
            length = max(12 * len(text), 1)
            quad = [[left, top], [left + length, top], [left + length, top + 30], [left, top + 30]]
            chars = []
            for k, ch in enumerate(text):
                char = {
                    "text": ch,
                    "confidence": 0.99 - 0.01 * (k % 5),
                    "x0": k / max(len(text), 1),
                    "x1": (k + 1) / max(len(text), 1),
                    "alternatives": [[ch.upper(), 0.005]] if top_k else [],
                }
                chars.append(char)
            words = []
            start = 0
            for part in text.split(" "):
                if part:
                    x0 = left + 12 * start
                    x1 = x0 + 12 * len(part)
                    words.append(
                        {
                            "text": part,
                            "confidence": 0.95 - 0.02 * len(words),
                            "quad": [[x0, top], [x1, top], [x1, top + 30], [x0, top + 30]],
                        }
                    )
                start += len(part) + 1
            indices.append(len(lines))
            lines.append(
                {
                    "text": text,
                    "confidence": 0.93 if text else 0.0,
                    "quad": quad,
                    "det_score": 0.88,
                    "block": b,
                    "rotated_180": False,
                    "model": "primary" if i % 2 == 0 else "fallback",
                    "chars": chars,
                    "words": words,
                }
            )
        if indices:
            boxes = [lines[i]["quad"] for i in indices]
            bbox = [
                min(q[0][0] for q in boxes),
                min(q[0][1] for q in boxes),
                max(q[2][0] for q in boxes),
                max(q[2][1] for q in boxes),
            ]
        else:
            bbox = [left, 20, left + 1, 21]
        block_dicts.append({"bbox": bbox, "lines": indices})
    return {
        "width": width,
        "height": height,
        "angle": 0.25,
        "deskewed": False,
        "lines": lines,
        "blocks": block_dicts,
        "timings": {
            "preprocess": 1.5,
            "detect": 20.25,
            "postprocess": 2.0,
            "crop": 1.0,
            "classify": 0.0,
            "recognize": 40.5,
            "decode": 0.75,
            "layout": 0.25,
            "total": 66.25,
        },
        "models": {
            "det": "ppocrv6-small-det.onnx",
            "rec": "ppocrv6-small-rec.onnx",
            "cls": None,
            "fallback": None,
        },
    }


@pytest.fixture
def page_dict() -> Callable[..., dict]:
    """The factory `make_page_dict`: a pipeline-shaped page dict for given line texts."""
    return make_page_dict


@pytest.fixture(scope="module")
def serve_process() -> Iterator[Callable[..., ServeProcess]]:
    """Starts `ocrai serve` subprocesses on free ports of 127.0.0.1 (with the given
    command-line arguments); every one still running is stopped when the module ends."""
    started: list[ServeProcess] = []

    def start(*args: str) -> ServeProcess:
        try:
            server = ServeProcess(list(args))
        except RuntimeError as exc:
            pytest.fail(str(exc))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
