// Errors from OS calls as absl::Status values.
#ifndef PROCSPEC_PLATFORM_INTERNAL_ERRORS_H_
#define PROCSPEC_PLATFORM_INTERNAL_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"

namespace procspec::platform::internal {

// A status for a failed OS call: the code that `error_number` maps to and
// CPython's OSError text followed by what failed, e.g. "[Errno 24] Too many
// open files: pipe".
absl::Status ErrnoError(int error_number, std::string_view what);

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_INTERNAL_ERRORS_H_
