// Errors from OS calls as absl::Status values.
#ifndef PROCSPEC_PLATFORM_POSIX_INTERNAL_ERRORS_H_
#define PROCSPEC_PLATFORM_POSIX_INTERNAL_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace procspec::platform::internal {

// CPython's OSError text for `error_number`: "[Errno 24] Too many open files".
std::string OsErrorText(int error_number);

// A status for a failed OS call: the code that `error_number` maps to and
// CPython's OSError text followed by what failed, e.g. "[Errno 24] Too many
// open files: pipe".
absl::Status ErrnoError(int error_number, std::string_view what);

// CPython's OSError text alone, for failures CPython reports the same way:
// "[Errno 11] Resource temporarily unavailable" (os.fork), or with the file
// "[Errno 2] No such file or directory: '/no/such/file'" (a failed exec).
absl::Status OsError(int error_number, std::string_view filename = {});

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_POSIX_INTERNAL_ERRORS_H_
