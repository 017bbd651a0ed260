#include "platform/posix/internal/errors.h"

#include <string.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace procspec::platform::internal {
namespace {

// strerror() may share a buffer between threads; strerror_r comes in a GNU
// flavour (returns the text) and an XSI one (fills the buffer). Overloads pick
// whichever the C library declares.
[[maybe_unused]] const char* StrerrorResult(const char* text, const char*) {
  return text;
}
[[maybe_unused]] const char* StrerrorResult(int result, const char* buffer) {
  return result == 0 ? buffer : "Unknown error";
}

}  // namespace

std::string OsErrorText(int error_number) {
  char buffer[128] = {};
  const char* text =
      StrerrorResult(strerror_r(error_number, buffer, sizeof(buffer)), buffer);
  return absl::StrCat("[Errno ", error_number, "] ", text);
}

absl::Status ErrnoError(int error_number, std::string_view what) {
  return absl::Status(
      absl::ErrnoToStatusCode(error_number),
      absl::StrCat(OsErrorText(error_number), ": ",
                   absl::string_view(what.data(), what.size())));
}

absl::Status OsError(int error_number, std::string_view filename) {
  std::string message = OsErrorText(error_number);
  // OSError's str() quotes the filename with repr(); paths with quotes or
  // control characters are rare enough to be shown as they are.
  if (!filename.empty()) {
    absl::StrAppend(&message, ": '",
                    absl::string_view(filename.data(), filename.size()), "'");
  }
  return absl::Status(absl::ErrnoToStatusCode(error_number), message);
}

}  // namespace procspec::platform::internal
