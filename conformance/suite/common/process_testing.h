// Small helpers shared by the conformance suite's tests.
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_PROCESS_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_PROCESS_TESTING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/process.h"

// The status is the Python error `type` ("ValueError", "AssertionError") with
// CPython's exact message text.
#define EXPECT_PYTHON_ERROR(expr, type, expected)                        \
  do {                                                                   \
    const ::absl::Status conformance_err_ =                              \
        ::procspec::platform::testing::StatusOf(expr);                   \
    EXPECT_EQ(::procspec::PythonExceptionType(conformance_err_), (type)) \
        << conformance_err_;                                             \
    EXPECT_EQ(std::string(conformance_err_.message()), (expected));      \
  } while (false)

namespace conformance::testing {

// Joins `process` (no timeout) and returns its exitcode; an error if join fails
// or the exitcode is still None.
inline absl::StatusOr<int> JoinAndGetExitcode(procspec::Process& process) {
  if (absl::Status status = process.join(); !status.ok()) return status;
  absl::StatusOr<std::optional<int>> code = process.exitcode();
  if (!code.ok()) return code.status();
  if (!code->has_value())
    return absl::InternalError("exitcode is None after join()");
  return **code;
}

// The start methods that send the target to a fresh program (spawn,
// forkserver) which this build has: spawn alone where the backend cannot fork
// (Windows has no forkserver).
inline std::vector<std::string> SendingStartMethods() {
  std::vector<std::string> methods;
  for (const std::string& method : procspec::get_all_start_methods()) {
    if (method != "fork") methods.push_back(method);
  }
  return methods;
}

// Re-executes this test binary into CONFORMANCE_CHILD_ENTRY `entry` (same
// backend and start method) and returns its exit status and captured
// stdout/stderr. Use it to observe what a process prints (e.g. "Process
// <name>:" on stderr) or what happens at its exit.
absl::StatusOr<procspec::platform::testing::CommandResult> RunChildEntry(
    const std::string& entry, const std::vector<std::string>& args = {});

}  // namespace conformance::testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_PROCESS_TESTING_H_
