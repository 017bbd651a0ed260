// Faults at start(): process creation failing (fork or posix_spawn: EAGAIN, as
// RLIMIT_NPROC makes it for an unprivileged user) and exec failing (the spawn
// start method's executable is missing). start() returns CPython's OSError
// text with the OSError subclass, the Process stays initial and may be started
// again, and nothing is left behind: no child, no descriptor.
//
// Root ignores RLIMIT_NPROC, so the fork failure is made deterministic with a
// seccomp filter (platform/testing/fault_injection.h) installed in a child of
// the test, which then tries to start processes and reports what it saw.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

constexpr char kEagain[] = "[Errno 11] Resource temporarily unavailable";

// In a child of the test: denies process creation, tries to start a child
// under `method` twice, and reports the errors, the object's state and what
// was left behind.
void RobustnessStartWithoutProcessCreation(InheritedHandle report_pipe,
                                           std::string method) {
  Report report;
  const absl::StatusOr<std::vector<platform::NativeHandle>> before =
      os::OpenDescriptors();
  if (absl::Status denied = os::DenyProcessCreation(); !denied.ok()) {
    report.Add("deny", denied.ToString());
  } else if (!before.ok()) {
    report.Add("deny", before.status().ToString());
  } else {
    report.Add("deny", "ok");
    procspec::Process p(procspec::testing::ExitWith, std::tuple{0},
                        {.context = *procspec::get_context(method)});
    const absl::Status first = p.start();
    report.Add("first_type", procspec::PythonExceptionType(first));
    report.Add("first_message", first.message());
    report.Add("pid", PidText(p));
    report.Add("exitcode", ExitcodeText(p));
    report.Add("repr_initial",
               absl::StrContains(p.repr(), " initial>") ? "yes" : p.repr());
    const absl::Status second = p.start();
    report.Add("second_type", procspec::PythonExceptionType(second));
    report.Add("second_message", second.message());
    report.Add("new_descriptors", absl::StrJoin(NewDescriptors(*before), ", "));
    report.Add("children", absl::StrJoin(NewChildren({}), ", "));
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
  // Ends without exit handlers: a sanitizer's exit-time work may need to
  // create a process, which the filter now refuses.
  platform::FlushStandardStreams();
  platform::ExitImmediately(0);
}
PROCSPEC_TARGET(RobustnessStartWithoutProcessCreation);

void ExpectCleanFailure(const std::string& method) {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  procspec::Process child(
      RobustnessStartWithoutProcessCreation,
      std::tuple{InheritedHandle(pipe.write.get()), method});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string text, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(child));
  EXPECT_EQ(exitcode, 0);
  std::map<std::string, std::string> report = ParseReport(text);
  if (report["deny"] != "ok") {
    CONFORMANCE_REQUIRE(Unsupported(
        absl::StrCat("cannot make process creation fail: ", report["deny"])));
  }
  // CPython: os.fork() / _posixsubprocess raise BlockingIOError.
  EXPECT_EQ(report["first_type"], "BlockingIOError") << text;
  EXPECT_EQ(report["first_message"], kEagain) << text;
  EXPECT_EQ(report["pid"], "None") << text;
  EXPECT_EQ(report["exitcode"], "None") << text;
  EXPECT_EQ(report["repr_initial"], "yes") << text;
  // Still startable: the second attempt fails the same way, not as "twice".
  EXPECT_EQ(report["second_type"], "BlockingIOError") << text;
  EXPECT_EQ(report["second_message"], kEagain) << text;
  EXPECT_EQ(report["new_descriptors"], "") << text;
  EXPECT_EQ(report["children"], "") << text;
}

// fork() failing (EAGAIN) under the fork start method.
CONFORMANCE_TEST(StartFailure, ForkFailingLeavesAnInitialProcess,
                 "robustness.start.fork_failure") {
  ExpectCleanFailure("fork");
}

// posix_spawn failing to create the process (EAGAIN) under spawn.
CONFORMANCE_TEST(StartFailure, SpawnFailingLeavesAnInitialProcess,
                 "robustness.start.fork_failure") {
  ExpectCleanFailure("spawn");
}

// The spawn start method's executable is missing: start() fails with
// FileNotFoundError naming it, nothing is left behind, and the same object
// starts once the executable is set back to this program.
CONFORMANCE_TEST(StartFailure, MissingExecutableFailsSpawnStart,
                 "robustness.start.exec_failure") {
  constexpr char kMissing[] = "/nonexistent/procspec-no-such-program";
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> descriptors,
                       os::OpenDescriptors());
  ASSERT_OK_AND_ASSIGN(std::vector<platform::Pid> children, ChildPids());
  struct RestoreExecutable {
    ~RestoreExecutable() { procspec::set_executable(""); }
  } restore;
  procspec::set_executable(kMissing);
  EXPECT_EQ(procspec::get_executable(), kMissing);
  procspec::Process p(procspec::testing::ExitWith, std::tuple{5},
                      {.context = *procspec::get_context("spawn")});
  KillOnExit guard(p);
  EXPECT_PYTHON_ERROR(
      p.start(), "FileNotFoundError",
      absl::StrCat("[Errno 2] No such file or directory: '", kMissing, "'"));
  EXPECT_EQ(PidText(p), "None");
  EXPECT_EQ(ExitcodeText(p), "None");
  EXPECT_TRUE(absl::StrContains(p.repr(), " initial>")) << p.repr();
  EXPECT_EQ(NewDescriptors(descriptors), std::vector<std::string>());
  EXPECT_EQ(NewChildren(children), std::vector<std::string>());

  procspec::set_executable("");
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 5);
}

}  // namespace
}  // namespace conformance::robustness
