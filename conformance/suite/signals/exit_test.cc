// What a process does with its children when it exits normally (CPython's
// util._exit_function): SIGTERM to every daemonic child still running, then a
// join of every child. Checked for the main process (a re-executed program
// that returns from main) and for a child whose run() returns, exits or raises.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
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
using ::conformance::signals_testing::JoinSoon;
using ::conformance::signals_testing::KillOnExit;
using ::conformance::signals_testing::ReadLine;
using ::conformance::signals_testing::SendLine;
using ::conformance::signals_testing::StartAndAwaitReady;
using ::conformance::signals_testing::WaitForByteOrEof;
using ::conformance::testing::RunChildEntry;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

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
      [&ready] {
        SendLine(ready->write.get(), "ready");
        BlockUntilKilled();
      },
      {.name = "daemonic", .daemon = true});
  if (!StartAndAwaitReady(*g_daemonic_child, *ready).ok()) return 11;
  g_worker_child = new procspec::Process(
      [&daemonic_alive] {
        daemonic_alive->write.reset();
        WaitForByteOrEof(daemonic_alive->read.get());
        std::printf("worker: the daemonic child has ended\n");
      },
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
  procspec::Process child([&] {
    procspec::Process grandchild([&] {
      SendLine(report.write.get(), "grandchild running");
      WaitForByteOrEof(release.read.get());
      procspec::Exit(5);
    });
    if (!grandchild.start().ok()) procspec::Exit(1);
    SendLine(report.write.get(), "run() returns");
  });
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

// How the child's run() ends.
enum class RunEnds { kReturns, kExits3, kRaises };

// A child starts a daemonic grandchild that blocks until killed, then its
// run() ends as `how`: the child still exits (its exit handling terminates and
// joins the grandchild rather than waiting for ever) with the exitcode run()
// gave it, and the grandchild is dead by then (a pipe only it held is at end of
// file).
void ExpectDaemonicGrandchildEndedAtChildExit(RunEnds how,
                                              int expected_exitcode) {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds alive, platform::MakePipe());
  procspec::Process child([&ready, &alive, how] {
    procspec::Process grandchild(
        [&ready] {
          SendLine(ready.write.get(), "ready");
          BlockUntilKilled();
        },
        {.daemon = true});
    if (!grandchild.start().ok()) procspec::Exit(1);
    alive.write.reset();
    // Waits until the grandchild runs its target, so the exit handling finds
    // it running.
    ready.write.reset();
    if (ReadLine(ready.read.get()).value_or("") != "ready") procspec::Exit(2);
    switch (how) {
      case RunEnds::kReturns:
        return;
      case RunEnds::kExits3:
        procspec::Exit(3);
      case RunEnds::kRaises:
        throw std::runtime_error("run() raised");
    }
  });
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
