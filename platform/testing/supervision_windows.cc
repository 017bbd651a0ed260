// Supervised runs on Windows: not implemented yet. The supervisor (a suite
// binary re-running itself one test at a time under a deadline) runs on the
// Linux host; a Windows suite binary runs its tests in one process, and the
// ports report's Wine lane runs it whole under the test runner's timeout.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/testing/supervision.h"

namespace procspec::platform::testing {

namespace {

absl::Status NotOnWindows() {
  return absl::UnimplementedError(
      "supervised runs (--results_file, per-test deadlines) are not "
      "implemented on Windows");
}

}  // namespace

struct WatchedProgram::Waiter {};

absl::StatusOr<HostDescription> DescribeHost() {
  return HostDescription{"Windows", "", "x86_64"};
}

absl::StatusOr<std::unique_ptr<WatchedProgram>> WatchedProgram::Start(
    const std::vector<std::string>&, bool) {
  return NotOnWindows();
}

WatchedProgram::~WatchedProgram() = default;

absl::StatusOr<std::optional<std::string>> WatchedProgram::NextLine(
    absl::Time) {
  return NotOnWindows();
}

absl::StatusOr<ExitStatus> WatchedProgram::KillGroupAndReap() {
  return NotOnWindows();
}

absl::Status WatchedProgram::AwaitEndInBackground() { return NotOnWindows(); }

absl::StatusOr<UniqueHandle> AdoptProgressDescriptor(int) {
  return NotOnWindows();
}

}  // namespace procspec::platform::testing
