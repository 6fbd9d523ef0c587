// SPDX-License-Identifier: MIT
#include "ocrai/image.h"

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace ocrai {

void validate_image(const ImageView& view, const char* what) {
  if (view.channels != 1 && view.channels != 3 && view.channels != 4) {
    throw std::invalid_argument(std::string(what) + ": expected 1, 3 or 4 channels, got " +
                                std::to_string(view.channels));
  }
  if (view.width < 0 || view.height < 0) {
    throw std::invalid_argument(std::string(what) + ": negative size " +
                                std::to_string(view.width) + "x" + std::to_string(view.height));
  }
  if (view.empty()) return;
  if (view.data == nullptr) {
    throw std::invalid_argument(std::string(what) + ": no pixel data");
  }
  if (view.stride < static_cast<std::ptrdiff_t>(view.row_bytes())) {
    throw std::invalid_argument(std::string(what) + ": row stride " + std::to_string(view.stride) +
                                " is shorter than one row of " + std::to_string(view.row_bytes()) +
                                " bytes");
  }
}

void Image::AlignedDelete::operator()(std::uint8_t* p) const noexcept { std::free(p); }

Image::Image(int width, int height, int channels) {
  validate_image({nullptr, 0, 0, channels, 0}, "Image");
  if (width < 0 || height < 0) {
    throw std::invalid_argument("Image: negative size");
  }
  const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(width) * channels;
  const std::ptrdiff_t stride = (row + kRowAlignment - 1) / kRowAlignment * kRowAlignment;
  const std::size_t bytes = static_cast<std::size_t>(stride) * static_cast<std::size_t>(height);
  if (bytes > 0) {
    // aligned_alloc needs a size that is a multiple of the alignment; stride already is.
    void* p = std::aligned_alloc(static_cast<std::size_t>(kRowAlignment), bytes);
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<std::uint8_t*>(p));
  }
  width_ = width;
  height_ = height;
  channels_ = channels;
  stride_ = stride;
}

}  // namespace ocrai
