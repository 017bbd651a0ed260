// terminate() and kill(): the signal each sends, that neither waits, and when
// they refuse or do nothing. Targets are registered functions, so the tests
// run under every start method. (That neither reaps the child, that a
// terminated child runs no cleanup, and the checks on a Process object
// inherited by a forked child are in the signals area.)
#include <optional>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/common/signals_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::signals_testing::BlockUntilKilled;
using ::conformance::signals_testing::JoinSoon;
using ::conformance::signals_testing::KillOnExit;
using ::conformance::signals_testing::PidOf;
using ::conformance::signals_testing::SendLine;
using ::conformance::signals_testing::StartAndAwaitReady;
using ::procspec::InheritedHandle;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// ---- Targets ----

void TerminateExitWith(int code) { procspec::Exit(code); }
PROCSPEC_TARGET(TerminateExitWith);

// Sends "ready", then blocks until killed.
void TerminateReadyThenBlock(InheritedHandle ready) {
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(TerminateReadyThenBlock);

// Ignores SIGTERM (exit code 2 if it cannot), sends "ready", then blocks until
// killed.
void TerminateIgnoreSigtermReadyThenBlock(InheritedHandle ready) {
  if (!os::IgnoreSignal(platform::SignalNumber(platform::Signal::kTerminate))
           .ok()) {
    procspec::Exit(2);
  }
  TerminateReadyThenBlock(ready);
}
PROCSPEC_TARGET(TerminateIgnoreSigtermReadyThenBlock);

// CPython's repr of a stopped child of this process.
std::string StoppedRepr(procspec::Process& process,
                        const std::string& exitcode) {
  return absl::StrFormat("<Process name='%s' pid=%d parent=%d stopped %s>",
                         process.name(), PidOf(process), platform::CurrentPid(),
                         exitcode);
}

// terminate() sends SIGTERM: a child blocked in its target dies with exitcode
// -15, which repr shows as -SIGTERM.
CONFORMANCE_TEST(Terminate, SendsSigtermChildEndsWithExitcodeMinus15,
                 "process.terminate.sigterm") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(TerminateReadyThenBlock,
                          std::tuple{InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -15);
  EXPECT_EQ(child.repr(), StoppedRepr(child, "exitcode=-SIGTERM"));
}

// kill() sends SIGKILL: the child dies with exitcode -9, repr -SIGKILL.
CONFORMANCE_TEST(Kill, SendsSigkillChildEndsWithExitcodeMinus9,
                 "process.kill.sigkill") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(TerminateReadyThenBlock,
                          std::tuple{InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  ASSERT_OK(child.kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -9);
  EXPECT_EQ(child.repr(), StoppedRepr(child, "exitcode=-SIGKILL"));
}

// terminate() only sends the signal: a child that ignores SIGTERM is still
// running after terminate() returns (is_alive() True, exitcode None, a timed
// join leaves it running); kill() then ends it with -9 all the same.
CONFORMANCE_TEST(Terminate, ReturnsWhileAChildIgnoringSigtermRuns,
                 "process.terminate.does_not_wait", "process.kill.sigkill") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(TerminateIgnoreSigtermReadyThenBlock,
                          std::tuple{InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(bool alive, child.is_alive());
  EXPECT_TRUE(alive);
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, child.exitcode());
  EXPECT_EQ(exitcode, std::nullopt);
  ASSERT_OK(child.join(0.05));
  ASSERT_OK_AND_ASSIGN(exitcode, child.exitcode());
  EXPECT_EQ(exitcode, std::nullopt) << "the child survived SIGTERM";
  ASSERT_OK(child.kill());
  ASSERT_OK_AND_ASSIGN(int final_exitcode, JoinSoon(child));
  EXPECT_EQ(final_exitcode, -9);
}

// Before start() there is nothing to signal: terminate() and kill() fail with
// "can only terminate a started process" / "can only kill a started process",
// and the object is unchanged (no pid, and it still starts and runs normally).
CONFORMANCE_TEST(Terminate, BeforeStartFailsAndChangesNothing,
                 "process.terminate.before_start_error") {
  procspec::Process child(TerminateExitWith, std::tuple{4});
  KillOnExit guard(child);
  EXPECT_PYTHON_ERROR(child.terminate(), "AssertionError",
                      "can only terminate a started process");
  EXPECT_PYTHON_ERROR(child.kill(), "AssertionError",
                      "can only kill a started process");
  ASSERT_OK_AND_ASSIGN(std::optional<Pid> pid, child.pid());
  EXPECT_EQ(pid, std::nullopt);
  ASSERT_OK(child.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 4);
}

// The main process is nobody's child here: current_process().terminate() and
// kill() fail with "can only terminate a child process" / "can only kill a
// child process" (and this test process, which they would hit, lives on).
CONFORMANCE_TEST(Terminate, OnTheMainProcessObjectFails,
                 "process.terminate.not_child_error") {
  EXPECT_PYTHON_ERROR(procspec::current_process().terminate(), "AssertionError",
                      "can only terminate a child process");
  EXPECT_PYTHON_ERROR(procspec::current_process().kill(), "AssertionError",
                      "can only kill a child process");
}

// After the child has exited and been joined, terminate() and kill() succeed
// and change nothing: exitcode and repr stay the child's own.
CONFORMANCE_TEST(Terminate, AfterJoinSucceedsAndChangesNothing,
                 "process.terminate.after_exit_noop") {
  procspec::Process child(TerminateExitWith, std::tuple{3});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  ASSERT_EQ(exitcode, 3);
  EXPECT_OK(child.terminate());
  EXPECT_OK(child.kill());
  ASSERT_OK(child.join());
  ASSERT_OK_AND_ASSIGN(std::optional<int> after, child.exitcode());
  EXPECT_EQ(after, 3);
  EXPECT_EQ(child.repr(), StoppedRepr(child, "exitcode=3"));
}

}  // namespace
}  // namespace conformance
