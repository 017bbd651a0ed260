// terminate() and kill(): the signal each sends, that neither waits nor reaps,
// that a terminated child runs no cleanup, and when they refuse or do nothing.
// Targets are registered functions, so the tests run under every start method
// (but one that uses a Process object copied into a forked child).
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "process/connection.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance {
namespace {

using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::EventTimeout;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::PidOf;
using ::conformance::testing::ReadToEnd;
using ::conformance::testing::RunChildEntry;
using ::conformance::testing::SendLine;
using ::conformance::testing::StartAndAwaitReady;
using ::procspec::InheritedHandle;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// "<Python exception type>: <message>" for `status`.
std::string Describe(const absl::Status& status) {
  return absl::StrCat(procspec::PythonExceptionType(status), ": ",
                      std::string(status.message()));
}

// ---- Targets ----

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

// Holds an object whose destructor writes "destructor ran" on `cleanup`, sends
// "ready", then waits for a byte (or end of file) on `release` and returns.
struct WritesOnDestruction {
  platform::NativeHandle cleanup;
  ~WritesOnDestruction() { SendLine(cleanup, "destructor ran"); }
};
void TerminateChildWithCleanup(InheritedHandle ready, InheritedHandle cleanup,
                               InheritedHandle release) {
  WritesOnDestruction object{cleanup.get()};
  SendLine(ready.get(), "ready");
  ::conformance::testing::WaitForByteOrEof(release.get());
}
PROCSPEC_TARGET(TerminateChildWithCleanup);

void TerminateNoop() {}
PROCSPEC_TARGET(TerminateNoop);

// Sends what terminate()/kill() on its own current_process() say.
void TerminateReportSignallingItself(InheritedHandle out) {
  procspec::Process& self = procspec::current_process();
  SendLine(out.get(), Describe(self.terminate()));
  SendLine(out.get(), Describe(self.kill()));
}
PROCSPEC_TARGET(TerminateReportSignallingItself);

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
  procspec::Process child(procspec::testing::ExitWith, std::tuple{4});
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
  procspec::Process child(procspec::testing::ExitWith, std::tuple{3});
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

// Neither terminate() nor kill() waits for (or reaps) the child: right after
// each returns, the child is still this process's unreaped child, and its exit
// status is collected only later, by join(). (Under forkserver the fork server
// is the child's parent and reaps it: no zombie of this process to observe.)
CONFORMANCE_TEST(Terminate, NeitherTerminateNorKillReapsTheChild,
                 "process.terminate.does_not_wait") {
  if (StartMethod() == "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "under forkserver the fork server, not this process, is the child's "
        "parent and reaps it: this process never has it as a zombie"));
  }
  for (const bool use_kill : {false, true}) {
    SCOPED_TRACE(use_kill ? "kill()" : "terminate()");
    ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
    procspec::Process child(TerminateReadyThenBlock,
                            std::tuple{InheritedHandle(ready.write.get())});
    KillOnExit guard(child);
    ASSERT_OK(StartAndAwaitReady(child, ready));
    ASSERT_OK(use_kill ? child.kill() : child.terminate());
    // waitid(WNOWAIT) on a child that terminate()/kill() had reaped would fail
    // (ECHILD); here it waits for the death and leaves the zombie.
    ASSERT_OK(os::AwaitExitWithoutReaping(PidOf(child)));
    ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
    EXPECT_EQ(exitcode, use_kill ? -9 : -15);
  }
}

struct CleanupOutcome {
  int exitcode = 0;
  std::string cleanup_output;
};

// Runs TerminateChildWithCleanup and either terminates it or lets its target
// return.
absl::StatusOr<CleanupOutcome> RunChildWithCleanup(bool terminate) {
  absl::StatusOr<platform::PipeEnds> ready = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> cleanup = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> release = platform::MakePipe();
  if (!ready.ok() || !cleanup.ok() || !release.ok())
    return absl::InternalError("MakePipe failed");
  procspec::Process child(TerminateChildWithCleanup,
                          std::tuple{InheritedHandle(ready->write.get()),
                                     InheritedHandle(cleanup->write.get()),
                                     InheritedHandle(release->read.get())});
  KillOnExit guard(child);
  if (absl::Status status = StartAndAwaitReady(child, *ready); !status.ok())
    return status;
  cleanup->write.reset();
  absl::Status acted = terminate
                           ? child.terminate()
                           : platform::WriteAll(release->write.get(), "x");
  if (!acted.ok()) return acted;
  absl::StatusOr<int> exitcode = JoinSoon(child);
  if (!exitcode.ok()) return exitcode.status();
  absl::StatusOr<std::string> output = ReadToEnd(cleanup->read.get());
  if (!output.ok()) return output.status();
  return CleanupOutcome{*exitcode, *output};
}

// A terminated child runs no cleanup: the destructor of an object on its
// stack never runs (the pipe it would write to reaches end of file empty).
CONFORMANCE_TEST(Terminate, RunsNoDestructorsInTheChild,
                 "process.terminate.no_cleanup") {
  ASSERT_OK_AND_ASSIGN(CleanupOutcome outcome, RunChildWithCleanup(true));
  EXPECT_EQ(outcome.exitcode, -15);
  EXPECT_EQ(outcome.cleanup_output, "");
}

// The control: the same child, left to return from its target, does run that
// destructor, so the test above can see cleanup when there is some.
CONFORMANCE_TEST(Terminate, ControlAReturningChildRunsItsDestructors,
                 "process.terminate.no_cleanup") {
  ASSERT_OK_AND_ASSIGN(CleanupOutcome outcome, RunChildWithCleanup(false));
  EXPECT_EQ(outcome.exitcode, 0);
  EXPECT_EQ(outcome.cleanup_output, "destructor ran\n");
}

// In a child, terminate()/kill() on its own current_process() fail with the
// not-a-child messages.
CONFORMANCE_TEST(Terminate, InAChildOnItselfFails,
                 "process.terminate.not_child_error") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process child(TerminateReportSignallingItself,
                          std::tuple{InheritedHandle(report.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK_AND_ASSIGN(std::string lines, ReadToEnd(report.read.get()));
  EXPECT_EQ(lines,
            "AssertionError: can only terminate a child process\n"
            "AssertionError: can only kill a child process\n");
}

// Same for a child that has exited but is not yet joined: the signals have no
// effect and join() then reports the child's own exitcode 0. Under fork and
// spawn the child is then an unreaped zombie of this process; under forkserver
// the server has reaped it and sent its status, which join() collects.
CONFORMANCE_TEST(Terminate, AfterExitBeforeReapSucceedsAndChangesNothing,
                 "process.terminate.after_exit_noop") {
  procspec::Process child(TerminateNoop);
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  ASSERT_OK_AND_ASSIGN(procspec::Handle sentinel, child.sentinel());
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> ready,
                       procspec::connection::wait(
                           {sentinel}, absl::ToDoubleSeconds(EventTimeout())));
  ASSERT_EQ(ready.size(), 1u);
  // The sentinel (a pipe under "posix") can fire a moment before the exiting
  // child becomes a zombie; this waits for that, without reaping it.
  if (StartMethod() != "forkserver") {
    ASSERT_OK(os::AwaitExitWithoutReaping(PidOf(child)));
  }
  EXPECT_OK(child.terminate());
  EXPECT_OK(child.kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 0);
}

// Writes a line to stdout without flushing, sends "ready", then blocks until
// killed.
void TerminateBufferLineThenBlock(InheritedHandle ready) {
  std::fputs("line buffered in the terminated child\n", stdout);
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(TerminateBufferLineThenBlock);

// Writes a line to stdout without flushing and returns.
void TerminateBufferLineAndReturn() {
  std::fputs("line buffered in the returning child\n", stdout);
}
PROCSPEC_TARGET(TerminateBufferLineAndReturn);

// A program whose stdout is fully buffered: one child writes a line without
// flushing and is terminated, another writes a line and returns; the program
// then prints both exit codes.
CONFORMANCE_CHILD_ENTRY(signals_buffered_output_of_terminated_child) {
  static char buffer[BUFSIZ];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof(buffer));
  absl::StatusOr<platform::PipeEnds> ready = platform::MakePipe();
  if (!ready.ok()) return 10;
  procspec::Process terminated(TerminateBufferLineThenBlock,
                               std::tuple{InheritedHandle(ready->write.get())});
  if (!StartAndAwaitReady(terminated, *ready).ok()) return 11;
  if (!terminated.terminate().ok()) return 12;
  absl::StatusOr<int> terminated_exitcode = JoinSoon(terminated);
  procspec::Process returning(TerminateBufferLineAndReturn);
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
// parent's terminate() with -15 (not -9 from the child's kill()). Fork only:
// the child uses the sibling object that fork copied into it (a capturing
// lambda as target).
CONFORMANCE_TEST(Terminate, InAChildOnItselfOrASiblingFailsAndSendsNothing,
                 "process.terminate.not_child_error") {
  if (StartMethod() != "fork") {
    CONFORMANCE_REQUIRE(Unsupported(
        "needs the fork start method: the child uses a started Process object "
        "(the sibling) copied into it by fork"));
  }
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
