#include "process/errors.h"

#include <cerrno>
#include <optional>
#include <string>

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

absl::Status OSError(absl::Status status) {
  absl::string_view message = status.message();
  if (!absl::ConsumePrefix(&message, "[Errno ")) return status;
  const std::size_t end = message.find(']');
  int error = 0;
  if (end == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, end), &error)) {
    return status;
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

std::string PythonExceptionType(const absl::Status& status) {
  auto type =
      status.GetPayload(kExceptionTypeUrl);  // absl::optional here, not std::
  return type.has_value() ? std::string(*type) : std::string();
}

}  // namespace procspec
