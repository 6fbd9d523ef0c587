// SPDX-License-Identifier: MIT
// ocrai._core.pipeline: the end-to-end Pipeline (A.1 of the team brief) and the building blocks
// it is made of (DB post-processing, dictionaries, CTC decoding, layout), exposed so that the
// tests can check each one exactly.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "ocrai/ctc.h"
#include "ocrai/detect.h"
#include "ocrai/layout.h"

namespace ocrai::bindings {
namespace {

py::list point_pairs(const Quad& q) {
  py::list pts;
  for (const Point& p : q) {
    py::list xy;
    xy.append(p.x);
    xy.append(p.y);
    pts.append(xy);
  }
  return pts;
}

/// A C-contiguous float32 array of `ndim` dimensions, else TypeError/ValueError.
py::array_t<float> float_array(const py::array& a, int ndim, const char* what) {
  if (!py::isinstance<py::array_t<float>>(a)) {
    throw py::type_error(std::string(what) + ": expected a float32 array, got dtype " +
                         py::str(static_cast<py::object>(a.dtype())).cast<std::string>());
  }
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(what) + ": expected " + std::to_string(ndim) +
                          " dimensions, got " + std::to_string(a.ndim()));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(what) + ": must be C-contiguous; pass np.ascontiguousarray");
  }
  return py::reinterpret_borrow<py::array_t<float>>(a);
}

std::vector<Quad> quads_of(const py::array& a, const char* what) {
  auto arr = float_array(a, 3, what);
  if (arr.shape(1) != 4 || arr.shape(2) != 2) {
    throw py::value_error(std::string(what) + ": expected shape (n, 4, 2)");
  }
  std::vector<Quad> quads(static_cast<std::size_t>(arr.shape(0)));
  const float* d = arr.data();
  for (std::size_t i = 0; i < quads.size(); ++i) {
    for (std::size_t k = 0; k < 4; ++k) quads[i][k] = {d[i * 8 + k * 2], d[i * 8 + k * 2 + 1]};
  }
  return quads;
}

py::dict char_dict(const CtcChar& c, const Dictionary& dict) {
  py::dict d;
  d["text"] = dict.symbol(c.cls);
  d["confidence"] = c.confidence;
  d["x0"] = c.x0;
  d["x1"] = c.x1;
  py::list alts;
  for (const auto& [cls, p] : c.alternatives) {
    py::list pair;
    pair.append(dict.symbol(cls));
    pair.append(p);
    alts.append(pair);
  }
  d["alternatives"] = alts;
  return d;
}

}  // namespace

void register_pipeline(py::module_& m) {
  // --- building blocks -------------------------------------------------------------------
  m.def(
      "db_postprocess",
      [](const py::array& prob, std::optional<int> valid_width, std::optional<int> valid_height,
         std::optional<int> page_width, std::optional<int> page_height, float thresh,
         float box_thresh, float unclip_ratio, float min_size, int max_candidates) {
        auto map = float_array(prob, 2, "prob");
        const int h = static_cast<int>(map.shape(0)), w = static_cast<int>(map.shape(1));
        const int vw = valid_width.value_or(w), vh = valid_height.value_or(h);
        DbOptions o;
        o.thresh = thresh;
        o.box_thresh = box_thresh;
        o.unclip_ratio = unclip_ratio;
        o.min_size = min_size;
        o.max_candidates = max_candidates;
        std::vector<TextBox> boxes;
        {
          // Reads the array kept alive by `map`; no Python object is touched.
          py::gil_scoped_release nogil;
          boxes = db_postprocess(map.data(), w, h, w, vw, vh, page_width.value_or(vw),
                                 page_height.value_or(vh), o);
        }
        py::list out;
        for (const TextBox& b : boxes) out.append(py::make_tuple(point_pairs(b.quad), b.score));
        return out;
      },
      py::arg("prob"), py::kw_only(), py::arg("valid_width") = py::none(),
      py::arg("valid_height") = py::none(), py::arg("page_width") = py::none(),
      py::arg("page_height") = py::none(), py::arg("thresh") = 0.2f,
      py::arg("box_thresh") = 0.45f, py::arg("unclip_ratio") = 1.4f, py::arg("min_size") = 3.0f,
      py::arg("max_candidates") = 3000,
      R"pbdoc(DB post-processing of a (H, W) float32 probability map: a list of (quad, score),
quads clockwise from the text's top-left in page coordinates. The valid region (default the
whole map) maps onto page_width x page_height (default the valid size).)pbdoc");

  m.def(
      "min_area_rect",
      [](const py::array& points) {
        auto arr = float_array(points, 2, "points");
        if (arr.shape(1) != 2 || arr.shape(0) < 1) {
          throw py::value_error("points: expected shape (n, 2) with n >= 1");
        }
        std::vector<Point> pts(static_cast<std::size_t>(arr.shape(0)));
        for (std::size_t i = 0; i < pts.size(); ++i) {
          pts[i] = {arr.data()[2 * i], arr.data()[2 * i + 1]};
        }
        const RotatedRect r = min_area_rect(convex_hull(pts));
        return py::make_tuple(point_pairs(order_quad(r.corners())), r.width, r.height);
      },
      py::arg("points"),
      R"pbdoc(The least-area rectangle around (n, 2) float32 points: (quad, width, height),
the quad clockwise from the corner whose outgoing edge points most nearly to +x.)pbdoc");

  m.def(
      "argmax_rows",
      [](const py::array& data) {
        auto arr = float_array(data, 2, "data");
        const auto rows = static_cast<int>(arr.shape(0)), cols = static_cast<int>(arr.shape(1));
        py::array_t<std::int32_t> index(rows);
        py::array_t<float> value(rows);
        std::int32_t* ip = index.mutable_data();
        float* vp = value.mutable_data();
        {
          py::gil_scoped_release nogil;  // plain C++ on arrays held above
          argmax_rows_f32(arr.data(), rows, cols, cols, ip, vp);
        }
        return py::make_tuple(index, value);
      },
      py::arg("data"),
      R"pbdoc(Per-row argmax of a (rows, cols) float32 array with the active SIMD target:
(indices int32, values float32). Ties go to the first index; NaN never wins.)pbdoc");

  py::class_<Dictionary>(m, "Dictionary", R"pbdoc(A CTC recogniser's symbol table.)pbdoc")
      .def(py::init([](const std::string& path) {
             py::gil_scoped_release nogil;  // file reading, pure C++
             return Dictionary::from_file(path);
           }),
           py::arg("path"))
      .def_static("from_text", &Dictionary::from_text, py::arg("text"), py::arg("name"),
                  R"pbdoc(A dictionary from text in memory; name stands for the file.)pbdoc")
      .def_property_readonly("num_classes", &Dictionary::num_classes)
      .def_property_readonly("name", &Dictionary::name)
      .def("symbol",
           [](const Dictionary& d, int cls) {
             if (cls < 0 || cls >= d.num_classes()) throw py::index_error("class out of range");
             return d.symbol(cls);
           },
           py::arg("cls"))
      .def("find", [](const Dictionary& d, const std::string& s) { return d.find(s); },
           py::arg("symbol"))
      .def("check_model_classes", &Dictionary::check_model_classes, py::arg("model_classes"),
           py::arg("model_name"));

  m.def(
      "ctc_decode",
      [](const py::array& probs, const Dictionary& dict, std::optional<int> valid_steps,
         int top_k) {
        auto arr = float_array(probs, 2, "probs");
        const int steps = static_cast<int>(arr.shape(0)), classes = static_cast<int>(arr.shape(1));
        CtcLine line;
        {
          py::gil_scoped_release nogil;  // plain C++ on the array held above
          line = ctc_greedy_decode(arr.data(), steps, classes, classes,
                                   valid_steps.value_or(steps), dict, top_k);
        }
        py::dict d;
        d["text"] = line.text(dict);
        d["confidence"] = line.confidence;
        py::list chars;
        for (const CtcChar& c : line.chars) chars.append(char_dict(c, dict));
        d["chars"] = chars;
        return d;
      },
      py::arg("probs"), py::arg("dictionary"), py::kw_only(), py::arg("valid_steps") = py::none(),
      py::arg("top_k") = 0,
      R"pbdoc(Greedy CTC decoding of one line's (steps, classes) float32 probabilities:
{"text", "confidence", "chars": [{"text", "confidence", "x0", "x1", "alternatives"}]}.)pbdoc");

  m.def(
      "layout_lines",
      [](const py::array& quads, float gutter, float column_min_width, float paragraph_gap) {
        const std::vector<Quad> q = quads_of(quads, "quads");
        LayoutOptions o;
        o.gutter = gutter;
        o.column_min_width = column_min_width;
        o.paragraph_gap = paragraph_gap;
        Layout l;
        {
          py::gil_scoped_release nogil;  // plain C++ on copies
          l = layout_lines(q, o);
        }
        py::dict d;
        d["order"] = l.order;
        d["block_of"] = l.block_of;
        py::list blocks;
        for (const LayoutBlock& b : l.blocks) {
          py::dict bd;
          bd["bbox"] = std::vector<float>{b.x0, b.y0, b.x1, b.y1};
          bd["lines"] = b.lines;
          blocks.append(bd);
        }
        d["blocks"] = blocks;
        d["skew"] = l.skew_degrees;
        return d;
      },
      py::arg("quads"), py::kw_only(), py::arg("gutter") = LayoutOptions{}.gutter,
      py::arg("column_min_width") = LayoutOptions{}.column_min_width,
      py::arg("paragraph_gap") = LayoutOptions{}.paragraph_gap,
      R"pbdoc(Reading order of (n, 4, 2) float32 line quads: {"order", "block_of", "blocks":
[{"bbox", "lines"}], "skew"}; order[k] is the box read k-th, blocks list reading positions.)pbdoc");
}

}  // namespace ocrai::bindings
