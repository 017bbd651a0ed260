// Process.is_alive(): True while the child runs, False before start and after
// exit (reaping the child), True for the current process, and an error for
// objects another process created.
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/lifecycle/lifecycle_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::lifecycle {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::RequireOwnZombie;
using ::procspec::platform::testing::ProcessState;
using ::procspec::platform::testing::StateOf;

constexpr char kNotChild[] = "can only test a child process";

// In a child: exits with `code` unless `alive` is an OK True.
void ExitUnlessTrue(const absl::StatusOr<bool>& alive, int code) {
  if (!alive.ok() || !*alive) procspec::Exit(code);
}

// True while the child runs; False once it has exited, before any join().
CONFORMANCE_TEST(IsAlive, TrueWhileRunningFalseOnceExitedBeforeJoin,
                 "process.is_alive.running") {
  ASSERT_OK_AND_ASSIGN(auto child, BlockedChild::Create(0));
  procspec::Process& p = child->process();
  ASSERT_OK(child->StartAndWaitReady());
  ASSERT_OK_AND_ASSIGN(bool running, p.is_alive());
  EXPECT_TRUE(running);
  ASSERT_OK_AND_ASSIGN(bool still_running, p.is_alive());
  EXPECT_TRUE(still_running) << "is_alive() is not repeatable";
  ASSERT_OK(child->Release());
  ASSERT_OK(WaitForExitWithoutJoin(p));
  ASSERT_OK_AND_ASSIGN(bool exited, p.is_alive());
  EXPECT_FALSE(exited);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK_AND_ASSIGN(bool joined, p.is_alive());
  EXPECT_FALSE(joined);
}

// An unstarted object is not alive, and asking is not an error.
CONFORMANCE_TEST(IsAlive, FalseBeforeStart,
                 "process.is_alive.not_started_false") {
  procspec::Process with_target(LifecycleNoop);
  ASSERT_OK_AND_ASSIGN(bool alive, with_target.is_alive());
  EXPECT_FALSE(alive);
  procspec::Process without_target;
  ASSERT_OK_AND_ASSIGN(bool also_alive, without_target.is_alive());
  EXPECT_FALSE(also_alive);
}

// The main process's current_process() is alive.
CONFORMANCE_TEST(IsAlive, CurrentProcessIsAliveInTheMainProcess,
                 "process.is_alive.current_process") {
  ASSERT_OK_AND_ASSIGN(bool alive, procspec::current_process().is_alive());
  EXPECT_TRUE(alive);
}

// A child asking about itself: through current_process(), and through the
// object itself (its run() override's `this`, the child's copy of the object
// the parent started).
class IsAliveSelfCheck : public procspec::Process {
 public:
  void run() override {
    if (&procspec::current_process() != this) procspec::Exit(12);
    ExitUnlessTrue(procspec::current_process().is_alive(), 10);
    ExitUnlessTrue(is_alive(), 11);
  }
  template <class Archive>
  void serialize(Archive&) {}
};
PROCSPEC_PROCESS_CLASS(IsAliveSelfCheck);

// In a child, current_process() (the child's own object) is alive, through
// either name, without the creator check.
CONFORMANCE_TEST(IsAlive, CurrentProcessIsAliveInAChild,
                 "process.is_alive.current_process") {
  IsAliveSelfCheck p;
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "10: current_process().is_alive(); "
                            "11: the object itself; "
                            "12: current_process() is not the object";
}

// is_alive() reaps a child it finds exited: a zombie before, gone after, and
// no longer listed by active_children().
CONFORMANCE_TEST(IsAlive, ReapsAnExitedChild, "process.is_alive.reaps") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  CONFORMANCE_REQUIRE(RequireOwnZombie());
  procspec::Process p(procspec::testing::ExitWith, std::tuple{3});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK(WaitForExitWithoutJoin(p));
  EXPECT_EQ(StateOf(*pid), ProcessState::kZombie);
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  EXPECT_FALSE(alive);
  EXPECT_EQ(StateOf(*pid), ProcessState::kGone);
  EXPECT_FALSE(IsListedActive(*pid));
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  EXPECT_EQ(exitcode, std::optional<int>(3));
}

// is_alive() does not block: on a running child it returns True at once (the
// child is blocked until released, so a blocking poll would never return).
CONFORMANCE_TEST(IsAlive, PollsWithoutBlockingOnARunningChild,
                 "process.is_alive.running") {
  ASSERT_OK_AND_ASSIGN(auto child, BlockedChild::Create(0));
  procspec::Process& p = child->process();
  ASSERT_OK(child->StartAndWaitReady());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  EXPECT_TRUE(alive);
  EXPECT_TRUE(IsListedActive(*pid));
  ASSERT_OK(child->Release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// A child cannot test objects its parent created, running or unstarted.
CONFORMANCE_TEST(IsAlive, ChildCannotTestItsParentsObjects,
                 "process.is_alive.not_child_error") {
  CONFORMANCE_REQUIRE(RequireForkStartMethod(
      "the child tests Process objects of its parent, which only a forked "
      "child has (CPython cannot pickle a Process for spawn or forkserver "
      "either)"));
  ASSERT_OK_AND_ASSIGN(auto sibling, BlockedChild::Create(0));
  ASSERT_OK(sibling->StartAndWaitReady());
  procspec::Process& running_sibling = sibling->process();
  procspec::Process unstarted(LifecycleNoop);
  procspec::Process p([&running_sibling, &unstarted] {
    ExitUnlessError(running_sibling.is_alive().status(), "AssertionError",
                    kNotChild, 10);
    ExitUnlessError(unstarted.is_alive().status(), "AssertionError", kNotChild,
                    11);
    // Its own object is the exception.
    ExitUnlessTrue(procspec::current_process().is_alive(), 12);
  });
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "10: running sibling; 11: unstarted sibling; "
                            "12: own object";
  ASSERT_OK(sibling->Release());
  ASSERT_OK_AND_ASSIGN(int sibling_code, JoinAndGetExitcode(running_sibling));
  EXPECT_EQ(sibling_code, 0);
}

}  // namespace
}  // namespace conformance::lifecycle
