// SPDX-License-Identifier: MIT
#include "ocrai/tensor.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/simd.h"
#include "kernels/tensor_kernels.h"
#include "ocrai/cpu.h"

namespace ocrai {
namespace {

using kernels::PackRowsArgs;

// Outputs above this many bytes are written with cache-bypassing stores: they cannot stay in
// the last-level cache anyway, and skipping the read-for-ownership of every line saves a
// third of the memory traffic. Smaller outputs stay cached for the model that reads them next.
constexpr std::size_t kStreamBytes = std::size_t{16} << 20;

using PackRows = void (*)(const ImageView&, const PackRowsArgs&, int, int);
using Fill = void (*)(float*, std::size_t, float, bool);

struct Kernels {
  PackRows pack_rows;
  Fill fill;
};

Kernels select_kernels() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512: return {kernels::avx512::pack_rows, kernels::avx512::fill_f32};
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2: return {kernels::avx2::pack_rows, kernels::avx2::fill_f32};
#endif
    default: return {kernels::scalar::pack_rows, kernels::scalar::fill_f32};
  }
}

void check_params(const PackParams& p, const char* what) {
  if (p.channels != 1 && p.channels != 3) {
    throw std::invalid_argument(std::string(what) + ": params.channels must be 1 or 3, got " +
                                std::to_string(p.channels));
  }
  for (int k = 0; k < p.channels; ++k) {
    if (!std::isfinite(p.scale[static_cast<std::size_t>(k)]) ||
        !std::isfinite(p.bias[static_cast<std::size_t>(k)])) {
      throw std::invalid_argument(std::string(what) + ": non-finite scale or bias for plane " +
                                  std::to_string(k));
    }
  }
  if (std::isnan(p.pad_value)) {
    throw std::invalid_argument(std::string(what) + ": pad_value is NaN");
  }
}

std::size_t checked_floats(int planes, int height, int width, const char* what) {
  if (height < 0 || width < 0) {
    throw std::invalid_argument(std::string(what) + ": negative output size " +
                                std::to_string(width) + "x" + std::to_string(height));
  }
  return static_cast<std::size_t>(planes) * static_cast<std::size_t>(height) *
         static_cast<std::size_t>(width);
}

// Packs one image into the planes at `out` (validated by the caller).
void pack_one(const Kernels& k, const ImageView& src, const PackParams& p, float* out,
              int out_height, int out_width, bool stream) {
  const std::size_t plane = static_cast<std::size_t>(out_height) *
                            static_cast<std::size_t>(out_width);
  if (src.empty()) {
    k.fill(out, plane * static_cast<std::size_t>(p.channels), p.pad_value, stream);
    return;
  }
  PackRowsArgs args;
  args.planes = p.channels;
  for (int c = 0; c < p.channels; ++c) {
    args.channel[c] = src.channels == 1 ? 0 : (p.reverse_channels ? 2 - c : c);
    args.scale[c] = p.scale[static_cast<std::size_t>(c)];
    args.bias[c] = p.bias[static_cast<std::size_t>(c)];
  }
  args.pad = p.pad_value;
  args.out = out;
  args.plane_size = plane;
  args.out_width = out_width;
  args.stream = stream;
  k.pack_rows(src, args, 0, src.height);
  // Rows below the image are contiguous within each plane.
  const std::size_t image_floats = static_cast<std::size_t>(src.height) *
                                   static_cast<std::size_t>(out_width);
  for (int c = 0; c < p.channels; ++c) {
    k.fill(out + static_cast<std::size_t>(c) * plane + image_floats, plane - image_floats,
           p.pad_value, stream);
  }
}

void check_fits(const ImageView& src, const PackParams& p, int out_height, int out_width,
                const char* what) {
  if (src.channels != 1 && p.channels == 1) {
    throw std::invalid_argument(std::string(what) + ": a " + std::to_string(src.channels) +
                                "-channel image cannot fill 1 plane; convert it to gray first");
  }
  if (src.width > out_width || src.height > out_height) {
    throw std::invalid_argument(std::string(what) + ": image " + std::to_string(src.width) + "x" +
                                std::to_string(src.height) + " does not fit the output " +
                                std::to_string(out_width) + "x" + std::to_string(out_height));
  }
}

}  // namespace

PackParams PackParams::normalize(int channels, const std::array<double, 3>& mean,
                                 const std::array<double, 3>& std, double pixel_scale,
                                 bool reverse_channels, float pad_value) {
  PackParams p;
  p.channels = channels;
  p.reverse_channels = reverse_channels;
  p.pad_value = pad_value;
  if (channels != 1 && channels != 3) {
    throw std::invalid_argument("PackParams::normalize: channels must be 1 or 3, got " +
                                std::to_string(channels));
  }
  for (std::size_t k = 0; k < static_cast<std::size_t>(channels); ++k) {
    if (!(std::isfinite(std[k]) && std[k] != 0.0) || !std::isfinite(mean[k]) ||
        !std::isfinite(pixel_scale)) {
      throw std::invalid_argument("PackParams::normalize: std must be finite and non-zero and "
                                  "mean and scale finite (plane " + std::to_string(k) + ")");
    }
    p.scale[k] = static_cast<float>(pixel_scale / std[k]);
    p.bias[k] = static_cast<float>(-mean[k] / std[k]);
  }
  return p;
}

PackParams PackParams::recognizer(bool input_is_rgb) {
  return normalize(3, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}, 1.0 / 255.0, input_is_rgb);
}

PackParams PackParams::detector(bool input_is_rgb) {
  return normalize(3, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}, 1.0 / 255.0, input_is_rgb);
}

int round_up(int value, int multiple) {
  if (value < 0 || multiple < 1) {
    throw std::invalid_argument("round_up: needs value >= 0 and multiple >= 1, got " +
                                std::to_string(value) + " and " + std::to_string(multiple));
  }
  const long long r = (static_cast<long long>(value) + multiple - 1) / multiple * multiple;
  if (r > std::numeric_limits<int>::max()) {
    throw std::invalid_argument("round_up: " + std::to_string(value) +
                                " rounded up to a multiple of " + std::to_string(multiple) +
                                " exceeds int");
  }
  return static_cast<int>(r);
}

PaddedSize padded_size(int height, int width, int multiple) {
  return {round_up(height, multiple), round_up(width, multiple)};
}

void pack_chw_f32(const ImageView& src, const PackParams& params, float* out, int out_height,
                  int out_width) {
  validate_image(src, "pack_chw_f32 image");
  check_params(params, "pack_chw_f32");
  const std::size_t n = checked_floats(params.channels, out_height, out_width, "pack_chw_f32");
  check_fits(src, params, out_height, out_width, "pack_chw_f32");
  if (n == 0) return;
  if (out == nullptr) throw std::invalid_argument("pack_chw_f32: null output buffer");
  pack_one(select_kernels(), src, params, out, out_height, out_width,
           n * sizeof(float) >= kStreamBytes);
}

void pack_batch_f32(const std::vector<ImageView>& crops, const PackParams& params, float* out,
                    int batch, int channels, int height, int width) {
  check_params(params, "pack_batch_f32");
  if (channels != params.channels) {
    throw std::invalid_argument("pack_batch_f32: channels " + std::to_string(channels) +
                                " differs from params.channels " +
                                std::to_string(params.channels));
  }
  if (batch < 0) throw std::invalid_argument("pack_batch_f32: negative batch");
  if (crops.size() > static_cast<std::size_t>(batch)) {
    throw std::invalid_argument("pack_batch_f32: " + std::to_string(crops.size()) +
                                " crops do not fit a batch of " + std::to_string(batch));
  }
  const std::size_t sample = checked_floats(channels, height, width, "pack_batch_f32");
  for (std::size_t i = 0; i < crops.size(); ++i) {
    const std::string what = "pack_batch_f32 crop " + std::to_string(i);
    validate_image(crops[i], what.c_str());
    check_fits(crops[i], params, height, width, what.c_str());
  }
  const std::size_t n = sample * static_cast<std::size_t>(batch);
  if (n == 0) return;
  if (out == nullptr) throw std::invalid_argument("pack_batch_f32: null output buffer");
  const Kernels k = select_kernels();
  const bool stream = n * sizeof(float) >= kStreamBytes;
  for (std::size_t i = 0; i < crops.size(); ++i) {
    pack_one(k, crops[i], params, out + i * sample, height, width, stream);
  }
  k.fill(out + crops.size() * sample, (static_cast<std::size_t>(batch) - crops.size()) * sample,
         params.pad_value, stream);
}

}  // namespace ocrai
