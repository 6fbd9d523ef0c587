"""DB post-processing (cpp/src/detect.cc) on synthetic probability maps with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocrai import _core

db_postprocess = _core.pipeline.db_postprocess
min_area_rect = _core.pipeline.min_area_rect


def unclip_distance(w: float, h: float, ratio: float = 1.4) -> float:
    return w * h * ratio / (2 * (w + h))


def expected_box(x0: float, y0: float, x1: float, y1: float, ratio: float = 1.4) -> np.ndarray:
    """The unclipped quad of an axis-aligned block of text pixels [x0, x1) x [y0, y1)."""
    d = unclip_distance(x1 - x0, y1 - y0, ratio)
    return np.array([[x0 - d, y0 - d], [x1 + d, y0 - d], [x1 + d, y1 + d], [x0 - d, y1 + d]])


def signed_area2(quad: np.ndarray) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def rotated_rect_map(
    shape: tuple[int, int], centre: tuple[float, float], w: float, h: float, degrees: float
) -> np.ndarray:
    """A map that is 1 where a pixel's centre lies in the rotated rectangle, else 0."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    a = math.radians(degrees)
    u = (xs - centre[0]) * math.cos(a) + (ys - centre[1]) * math.sin(a)
    v = -(xs - centre[0]) * math.sin(a) + (ys - centre[1]) * math.cos(a)
    return ((np.abs(u) <= w / 2) & (np.abs(v) <= h / 2)).astype(np.float32)


def test_axis_aligned_block_gives_its_exact_unclipped_box() -> None:
    prob = np.zeros((100, 200), np.float32)
    prob[20:30, 10:110] = 0.9
    boxes = db_postprocess(prob)
    assert len(boxes) == 1
    quad, score = boxes[0]
    np.testing.assert_allclose(quad, expected_box(10, 20, 110, 30), atol=1e-4)
    assert score == pytest.approx(0.9, abs=1e-6)


def test_score_is_the_mean_over_the_rectangle_and_box_thresh_filters() -> None:
    prob = np.zeros((60, 120), np.float32)
    prob[10:20, 10:60] = 0.5
    prob[10:20, 10:20] = 0.3  # still text (> thresh), lowers the mean
    prob[40:50, 10:60] = 0.44  # text, but its mean is below box_thresh 0.45
    boxes = db_postprocess(prob)
    assert len(boxes) == 1
    assert boxes[0][1] == pytest.approx((0.5 * 40 + 0.3 * 10) / 50, abs=1e-6)
    assert len(db_postprocess(prob, box_thresh=0.4)) == 2


def test_threshold_is_strict() -> None:
    prob = np.zeros((40, 80), np.float32)
    prob[10:20, 10:70] = 0.2
    assert db_postprocess(prob, box_thresh=0.0) == []
    assert len(db_postprocess(prob, thresh=0.19, box_thresh=0.0)) == 1


@pytest.mark.parametrize("degrees", [-30.0, -7.5, 3.0, 12.0, 25.0])
def test_rotated_rectangle(degrees: float) -> None:
    w, h = 160.0, 24.0
    prob = rotated_rect_map((200, 260), (130.0, 100.0), w, h, degrees)
    boxes = db_postprocess(prob, unclip_ratio=0.0)
    assert len(boxes) == 1
    quad = np.array(boxes[0][0])
    top = quad[1] - quad[0]
    side = quad[3] - quad[0]
    # The pixel squares of a rasterised rectangle reach up to one pixel beyond it.
    assert math.degrees(math.atan2(top[1], top[0])) == pytest.approx(degrees, abs=1.0)
    assert np.hypot(*top) == pytest.approx(w, abs=2.0)
    assert np.hypot(*side) == pytest.approx(h, abs=2.0)
    assert signed_area2(quad) > 0  # clockwise on the image
    np.testing.assert_allclose(quad.mean(axis=0), [130.0, 100.0], atol=0.75)
    assert boxes[0][1] > 0.9


def test_unclip_of_a_rotated_rectangle_grows_every_side() -> None:
    prob = rotated_rect_map((200, 260), (130.0, 100.0), 160.0, 24.0, 10.0)
    ((q0, _),) = db_postprocess(prob, unclip_ratio=0.0)
    ((q1, _),) = db_postprocess(prob)
    q0, q1 = np.array(q0), np.array(q1)
    w0, h0 = np.hypot(*(q0[1] - q0[0])), np.hypot(*(q0[3] - q0[0]))
    d = unclip_distance(w0, h0)
    assert np.hypot(*(q1[1] - q1[0])) == pytest.approx(w0 + 2 * d, rel=1e-4)
    assert np.hypot(*(q1[3] - q1[0])) == pytest.approx(h0 + 2 * d, rel=1e-4)
    np.testing.assert_allclose(q1.mean(axis=0), q0.mean(axis=0), atol=1e-3)


def test_diagonal_neighbours_join_and_a_gap_separates() -> None:
    prob = np.zeros((60, 120), np.float32)
    prob[10:20, 10:40] = 1.0
    prob[20:30, 40:70] = 1.0  # touches the first block only at a corner: 8-connected
    assert len(db_postprocess(prob)) == 1
    prob[20:30, 40:41] = 0.0  # one empty column (and no corner contact) in between
    boxes = db_postprocess(prob)
    assert len(boxes) == 2
    np.testing.assert_allclose(boxes[0][0], expected_box(10, 10, 40, 20), atol=1e-4)
    np.testing.assert_allclose(boxes[1][0], expected_box(41, 20, 70, 30), atol=1e-4)


def test_lines_joined_by_a_mark_are_cut_at_the_emptiest_row() -> None:
    prob = np.zeros((60, 240), np.float32)
    prob[10:18, 40:220] = 0.9
    prob[24:32, 40:220] = 0.9
    prob[18:24, 60:62] = 0.9  # a stroke across the gap
    assert len(db_postprocess(prob)) == 1
    boxes = db_postprocess(prob, split_joined_lines=True)
    assert len(boxes) == 2
    # The cut row (the first of the gap's equally empty rows) goes with the upper line.
    upper = prob.copy()
    upper[19:, :] = 0
    lower = prob.copy()
    lower[:19, :] = 0
    np.testing.assert_allclose(
        [q for q, _ in boxes], [db_postprocess(upper)[0][0], db_postprocess(lower)[0][0]]
    )


def test_a_stroke_hanging_from_a_line_is_left_out_of_its_box() -> None:
    prob = np.zeros((60, 240), np.float32)
    prob[10:18, 40:220] = 0.9
    prob[18:30, 40:42] = 0.9  # hangs from the line's left end
    # The rectangle leans to take the stroke in, and its mean falls under box_thresh: the
    # line is lost.
    assert db_postprocess(prob) == []
    ((_, leaning),) = db_postprocess(prob, box_thresh=0)
    ((quad, score),) = db_postprocess(prob, split_joined_lines=True)
    np.testing.assert_allclose(quad, expected_box(40, 10, 220, 18), atol=1e-4)
    assert score == pytest.approx(0.9, abs=1e-6)
    assert leaning < 0.45


@pytest.mark.parametrize(
    "name",
    ["vertical column", "tall heading", "speck above a word"],
)
def test_what_is_not_two_lines_stays_whole(name: str) -> None:
    prob = np.zeros((200, 200), np.float32)
    if name == "vertical column":  # characters of a vertical line, joined by thin necks
        for top in range(10, 170, 20):
            prob[top : top + 16, 90:110] = 0.9
            prob[top + 16 : top + 20, 99:100] = 0.9
    elif name == "tall heading":  # one line whose kernel narrows between two words
        prob[20:60, 20:180] = 0.9
        prob[38:40, 90:170] = 0.0
    else:  # a dot above a short word: too small to be a line of its own
        prob[30:40, 60:90] = 0.9
        prob[24:30, 70:72] = 0.9
        prob[20:24, 68:74] = 0.9
    assert db_postprocess(prob, split_joined_lines=True) == db_postprocess(prob)


def test_boxes_come_in_scan_order() -> None:
    prob = np.zeros((100, 100), np.float32)
    prob[60:70, 10:90] = 1.0
    prob[10:20, 50:90] = 1.0
    prob[10:20, 5:40] = 1.0
    quads = [q for q, _ in db_postprocess(prob)]
    expected = [
        expected_box(5, 10, 40, 20),
        expected_box(50, 10, 90, 20),
        expected_box(10, 60, 90, 70),
    ]
    expected[0][:, 0] = np.maximum(expected[0][:, 0], 0)  # clipped to the page
    np.testing.assert_allclose(quads, expected, atol=1e-4)


def test_boxes_at_the_border_are_clipped_to_the_page() -> None:
    prob = np.zeros((50, 100), np.float32)
    prob[0:10, 0:100] = 1.0
    ((quad, _),) = db_postprocess(prob)
    d = unclip_distance(100, 10)
    np.testing.assert_allclose(quad, [[0, 0], [100, 0], [100, 10 + d], [0, 10 + d]], atol=1e-4)


def test_valid_region_maps_onto_the_page() -> None:
    prob = np.zeros((64, 96), np.float32)  # a padded detector output
    prob[10:20, 10:50] = 1.0
    prob[40:50, 70:90] = 1.0  # in the padding: never read
    boxes = db_postprocess(
        prob, valid_width=60, valid_height=30, page_width=600, page_height=150, unclip_ratio=0.0
    )
    assert len(boxes) == 1
    np.testing.assert_allclose(
        boxes[0][0], [[100, 50], [500, 50], [500, 100], [100, 100]], atol=1e-3
    )


def test_small_regions_are_dropped() -> None:
    prob = np.zeros((40, 100), np.float32)
    prob[10:12, 10:90] = 1.0  # 2 pixels high: below min_size 3
    prob[20:23, 10:90] = 1.0  # 3 high: kept (and 3 + 2 d >= 5 after unclip)
    boxes = db_postprocess(prob)
    assert len(boxes) == 1
    assert boxes[0][0][0][1] < 20 < boxes[0][0][3][1]
    assert len(db_postprocess(prob, min_size=4)) == 0


def test_max_candidates_keeps_the_largest() -> None:
    prob = np.zeros((40, 200), np.float32)
    prob[5:10, 5:20] = 1.0
    prob[20:30, 20:150] = 1.0
    prob[5:10, 100:120] = 1.0
    boxes = db_postprocess(prob, max_candidates=1)
    assert len(boxes) == 1
    np.testing.assert_allclose(boxes[0][0], expected_box(20, 20, 150, 30), atol=1e-4)


def test_empty_and_blank_maps() -> None:
    assert db_postprocess(np.zeros((0, 0), np.float32)) == []
    assert db_postprocess(np.zeros((32, 32), np.float32)) == []
    assert db_postprocess(np.full((32, 32), 0.1, np.float32)) == []


def test_whole_map_of_text() -> None:
    ((quad, score),) = db_postprocess(np.ones((32, 64), np.float32))
    np.testing.assert_allclose(quad, [[0, 0], [64, 0], [64, 32], [0, 32]])
    assert score == 1.0


def test_bad_arguments() -> None:
    prob = np.zeros((10, 10), np.float32)
    with pytest.raises(ValueError, match="valid region"):
        db_postprocess(prob, valid_width=11)
    with pytest.raises(ValueError, match="thresh"):
        db_postprocess(prob, thresh=1.5)
    with pytest.raises(ValueError, match="page"):
        db_postprocess(prob, page_width=0)
    for ratio in (-0.1, 101.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="unclip_ratio"):
            db_postprocess(prob, unclip_ratio=ratio)
    with pytest.raises(TypeError, match="float32"):
        db_postprocess(prob.astype(np.float64))
    with pytest.raises(ValueError, match="dimensions"):
        db_postprocess(prob[None])
    with pytest.raises(ValueError, match="contiguous"):
        db_postprocess(np.zeros((10, 20), np.float32)[:, ::2])


def test_min_area_rect_of_points() -> None:
    quad, w, h = min_area_rect(np.array([[0, 0], [10, 0], [10, 5], [0, 5], [5, 2]], np.float32))
    np.testing.assert_allclose(quad, [[0, 0], [10, 0], [10, 5], [0, 5]])
    assert (w, h) == (10, 5)
    # A rectangle rotated by 20 degrees (clockwise on the image, y down) is found exactly,
    # its first corner the top-left of the text.
    a = math.radians(20)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    rect = np.array([[0, 0], [40, 0], [40, 10], [0, 10]]) @ rot.T
    quad, w, h = min_area_rect(rect.astype(np.float32))
    np.testing.assert_allclose(quad, rect, atol=1e-4)
    assert (w, h) == (pytest.approx(40), pytest.approx(10))
    # Collinear points: a zero-height rectangle along them.
    quad, w, h = min_area_rect(np.array([[0, 0], [3, 3], [6, 6]], np.float32))
    assert w == pytest.approx(math.hypot(6, 6))
    assert h == pytest.approx(0)
