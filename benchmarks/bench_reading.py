"""Reading control on real receipt fields (``reading_control.py``): the amount lines of the
SROIE receipts read plainly, with a digits-only allow list and with an amount pattern, and by
Tesseract with and without its character whitelist (where tesserocr, of the ``peers`` group,
is installed with Debian's English data; skipped otherwise).

The set comes from ``$OCRAI_DATA/sroie`` (default: ``shared/data`` beside the checkout or its
parent, as ``bench_accuracy.py``); skipped when it is not there. Target: the digits-only and
the pattern readings at most half the plain reading's CER on those lines. The CERs go into
each benchmark's extra_info and a summary at the end of the run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.models

ROOT = Path(__file__).resolve().parent.parent
#: Lines read per mode; the set's 100 receipts hold 969 amount lines.
MAX_LINES = int(os.environ.get("OCRAI_READING_LINES", "1000"))


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ocrai_reading_control", Path(__file__).with_name("reading_control.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


rc = _load()
CER: dict[str, float] = {}


def sroie_dir() -> Path | None:
    if "OCRAI_DATA" in os.environ:
        path = Path(os.environ["OCRAI_DATA"]) / "sroie"
        return path if path.is_dir() else None
    for candidate in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"):
        if (candidate / "sroie").is_dir():
            return candidate / "sroie"
    return None


@pytest.fixture(scope="module")
def lines() -> list[tuple[np.ndarray, str]]:
    root = sroie_dir()
    if root is None:
        pytest.skip("the SROIE set is not here (set OCRAI_DATA)")
    found = list(rc.amount_lines(root, MAX_LINES))
    assert len(found) > 50
    return found


@pytest.fixture(scope="module")
def ai() -> Any:
    from ocrai import OcrAI

    with OcrAI() as engine:
        engine.warmup()
        yield engine


MODES = {
    "plain": {},
    "digits": {"allowlist": rc.DIGITS},
    "pattern": {"pattern": rc.AMOUNT},
}


def _record(benchmark: Any, result: Any) -> None:
    CER[result.mode] = result.cer
    benchmark.extra_info.update(result.as_dict())


@pytest.mark.benchmark(group="sroie-amounts")
@pytest.mark.parametrize("mode", list(MODES))
def test_ocrai_amount_lines(
    benchmark: Any, ai: Any, lines: list[tuple[np.ndarray, str]], mode: str
) -> None:
    read = rc.ocrai_reader(ai, **MODES[mode])
    result = benchmark.pedantic(lambda: rc.score(mode, lines, read), rounds=1, iterations=1)
    _record(benchmark, result)
    if mode == "digits":
        for crop, _ in lines[:50]:
            text, _ = read(crop)
            assert set(text) <= set(rc.DIGITS)
    if mode != "plain" and "plain" in CER:
        # The target: reading control halves the error on these fields, or better.
        assert result.cer <= 0.5 * CER["plain"], (mode, result.cer, CER["plain"])


@pytest.mark.benchmark(group="sroie-amounts")
@pytest.mark.parametrize("whitelist", [False, True], ids=["tesseract", "tesseract-whitelist"])
def test_tesseract_amount_lines(
    benchmark: Any, lines: list[tuple[np.ndarray, str]], whitelist: bool
) -> None:
    # tesserocr only: a process per line would add minutes to CI.
    read = rc.tesseract_reader(rc.DIGITS if whitelist else None, program_fallback=False)
    if read is None:
        pytest.skip("tesserocr (group peers) with Debian's English data is not installed")
    mode = "tesseract-whitelist" if whitelist else "tesseract"
    result = benchmark.pedantic(lambda: rc.score(mode, lines, read), rounds=1, iterations=1)
    _record(benchmark, result)
    if whitelist:
        for crop, _ in lines[:20]:
            text, _ = read(crop)
            assert set(text.replace(" ", "")) <= set(rc.DIGITS)


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not CER:
        return
    reporter.write_sep("-", "SROIE amount lines: CER % by mode")
    for mode, cer in CER.items():
        reporter.write_line(f"{mode:22} {cer:6.2f}")
