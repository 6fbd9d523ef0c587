"""Shared fixtures: SIMD targets, tiny ONNX models written by the tests themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ocrai import _core

SUPPORTED_TARGETS: list[str] = _core.simd_info()["supported"]


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
