"""Which recogniser an engine loads: the pack's fp32 one or the int8 one derived from it.

``precision="fp32"`` always loads the pinned fp32 file. ``"int8"`` loads the int8 file
derived from it (`ocrai.int8`, written into the model store by ``ocrai models derive``) and
raises FileNotFoundError naming that step when it is missing. ``"auto"`` (the default) reads
with the int8 file *checked by the fp32 one* when the int8 file is present, this CPU has the
fast int8 path (AVX512-VNNI or AVX-VNNI: ONNX Runtime's u8s8 kernels for the quantised
convolutions; without VNNI int8 is not faster) and the pack is in `AUTO_INT8_PACKS`: the
int8 recogniser reads every line and the fp32 recogniser it was derived from re-reads the
lines the int8 one doubts (the engine's fallback gate, as in fast mode), so the reading is
the fp32 one's wherever int8 could have changed it. In fast mode "auto" reads with the tiny
pack's int8 recogniser when its file is present (`AUTO_INT8_FAST_PACKS`): the tiny fp32
recogniser it was derived from checks it (re-reads, whole, the lines a stricter gate doubts:
``check_threshold``, pipeline.h kDefaultCheckThreshold), and the fallback's gate then sends
the lines still doubted to the small recogniser in fp32, as in fast mode in fp32. Otherwise
"auto" is fp32.

This module reads the store's manifest and asks the native core about the CPU; it loads
no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .models import ModelStore

__all__ = [
    "AUTO_INT8_FAST_PACKS",
    "AUTO_INT8_PACKS",
    "INT8_PACKS",
    "PRECISIONS",
    "Precision",
    "RecChoice",
    "choose_rec",
    "fast_int8_cpu",
    "fp32_of",
    "int8_name",
]

Precision = Literal["auto", "int8", "fp32"]
PRECISIONS: tuple[str, ...] = ("auto", "int8", "fp32")

# The recogniser packs whose int8 file "auto" reads with, checked by the fp32 file. Alone,
# the small pack's int8 recogniser loses on receipts (benchmarks/accuracy.py, every set, 1
# thread, CER % fp32 -> int8: uw3-lines 0.30 -> 0.30, sroie 2.83 -> 2.93, tesseract 4.52 ->
# 4.52, ehri-typewritten 4.03 -> 4.07, fondue-en 0.41 -> 0.41, rendered pages of six
# languages equal): its errors there are mostly confident ones (dropped spaces, ':' and
# '.'), which the fallback gate's gap and space doubts catch. Checked by fp32 (default gate,
# whole lines re-read) it reads every set as fp32 does: uw3-lines 0.30, sroie 2.83,
# tesseract 4.52, ehri-typewritten 4.03, fondue-en 0.40, re-reading 4 %, 37 %, 10 %, 37 %
# and 6 % of the lines; the dense rendered page of bench_pipeline re-reads none (2 threads:
# fp32 3.04 s, int8 1.76 s, checked 1.81 s). Re-reading only the doubted words read sroie
# at 2.90 %; a lower gate (0.9, 0.8) re-read fewer EHRI lines (34 %, 27 %) at the same CER
# but sroie at 2.85 and 2.84 %.
AUTO_INT8_PACKS: frozenset[str] = frozenset({"ppocrv6-small"})

# The recogniser packs whose int8 file "auto" reads with in fast mode, where the fp32 file it
# was derived from checks it (its own gate, pipeline.h kDefaultCheckThreshold) before the
# fallback's gate sends lines on to the small recogniser in fp32.
AUTO_INT8_FAST_PACKS: frozenset[str] = frozenset({"ppocrv6-tiny"})

# The recogniser packs the int8 recipe (`ocrai.int8`) is defined for (the convolutions it
# keeps in fp32 are numbered on each pack's graph): the small recogniser and the tiny one
# that fast mode reads first. Another pack's recogniser reads in fp32 under every precision.
INT8_PACKS: frozenset[str] = frozenset({"ppocrv6-small", "ppocrv6-tiny"})

_INT8_SUFFIX = "-int8.onnx"


def int8_name(fp32_name: str) -> str:
    """The model-store name of the int8 recogniser derived from `fp32_name`."""
    stem = fp32_name.removesuffix(".onnx")
    return f"{stem}{_INT8_SUFFIX}"


def fp32_of(name: str) -> str:
    """The fp32 recogniser an int8 one (`int8_name`) was derived from; `name` itself for
    any other file."""
    if name.endswith(_INT8_SUFFIX):
        return name.removesuffix(_INT8_SUFFIX) + ".onnx"
    return name


def fast_int8_cpu() -> bool:
    """Whether this CPU has VNNI (AVX512-VNNI or AVX-VNNI), the instructions that make
    ONNX Runtime's int8 convolutions faster than fp32 ones (the native core's CPU feature
    detection, `ocrai._core.simd_info`)."""
    from . import _core

    return bool(_core.simd_info()["int8_dot_product"])


@dataclass(frozen=True)
class RecChoice:
    """The recogniser file chosen for one role and the precision it runs at."""

    name: str
    precision: Literal["int8", "fp32"]


def check_precision(precision: object) -> Precision:
    if precision not in PRECISIONS:
        msg = f"precision must be one of {PRECISIONS}, got {precision!r}"
        raise ValueError(msg)
    return precision  # type: ignore[return-value]


def choose_rec(
    store: ModelStore,
    fp32_name: str,
    pack: str,
    precision: Precision,
    *,
    vnni: bool | None = None,
    auto_packs: frozenset[str] | None = None,
) -> RecChoice:
    """The recogniser to load for the pack file `fp32_name` under `precision`.

    FileNotFoundError under ``"int8"`` when the int8 file was never derived (or is not a
    derived file recorded in the manifest). A pack without an int8 recipe (`INT8_PACKS`)
    reads in fp32 whatever the precision. In fast mode both recognisers (the tiny one that
    reads first, the small one that re-reads) follow "int8" and "fp32". Under "auto" the
    packs in `auto_packs` go int8 (default `AUTO_INT8_PACKS`; the engine's fast mode passes
    `AUTO_INT8_FAST_PACKS`)."""
    if precision == "fp32" or pack not in INT8_PACKS:
        return RecChoice(fp32_name, "fp32")
    from . import packs as _packs

    name = int8_name(fp32_name)
    entry = store.manifest().get(name)
    pinned = [f.sha256 for f in _packs.get_pack(pack).files if f.name == fp32_name]
    # Only a file derived from the pinned fp32 recogniser counts: after a pack update the
    # old int8 file is stale until derived again.
    present = (
        entry is not None
        and bool(pinned)
        and (entry.source or "").startswith("derived:")
        and f"from-sha256:{pinned[0]}:" in (entry.source or "")
        and store.path_of(name).is_file()
    )
    if precision == "int8":
        if not present:
            msg = (
                f"precision='int8': the int8 recogniser {name} is not in the model directory "
                f"{store.path}; derive it from {fp32_name} with `ocrai models derive {pack}` "
                "(needs `pip install onnx`), or use precision='fp32'"
            )
            raise FileNotFoundError(msg)
        return RecChoice(name, "int8")
    fast = fast_int8_cpu() if vnni is None else vnni
    trusted = AUTO_INT8_PACKS if auto_packs is None else auto_packs
    if present and fast and pack in trusted:
        return RecChoice(name, "int8")
    return RecChoice(fp32_name, "fp32")
