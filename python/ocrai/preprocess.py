"""Image preprocessing on numpy arrays, by the native SIMD kernels.

Every function takes uint8 images of shape (H, W) or (H, W, C) with C in {1, 3, 4} whose
pixels are contiguous within each row (crops of larger arrays are fine), checks dtype, shape
and layout, raises TypeError or ValueError with a clear message instead of casting, and runs
without the GIL. Functions that produce an image accept ``out=`` to write into an existing
array. Empty and 1-pixel images are valid everywhere.

Channels: the thresholding functions (:func:`otsu_threshold`, :func:`binarize`,
:func:`sauvola`, :func:`adaptive_mean`) work on one channel and raise ValueError for a colour
image (convert it with :func:`to_gray` first), because a threshold is defined on gray levels.
The geometric functions (:func:`estimate_skew`, :func:`rotate`, :func:`deskew`) take 1, 3 or 4
channels; :func:`estimate_skew` reads colour through the same luma as :func:`to_gray`.

Binary outputs are 255 for pixels that pass the threshold test (brighter than their
threshold: paper) and 0 for the others (ink), unless ``invert`` says otherwise.

Angles are in degrees, counter-clockwise positive as the image is displayed.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Literal, SupportsFloat, SupportsIndex

import numpy as np
import numpy.typing as npt

from . import _core

__all__ = [
    "SkewEstimate",
    "adaptive_mean",
    "binarize",
    "deskew",
    "estimate_skew",
    "otsu_threshold",
    "rotate",
    "sauvola",
    "to_gray",
]

ColorOrder = Literal["rgb", "bgr"]
U8Image = npt.NDArray[np.uint8]


def _integer(name: str, value: SupportsIndex) -> int:
    """`value` as an int; floats and bools are refused rather than truncated."""
    if isinstance(value, bool | np.bool_):
        msg = f"{name} must be an integer, got bool {value!r}"
        raise TypeError(msg)
    try:
        return operator.index(value)
    except TypeError as e:
        msg = f"{name} must be an integer, got {type(value).__name__} {value!r}"
        raise TypeError(msg) from e


def _real(name: str, value: SupportsFloat) -> float:
    """`value` as a float (ints and numpy scalars accepted); strings and bools are refused."""
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        msg = f"{name} must be a real number, got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    result = float(value)
    if not math.isfinite(result):
        msg = f"{name} must be finite, got {result}"
        raise ValueError(msg)
    return result


def to_gray(image: U8Image, order: ColorOrder = "rgb", *, out: U8Image | None = None) -> U8Image:
    """Gray (BT.601 luma) of a 1-, 3- or 4-channel image; alpha is ignored.

    ``order`` says whether a colour image is RGB(A) or BGR(A).
    """
    return _core.kernels.to_gray_u8(image, order, out)


def otsu_threshold(image: U8Image) -> int:
    """Otsu's threshold ``t`` of a gray image: pixels ``<= t`` are the dark class (ink),
    pixels ``> t`` the light class (paper).

    ``t`` maximises the between-class variance (the first ``t`` wins a tie). An empty image
    or one with a single gray level returns 0, so that :func:`binarize` keeps everything but
    pure black as paper.
    """
    return _core.kernels.otsu_threshold_u8(image)


def binarize(
    image: U8Image,
    threshold: SupportsIndex | None = None,
    *,
    invert: bool = False,
    out: U8Image | None = None,
) -> U8Image:
    """255 where ``image > threshold``, else 0 (the opposite with ``invert=True``).

    ``threshold`` is an integer in [0, 255]; ``None`` uses :func:`otsu_threshold`. ``out``
    may be ``image`` itself (in place).
    """
    t = otsu_threshold(image) if threshold is None else _integer("threshold", threshold)
    return _core.kernels.binarize_u8(image, t, bool(invert), out)


def sauvola(
    image: U8Image,
    window: SupportsIndex = 31,
    k: SupportsFloat = 0.2,
    r: SupportsFloat = 128.0,
    *,
    out: U8Image | None = None,
) -> U8Image:
    """Sauvola's local threshold: 255 where ``image > m * (1 + k * (s / r - 1))``, else 0.

    ``m`` and ``s`` are the mean and standard deviation of the ``window`` x ``window``
    neighbourhood (``window`` odd, 3..255). Near the borders the window is clipped to the
    image: the statistics are over the pixels inside it, never over padding. ``out`` must not
    overlap ``image``.
    """
    return _core.kernels.sauvola_u8(
        image, _integer("window", window), _real("k", k), _real("r", r), out
    )


def adaptive_mean(
    image: U8Image,
    window: SupportsIndex = 31,
    c: SupportsIndex = 10,
    *,
    out: U8Image | None = None,
) -> U8Image:
    """Adaptive mean threshold: 255 where ``image > m - c``, else 0, compared exactly.

    ``m`` is the mean of the ``window`` x ``window`` neighbourhood (``window`` odd, 3..255),
    clipped at the borders as in :func:`sauvola`; ``c`` is an integer in [-255, 255].
    ``out`` must not overlap ``image``.
    """
    return _core.kernels.adaptive_mean_u8(image, _integer("window", window), _integer("c", c), out)


@dataclass(frozen=True)
class SkewEstimate:
    """The skew of a page.

    ``angle``: degrees to rotate the page by (counter-clockwise positive) to make its text
    lines horizontal; ``rotate(page, estimate.angle)`` levels it. A page turned 3 degrees
    counter-clockwise gives -3. 0 when no line structure was found.
    ``confidence``: 0..1, how much sharper the text lines are at the best angle than at the
    worst (text pages about 0.4-0.8, pages without text lines below 0.2, blank pages 0).
    ``background``: the paper's gray level, a natural border fill for :func:`rotate`.
    """

    angle: float
    confidence: float
    background: int


def _estimate(d: _core.kernels._SkewEstimate) -> SkewEstimate:
    return SkewEstimate(float(d["angle"]), float(d["confidence"]), int(d["background"]))


def estimate_skew(
    image: U8Image, order: ColorOrder = "rgb", *, max_angle: SupportsFloat = 15.0
) -> SkewEstimate:
    """Skew of a page (1, 3 or 4 channels), searched in [-max_angle, max_angle] degrees.

    ``max_angle`` is in (0, 45]. Blank, low-contrast and empty images give angle 0 and
    confidence 0.
    """
    return _estimate(_core.kernels.estimate_skew_u8(image, order, _real("max_angle", max_angle)))


def rotate(
    image: U8Image,
    angle: SupportsFloat,
    *,
    border: SupportsIndex = 255,
    expand: bool = False,
    out: U8Image | None = None,
) -> U8Image:
    """Rotates ``image`` counter-clockwise by ``angle`` degrees about its centre (bilinear).

    Pixels that sample outside the image take ``border`` (0..255, every channel). With
    ``expand=True`` the canvas grows to hold the whole rotated image; otherwise it keeps the
    input's size. ``out`` must have the result's shape and must not overlap ``image``.
    """
    return _core.kernels.rotate_u8(
        image, _real("angle", angle), _integer("border", border), bool(expand), out
    )


def deskew(
    image: U8Image,
    order: ColorOrder = "rgb",
    *,
    max_angle: SupportsFloat = 15.0,
    border: SupportsIndex | None = None,
    expand: bool = True,
    min_confidence: SupportsFloat = 0.0,
) -> tuple[U8Image, SkewEstimate]:
    """Estimates the skew of a page and rotates it upright: returns (image, estimate).

    ``border`` fills the corners uncovered by the rotation; ``None`` uses the estimated paper
    level. The returned image is a new array: an unrotated copy when the estimated angle is 0
    or its confidence is below ``min_confidence``.
    """
    fill = -1 if border is None else _integer("border", border)
    if not -1 <= fill <= 255:
        msg = f"border must be in [0, 255] or None (the paper level), got {fill}"
        raise ValueError(msg)
    rotated, estimate = _core.kernels.deskew_u8(
        image,
        order,
        _real("max_angle", max_angle),
        fill,
        bool(expand),
        _real("min_confidence", min_confidence),
    )
    return rotated, _estimate(estimate)
