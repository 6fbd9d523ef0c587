"""The thread pool (cpp/src/parallel.cc) through its test hook."""

from __future__ import annotations

import pytest

from ocrai import _core

check = _core.pipeline._thread_pool_check


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize(("count", "grain"), [(0, 1), (1, 1), (7, 3), (1000, 1), (1000, 64)])
def test_every_item_runs_once(threads: int, count: int, grain: int) -> None:
    visits, errors = check(threads, count, grain)
    assert visits == [1] * count
    assert errors == [""]


def test_a_grain_below_one_counts_as_one() -> None:
    assert check(2, 5, 0)[0] == [1] * 5


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_an_exception_reaches_the_caller(threads: int) -> None:
    visits, errors = check(threads, 500, 4, fail_at=123)
    assert errors == ["item 123"]
    assert visits[123] == 0
    # Chunks before the failing one ran; none ran twice.
    assert set(visits) <= {0, 1}
    assert visits[:120] == [1] * 120 or threads > 1


def test_several_callers_share_one_pool() -> None:
    visits, errors = check(2, 2000, 8, callers=4)
    assert visits == [4] * 2000
    assert errors == [""] * 4
    visits, errors = check(3, 300, 2, fail_at=10, callers=3)
    assert errors == ["item 10"] * 3
    assert all(v <= 3 for v in visits)


def test_bad_thread_count() -> None:
    with pytest.raises(ValueError, match=r"threads must be in \[1, 1024\]"):
        check(0, 10, 1)
