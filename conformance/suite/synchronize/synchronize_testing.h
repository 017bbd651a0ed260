// Helpers shared by the synchronize area's tests: children that hold a
// primitive until released or killed, reports through pipes, and one-sided
// timing.
#ifndef PROCSPEC_CONFORMANCE_SUITE_SYNCHRONIZE_SYNCHRONIZE_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_SYNCHRONIZE_SYNCHRONIZE_TESTING_H_

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "process/errors.h"

namespace conformance::synchronize_testing {

// "<Python exception type>: <message>", or "OK".
inline std::string Describe(const absl::Status& status) {
  if (status.ok()) return "OK";
  return absl::StrCat(procspec::PythonExceptionType(status), ": ",
                      std::string(status.message()));
}

// How long `call` took.
inline absl::Duration TimeOf(const std::function<void()>& call) {
  const absl::Time start = absl::Now();
  call();
  return absl::Now() - start;
}

// The entries of /dev/shm, sorted (empty where there is no such directory).
inline std::vector<std::string> DevShmEntries() {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/dev/shm", error), end;
       !error && it != end; it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace conformance::synchronize_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_SYNCHRONIZE_SYNCHRONIZE_TESTING_H_
