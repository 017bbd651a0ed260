// What a child does with its own children when its run() ends (CPython's
// util._exit_function): SIGTERM to every daemonic child still running, then a
// join of every child. Targets are registered functions, so the tests run
// under every start method. (The main process's exit, checked on a re-executed
// program, is in the signals area.)
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/common/signals_testing.h"
#include "gtest/gtest.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::signals_testing::BlockUntilKilled;
using ::conformance::signals_testing::JoinSoon;
using ::conformance::signals_testing::KillOnExit;
using ::conformance::signals_testing::ReadLine;
using ::conformance::signals_testing::SendLine;
using ::conformance::signals_testing::WaitForByteOrEof;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;

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
