#include "process/errors.h"

#include <cerrno>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

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

absl::Status OSError(absl::Status status) {
  if (status.ok()) return status;
  absl::string_view message = status.message();
  int error = 0;
  if (absl::ConsumePrefix(&message, "[Errno ")) {
    const std::size_t end = message.find(']');
    if (end == absl::string_view::npos ||
        !absl::SimpleAtoi(message.substr(0, end), &error)) {
      error = 0;
    }
  }
  // CPython's errno -> OSError subclass table (PEP 3151).
  absl::string_view type = "OSError";
  switch (error) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EALREADY:
    case EINPROGRESS:
      type = "BlockingIOError";
      break;
    case ECHILD:
      type = "ChildProcessError";
      break;
    case EPIPE:
      type = "BrokenPipeError";
      break;
    case EEXIST:
      type = "FileExistsError";
      break;
    case ENOENT:
      type = "FileNotFoundError";
      break;
    case EISDIR:
      type = "IsADirectoryError";
      break;
    case ENOTDIR:
      type = "NotADirectoryError";
      break;
    case EINTR:
      type = "InterruptedError";
      break;
    case EACCES:
    case EPERM:
      type = "PermissionError";
      break;
    case ESRCH:
      type = "ProcessLookupError";
      break;
    case ETIMEDOUT:
      type = "TimeoutError";
      break;
    default:
      break;
  }
  return WithType(std::move(status), type);
}

bool IsOSError(const absl::Status& status) {
  static constexpr absl::string_view kOSErrorTypes[] = {
      "OSError",           "BlockingIOError",    "ChildProcessError",
      "BrokenPipeError",   "FileExistsError",    "FileNotFoundError",
      "IsADirectoryError", "NotADirectoryError", "InterruptedError",
      "PermissionError",   "ProcessLookupError", "TimeoutError"};
  const std::string type = PythonExceptionType(status);
  for (absl::string_view os_type : kOSErrorTypes) {
    if (type == os_type) return true;
  }
  return false;
}

std::string PythonExceptionType(const absl::Status& status) {
  // absl::optional here, not std::optional.
  auto type = status.GetPayload(kExceptionTypeUrl);
  return type.has_value() ? std::string(*type) : std::string();
}

}  // namespace procspec
