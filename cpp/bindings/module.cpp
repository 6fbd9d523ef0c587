// SPDX-License-Identifier: MIT
// ocrai._core: the native core. Submodules by area; each register_* adds one area.
#include "bindings.h"
#include "ocrai/build_info.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "ocrai native core (private: use the ocrai package)";
  const ocrai::BuildInfo& info = ocrai::build_info();
  m.attr("__version__") = info.version;
  m.def(
      "build_info",
      [] {
        const ocrai::BuildInfo& b = ocrai::build_info();
        py::dict d;
        d["version"] = b.version;
        d["compiler"] = b.compiler;
        d["cxx_standard"] = b.cxx_standard;
        d["build_type"] = b.build_type;
        d["ort_headers"] = b.ort_headers;
        d["ort_api_version"] = b.ort_api_version;
        d["sanitizers"] = b.sanitizers;
        return d;
      },
      R"pbdoc(Facts fixed when the core was compiled.)pbdoc");

  ocrai::bindings::register_errors(m);
  ocrai::bindings::register_cpu(m);
  py::module_ kernels = m.def_submodule("kernels", "Image kernels on numpy arrays");
  ocrai::bindings::register_color(kernels);
  ocrai::bindings::register_binarize(kernels);
  ocrai::bindings::register_deskew(kernels);
  ocrai::bindings::register_geometry(kernels);
  ocrai::bindings::register_tensor(kernels);
  py::module_ ort = m.def_submodule("ort", "ONNX Runtime: the process-wide runtime and sessions");
  ocrai::bindings::register_runtime(ort);
  py::module_ pipeline = m.def_submodule("pipeline", "The end-to-end OCR pipeline and its parts");
  ocrai::bindings::register_pipeline(pipeline);
}
