"""The int8 recogniser: choosing it (`ocrai.precision`), deriving it (`ocrai.int8`, needs
onnx) and reading with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrai import OcrAI, packs, testing
from ocrai.models import ModelStore
from ocrai.precision import (
    AUTO_INT8_FAST_PACKS,
    AUTO_INT8_PACKS,
    choose_rec,
    fast_int8_cpu,
    int8_name,
)

SMALL = "ppocrv6-small"
TINY = "ppocrv6-tiny"
REC = packs.get_pack(SMALL).file("rec")
TINY_REC = packs.get_pack(TINY).file("rec")


def _fake_int8(store: ModelStore, source: str, pack: str = SMALL) -> None:
    """Records a copy of `pack`'s fp32 recogniser as its int8 file, with `source`."""
    rec = packs.get_pack(pack).file("rec")
    store.ensure_pack(pack, {"rec"})
    src = store.path_of(rec.name)
    store.install_file(
        src, kind="rec", name=int8_name(rec.name), source=source, pack=pack, validate=False
    )


def test_int8_name() -> None:
    assert int8_name("ppocrv6-small-rec.onnx") == "ppocrv6-small-rec-int8.onnx"


def test_fast_int8_cpu_is_the_cores_vnni_detection() -> None:
    # The core asks the CPU (cpuid); Linux lists the same features in /proc/cpuinfo.
    flags: set[str] = set()
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo to compare with")
    for line in cpuinfo.read_text(encoding="ascii", errors="replace").splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    assert fast_int8_cpu() == bool(flags & {"avx512_vnni", "avx_vnni"})


def test_choice_without_an_int8_file(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    assert choose_rec(store, REC.name, SMALL, "auto", vnni=True).precision == "fp32"
    assert choose_rec(store, REC.name, SMALL, "fp32", vnni=True).name == REC.name
    with pytest.raises(FileNotFoundError, match="ocrai models derive ppocrv6-small"):
        choose_rec(store, REC.name, SMALL, "int8", vnni=True)


def test_choice_with_an_int8_file(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _fake_int8(store, f"derived:test:from-sha256:{REC.sha256}:onnxruntime-x:onnx-y")
    int8 = int8_name(REC.name)
    trusted = frozenset({SMALL})
    assert choose_rec(store, REC.name, SMALL, "auto", vnni=True, auto_packs=trusted).name == int8
    assert choose_rec(store, REC.name, SMALL, "int8", vnni=False).name == int8
    # without VNNI int8 is not faster: auto keeps fp32
    auto = choose_rec(store, REC.name, SMALL, "auto", vnni=False, auto_packs=trusted)
    assert auto.name == REC.name
    assert choose_rec(store, REC.name, SMALL, "fp32", vnni=True).name == REC.name


def test_auto_reads_int8_checked_by_fp32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The small pack's int8 file alone lost 0.10 CER points on sroie; checked by fp32 it
    # reads every development set as fp32 does, so auto uses it in the default mode.
    import ocrai.precision

    assert SMALL in AUTO_INT8_PACKS
    store = ModelStore(tmp_path)
    _fake_int8(store, f"derived:test:from-sha256:{REC.sha256}:onnxruntime-x:onnx-y")
    _fake_int8(store, f"derived:test:from-sha256:{TINY_REC.sha256}:test", pack=TINY)
    dict_name = packs.get_pack(SMALL).file("dict").name
    monkeypatch.setattr(ocrai.precision, "fast_int8_cpu", lambda: True)
    with OcrAI(model_dir=tmp_path, threads=1) as engine:
        assert engine.precision == "int8"
        files = engine.model_files
        assert files["rec_model"].endswith(int8_name(REC.name))
        # the fp32 recogniser the int8 one was derived from re-reads its doubtful lines
        assert files["fallback_rec_model"].endswith("/" + REC.name)
        assert files["fallback_rec_dict"].endswith("/" + dict_name)
        assert files["rec_dict"] == files["fallback_rec_dict"]
    # fast mode: the tiny int8 recogniser, checked by its fp32 one, then the small one in
    # fp32 as the fallback; int8 and fp32 say what they read with, unchecked
    assert TINY in AUTO_INT8_FAST_PACKS
    with OcrAI(model_dir=tmp_path, threads=1, fast=True) as fast:
        assert fast.precision == "int8"
        assert fast.model_files["rec_model"].endswith(int8_name(TINY_REC.name))
        assert fast.model_files["check_rec_model"].endswith("/" + TINY_REC.name)
        assert fast.model_files["fallback_rec_model"].endswith("/" + REC.name)
    for precision in ("int8", "fp32"):
        with OcrAI(model_dir=tmp_path, threads=1, fast=True, precision=precision) as unchecked:
            assert "check_rec_model" not in unchecked.model_files
    with OcrAI(model_dir=tmp_path, threads=1, precision="int8") as int8:
        assert int8.model_files["rec_model"].endswith(int8_name(REC.name))
        assert "fallback_rec_model" not in int8.model_files
    with OcrAI(model_dir=tmp_path, threads=1, precision="fp32") as fp32:
        assert fp32.model_files["rec_model"].endswith("/" + REC.name)
        assert "fallback_rec_model" not in fp32.model_files
    # a custom recogniser is read as given, unchecked
    custom = OcrAI(model_dir=tmp_path, threads=1, rec_model=REC.name)
    assert custom.precision == "fp32"
    assert "fallback_rec_model" not in custom.model_files
    custom.free_resources()
    # a custom dictionary leaves nothing to check with: auto stays fp32
    with OcrAI(model_dir=tmp_path, threads=1, rec_dict=dict_name) as own_dict:
        assert own_dict.precision == "fp32"
        assert own_dict.model_files["rec_model"].endswith("/" + REC.name)
        assert "fallback_rec_model" not in own_dict.model_files
    # without VNNI int8 is not faster: auto is plain fp32
    monkeypatch.setattr(ocrai.precision, "fast_int8_cpu", lambda: False)
    with OcrAI(model_dir=tmp_path, threads=1) as plain:
        assert plain.precision == "fp32"
        assert "fallback_rec_model" not in plain.model_files
    with OcrAI(model_dir=tmp_path, threads=1, fast=True) as plain_fast:
        assert plain_fast.precision == "fp32"
        assert "check_rec_model" not in plain_fast.model_files


def test_a_stale_or_foreign_int8_file_is_not_used(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _fake_int8(store, f"derived:test:from-sha256:{'0' * 64}:onnxruntime-x:onnx-y")
    assert choose_rec(store, REC.name, SMALL, "auto", vnni=True).precision == "fp32"
    _fake_int8(store, "file:/somewhere/else.onnx")
    with pytest.raises(FileNotFoundError):
        choose_rec(store, REC.name, SMALL, "int8", vnni=True)


def test_engine_precision_argument(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="precision must be one of"):
        OcrAI(model_dir=tmp_path, precision="int4")
    with pytest.raises(FileNotFoundError, match="ocrai models derive"):
        OcrAI(model_dir=tmp_path, precision="int8")
    engine = OcrAI(model_dir=tmp_path)  # auto without an int8 file: fp32
    assert engine.precision == "fp32"
    assert engine.model_files["rec_model"].endswith(REC.name)
    engine.free_resources()


def test_packs_without_a_recipe_read_fp32(tmp_path: Path) -> None:
    # A pack without an int8 recipe reads in fp32 under every precision, no error.
    store = ModelStore(tmp_path)
    for precision in ("auto", "int8", "fp32"):
        assert choose_rec(store, "custom-rec.onnx", "custom", precision, vnni=True).precision == (
            "fp32"
        )


def test_fast_mode_int8_applies_to_both_recognisers(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _fake_int8(store, f"derived:test:from-sha256:{REC.sha256}:test")
    # The tiny recogniser's int8 file is missing: int8 names the step that derives it.
    with pytest.raises(FileNotFoundError, match="ocrai models derive ppocrv6-tiny"):
        OcrAI(model_dir=tmp_path, fast=True, precision="int8", threads=1)
    _fake_int8(store, f"derived:test:from-sha256:{TINY_REC.sha256}:test", pack=TINY)
    engine = OcrAI(model_dir=tmp_path, fast=True, precision="int8", threads=1)
    try:
        files = engine.model_files
        assert files["rec_model"].endswith(int8_name(TINY_REC.name))
        assert files["fallback_rec_model"].endswith(int8_name(REC.name))
        assert engine.precision == "int8"
    finally:
        engine.free_resources()
    with OcrAI(model_dir=tmp_path, fast=True, precision="fp32", threads=1) as fp32:
        assert fp32.model_files["rec_model"].endswith(TINY_REC.name)
        assert fp32.model_files["fallback_rec_model"].endswith(REC.name)


def test_derive_refuses_a_pack_without_a_recipe(tmp_path: Path) -> None:
    from ocrai.int8 import derive, derive_into_store

    with pytest.raises(ValueError, match="ppocrv5-cls's recogniser has no int8 version"):
        derive_into_store(ModelStore(tmp_path), "ppocrv5-cls")
    assert not list(tmp_path.glob("*-int8.onnx"))
    with pytest.raises(ValueError, match="not defined for ppocrv5-cls"):
        derive(tmp_path / "any.onnx", tmp_path / "out.onnx", pack="ppocrv5-cls")


def test_int8_lines_read_the_fp32_calibration() -> None:
    from ocrai.calibration import load_maps
    from ocrai.precision import fp32_of

    assert fp32_of(int8_name(REC.name)) == REC.name
    assert fp32_of(REC.name) == REC.name
    maps = load_maps()
    for rec in (REC, TINY_REC):
        own = maps.lookup(rec.name, "page")
        assert own  # the shipped maps cover both recognisers
        assert maps.lookup(int8_name(rec.name), "page") == own
    assert maps.lookup("custom-rec.onnx", "page") == {}


# --- derived for real (onnx needed) ---------------------------------------------------------


@pytest.fixture(scope="module")
def derived_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    pytest.importorskip("onnx")
    from ocrai.int8 import derive_into_store

    store = ModelStore(tmp_path_factory.mktemp("int8-models"))
    derive_into_store(store, SMALL)
    derive_into_store(store, TINY)
    return store


@pytest.mark.slow
@pytest.mark.parametrize("pack", [SMALL, TINY])
def test_derived_file_is_recorded(derived_store: ModelStore, pack: str) -> None:
    from ocrai.int8 import RECIPE

    rec = packs.get_pack(pack).file("rec")
    entry = derived_store.manifest()[int8_name(rec.name)]
    assert entry.source is not None
    assert entry.source.startswith(f"derived:{RECIPE}:from-sha256:{rec.sha256}:")
    assert entry.pack == pack
    assert entry.kind == "rec"
    assert [r.status for r in derived_store.verify([entry.name])] == ["ok"]


@pytest.mark.slow
@pytest.mark.parametrize("pack", [SMALL, TINY])
def test_derivation_is_deterministic(tmp_path: Path, pack: str) -> None:
    pytest.importorskip("onnx")
    from ocrai.int8 import derive

    rec = packs.get_pack(pack).file("rec")
    store = ModelStore(tmp_path / "store")
    store.ensure_pack(pack, {"rec"})
    src = store.path_of(rec.name)
    # a short calibration keeps the test quick; the recipe's own was checked the same
    # way (`ocrai models derive` twice into two directories, same sha256)
    first = derive(src, tmp_path / "a.onnx", pack=pack, count=6)
    second = derive(src, tmp_path / "b.onnx", pack=pack, count=6)
    assert first == second
    # The recipe's last step saves the graph as ORT optimises it: QLinearConvs instead of
    # Q/DQ pairs around Convs, and the same outputs, bit for bit.
    import onnx
    import onnxruntime as ort

    derive(src, tmp_path / "qdq.onnx", pack=pack, count=6, optimised=False)
    qdq = onnx.load(str(tmp_path / "qdq.onnx")).graph.node
    dequantised = {out for n in qdq if n.op_type == "DequantizeLinear" for out in n.output}
    quantised_convs = [n for n in qdq if n.op_type == "Conv" and n.input[1] in dequantised]
    fused = onnx.load(str(tmp_path / "a.onnx")).graph.node
    assert quantised_convs
    assert len([n for n in fused if n.op_type == "QLinearConv"]) == len(quantised_convs)
    assert len(fused) < 0.6 * len(qdq)
    from ocrai import int8

    x = int8.prepare(next(int8.calibration_lines(1, seed=3)).image)
    outputs = []
    for name in ("a.onnx", "qdq.onnx"):
        session = ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        outputs.append(session.run(None, {session.get_inputs()[0].name: x})[0])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    # Step 4: the CTC head is one int8 DynamicQuantizeMatMul, and it picks the classes the
    # float head picks on degraded lines.
    heads = [n for n in fused if n.op_type == "DynamicQuantizeMatMul"]
    assert len(heads) == 1
    output = onnx.load(str(tmp_path / "a.onnx")).graph.output[0].name
    assert heads[0].output[0] == next(n for n in fused if output in n.output).input[0]
    derive(src, tmp_path / "float_head.onnx", pack=pack, count=6, quantise_head=False)
    assert not [
        n
        for n in onnx.load(str(tmp_path / "float_head.onnx")).graph.node
        if n.op_type == "DynamicQuantizeMatMul"
    ]
    sessions = [
        ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        for name in ("a.onnx", "float_head.onnx")
    ]
    agree, steps = 0, 0
    for line in int8.calibration_lines(4, seed=5):
        x = int8.prepare(line.image)
        picked = [s.run(None, {s.get_inputs()[0].name: x})[0].argmax(-1) for s in sessions]
        agree += int((picked[0] == picked[1]).sum())
        steps += picked[0].size
    assert agree >= 0.99 * steps


def _head_model(path: Path, *, transposed: bool, identity: bool = True) -> np.ndarray:
    """Writes a graph that ends as a recogniser does (features, MatMul by the class
    weights, bias Add, Softmax) to `path`; returns an input for it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    k, classes = 24, 300
    weights = rng.normal(0, 0.3, (k, classes)).astype(np.float32)
    bias = rng.normal(0, 0.5, classes).astype(np.float32)
    if transposed:  # ONNX Runtime's FusedMatMul reading [N, K, T] as [N, T, K]
        shape = ["n", k, "t"]
        matmul = helper.make_node(
            "FusedMatMul", ["x", "w"], ["m"], domain="com.microsoft", transA=1, alpha=1.0
        )
    else:
        shape = ["n", "t", k]
        matmul = helper.make_node("MatMul", ["x", "w"], ["m"])
    nodes = [matmul, helper.make_node("Add", ["m", "b"], ["a"])]
    if identity:
        nodes.append(helper.make_node("Identity", ["a"], ["i"]))
    nodes.append(helper.make_node("Softmax", [nodes[-1].output[0]], ["p"], axis=2))
    graph = helper.make_graph(
        nodes,
        "head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", "t", classes])],
        [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    onnx.save(model, str(path))
    x = rng.normal(0, 1, (3, 40, k)).astype(np.float32)
    return np.ascontiguousarray(x.transpose(0, 2, 1)) if transposed else x


@pytest.mark.parametrize("transposed", [False, True], ids=["matmul", "fused-transposed"])
def test_quantised_head_reads_as_the_float_head(tmp_path: Path, transposed: bool) -> None:
    pytest.importorskip("onnx")
    import onnx
    import onnxruntime as ort

    from ocrai.int8 import _quantise_head

    path = tmp_path / "head.onnx"
    x = _head_model(path, transposed=transposed)

    def run() -> np.ndarray:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return np.asarray(session.run(None, {"x": x})[0])

    before = run()
    _quantise_head(path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops == (["Transpose"] if transposed else []) + ["DynamicQuantizeMatMul", "Softmax"]
    after = run()
    assert after.shape == before.shape
    assert (after.argmax(-1) == before.argmax(-1)).mean() >= 0.97
    assert np.abs(after - before).max() < 0.05
    np.testing.assert_allclose(after.sum(-1), 1.0, rtol=1e-5)


def test_quantise_head_refuses_a_graph_without_the_head(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    import onnx
    from onnx import helper

    from ocrai.int8 import _quantise_head

    path = tmp_path / "head.onnx"
    _head_model(path, transposed=False, identity=False)
    model = onnx.load(str(path))
    softmax = model.graph.node[-1]
    model.graph.node.remove(softmax)
    model.graph.node.append(helper.make_node("Relu", list(softmax.input), list(softmax.output)))
    onnx.save(model, str(path))
    with pytest.raises(ValueError, match="MatMul, Add"):
        _quantise_head(path)


@pytest.mark.slow  # the derivation takes 1-2 minutes
@pytest.mark.parametrize("fast", [False, True], ids=["default", "fast"])
@pytest.mark.parametrize("lang", list(testing.SAMPLE_TEXT))
def test_int8_reads_rendered_pages_as_fp32(
    derived_store: ModelStore, lang: str, fast: bool
) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang, font_size=32, noise=3.0)
    cers = {}
    for precision in ("fp32", "int8"):
        with OcrAI(
            model_dir=derived_store.path, precision=precision, threads=2, fast=fast
        ) as engine:
            assert engine.precision == precision
            result = engine.recognize(page.image)
            suffix = "-int8.onnx" if precision == "int8" else "-rec.onnx"
            assert result.models.rec is not None
            assert result.models.rec.endswith(suffix)
            assert result.models.fallback is None or result.models.fallback.endswith(suffix)
            # the int8 recognisers' lines get the calibrated confidence of their fp32 ones
            assert all(line.raw_confidence is not None for line in result.lines)
            cers[precision] = testing.cer(result.text, page.text, lang)
    assert cers["int8"] <= cers["fp32"] + 0.01, cers


@pytest.mark.slow  # the derivation takes 1-2 minutes
def test_auto_rereads_the_int8_doubts_with_fp32(
    derived_store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Auto: every line the int8 recogniser doubted is the fp32 recogniser's reading of it,
    and the page reads as well as in fp32."""
    import ocrai.precision

    monkeypatch.setattr(ocrai.precision, "fast_int8_cpu", lambda: True)
    # receipt-like: noisy, small, tight, where int8 alone drops spaces and colons
    lines = [f"{t} :  RM {k}.{k * 7 % 100:02d}" for k, t in enumerate(testing.SAMPLE_TEXT["en"])]
    page = testing.render_page(lines, font_size=22, noise=12.0)
    with OcrAI(model_dir=derived_store.path, threads=2) as auto:
        checked = auto.recognize(page.image, orientation="off")
    with OcrAI(model_dir=derived_store.path, threads=2, precision="fp32") as fp32:
        plain = fp32.recognize(page.image, orientation="off")
    assert checked.models.rec is not None
    assert checked.models.rec.endswith("-int8.onnx")
    assert checked.models.fallback == REC.name
    assert len(checked.lines) == len(plain.lines)
    reread = [k for k, line in enumerate(checked.lines) if line.model == "fallback"]
    assert reread  # the noise leaves some doubt
    for k in reread:
        assert checked.lines[k].text == plain.lines[k].text
        assert checked.lines[k].raw_confidence == pytest.approx(plain.lines[k].raw_confidence)
    assert all(line.raw_confidence is not None for line in checked.lines)
    assert testing.cer(checked.text, page.text, "en") <= testing.cer(plain.text, page.text, "en")


@pytest.mark.slow  # the derivation takes 1-2 minutes
def test_fast_auto_checks_the_tiny_int8_with_its_fp32(
    derived_store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fast mode under auto: every line the tiny int8 recogniser doubted is checked by its
    fp32 one and then goes through the fallback's gate as in fast mode in fp32, so a checked
    line reads exactly as fp32 reads it; the page reads as well as in fp32."""
    import ocrai.precision

    monkeypatch.setattr(ocrai.precision, "fast_int8_cpu", lambda: True)
    lines = [f"{t} :  RM {k}.{k * 7 % 100:02d}" for k, t in enumerate(testing.SAMPLE_TEXT["en"])]
    page = testing.render_page(lines, font_size=22, noise=12.0)
    with OcrAI(model_dir=derived_store.path, threads=2, fast=True) as auto:
        checked = auto.recognize(page.image, orientation="off")
    with OcrAI(model_dir=derived_store.path, threads=2, fast=True, precision="fp32") as fp32:
        plain = fp32.recognize(page.image, orientation="off")
    assert checked.models.rec == int8_name(TINY_REC.name)
    assert (checked.models.check, checked.models.fallback) == (TINY_REC.name, REC.name)
    assert plain.models.check is None
    assert len(checked.lines) == len(plain.lines)
    rechecked = [k for k, line in enumerate(checked.lines) if line.checked]
    assert rechecked  # the noise leaves some doubt
    for k in rechecked:
        assert (checked.lines[k].text, checked.lines[k].model) == (
            plain.lines[k].text,
            plain.lines[k].model,
        )
    assert testing.cer(checked.text, page.text, "en") <= testing.cer(plain.text, page.text, "en")


def test_cli_read_precision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from ocrai import cli

    image = tmp_path / "fr.png"
    page = testing.render_page(testing.SAMPLE_TEXT["fr"][:1], lang="fr", font_size=32)
    Image.fromarray(page.image).save(image)
    models = str(tmp_path / "models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCRAI_MODEL_DIR", models)
        assert cli.main(["read", str(image), "--precision", "int8"]) == 2
        assert "ocrai models derive ppocrv6-small" in capsys.readouterr().err
        assert cli.main(["read", str(image), "--precision", "fp32"]) == 0
        assert "Facture" in capsys.readouterr().out


def test_cli_derive_derives_every_pack_with_a_recipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from ocrai import cli, int8

    monkeypatch.setenv("OCRAI_MODEL_DIR", str(tmp_path))
    # A pack without a recipe: one line on stderr, status 1.
    assert cli.main(["models", "derive", "ppocrv5-cls"]) == 1
    assert "no int8 version" in capsys.readouterr().err
    derived: list[str] = []

    def fake(store: ModelStore, pack: str) -> object:
        derived.append(pack)
        return SimpleNamespace(name=f"{pack}-rec-int8.onnx", sha256="0" * 64, source="derived")

    monkeypatch.setattr(int8, "derive_into_store", fake)
    assert cli.main(["models", "derive"]) == 0
    assert derived == [SMALL, TINY]
    out = capsys.readouterr().out
    assert "ppocrv6-small-rec-int8.onnx" in out
    assert "ppocrv6-tiny-rec-int8.onnx" in out
    assert cli.main(["models", "derive", TINY]) == 0
    assert derived == [SMALL, TINY, TINY]
    # --missing: only packs without a current int8 file (a stale one counts as missing:
    # derived from another fp32 file, or by an older recipe)
    capsys.readouterr()
    store = ModelStore(tmp_path)
    _fake_int8(store, f"derived:{int8.RECIPE}:from-sha256:{REC.sha256}:test")
    _fake_int8(store, f"derived:{int8.RECIPE}:from-sha256:{'0' * 64}:test", pack=TINY)
    assert cli.main(["models", "derive", "--missing"]) == 0
    assert derived == [SMALL, TINY, TINY, TINY]
    assert f"{int8_name(REC.name)}  already derived" in capsys.readouterr().out
    _fake_int8(store, f"derived:int8-rec-0:from-sha256:{REC.sha256}:test")
    _fake_int8(store, f"derived:{int8.RECIPE}:from-sha256:{TINY_REC.sha256}:test", pack=TINY)
    assert cli.main(["models", "derive", "--missing"]) == 0
    assert derived == [SMALL, TINY, TINY, TINY, SMALL]
