// What a process does with its children when it exits normally (CPython's
// util._exit_function): SIGTERM to every daemonic child still running, then a
// join of every child. Checked for the main process (a re-executed program
// that returns from main) and for a child whose run() returns, exits or raises.
// Targets are registered functions, so the tests run under every start method.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadLine;
using ::conformance::testing::RunChildEntry;
using ::conformance::testing::SendLine;
using ::conformance::testing::StartAndAwaitReady;
using ::conformance::testing::WaitForByteOrEof;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// How the child's run() ends.
enum class RunEnds { kReturns, kExits3, kRaises };

// ---- Targets ----

// Sends "grandchild running", waits for a byte (or end of file) on `release`,
// then exits 5.
void ExitGrandchildWaitThenExit5(InheritedHandle report,
                                 InheritedHandle release) {
  SendLine(report.get(), "grandchild running");
  WaitForByteOrEof(release.get());
  procspec::Exit(5);
}
PROCSPEC_TARGET(ExitGrandchildWaitThenExit5);

// Starts ExitGrandchildWaitThenExit5 (not daemonic), sends "run() returns"
// and returns.
void ExitChildReturnsBeforeItsChild(InheritedHandle report,
                                    InheritedHandle release) {
  procspec::Process grandchild(ExitGrandchildWaitThenExit5,
                               std::tuple{report, release});
  if (!grandchild.start().ok()) procspec::Exit(1);
  SendLine(report.get(), "run() returns");
}
PROCSPEC_TARGET(ExitChildReturnsBeforeItsChild);

// Sends "ready" and blocks until killed; holds `alive` (a pipe's write end)
// open until it dies.
void ExitDaemonicGrandchild(InheritedHandle ready, InheritedHandle alive) {
  (void)alive;
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(ExitDaemonicGrandchild);

// Starts ExitDaemonicGrandchild (daemonic), the only other holder of `alive`,
// closes its own copies of `alive` and `ready_write`, waits until the
// grandchild runs its target (so that the exit handling finds it running), and
// then ends its run() as `how` (a RunEnds) says.
void ExitChildWithDaemonicGrandchild(InheritedHandle ready_read,
                                     InheritedHandle ready_write,
                                     InheritedHandle alive, int how) {
  procspec::Process grandchild(
      ExitDaemonicGrandchild, std::tuple{ready_write, alive}, {.daemon = true});
  if (!grandchild.start().ok()) procspec::Exit(1);
  platform::UniqueHandle(alive.get()).reset();
  platform::UniqueHandle(ready_write.get()).reset();
  if (ReadLine(ready_read.get()).value_or("") != "ready") procspec::Exit(2);
  switch (static_cast<RunEnds>(how)) {
    case RunEnds::kReturns:
      return;
    case RunEnds::kExits3:
      procspec::Exit(3);
    case RunEnds::kRaises:
      throw std::runtime_error("run() raised");
  }
}
PROCSPEC_TARGET(ExitChildWithDaemonicGrandchild);

// ---- The main process's exit ----

// The children of the program below; never destroyed, so that the exit
// handler can still ask them for their exitcode.
procspec::Process* g_daemonic_child = nullptr;
procspec::Process* g_worker_child = nullptr;

std::string ExitcodeText(procspec::Process* process) {
  absl::StatusOr<std::optional<int>> exitcode = process->exitcode();
  if (!exitcode.ok()) return exitcode.status().ToString();
  return exitcode->has_value() ? absl::StrCat(**exitcode) : "None";
}

// Runs after procspec's exit handling: std::atexit handlers run in reverse
// order of registration, and this one is registered before the first start().
void ReportAfterExitHandling() {
  std::printf("after exit handling: daemonic exitcode=%s worker exitcode=%s\n",
              ExitcodeText(g_daemonic_child).c_str(),
              ExitcodeText(g_worker_child).c_str());
}

// Sends "ready" and blocks until killed, holding `alive` (a pipe's write end)
// open until it dies.
void ExitMainDaemonicChild(InheritedHandle ready, InheritedHandle alive) {
  (void)alive;
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(ExitMainDaemonicChild);

// Closes its copy of `alive_write`, waits for end of file on `alive_read` (the
// daemonic child's death) and prints a line.
void ExitMainWorker(InheritedHandle alive_read, InheritedHandle alive_write) {
  platform::UniqueHandle(alive_write.get()).reset();
  WaitForByteOrEof(alive_read.get());
  std::printf("worker: the daemonic child has ended\n");
}
PROCSPEC_TARGET(ExitMainWorker);

// A program with a daemonic child that blocks until killed and a non-daemonic
// worker that waits for the daemonic child's death (end of file on a pipe only
// the daemonic child holds), prints a line and exits. The program returns from
// main while both run: only its exit handling can end the daemonic child, and
// only the join in it can make the worker's line come before the exit
// handler's.
CONFORMANCE_CHILD_ENTRY(signals_main_exit_terminates_and_joins) {
  std::atexit(&ReportAfterExitHandling);
  absl::StatusOr<platform::PipeEnds> ready = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> daemonic_alive = platform::MakePipe();
  if (!ready.ok() || !daemonic_alive.ok()) return 10;
  g_daemonic_child = new procspec::Process(
      ExitMainDaemonicChild,
      std::tuple{InheritedHandle(ready->write.get()),
                 InheritedHandle(daemonic_alive->write.get())},
      {.name = "daemonic", .daemon = true});
  if (!StartAndAwaitReady(*g_daemonic_child, *ready).ok()) return 11;
  g_worker_child = new procspec::Process(
      ExitMainWorker,
      std::tuple{InheritedHandle(daemonic_alive->read.get()),
                 InheritedHandle(daemonic_alive->write.get())},
      {.name = "worker"});
  if (!g_worker_child->start().ok()) return 12;
  daemonic_alive->write.reset();
  std::printf("main: returning\n");
  std::fflush(stdout);
  return 0;
}

// When the main process exits normally, its exit handling terminates the
// daemonic child that would block for ever (exitcode -15), then joins the
// non-daemonic worker before the process ends: the worker's output comes
// before anything that runs after the exit handling, and the program's own
// exit status (0) is unaffected.
CONFORMANCE_TEST(ExitHandling, MainProcessTerminatesDaemonsAndJoinsChildren,
                 "process.daemon.terminated_at_parent_exit",
                 "module.exit.joins_children") {
  if (StartMethod() == "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "under forkserver procspec::Init (which forks the server) registers "
        "the exit handling before the program's own code runs, so no atexit "
        "hook of the program runs after it to observe its result"));
  }
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunChildEntry("signals_main_exit_terminates_and_joins"));
  EXPECT_EQ(result.status,
            (platform::ExitStatus{.signaled = false, .value = 0}))
      << result.err;
  EXPECT_EQ(result.out,
            "main: returning\n"
            "worker: the daemonic child has ended\n"
            "after exit handling: daemonic exitcode=-15 worker exitcode=0\n");
  EXPECT_EQ(result.err, "");
}

// ---- A child's exit ----

// A child whose run() has returned stays alive until its non-daemonic child
// ends (a timed join of it times out meanwhile), and then exits with its own
// exitcode 0, not its child's 5.
CONFORMANCE_TEST(ExitHandling, ChildWaitsForItsNonDaemonicChildren,
                 "module.exit.joins_children") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds release, platform::MakePipe());
  procspec::Process child(ExitChildReturnsBeforeItsChild,
                          std::tuple{InheritedHandle(report.write.get()),
                                     InheritedHandle(release.read.get())});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string first, ReadLine(report.read.get()));
  ASSERT_OK_AND_ASSIGN(std::string second, ReadLine(report.read.get()));
  // The two lines come from two processes, in either order.
  EXPECT_EQ(first == "run() returns" ? second : first, "grandchild running");
  EXPECT_TRUE(first == "run() returns" || second == "run() returns");

  ASSERT_OK(child.join(absl::Milliseconds(50)));
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, child.exitcode());
  EXPECT_EQ(exitcode, std::nullopt)
      << "the child ended while its non-daemonic child was still running";
  ASSERT_OK_AND_ASSIGN(bool alive, child.is_alive());
  EXPECT_TRUE(alive);

  ASSERT_OK(platform::WriteAll(release.write.get(), "x"));
  ASSERT_OK_AND_ASSIGN(int final_exitcode, JoinSoon(child));
  EXPECT_EQ(final_exitcode, 0);
}

// A child starts a daemonic grandchild that blocks until killed, then its
// run() ends as `how`: the child still exits (its exit handling terminates and
// joins the grandchild rather than waiting for ever) with the exitcode run()
// gave it, and the grandchild is dead by then (a pipe only it held is at end of
// file).
void ExpectDaemonicGrandchildEndedAtChildExit(RunEnds how,
                                              int expected_exitcode) {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds alive, platform::MakePipe());
  procspec::Process child(
      ExitChildWithDaemonicGrandchild,
      std::tuple{InheritedHandle(ready.read.get()),
                 InheritedHandle(ready.write.get()),
                 InheritedHandle(alive.write.get()), static_cast<int>(how)});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  ready.write.reset();
  alive.write.reset();
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, expected_exitcode);
  const platform::NativeHandle handles[] = {alive.read.get()};
  ASSERT_OK_AND_ASSIGN(std::vector<std::size_t> ended,
                       platform::WaitReadable(handles, absl::InfinitePast()));
  EXPECT_EQ(ended.size(), 1u)
      << "the daemonic grandchild was still running when its parent ended";
}

// ... when run() returns (exitcode 0),
CONFORMANCE_TEST(ExitHandling, ChildWhoseRunReturnsEndsItsDaemonicChildren,
                 "process.daemon.terminated_at_parent_exit") {
  ExpectDaemonicGrandchildEndedAtChildExit(RunEnds::kReturns, 0);
}

// ... when run() calls sys.exit(3) (exitcode 3),
CONFORMANCE_TEST(ExitHandling, ChildThatExitsEndsItsDaemonicChildren,
                 "process.daemon.terminated_at_parent_exit") {
  ExpectDaemonicGrandchildEndedAtChildExit(RunEnds::kExits3, 3);
}

// ... and when run() raises (exitcode 1).
CONFORMANCE_TEST(ExitHandling, ChildWhoseRunRaisesEndsItsDaemonicChildren,
                 "process.daemon.terminated_at_parent_exit") {
  ExpectDaemonicGrandchildEndedAtChildExit(RunEnds::kRaises, 1);
}

}  // namespace
}  // namespace conformance
