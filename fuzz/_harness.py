"""What the fuzz harnesses share: running under atheris, replaying a corpus without it, and
the seed corpora (generated, never committed).

A harness is ``fuzz/fuzz_<name>.py`` with a ``test_one_input(data: bytes)`` that returns
normally for every input, raising only for a bug: an exception the entry point does not
document, a result that breaks its contract, or (under the sanitizer build) a memory error.

Run modes (``python fuzz/fuzz_<name>.py ...``):

- ``--seeds DIR``: writes the harness's seed inputs into DIR and exits.
- ``--replay DIR...``: runs every file of the folders once through ``test_one_input``,
  without atheris's coverage instrumentation (what ``scripts/fuzz.sh`` does under the
  AddressSanitizer build: preloading gcc's libasan breaks atheris's coverage feedback).
- anything else: libFuzzer arguments for atheris (corpus folders, ``-max_total_time=``...).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

TestOneInput = Callable[[bytes], None]


class Draws:
    """The arguments of one call, drawn from the fuzzer's bytes (an exhausted input gives
    zeros and first choices, so every input is complete)."""

    def __init__(self, data: bytes) -> None:
        import atheris  # here, not at the top: harnesses import this module first

        self.fdp = atheris.FuzzedDataProvider(data)

    def int(self, lo: int, hi: int) -> int:
        return int(self.fdp.ConsumeIntInRange(lo, hi))

    def pick(self, values: list[Any]) -> Any:
        return self.fdp.PickValueInList(values)

    def bool(self) -> bool:
        return bool(self.fdp.ConsumeBool())


def replaying() -> bool:
    return "--replay" in sys.argv or "--seeds" in sys.argv


@contextlib.contextmanager
def instrumented() -> Iterator[None]:
    """atheris's import instrumentation (Python coverage of ocrai and Pillow) when fuzzing;
    nothing when replaying or writing seeds."""
    if replaying():
        yield
        return
    import atheris

    # Not instrument_imports(): editable installs load ocrai through a custom loader that it
    # does not instrument reliably (no coverage was seen). instrument_all() rewrites every
    # Python function loaded so far, ocrai's and Pillow's included.
    yield
    atheris.instrument_all()


def write_seeds(folder: Path, seeds: Iterable[bytes]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for data in seeds:
        name = hashlib.sha1(data).hexdigest()  # a file name, as libFuzzer names its inputs
        (folder / name).write_bytes(data)
        n += 1
    return n


def replay(test_one_input: TestOneInput, folders: list[str]) -> int:
    files = sorted(p for f in folders for p in Path(f).rglob("*") if p.is_file())
    start = time.monotonic()
    for path in files:
        try:
            test_one_input(path.read_bytes())
        except BaseException:
            print(f"replay: failure on {path}", file=sys.stderr, flush=True)
            raise
    elapsed = time.monotonic() - start
    print(f"replay: {len(files)} inputs in {elapsed:.1f} s, no failure", flush=True)
    return len(files)


def main(test_one_input: TestOneInput, seeds: Callable[[], Iterable[bytes]]) -> None:
    args = sys.argv[1:]
    if args[:1] == ["--seeds"]:
        n = write_seeds(Path(args[1]), seeds())
        print(f"seeds: {n} inputs in {args[1]}")
        return
    if args[:1] == ["--replay"]:
        replay(test_one_input, args[1:])
        return
    import atheris

    # One line per report is enough in logs; the summary at exit gives the input count.
    atheris.Setup([sys.argv[0], *args], test_one_input)
    atheris.Fuzz()


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))
