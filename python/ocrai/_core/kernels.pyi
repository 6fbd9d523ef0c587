# Stubs for ocrai._core.kernels (cpp/bindings/register_*.cpp).
from collections.abc import Sequence

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
