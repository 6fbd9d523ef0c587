// SPDX-License-Identifier: MIT
#pragma once
/// Packing 8-bit images into float32 model inputs (NCHW planes).
///
/// Ownership: the packers write into a float buffer the caller owns (e.g. the memory behind
/// an ONNX Runtime input tensor), so one buffer can be reused for every call; they never
/// allocate it.
///
/// Channel order is the MODEL's: plane k of the output is model channel k, and the per-channel
/// parameters (`scale`, `bias`, or the mean and std given to `PackParams::normalize`) are
/// indexed by k. Which input channel feeds plane k is decided by `reverse_channels`: false
/// means input channel k, true means input channel 2 - k (RGB image into a BGR model or the
/// reverse). A gray input feeds every plane; alpha is never read.

#include <array>
#include <cstddef>
#include <vector>

#include "ocrai/image.h"

namespace ocrai {

/// How u8 pixels become floats: out[k] = scale[k] * float(x) + bias[k], computed in float
/// exactly as written (one multiply, one add, no fused multiply-add), for plane k < channels.
struct PackParams {
  int channels = 3;                       ///< output planes: 1 or 3
  std::array<float, 3> scale{1.f, 1.f, 1.f};  ///< per output plane (model order)
  std::array<float, 3> bias{0.f, 0.f, 0.f};   ///< per output plane (model order)
  bool reverse_channels = false;          ///< plane k reads input channel 2 - k (3/4-ch input)
  float pad_value = 0.0f;                 ///< written everywhere outside the image (output units)

  /// Parameters for out[k] = (x * pixel_scale - mean[k]) / std[k], the usual normalisation,
  /// with mean and std in the model's channel order: scale[k] = pixel_scale / std[k],
  /// bias[k] = -mean[k] / std[k], computed in double and rounded to float once (as Python
  /// floats passed to the bindings are), so C++ and Python callers get the same bits.
  /// Throws std::invalid_argument for channels other than 1 or 3 or a zero or non-finite std.
  static PackParams normalize(int channels, const std::array<double, 3>& mean,
                              const std::array<double, 3>& std, double pixel_scale,
                              bool reverse_channels, float pad_value = 0.0f);
  /// The PP-OCR text recogniser's input: BGR planes of (x / 255 - 0.5) / 0.5, from an RGB
  /// (reverse_channels = true) or BGR image; pad 0.
  static PackParams recognizer(bool input_is_rgb);
  /// The PP-OCR text detector's input: BGR planes of (x / 255 - mean[k]) / std[k] with
  /// mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) for planes B, G, R, from an RGB
  /// or BGR image; pad 0. (PaddleOCR applies the ImageNet constants in this order to the BGR
  /// images OpenCV decodes, so the models were trained that way; inference.yml says the same.)
  static PackParams detector(bool input_is_rgb);
};

/// `value` rounded up to a multiple of `multiple` (>= 1). Throws std::invalid_argument for a
/// negative value, multiple < 1, or a result beyond int.
int round_up(int value, int multiple);

/// Size of a packed image: height and width each rounded up to `multiple` (1 = unchanged).
struct PaddedSize {
  int height = 0;
  int width = 0;
};
PaddedSize padded_size(int height, int width, int multiple);

/// Packs `src` (gray, or 3/4-channel colour) into `params.channels` float planes of
/// out_height x out_width at `out`, C-contiguous (CHW, i.e. NCHW with N = 1): the image sits
/// at the top-left and params.pad_value fills the rest of every plane. Writes exactly
/// channels * out_height * out_width floats. Throws std::invalid_argument when the image is
/// larger than the output, when a colour image is packed into 1 plane (convert it to gray
/// first), on bad params, or when out is null and the output is not empty.
void pack_chw_f32(const ImageView& src, const PackParams& params, float* out, int out_height,
                  int out_width);

/// Packs up to `batch` images (e.g. text-line crops of different widths) into one
/// batch x channels x height x width float tensor at `out`: sample i holds crops[i] at its
/// top-left, padded with params.pad_value; samples beyond crops.size() are all padding.
/// `channels` must equal params.channels. Throws std::invalid_argument when a crop is larger
/// than height x width, there are more crops than `batch`, or as pack_chw_f32.
void pack_batch_f32(const std::vector<ImageView>& crops, const PackParams& params, float* out,
                    int batch, int channels, int height, int width);

}  // namespace ocrai
