// SPDX-License-Identifier: MIT
// The one place where C++ exceptions become Python exceptions. The Python classes live in
// ocrai/errors.py so that they can be documented, subclassed and pickled like any other.
#include <new>
#include <stdexcept>

#include "bindings.h"
#include "ocrai/errors.h"

namespace ocrai::bindings {
namespace {

struct ErrorClasses {
  py::object runtime_load;
  py::object model;
  py::object inference;
  py::object base;
};

// Created once at import and never destroyed: the translator may run during interpreter
// shutdown, after module globals are gone.
ErrorClasses* g_classes = nullptr;

}  // namespace

void register_errors(py::module_& m) {
  py::module_ errors = py::module_::import("ocrai.errors");
  g_classes = new ErrorClasses{errors.attr("RuntimeLoadError"), errors.attr("ModelError"),
                               errors.attr("InferenceError"), errors.attr("OcrError")};
  (void)m;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const RuntimeLoadError& e) {
      PyErr_SetString(g_classes->runtime_load.ptr(), e.what());
    } catch (const ModelError& e) {
      PyErr_SetString(g_classes->model.ptr(), e.what());
    } catch (const InferenceError& e) {
      PyErr_SetString(g_classes->inference.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_classes->base.ptr(), e.what());
    }
    // std::invalid_argument (ValueError), std::bad_alloc (MemoryError), std::out_of_range
    // (IndexError) and any other std::exception (RuntimeError) fall through to pybind11's
    // built-in translators.
  });
}

}  // namespace ocrai::bindings
