"""Image preprocessing on numpy arrays, by the native SIMD kernels.

Every function takes uint8 images of shape (H, W) or (H, W, C) with C in {1, 3, 4} whose
pixels are contiguous within each row (crops of larger arrays are fine), checks dtype, shape
and layout, raises TypeError or ValueError with a clear message instead of casting, and runs
without the GIL. Functions that produce an image or a tensor accept ``out=`` to write into an
existing array. Empty and 1-pixel images are valid everywhere.

Sizes are given as ``(width, height)`` (as OpenCV does); arrays are indexed ``[y, x]``.
Coordinates are continuous pixel coordinates: pixel ``(i, j)`` covers ``[i, i+1) x [j, j+1)``,
so a quad outlining a whole W x H image is ``[(0, 0), (W, 0), (W, H), (0, H)]``.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, SupportsFloat, SupportsIndex

import numpy as np
import numpy.typing as npt

from . import _core

__all__ = [
    "DETECTOR_MEAN",
    "DETECTOR_STD",
    "RECOGNIZER_MEAN",
    "RECOGNIZER_STD",
    "SkewEstimate",
    "adaptive_mean",
    "binarize",
    "crop_quad",
    "deskew",
    "estimate_skew",
    "otsu_threshold",
    "pack",
    "pack_batch",
    "rectified_width",
    "resize",
    "rotate",
    "round_up",
    "sauvola",
    "to_gray",
]

ColorOrder = Literal["rgb", "bgr"]
ResizeMode = Literal["auto", "bilinear", "area"]
Border = Literal["replicate", "constant"]
U8Image = npt.NDArray[np.uint8]
F32Tensor = npt.NDArray[np.float32]
QuadLike = Sequence[Sequence[float]] | npt.NDArray[np.floating] | npt.NDArray[np.integer]

# Normalisation of the PP-OCR models, per channel in the MODEL's order (B, G, R): pass them to
# pack()/pack_batch() with scale=1/255 and reverse_channels=True for an RGB image.
DETECTOR_MEAN = (0.485, 0.456, 0.406)
DETECTOR_STD = (0.229, 0.224, 0.225)
RECOGNIZER_MEAN = (0.5, 0.5, 0.5)
RECOGNIZER_STD = (0.5, 0.5, 0.5)


# The native kernels take C ints: larger values are refused here with a clear message
# (pybind11 would raise an unhelpful "incompatible function arguments" TypeError).
_INT_MAX = 2**31 - 1


def _in_int_range(name: str, value: int) -> int:
    if not -_INT_MAX - 1 <= value <= _INT_MAX:
        msg = f"{name} must be at most {_INT_MAX} in magnitude, got {value}"
        raise ValueError(msg)
    return value


def _integer(name: str, value: SupportsIndex) -> int:
    """`value` as an int in C int range; floats and bools are refused rather than
    truncated."""
    if isinstance(value, bool | np.bool_):
        msg = f"{name} must be an integer, got bool {value!r}"
        raise TypeError(msg)
    try:
        result = operator.index(value)
    except TypeError as e:
        msg = f"{name} must be an integer, got {type(value).__name__} {value!r}"
        raise TypeError(msg) from e
    return _in_int_range(name, result)


def _optional_integer(name: str, value: SupportsIndex | None) -> int | None:
    return None if value is None else _integer(name, value)


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


def _size(size: Sequence[int], name: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError) as e:
        msg = f"{name} must be a (width, height) pair of integers, got {size!r}"
        raise ValueError(msg) from e
    if width < 0 or height < 0:
        msg = f"{name} must be non-negative, got {size!r}"
        raise ValueError(msg)
    return _in_int_range(f"{name} width", width), _in_int_range(f"{name} height", height)


def resize(
    image: U8Image,
    size: Sequence[int],
    mode: ResizeMode = "auto",
    *,
    out: U8Image | None = None,
) -> U8Image:
    """Resize ``image`` to ``size = (width, height)``.

    ``mode``: ``"bilinear"`` (pixel-centre aligned, like OpenCV's INTER_LINEAR; aliases when
    shrinking by more than 2x), ``"area"`` (exact box filter, antialiased; like INTER_AREA
    when shrinking) or ``"auto"`` (area when shrinking along both axes, else bilinear).
    The weights are integers (8 fractional bits along y, 14 along x), so the result is the
    same on every CPU; it is within 1-2 levels of OpenCV's.
    """
    width, height = _size(size, "size")
    return _core.kernels.resize_u8(image, width, height, mode, out)


def _quad(quad: QuadLike) -> list[list[float]]:
    try:
        q = np.asarray(quad, dtype=np.float64)
    except (TypeError, ValueError) as e:
        msg = f"quad must be 4 (x, y) points, got {quad!r}"
        raise ValueError(msg) from e
    if q.shape != (4, 2):
        msg = f"quad must have shape (4, 2): 4 (x, y) points, got shape {q.shape}"
        raise ValueError(msg)
    if not np.isfinite(q).all():
        msg = f"quad has non-finite coordinates: {q.tolist()}"
        raise ValueError(msg)
    return [[float(x), float(y)] for x, y in q]


def rectified_width(quad: QuadLike, height: int, max_width: int | None = None) -> int:
    """Width that keeps the aspect ratio of ``quad`` when it is cropped to ``height`` pixels.

    It is the mean length of the top and bottom edges over the mean of the left and right
    edges, times ``height``, rounded and clamped to ``[1, max_width]``.
    """
    return _core.kernels.rectified_width(
        _quad(quad), _integer("height", height), _optional_integer("max_width", max_width) or 0
    )


def crop_quad(
    image: U8Image,
    quad: QuadLike,
    height: int,
    width: int | None = None,
    *,
    max_width: int | None = None,
    border: Border = "replicate",
    border_value: int = 0,
    out: U8Image | None = None,
) -> U8Image:
    """Crop the quadrilateral ``quad`` out of ``image`` and rectify it to ``height`` rows.

    ``quad`` is 4 (x, y) corners clockwise on the image from the top-left of the text
    (top-left, top-right, bottom-right, bottom-left). The output's corners map to them by
    the perspective transform through the 4 points and each pixel is sampled bilinearly.
    ``width`` defaults to :func:`rectified_width` (at most ``max_width``). Outside the image,
    ``border="replicate"`` repeats the edge pixels and ``"constant"`` reads ``border_value``.
    Degenerate, concave or counter-clockwise quads raise ValueError.
    """
    q = _quad(quad)
    height = _integer("height", height)
    if width is None:
        width = _core.kernels.rectified_width(
            q, height, _optional_integer("max_width", max_width) or 0
        )
    width = _integer("width", width)
    border_value = _integer("border_value", border_value)
    return _core.kernels.crop_quad_u8(image, q, width, height, border, border_value, out)


def round_up(value: int, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple``."""
    return _core.kernels.round_up(_integer("value", value), _integer("multiple", multiple))


def _affine(
    mean: Sequence[float], std: Sequence[float], scale: float
) -> tuple[list[float], list[float]]:
    mean, std = list(mean), list(std)
    if len(mean) != len(std) or len(mean) not in (1, 3):
        msg = (
            "mean and std must both have 1 or 3 values (one per model channel), "
            f"got {len(mean)} and {len(std)}"
        )
        raise ValueError(msg)
    for s in std:
        if not (math.isfinite(s) and s != 0):
            msg = f"std values must be finite and non-zero, got {std}"
            raise ValueError(msg)
    if not (math.isfinite(scale) and all(math.isfinite(m) for m in mean)):
        msg = f"scale and mean must be finite, got scale={scale}, mean={mean}"
        raise ValueError(msg)
    # Same arithmetic as ocrai::PackParams::normalize: double, then rounded to float once.
    return [scale / s for s in std], [-m / s for m, s in zip(mean, std, strict=True)]


def pack(
    image: U8Image,
    mean: Sequence[float] = (0.0, 0.0, 0.0),
    std: Sequence[float] = (1.0, 1.0, 1.0),
    scale: float = 1.0 / 255.0,
    reverse_channels: bool = False,
    *,
    size: Sequence[int] | None = None,
    multiple: int | None = None,
    pad_value: float = 0.0,
    out: F32Tensor | None = None,
) -> F32Tensor:
    """Pack ``image`` into a float32 NCHW tensor of shape (1, C, height, width).

    Plane k is ``(x * scale - mean[k]) / std[k]`` with ``mean``/``std`` in the MODEL's channel
    order; C = len(mean) (1 or 3). Plane k reads input channel k, or channel 2 - k when
    ``reverse_channels`` (an RGB image into a BGR model); a gray image feeds every plane and
    alpha is ignored. The output is ``size = (width, height)`` (default: the image's size),
    rounded up to ``multiple``; the image sits at its top-left and ``pad_value`` (in output
    units) fills the rest. ``out`` must then be a writable C-contiguous float32 array of that
    shape.
    """
    a, b = _affine(mean, std, scale)
    given: object = image  # callers without type checking may pass anything
    if not isinstance(given, np.ndarray):
        msg = f"image: expected a numpy uint8 array, got {type(given).__name__}"
        raise TypeError(msg)
    if image.ndim < 2:
        msg = f"image: expected an image of shape (H, W) or (H, W, C), got {image.shape}"
        raise ValueError(msg)
    width, height = (image.shape[1], image.shape[0]) if size is None else _size(size, "size")
    if multiple is not None:
        width, height = round_up(width, multiple), round_up(height, multiple)
    return _core.kernels.pack_chw_f32(image, a, b, reverse_channels, pad_value, height, width, out)


def pack_batch(
    crops: Sequence[U8Image],
    mean: Sequence[float] = (0.0, 0.0, 0.0),
    std: Sequence[float] = (1.0, 1.0, 1.0),
    scale: float = 1.0 / 255.0,
    reverse_channels: bool = False,
    *,
    height: int | None = None,
    width: int | None = None,
    batch: int | None = None,
    multiple: int | None = None,
    pad_value: float = 0.0,
    out: F32Tensor | None = None,
) -> F32Tensor:
    """Pack images of different sizes (e.g. text-line crops) into one (batch, C, H, W) tensor.

    Each crop sits at the top-left of its sample, normalised as in :func:`pack`; the rest and
    any sample beyond ``len(crops)`` hold ``pad_value``. ``height``/``width`` default to the
    largest crop's, the width rounded up to ``multiple``; ``batch`` defaults to ``len(crops)``.
    """
    a, b = _affine(mean, std, scale)
    crops = list(crops)
    for i, crop in enumerate(crops):
        item: object = crop  # callers without type checking may pass anything
        if not isinstance(item, np.ndarray):
            msg = f"crops[{i}]: expected a numpy uint8 array, got {type(crop).__name__}"
            raise TypeError(msg)
        if crop.ndim < 2:
            msg = f"crops[{i}]: expected an image of shape (H, W) or (H, W, C), got {crop.shape}"
            raise ValueError(msg)
    if height is None:
        height = max((c.shape[0] for c in crops), default=0)
    if width is None:
        width = max((c.shape[1] for c in crops), default=0)
        if multiple is not None:
            width = round_up(width, multiple)
    if batch is None:
        batch = len(crops)
    height, width = _integer("height", height), _integer("width", width)
    batch = _integer("batch", batch)
    return _core.kernels.pack_batch_f32(
        crops, a, b, reverse_channels, pad_value, batch, height, width, out
    )


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
