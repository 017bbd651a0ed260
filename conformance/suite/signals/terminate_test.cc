// terminate() and kill(): that a terminated child's unflushed output is lost
// (a re-executed program whose children are capturing lambdas) and that a
// child cannot signal a sibling whose started Process object it inherited by
// fork, still written for the fork start method only. The rest is in the
// signals_portable area.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/common/signals_testing.h"
#include "gtest/gtest.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::signals_testing::BlockUntilKilled;
using ::conformance::signals_testing::EventTimeout;
using ::conformance::signals_testing::JoinSoon;
using ::conformance::signals_testing::KillOnExit;
using ::conformance::signals_testing::PidOf;
using ::conformance::signals_testing::ReadToEnd;
using ::conformance::signals_testing::SendLine;
using ::conformance::signals_testing::StartAndAwaitReady;
using ::conformance::signals_testing::WaitForByteOrEof;
using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::RunChildEntry;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// A program whose stdout is fully buffered: one child writes a line without
// flushing and is terminated, another writes a line and returns; the program
// then prints both exit codes.
CONFORMANCE_CHILD_ENTRY(signals_buffered_output_of_terminated_child) {
  static char buffer[BUFSIZ];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof(buffer));
  absl::StatusOr<platform::PipeEnds> ready = platform::MakePipe();
  if (!ready.ok()) return 10;
  procspec::Process terminated([&ready] {
    std::fputs("line buffered in the terminated child\n", stdout);
    SendLine(ready->write.get(), "ready");
    BlockUntilKilled();
  });
  if (!StartAndAwaitReady(terminated, *ready).ok()) return 11;
  if (!terminated.terminate().ok()) return 12;
  absl::StatusOr<int> terminated_exitcode = JoinSoon(terminated);
  procspec::Process returning(
      [] { std::fputs("line buffered in the returning child\n", stdout); });
  if (!returning.start().ok()) return 13;
  absl::StatusOr<int> returning_exitcode = JoinSoon(returning);
  if (!terminated_exitcode.ok() || !returning_exitcode.ok()) return 14;
  std::printf("exitcodes %d %d\n", *terminated_exitcode, *returning_exitcode);
  return 0;
}

// A terminated child's unflushed standard output is lost, while a child that
// returns has its buffered output flushed at exit.
CONFORMANCE_TEST(Terminate, LosesTheChildsUnflushedOutput,
                 "process.terminate.no_cleanup") {
  ASSERT_OK_AND_ASSIGN(
      os::CommandResult result,
      RunChildEntry("signals_buffered_output_of_terminated_child"));
  EXPECT_EQ(result.status,
            (platform::ExitStatus{.signaled = false, .value = 0}))
      << result.err;
  EXPECT_EQ(result.out,
            "line buffered in the returning child\n"
            "exitcodes -15 0\n");
}

// In a child, terminate()/kill() on its own current_process() and on a started
// sibling object inherited from the parent fail with the not-a-child messages
// and send nothing: the sibling is still running afterwards, and dies from the
// parent's terminate() with -15 (not -9 from the child's kill()).
CONFORMANCE_TEST(Terminate, InAChildOnItselfOrASiblingFailsAndSendsNothing,
                 "process.terminate.not_child_error") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds sibling_ready, platform::MakePipe());
  procspec::Process sibling([&sibling_ready] {
    SendLine(sibling_ready.write.get(), "ready");
    BlockUntilKilled();
  });
  KillOnExit sibling_guard(sibling);
  ASSERT_OK(StartAndAwaitReady(sibling, sibling_ready));

  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process child([&] {
    auto describe = [](const absl::Status& status) {
      return absl::StrCat(procspec::PythonExceptionType(status), ": ",
                          std::string(status.message()));
    };
    procspec::Process& self = procspec::current_process();
    SendLine(report.write.get(), describe(self.terminate()));
    SendLine(report.write.get(), describe(self.kill()));
    SendLine(report.write.get(), describe(sibling.terminate()));
    SendLine(report.write.get(), describe(sibling.kill()));
  });
  KillOnExit child_guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(int child_exitcode, JoinSoon(child));
  EXPECT_EQ(child_exitcode, 0);
  ASSERT_OK_AND_ASSIGN(std::string lines, ReadToEnd(report.read.get()));
  EXPECT_EQ(lines,
            "AssertionError: can only terminate a child process\n"
            "AssertionError: can only kill a child process\n"
            "AssertionError: can only terminate a child process\n"
            "AssertionError: can only kill a child process\n");

  ASSERT_OK_AND_ASSIGN(bool sibling_alive, sibling.is_alive());
  EXPECT_TRUE(sibling_alive);
  ASSERT_OK(sibling.terminate());
  ASSERT_OK_AND_ASSIGN(int sibling_exitcode, JoinSoon(sibling));
  EXPECT_EQ(sibling_exitcode, -15);
}

}  // namespace
}  // namespace conformance
