// die_with_parent follows the parent *process*: a child started with it from a
// thread that then ends keeps running while the process that started it runs
// (and still dies with that process: process.die_with_parent.opt_in). The
// child reports through a pipe only after the starting thread has been joined.
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/sanitizer_testing.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// Waits for a byte on `gate` (written once the starting thread has ended),
// then reports that it is still running.
void RobustnessReportAfterGate(InheritedHandle gate, InheritedHandle report) {
  (void)platform::ReadSome(gate.get(), 1);
  (void)platform::WriteAll(report.get(), "alive\n");
  procspec::Exit(0);
}
PROCSPEC_TARGET(RobustnessReportAfterGate);

CONFORMANCE_TEST(DieWithParentThread, ChildOutlivesTheThreadThatStartedIt,
                 "robustness.die_with_parent.outlives_starting_thread") {
  // Under fork the child is a copy of a process with two threads (this one
  // and the starter), and die_with_parent's watcher is a thread the child
  // starts: ThreadSanitizer's runtime ends such a child at that point.
  if (StartMethod() == "fork" &&
      procspec::platform::testing::UnderThreadSanitizer()) {
    CONFORMANCE_REQUIRE(Unsupported(
        "ThreadSanitizer ends a child forked from a multi-threaded process "
        "when it starts a thread (\"starting new threads after multi-threaded "
        "fork is not supported\", exit code 66), and die_with_parent's "
        "watcher is a thread of the child"));
  }
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds gate, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process child(RobustnessReportAfterGate,
                          std::tuple{InheritedHandle(gate.read.get()),
                                     InheritedHandle(report.write.get())},
                          {.die_with_parent = true});
  KillOnExit guard(child);
  absl::Status started = absl::UnknownError("the thread did not run");
  std::thread starter([&] { started = child.start(); });
  starter.join();
  if (absl::IsUnimplemented(started)) {
    CONFORMANCE_REQUIRE(Unsupported(started.message()));
  }
  ASSERT_OK(started);
  report.write.reset();
  // The starting thread has ended: only now may the child report.
  ASSERT_OK(platform::WriteAll(gate.write.get(), "g"));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadToEnd(report.read.get()));
  EXPECT_EQ(text, "alive\n");
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 0) << "the child was ended when the thread that "
                            "started it ended (-9: SIGKILL)";
}

}  // namespace
}  // namespace conformance::robustness
