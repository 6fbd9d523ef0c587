# Stubs for ocrai._core.kernels (cpp/bindings/register_*.cpp).
from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import numpy.typing as npt

def to_gray_u8(
    image: npt.NDArray[np.uint8],
    order: str = "rgb",
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Gray (BT.601 luma, 14-bit fixed point) of a uint8 image with 1, 3 or 4 channels."""

def resize_u8(
    image: npt.NDArray[np.uint8],
    width: int,
    height: int,
    mode: str = "auto",
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Resize a uint8 image (1, 3 or 4 channels) to width x height.

    mode: 'bilinear' (pixel-centre aligned, like OpenCV INTER_LINEAR), 'area' (exact box
    filter, antialiased when shrinking) or 'auto' (area when shrinking along both axes,
    bilinear otherwise). Integer weights: every SIMD target gives the same bytes.
    """

def crop_quad_u8(
    image: npt.NDArray[np.uint8],
    quad: Sequence[Sequence[float]],
    width: int,
    height: int,
    border: str = "replicate",
    border_value: int = 0,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Rectify the quadrilateral `quad` ((x, y) corners clockwise from the top-left)
    of a uint8 image into a width x height image by the perspective transform through the
    corners, sampling bilinearly. border: 'replicate' (edge pixels) or 'constant'
    (border_value in every channel)."""

def rectified_width(quad: Sequence[Sequence[float]], height: int, max_width: int = 0) -> int:
    """Width that keeps the aspect ratio of `quad` at `height` pixels: mean length of
    the top and bottom edges over the mean of the left and right edges, times height,
    rounded, clamped to [1, max_width] (no upper bound when max_width <= 0)."""

def pack_chw_f32(
    image: npt.NDArray[np.uint8],
    scale: Sequence[float],
    bias: Sequence[float],
    reverse_channels: bool,
    pad_value: float,
    height: int,
    width: int,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Pack a uint8 image into a float32 (1, C, height, width) tensor, C = len(scale):
    plane k = scale[k] * x + bias[k] (model channel order) of input channel k, or 2 - k with
    reverse_channels (a gray image feeds every plane); the image at the top-left, pad_value
    elsewhere."""

def pack_batch_f32(
    crops: list[npt.NDArray[np.uint8]],
    scale: Sequence[float],
    bias: Sequence[float],
    reverse_channels: bool,
    pad_value: float,
    batch: int,
    height: int,
    width: int,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Pack up to `batch` uint8 images (e.g. line crops of different widths) into one
    float32 (batch, C, height, width) tensor, each at the top-left of its sample, as
    pack_chw_f32; samples without a crop are all pad_value."""

def round_up(value: int, multiple: int) -> int:
    """`value` rounded up to a multiple of `multiple`."""

def histogram_u8(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """Counts of each gray level (uint64, shape (256,)) of a 1-channel uint8 image."""

def otsu_threshold_u8(image: npt.NDArray[np.uint8]) -> int:
    """Otsu's threshold t of a 1-channel uint8 image: pixels <= t are the dark class
    (ink), pixels > t the light class (paper). 0 when fewer than two gray levels occur."""

def binarize_u8(
    image: npt.NDArray[np.uint8],
    threshold: int,
    invert: bool = False,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """255 where image > threshold, else 0 (the opposite when invert), for a 1-channel
    uint8 image; threshold in [0, 255]. out may be image itself."""

def sauvola_u8(
    image: npt.NDArray[np.uint8],
    window: int = 31,
    k: float = 0.2,
    r: float = 128.0,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Sauvola binarization of a 1-channel uint8 image: 255 where
    image > mean * (1 + k * (std / r - 1)) over the window x window neighbourhood (clipped at
    the borders), else 0. window is odd, in [3, 255]."""

def adaptive_mean_u8(
    image: npt.NDArray[np.uint8],
    window: int = 31,
    c: int = 10,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Adaptive mean binarization of a 1-channel uint8 image: 255 where
    image > mean - c over the window x window neighbourhood (clipped at the borders, compared
    exactly), else 0. window is odd, in [3, 255]; c in [-255, 255]."""

class _SkewEstimate(TypedDict):
    angle: float
    confidence: float
    background: int

def estimate_skew_u8(
    image: npt.NDArray[np.uint8], order: str = "rgb", max_angle: float = 15.0
) -> _SkewEstimate:
    """Skew of a page (uint8, 1, 3 or 4 channels): {"angle": degrees to rotate by,
    counter-clockwise positive, to make the text horizontal; "confidence": 0..1; "background":
    the paper's gray level}. Angle and confidence are 0 for blank or empty images."""

def rotated_size(width: int, height: int, angle: float, expand: bool) -> tuple[int, int]:
    """(height, width) of a width x height image rotated by angle degrees: unchanged
    without expand, else the canvas that holds the whole rotated image."""

def rotate_u8(
    image: npt.NDArray[np.uint8],
    angle: float,
    border: int = 255,
    expand: bool = False,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Rotates a uint8 image (1, 3 or 4 channels) counter-clockwise by angle degrees
    about its centre, bilinear, filling with border (0..255) outside the source; expand grows
    the canvas to hold the whole result. out must have the rotated shape."""

def deskew_u8(
    image: npt.NDArray[np.uint8],
    order: str = "rgb",
    max_angle: float = 15.0,
    border: int = -1,
    expand: bool = True,
    min_confidence: float = 0.0,
) -> tuple[npt.NDArray[np.uint8], _SkewEstimate]:
    """Estimates the skew of a page and rotates it upright: returns (image, estimate)
    with estimate as from estimate_skew_u8. border -1 fills with the estimated paper level. The
    image is an unrotated copy when the angle is 0 or the confidence is below min_confidence."""
