// SPDX-License-Identifier: MIT
#pragma once
/// Pixel buffers.
///
/// Ownership model: `ImageView` and `MutableImageView` borrow pixels they do not own and are
/// cheap to copy; whoever makes one keeps the pixels alive for as long as the view is used,
/// and a view is never stored past the call it was made for. `Image` owns its pixels, is
/// move-only (to avoid inadvertent copies of megabyte buffers) and pads every row to a
/// multiple of 64 bytes so that SIMD kernels may load whole vectors at the start of each row.
///
/// All images are 8-bit, interleaved, with 1 (gray), 3 or 4 channels. `stride` is the distance
/// in bytes between the starts of two rows; it is at least width * channels.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ocrai {

/// Borrowed, read-only 8-bit image.
struct ImageView {
  const std::uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 1;
  std::ptrdiff_t stride = 0;  ///< bytes from one row to the next

  /// First byte of row y (no bounds check).
  const std::uint8_t* row(int y) const { return data + static_cast<std::ptrdiff_t>(y) * stride; }
  /// True when the image holds no pixel.
  bool empty() const { return width <= 0 || height <= 0; }
  /// Bytes of pixel data in one row, padding excluded.
  std::size_t row_bytes() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  }
  /// True when the rows follow each other with no padding.
  bool contiguous() const { return stride == static_cast<std::ptrdiff_t>(row_bytes()); }
  /// Rows [y0, y1) of this image, borrowing the same pixels.
  ImageView rows(int y0, int y1) const { return {row(y0), width, y1 - y0, channels, stride}; }
};

/// Borrowed, writable 8-bit image.
struct MutableImageView {
  std::uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 1;
  std::ptrdiff_t stride = 0;

  std::uint8_t* row(int y) const { return data + static_cast<std::ptrdiff_t>(y) * stride; }
  bool empty() const { return width <= 0 || height <= 0; }
  std::size_t row_bytes() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  }
  MutableImageView rows(int y0, int y1) const {
    return {row(y0), width, y1 - y0, channels, stride};
  }
  operator ImageView() const { return {data, width, height, channels, stride}; }  // NOLINT
};

/// Throws std::invalid_argument unless `view` is a well-formed image: 1, 3 or 4 channels,
/// non-negative size, stride at least one row of pixels, and data present when not empty.
/// `what` names the argument in the message.
void validate_image(const ImageView& view, const char* what);

/// Owned 8-bit image with 64-byte aligned, padded rows. Move-only.
class Image {
 public:
  /// Row alignment and padding in bytes (one AVX-512 vector).
  static constexpr std::ptrdiff_t kRowAlignment = 64;

  Image() = default;
  /// Allocates width x height x channels pixels; contents are unspecified.
  Image(int width, int height, int channels);
  Image(Image&&) noexcept = default;
  Image& operator=(Image&&) noexcept = default;
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;
  ~Image() = default;

  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  std::ptrdiff_t stride() const { return stride_; }
  bool empty() const { return width_ <= 0 || height_ <= 0; }

  ImageView view() const { return {data_.get(), width_, height_, channels_, stride_}; }
  MutableImageView mutable_view() { return {data_.get(), width_, height_, channels_, stride_}; }

 private:
  struct AlignedDelete {
    void operator()(std::uint8_t* p) const noexcept;
  };
  std::unique_ptr<std::uint8_t[], AlignedDelete> data_;
  int width_ = 0;
  int height_ = 0;
  int channels_ = 0;
  std::ptrdiff_t stride_ = 0;
};

}  // namespace ocrai
