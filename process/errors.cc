#include "process/errors.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/cord.h"

namespace procspec {
namespace {

constexpr absl::string_view kExceptionTypeUrl =
    "procspec/python_exception_type";

absl::Status WithType(absl::Status status, absl::string_view type) {
  status.SetPayload(kExceptionTypeUrl, absl::Cord(type));
  return status;
}

}  // namespace

absl::Status ValueError(absl::string_view message) {
  return WithType(absl::InvalidArgumentError(message), "ValueError");
}

absl::Status AssertionError(absl::string_view message) {
  return WithType(absl::FailedPreconditionError(message), "AssertionError");
}

absl::Status RuntimeError(absl::string_view message) {
  return WithType(absl::FailedPreconditionError(message), "RuntimeError");
}

absl::Status PicklingError(absl::string_view message) {
  return WithType(absl::InvalidArgumentError(message), "PicklingError");
}

absl::Status EOFError(absl::string_view message) {
  return WithType(absl::OutOfRangeError(message), "EOFError");
}

absl::Status OSError(absl::string_view message) {
  return WithType(absl::UnavailableError(message), "OSError");
}

absl::Status BrokenPipeError(absl::string_view message) {
  return WithType(absl::UnavailableError(message), "BrokenPipeError");
}

absl::Status UnpicklingError(absl::string_view message) {
  return WithType(absl::DataLossError(message), "UnpicklingError");
}

absl::Status QueueEmpty() {
  return WithType(absl::DeadlineExceededError(""), "Empty");
}

absl::Status QueueFull() {
  return WithType(absl::ResourceExhaustedError(""), "Full");
}

bool IsOSError(const absl::Status& status) {
  const std::string type = PythonExceptionType(status);
  return type == "OSError" || type == "BrokenPipeError";
}

absl::Status OSError(absl::Status status) {
  if (status.ok()) return status;
  return WithType(std::move(status), "OSError");
}

std::string PythonExceptionType(const absl::Status& status) {
  auto type =
      status.GetPayload(kExceptionTypeUrl);  // absl::optional here, not std::
  return type.has_value() ? std::string(*type) : std::string();
}

}  // namespace procspec
