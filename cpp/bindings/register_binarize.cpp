// SPDX-License-Identifier: MIT
#include <algorithm>

#include "bindings.h"
#include "ocrai/binarize.h"

namespace ocrai::bindings {

void register_binarize(py::module_& kernels) {
  kernels.def(
      "histogram_u8",
      [](const py::array& image) {
        const ImageView src = image_view(image, "image");
        Histogram h{};
        {
          // Pure C++ on memory that `image` keeps alive; no Python object is touched.
          py::gil_scoped_release nogil;
          h = histogram_u8(src);
        }
        py::array_t<std::uint64_t> out(256);
        std::copy(h.begin(), h.end(), out.mutable_data());
        return out;
      },
      py::arg("image"),
      R"pbdoc(Counts of each gray level (uint64, shape (256,)) of a 1-channel uint8 image.)pbdoc");

  kernels.def(
      "otsu_threshold_u8",
      [](const py::array& image) {
        const ImageView src = image_view(image, "image");
        // Pure C++ on memory that `image` keeps alive; no Python object is touched.
        py::gil_scoped_release nogil;
        return otsu_threshold_u8(src);
      },
      py::arg("image"),
      R"pbdoc(Otsu's threshold t of a 1-channel uint8 image: pixels <= t are the dark class
(ink), pixels > t the light class (paper). 0 when fewer than two gray levels occur.)pbdoc");

  kernels.def(
      "binarize_u8",
      [](const py::array& image, int threshold, bool invert, const py::object& out) {
        const ImageView src = image_view(image, "image");
        py::array result = output_image(out, src.height, src.width, 1, "out");
        const MutableImageView dst = mutable_image_view(result, "out");
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          binarize_u8(src, dst, threshold, invert);
        }
        return result;
      },
      py::arg("image"), py::arg("threshold"), py::arg("invert") = false,
      py::arg("out") = py::none(),
      R"pbdoc(255 where image > threshold, else 0 (the opposite when invert), for a 1-channel
uint8 image; threshold in [0, 255]. out may be image itself.)pbdoc");

  kernels.def(
      "sauvola_u8",
      [](const py::array& image, int window, double k, double r, const py::object& out) {
        const ImageView src = image_view(image, "image");
        py::array result = output_image(out, src.height, src.width, 1, "out");
        const MutableImageView dst = mutable_image_view(result, "out");
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          sauvola_u8(src, dst, window, k, r);
        }
        return result;
      },
      py::arg("image"), py::arg("window") = 31, py::arg("k") = 0.2, py::arg("r") = 128.0,
      py::arg("out") = py::none(),
      R"pbdoc(Sauvola binarization of a 1-channel uint8 image: 255 where
image > mean * (1 + k * (std / r - 1)) over the window x window neighbourhood (clipped at
the borders), else 0. window is odd, in [3, 255].)pbdoc");

  kernels.def(
      "adaptive_mean_u8",
      [](const py::array& image, int window, int c, const py::object& out) {
        const ImageView src = image_view(image, "image");
        py::array result = output_image(out, src.height, src.width, 1, "out");
        const MutableImageView dst = mutable_image_view(result, "out");
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          adaptive_mean_u8(src, dst, window, c);
        }
        return result;
      },
      py::arg("image"), py::arg("window") = 31, py::arg("c") = 10, py::arg("out") = py::none(),
      R"pbdoc(Adaptive mean binarization of a 1-channel uint8 image: 255 where
image > mean - c over the window x window neighbourhood (clipped at the borders, compared
exactly), else 0. window is odd, in [3, 255]; c in [-255, 255].)pbdoc");
}

}  // namespace ocrai::bindings
