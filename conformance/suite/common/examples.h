// Runs the programs under //examples from a conformance test, on the backend
// under test.
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_EXAMPLES_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_EXAMPLES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/testing/os_testing.h"

namespace conformance::testing {

// The example binary `name` from the runfiles: under `bazel test` (TEST_SRCDIR
// or the working directory, which is the workspace's runfiles directory), and
// under `bazel run //conformance:report`, which runs the suite from the
// report's runfiles (RUNFILES_DIR, the working directory, or this binary's own
// .runfiles tree). The area's cc_library must list it in `data`.
absl::StatusOr<std::string> FindExample(const std::string& name);

// Runs example `name` with `args` and PROCSPEC_BACKEND set to the backend under
// test; returns its exit status and captured output.
absl::StatusOr<procspec::platform::testing::CommandResult> RunExample(
    const std::string& name, const std::vector<std::string>& args = {});

}  // namespace conformance::testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_EXAMPLES_H_
