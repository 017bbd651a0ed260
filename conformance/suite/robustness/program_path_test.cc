// Where the spawn start method (and a spawned fork server) finds this
// program: argv[0] as procspec::Init received it, resolved against the
// directory at Init or on $PATH, as CPython's sys.executable. No /proc: the
// posix backend spawns what this path names (a BSD or macOS has no
// /proc/self/exe); the linux backend reads /proc/self/exe.
#include <string>

#include "absl/status/status.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// The path found from argv[0] names the running file (the one the kernel
// reports through /proc, which the test may use: it observes with the host's
// tools).
CONFORMANCE_TEST(ProgramPath, Argv0NamesTheRunningProgram,
                 "robustness.spawn.no_proc") {
  const std::string recorded = platform::ProgramPath();
  ASSERT_NE(recorded, "");
  EXPECT_EQ(recorded[0], '/') << recorded;
  ASSERT_OK_AND_ASSIGN(std::string running, os::CurrentExecutable());
  ASSERT_OK_AND_ASSIGN(std::string resolved, os::RealPath(recorded));
  ASSERT_OK_AND_ASSIGN(std::string running_resolved, os::RealPath(running));
  EXPECT_EQ(resolved, running_resolved) << recorded;
}

}  // namespace
}  // namespace conformance::robustness
