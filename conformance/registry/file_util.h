// Whole-file reads for the small JSON documents the conformance tooling
// consumes.
#ifndef PROCSPEC_CONFORMANCE_REGISTRY_FILE_UTIL_H_
#define PROCSPEC_CONFORMANCE_REGISTRY_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace conformance {

// The contents of `path`; NotFound if it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path);
// Writes `contents` to `path`, replacing it.
absl::Status WriteFile(const std::string& path, const std::string& contents);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REGISTRY_FILE_UTIL_H_
