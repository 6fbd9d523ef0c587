// SPDX-License-Identifier: MIT
#pragma once
/// Typed errors of the ocrai core.
///
/// The core reports failures by throwing; the Python binding maps each type to one Python
/// exception in a single place (cpp/bindings/register_errors.cpp). Bad arguments from the
/// caller are std::invalid_argument (mapped to ValueError); everything below is a failure
/// of the environment, a model or a run.

#include <stdexcept>
#include <string>

namespace ocrai {

/// Base of every error that the core throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The ONNX Runtime library is missing, cannot be loaded, or is older than the API the core
/// was built against.
class RuntimeLoadError : public Error {
 public:
  using Error::Error;
};

/// A model file cannot be read, is not a valid model, or does not have the inputs and
/// outputs its role needs. The message names the file.
class ModelError : public Error {
 public:
  using Error::Error;
};

/// ONNX Runtime failed while running a loaded model.
class InferenceError : public Error {
 public:
  using Error::Error;
};

}  // namespace ocrai
