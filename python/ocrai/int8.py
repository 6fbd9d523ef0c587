"""The int8 recogniser: derived on the user's machine from a pack's pinned fp32 recogniser.

Nothing here runs when text is read: the engine only loads the file this module wrote (see
`ocrai.engine`'s ``precision``). Deriving needs ``onnx`` and ``onnxruntime``'s quantisation
tools (``pip install onnx``) and the fonts of `ocrai.testing` (Debian fonts-dejavu-core,
fonts-noto-cjk); the core install does not.

The recipe (`RECIPE`), from measurements on PP-OCRv6 (numbers in the commit history and
``notes/onnxruntime.md``):

1. the fp32 graph goes from opset 11 to 17 (per-channel DequantizeLinear needs 13+), and
   ONNX Runtime saves it optimised at the EXTENDED level with conv+activation fusion off,
   so that the Gelu/LayerNorm fusions are kept and every Conv stays quantisable;
2. Conv layers get QDQ pairs (per-channel int8 weights, uint8 activations), except the
   layers `_KEEP_FP32` lists for the pack (the ones whose int8 error hurt the reading
   most: the stem of both, the neck of the small one);
3. activation scales come from histograms (99.99th percentile of absolute values)
   collected one input at a time, so the calibration set is not bounded by memory, over
   `calibration_lines`: text lines rendered by `ocrai.testing` in the six languages and
   degraded like scans (uneven ribbon ink, blur, noise, JPEG, grey or yellowed paper, low
   contrast, a slight tilt, the neighbours' ink at the crop's edges), prepared as the
   pipeline prepares its crops (height 48, padding within a batch);
4. the CTC head (the features' projection onto the classes, and its bias) becomes one
   DynamicQuantizeMatMul: int8 weights per class, the features quantised per batch at run
   time, the bias added in the same pass (`_quantise_head`: a fifth of the recogniser's
   time was that float projection and the pass of the bias over the class tensor);
5. the quantised graph is saved as ONNX Runtime optimises it at the EXTENDED level, the
   work every session creation would repeat: each QDQ-wrapped Conv becomes one QLinearConv
   (small: 444 nodes -> 231), and creating the engine's pipeline takes 64 ms instead of 85
   (fresh processes, 2 threads, medians of 8: a fifth of a cold start's 0.3 s).
   The outputs are bitwise those of the QDQ graph (the same fusions, done once), and the
   graph is that of any x86-64 CPU: the transformations at that level do not look at the
   CPU's features (the hardware-specific layouts come at the ALL level, at load).

Everything is seeded, so the same fp32 file gives the same int8 file (same sha256) with the
same onnx/onnxruntime versions (onnxruntime 1.32.0, onnx 1.23.2 here). PP-OCRv6 small: to
step 3, 34a6371f... (three derivations: two through this module's `derive`, one through a
separate calibration loop); steps 1-3 and 5, 5262d219... (`ocrai models derive`, a script
that optimised the step-3 file, and `derive(..., quantise_head=False)`); the whole recipe,
19cde4d8... (`ocrai models derive` twice, into two stores). About 110 s of CPU and 0.5 GB
peak RSS on the 2-core AVX-512 machine. PP-OCRv6 tiny's: about 25 s; 2ab75596... to step 3,
60b9eeec... without step 4, 32dd7187... with it (twice each).

The CTC head in int8 (step 4) changed one line of the development sets under "auto" (every
set, 1 thread, errors before -> after: tesseract 391 -> 391, uw3-lines 7 -> 7, sroie 442 ->
442, ehri-typewritten 3652 -> 3653, fondue-en 239 -> 239, rendered pages of six languages
equal): an EHRI line whose "prísluš-" the int8 recogniser now reads "prisluš-" without the
fallback gate doubting it. The fp32 recogniser re-reads 760 of the 2126 EHRI lines instead
of 764. The dense page of bench_pipeline took 1.72 s instead of 1.86 s (2 threads, 12
interleaved pairs, medians; recognition 1439 against 1576 ms).

Measured for the small recogniser (benchmarks/accuracy.py, every set of ``../shared/data``,
1 thread), CER % fp32 -> steps 1-3 (the readings of an earlier version of the engine):
uw3-lines 0.30 -> 0.30, sroie 2.83 -> 2.93, tesseract 4.52 -> 4.52, ehri-typewritten 4.38 ->
4.42, fondue-en 0.54 -> 0.54, rendered pages of the six languages equal (the tiny
recogniser's: see `_KEEP_FP32`); the int8 file alone with step 4 against steps 1-3 and 5,
errors: uw3-lines 7 -> 7, sroie 457 -> 467, tesseract 391 -> 390, fondue-en 244 -> 243. Before (calibration on clean rendered lines, every Conv int8, percentile 99.999):
sroie 3.72, typewritten Czech pages 6.49 -> 7.16. Tried and not kept: entropy calibration
(held-out disagreement 1.72 % against 1.48 % for percentile), other percentiles (with stem
and neck in fp32: 99.9 1.85 %, 99.95 1.53 %, 99.99 0.82 %, 99.999 1.03 %), keeping the SE-block convs
(1.59 %) or the 13 convs after Gelu (1.37 %, and 0.77 % with stem and neck) in fp32; keeping
#0-#11, the Gelu convs and the neck in fp32 read sroie at 2.91 %: the remaining loss is
spread over the middle blocks. So `ocrai.precision`'s default, "auto", reads with this file
checked by the fp32 one (its doubtful lines re-read in fp32), which reads every set as fp32.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .precision import INT8_PACKS, int8_name

if TYPE_CHECKING:
    from .models import ModelInfo, ModelStore

__all__ = [
    "RECIPE",
    "CalibrationLine",
    "calibration_inputs",
    "calibration_lines",
    "derive",
    "derive_into_store",
    "int8_name",
]

# Bumped whenever anything below changes the derived file.
# 2: the tiny recogniser's stem kept in fp32; 3: saved optimised; 4: the CTC head in int8
RECIPE = "int8-rec-4"

HEIGHT = 48
_STEP = 8  # the pipeline rounds a batch's width up to this
_MAX_WIDTH = 1600
_SEED = 20261206

_LATIN = "/usr/share/fonts/truetype/dejavu/"
_LATIN_FACES = (
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",  # typewriter-like: fixed pitch
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
)

# The Conv layers kept in fp32 of each pack's recogniser, by position among the prepared
# graph's Conv nodes.
# - PP-OCRv6 small (57 Conv nodes): the stem (#0-#5, full resolution, where the error of
#   every later layer starts) and the neck before the CTC head (#53-#56). Measured as
#   int8/fp32 disagreement of greedy CTC readings on 120 held-out degraded lines: all Conv
#   int8 1.48 %, stem kept 1.27 %, neck kept 1.24 %, both 0.82 %; SE-block convs kept
#   1.59 %, the 13 convs after Gelu kept 1.37 %.
# - PP-OCRv6 tiny (37 Conv nodes), which fast mode reads first: its stem (#0-#4). Every
#   Conv int8 made the tiny recogniser unsure of clean lines (the least sure character of
#   a rendered page's lines at 0.57-0.75 against 0.86-0.88 in fp32), so fast mode re-read
#   5 of its 40 lines, and read uw3 at 0.42 % against 0.38 %; with the stem kept (0.80-0.85,
#   1 line re-read) fast mode in int8 reads every development set within 0.01 point of the
#   tiny recogniser in fp32 or better (benchmarks/accuracy.py, words re-read, 1 thread, CER
#   %, fp32 tiny -> int8 tiny): uw3 0.38 -> 0.30, sroie 2.95 -> 2.96, tesseract 4.48 ->
#   4.49, fondue-en 0.43 -> 0.43, ehri-typewritten 4.36 -> 4.34, rendered pages of six
#   languages equal. Its lines cost 35 % less (4 pages, one thread: 2437 -> 1585 ms; every
#   Conv int8 1494 ms, the stem #0-#2 kept 1523 ms).
_KEEP_FP32: dict[str, tuple[str, ...]] = {
    "ppocrv6-small": ("#0", "#1", "#2", "#3", "#4", "#5", "#53", "#54", "#55", "#56"),
    "ppocrv6-tiny": ("#0", "#1", "#2", "#3", "#4"),
}


# --- calibration material -------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationLine:
    """One rendered, degraded line (RGB uint8) and the text it shows."""

    image: np.ndarray
    text: str
    lang: str


def _words() -> dict[str, list[str]]:
    from . import testing

    return {lang: " ".join(lines).split() for lang, lines in testing.SAMPLE_TEXT.items()}


def _line_text(rng: np.random.Generator, lang: str, words: list[str]) -> str:
    if lang in ("ja", "zh-hant"):
        chars = list("".join(words))
        n = int(rng.integers(6, 22))
        text = "".join(chars[int(i)] for i in rng.integers(0, len(chars), n))
        if rng.random() < 0.3:
            text += str(int(rng.integers(1, 2100)))
        return text
    n = int(rng.integers(2, 12))
    picked = [words[int(i)] for i in rng.integers(0, len(words), n)]
    roll = rng.random()
    if roll < 0.15:
        picked = [w.upper() for w in picked]
    elif roll < 0.35:
        picked.insert(int(rng.integers(0, n)), f"{rng.integers(0, 100000)}")
    elif roll < 0.45:
        picked.insert(0, f"{rng.integers(1, 32)}.{rng.integers(1, 13)}.{rng.integers(1900, 2030)}")
    return " ".join(picked)


def _font(lang: str, rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont:
    from . import testing

    if lang in ("ja", "zh-hant"):
        path, index = testing.font_path(lang)
        return ImageFont.truetype(str(path), size, index=index)
    face = _LATIN_FACES[int(rng.integers(0, len(_LATIN_FACES)))]
    return ImageFont.truetype(_LATIN + face, size)


def _smooth_field(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Values in [0, 1] varying smoothly over about `cell` pixels."""
    small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return np.asarray(
        Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC), np.float32
    ).clip(0, 1)


def _render(rng: np.random.Generator, lang: str, text: str) -> np.ndarray:
    """A degraded line: RGB uint8, framed as the pipeline's crops are."""
    size = int(rng.integers(14, 44))
    font = _font(lang, rng, size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    ink_h = max(bottom - top, 1)
    pad_y = round(ink_h * rng.uniform(0.1, 0.45))
    pad_x = round(ink_h * rng.uniform(0.1, 0.8))
    w, h = right - left + 2 * pad_x, ink_h + 2 * pad_y
    coverage = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(coverage)
    draw.text((pad_x - left, pad_y - top), text, font=font, fill=255)
    if rng.random() < 0.3:  # the neighbours' ink at the top or bottom edge
        other = _line_text(rng, lang, _words()[lang])
        shift = ink_h * rng.uniform(0.75, 1.05)
        y = pad_y - top + (shift if rng.random() < 0.5 else -shift)
        draw.text((pad_x - left, y), other, font=font, fill=255)
    ink = np.asarray(coverage, np.float32) / 255.0

    if rng.random() < 0.5:  # ribbon ink: uneven along the line and within glyphs
        field = _smooth_field(rng, h, w, max(4, ink_h // 2))
        ink *= 0.45 + 0.55 * field
        if rng.random() < 0.5:
            ink = (
                np.asarray(
                    Image.fromarray((ink * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3)),
                    np.float32,
                )
                / 255.0
                * rng.uniform(0.7, 1.0)
            )

    paper = np.array([rng.uniform(170, 255), 0.0, 0.0], np.float32)  # grey, then a yellowish cast
    paper[1] = paper[0] - rng.uniform(0, 12)
    paper[2] = paper[0] - rng.uniform(0, 40)
    contrast = rng.uniform(0.35, 1.0)
    ink_colour = paper * (1 - contrast)
    if rng.random() < 0.2:  # blue or violet ribbon
        ink_colour = ink_colour * np.array([0.8, 0.8, 1.3], np.float32)
    img: np.ndarray = (
        paper[None, None, :] * (1 - ink[..., None]) + ink_colour[None, None, :] * ink[..., None]
    )
    img += _smooth_field(rng, h, w, 40)[..., None] * rng.uniform(-20, 20)  # uneven paper

    out = Image.fromarray(img.clip(0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        out = out.rotate(
            rng.uniform(-1.5, 1.5),
            Image.Resampling.BILINEAR,
            fillcolor=tuple(int(v) for v in paper),
        )
    if rng.random() < 0.6:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3)))
    arr = np.asarray(out, np.float32)
    arr += rng.normal(0, rng.uniform(0, 12), arr.shape).astype(np.float32)
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        out.save(buffer, format="JPEG", quality=int(rng.integers(30, 90)))
        out = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    rendered: np.ndarray = np.asarray(out, np.uint8).copy()
    return rendered


def calibration_lines(count: int = 144, seed: int = _SEED) -> Iterator[CalibrationLine]:
    """`count` degraded lines, the languages in turn; the same lines for the same seed."""
    words = _words()
    langs = list(words)
    rng = np.random.default_rng(seed)
    for i in range(count):
        lang = langs[i % len(langs)]
        text = _line_text(rng, lang, words[lang])
        yield CalibrationLine(_render(rng, lang, text), text, lang)


def prepare(image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """A line as the recogniser's input (1, 3, 48, W): height 48, BGR, (x / 255 - 0.5) / 0.5,
    zero padded to a multiple of 8 (plus up to 15 % more, as within a pipeline batch)."""
    h, w = image.shape[:2]
    width = min(_MAX_WIDTH, max(_STEP, round(HEIGHT * w / h)))
    line = Image.fromarray(image).resize((width, HEIGHT), Image.Resampling.BILINEAR)
    extra = 0 if rng is None else int(width * rng.uniform(0, 0.15))
    padded = -(-(width + extra) // _STEP) * _STEP
    bgr = np.asarray(line, np.float32)[:, :, ::-1]
    x = np.zeros((1, 3, HEIGHT, padded), np.float32)
    x[0, :, :, :width] = ((bgr / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return x


def calibration_inputs(count: int = 144, seed: int = _SEED) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    return [prepare(line.image, rng) for line in calibration_lines(count, seed)]


# --- the derivation -------------------------------------------------------------------------


def _prepared(src: Path, tmp: Path) -> Path:
    import onnx
    import onnxruntime as ort
    from onnx import version_converter

    opset17 = tmp / "opset17.onnx"
    onnx.save(version_converter.convert_version(onnx.load(str(src)), 17), str(opset17))
    prepared = tmp / "prepared.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(prepared)
    options.intra_op_num_threads = 1
    options.add_session_config_entry(
        "optimization.disable_specified_optimizers", "ConvActivationFusion"
    )
    ort.InferenceSession(str(opset17), options, providers=["CPUExecutionProvider"])
    return prepared


def conv_names(model: Path) -> list[str]:
    """Names of the Conv nodes of a (prepared) model, in graph order."""
    import onnx

    return [n.name for n in onnx.load(str(model)).graph.node if n.op_type == "Conv"]


def _excluded(names: list[str], keep: tuple[str, ...]) -> list[str]:
    """The node names of `names` that `keep` lists by name or as ``#k`` (the k-th).
    ValueError when ``#k`` is past the last convolution (a recipe for another graph)."""
    for k in keep:
        if k.startswith("#") and not 0 <= int(k[1:]) < len(names):
            msg = f"the recipe keeps convolution {k}, but this graph has {len(names)}"
            raise ValueError(msg)
    chosen = {names[int(k[1:])] if k.startswith("#") else k for k in keep}
    return [n for n in names if n in chosen]


def derive(
    src: str | Path,
    out: str | Path,
    *,
    pack: str = "ppocrv6-small",
    count: int = 144,
    percentile: float = 99.99,
    method: str = "percentile",
    keep_fp32: tuple[str, ...] | None = None,
    cache: str | Path | None = None,
    optimised: bool = True,
    quantise_head: bool = True,
) -> str:
    """Writes the int8 recogniser derived from the fp32 one at `src` (`pack`'s recogniser)
    to `out`; returns its sha256. `keep_fp32`: Conv node names (or ``#k``, the k-th Conv)
    left in fp32 (default the recipe's for `pack`). `cache`: a calibration-range file reused
    when present (experiments). ``optimised=False`` writes the quantised QDQ graph as it is
    (step 5 of the recipe left out: what the tests compare the recipe's file with);
    ``quantise_head=False`` leaves the CTC head in fp32 (step 4 left out)."""
    if pack not in _KEEP_FP32:
        msg = f"the int8 recipe {RECIPE} is not defined for {pack}"
        raise ValueError(msg)
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    inputs = calibration_inputs(count)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.start, self.end = 0, len(inputs)

        def __len__(self) -> int:
            return len(inputs)

        def set_range(self, start_index: int, end_index: int) -> None:
            self.start, self.end = start_index, end_index

        def get_next(self) -> dict[str, np.ndarray] | None:
            if self.start >= self.end:
                return None
            self.start += 1
            return {"x": inputs[self.start - 1]}

    methods = {
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
        "minmax": CalibrationMethod.MinMax,
    }
    keep = _KEEP_FP32[pack] if keep_fp32 is None else keep_fp32
    with tempfile.TemporaryDirectory() as tmp:
        prepared = _prepared(Path(src), Path(tmp))
        exclude = _excluded(conv_names(prepared), keep)
        kwargs: dict[str, Any] = {}
        if cache is not None:
            kwargs["calibration_cache_path"] = str(cache)
        quantised = Path(tmp) / "quantised.onnx"
        quantize_static(
            str(prepared),
            str(quantised),
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv"],
            nodes_to_exclude=exclude,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=methods[method],
            extra_options={
                "CalibPercentile": percentile,
                # One input per collection: inputs differ in width, and the histograms
                # merge, so memory stays that of one input.
                "CalibStridedMinMax": 1,
            },
            **kwargs,
        )
        if quantise_head:
            _quantise_head(quantised)
        if optimised:
            _save_optimised(quantised, Path(out))
        else:
            Path(out).write_bytes(quantised.read_bytes())
    digest = hashlib.sha256(Path(out).read_bytes()).hexdigest()
    return digest


def _ctc_head(graph: Any) -> tuple[Any, Any, Any, set[str]]:
    """The CTC head of a recogniser graph: the MatMul (or ONNX Runtime's FusedMatMul) of the
    features by the class weights, the Add of the class biases, the Softmax that ends the
    graph (an Identity may stand between the Add and the Softmax), and the first outputs of
    the nodes from the MatMul up to the Softmax (those that the int8 head replaces).
    ValueError when the graph does not end that way (a recipe for another graph)."""
    producer = {out: node for node in graph.node for out in node.output}
    initialisers = {i.name for i in graph.initializer}
    softmax = producer.get(graph.output[0].name)
    replaced: set[str] = set()
    add = producer.get(softmax.input[0]) if softmax is not None else None
    while add is not None and add.op_type == "Identity":
        replaced.add(add.output[0])
        add = producer.get(add.input[0])
    matmul = producer.get(add.input[0]) if add is not None and add.op_type == "Add" else None
    if (
        softmax is None
        or softmax.op_type != "Softmax"
        or add is None
        or add.op_type != "Add"
        or add.input[1] not in initialisers
        or matmul is None
        or matmul.op_type not in ("MatMul", "FusedMatMul")
        or matmul.input[1] not in initialisers
    ):
        msg = "the int8 recipe expects a recogniser ending in MatMul, Add (bias), Softmax"
        raise ValueError(msg)
    replaced |= {matmul.output[0], add.output[0]}
    return matmul, add, softmax, replaced


def _quantise_head(model: Path) -> None:
    """Rewrites `model` in place with its CTC head as one DynamicQuantizeMatMul: int8
    weights per class (symmetric, scale max|w| / 127), the features quantised per batch at
    run time (uint8), the class biases added in the same pass.

    Why: the head projects 120 features onto the 18,710 classes of the small recogniser at
    every step of every line, and the float MatMul and the bias Add that follows it (a pass
    over the whole class tensor) were a fifth of the int8 recogniser's time (ORT profile,
    8 lines of 800 px, 1 thread: 47 + 15 of 368 ms). One int8 pass takes the model from
    293-298 to 257-263 ms there. Its readings (int8 alone, benchmarks/accuracy.py, 1
    thread, errors): uw3-lines 7 -> 7, sroie 457 -> 467, tesseract 391 -> 390, fondue-en 244
    -> 243; under "auto" the fp32 recogniser still re-reads what the int8 one doubts."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(model))
    graph = m.graph
    matmul, add, softmax, replaced = _ctc_head(graph)
    initialisers = {i.name: i for i in graph.initializer}
    weights = numpy_helper.to_array(initialisers[matmul.input[1]]).astype(np.float32)
    bias = numpy_helper.to_array(initialisers[add.input[1]]).astype(np.float32)
    attrs = {a.name: helper.get_attribute_value(a) for a in matmul.attribute}
    if weights.ndim != 2 or bias.shape != (weights.shape[1],):
        msg = f"the CTC head's weights {weights.shape} and bias {bias.shape} do not match"
        raise ValueError(msg)
    features = matmul.input[0]
    nodes = []
    if attrs.get("transA", 0):  # FusedMatMul reading the features transposed
        if attrs.get("transBatchA", 0) or attrs.get("transB", 0) or attrs.get("alpha", 1.0) != 1:
            msg = f"the CTC head's FusedMatMul has attributes the recipe does not know: {attrs}"
            raise ValueError(msg)
        nodes.append(helper.make_node("Transpose", [features], ["ocrai_head_in"], perm=[0, 2, 1]))
        features = "ocrai_head_in"
    scale = np.abs(weights).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    quantised = np.clip(np.round(weights / scale), -127, 127).astype(np.int8)
    graph.initializer.extend(
        [
            numpy_helper.from_array(quantised, "ocrai_head_w"),
            numpy_helper.from_array(scale.astype(np.float32), "ocrai_head_scale"),
            numpy_helper.from_array(np.zeros(weights.shape[1], np.int8), "ocrai_head_zero"),
            numpy_helper.from_array(bias, "ocrai_head_bias"),
        ]
    )
    nodes.append(
        helper.make_node(
            "DynamicQuantizeMatMul",
            [features, "ocrai_head_w", "ocrai_head_scale", "ocrai_head_zero", "ocrai_head_bias"],
            [softmax.input[0]],
            name="ocrai_ctc_head",
            domain="com.microsoft",
        )
    )
    # The old head's nodes (and any Identity between Add and Softmax) go; the new ones take
    # the MatMul's place, and the Softmax reads what the Add's chain gave it. Nodes are known
    # by their first output (unique in the graph).
    order: list[Any] = []
    for node in graph.node:
        if node.output[0] == matmul.output[0]:
            order.extend(nodes)
        elif node.output[0] not in replaced:
            order.append(onnx.NodeProto.FromString(node.SerializeToString()))
    del graph.node[:]
    graph.node.extend(order)
    used = {i for n in graph.node for i in n.input}
    unused = [i for i in graph.initializer if i.name not in used]
    for i in unused:
        graph.initializer.remove(i)
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, str(model))


def _save_optimised(model: Path, out: Path) -> None:
    """`model` as ONNX Runtime optimises it at the EXTENDED level, saved to `out`."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(out)
    options.intra_op_num_threads = 1
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def derived_source(fp32_sha256: str) -> str:
    """The manifest's ``source`` of an int8 file: recipe, fp32 origin and the versions of
    the tools that wrote it (the derived bytes depend on them)."""
    import onnx
    import onnxruntime

    return (
        f"derived:{RECIPE}:from-sha256:{fp32_sha256}:"
        f"onnxruntime-{onnxruntime.__version__}:onnx-{onnx.__version__}"
    )


def derive_into_store(
    store: ModelStore, pack: str = "ppocrv6-small", *, count: int = 144
) -> ModelInfo:
    """Derives the int8 recogniser of `pack` from its pinned fp32 one in `store` (installed
    from the bundled pack first when missing) and records it in the store's manifest."""
    from . import packs as _packs

    p = _packs.get_pack(pack)
    if p.name not in INT8_PACKS:
        msg = (
            f"the int8 recipe {RECIPE} is defined for {', '.join(sorted(INT8_PACKS))} only; "
            f"{p.name}'s recogniser has no int8 version (it reads in fp32)"
        )
        raise ValueError(msg)
    rec = p.file("rec")
    store.ensure_pack(p.name, {"rec"})
    src = store.require(rec.name, p.name)
    if _packs.sha256_file(src) != rec.sha256:
        msg = f"{src} is not the pinned {rec.name} (sha256 {rec.sha256}); reinstall the pack"
        raise ValueError(msg)
    with tempfile.TemporaryDirectory(dir=store.path, prefix=".derive-") as tmp:
        out = Path(tmp) / int8_name(rec.name)
        derive(src, out, pack=p.name, count=count)
        return store.install_file(
            out,
            kind="rec",
            family=p.family,
            variant=f"{p.variant}-int8",
            version=p.version,
            languages=p.languages,
            name=out.name,
            source=derived_source(rec.sha256),
            pack=p.name,
        )


def _main() -> int:  # pragma: no cover - experiments
    import argparse
    import time

    parser = argparse.ArgumentParser(description="derive an int8 recogniser")
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=144)
    parser.add_argument("--percentile", type=float, default=99.99)
    parser.add_argument("--method", default="percentile")
    parser.add_argument("--pack", default="ppocrv6-small", help="whose recipe (ppocrv6-small)")
    parser.add_argument("--keep", default=None, help="comma-separated Conv names or #k")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--dump", type=Path, help="write calibration lines as PNG here")
    args = parser.parse_args()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for i, line in enumerate(calibration_lines(args.count)):
            Image.fromarray(line.image).save(args.dump / f"{i:03d}-{line.lang}.png")
        return 0
    keep = None if args.keep is None else tuple(k for k in args.keep.split(",") if k)
    start = time.perf_counter()
    digest = derive(
        args.src,
        args.out,
        pack=args.pack,
        count=args.count,
        percentile=args.percentile,
        method=args.method,
        keep_fp32=keep,
        cache=args.cache,
    )
    print(f"{args.out} sha256 {digest} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
