#include "conformance/suite/common/process_testing.h"

#include "absl/time/clock.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/timeout.h"

namespace conformance::testing {

absl::StatusOr<procspec::platform::testing::CommandResult> RunChildEntry(
    const std::string& entry, const std::vector<std::string>& args) {
  absl::StatusOr<std::vector<std::string>> argv = ChildCommand(entry, args);
  if (!argv.ok()) return argv.status();
  return procspec::platform::testing::RunCommand(
      *argv, absl::Now() + ScaledTimeout(absl::Seconds(60)));
}

}  // namespace conformance::testing
