// Process.start(): where run() runs, that start() does not wait, and the
// errors start() reports, in CPython's order.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/lifecycle/lifecycle_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::lifecycle {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::conformance::testing::RunChildEntry;
using ::procspec::platform::MakePipe;
using ::procspec::platform::PipeEnds;

constexpr char kForeignStart[] =
    "can only start a process object created by current process";
constexpr char kStartedTwice[] = "cannot start a process twice";
constexpr char kClosed[] = "process object is closed";
constexpr char kDaemonic[] =
    "daemonic processes are not allowed to have children";
constexpr char kForkedCopies[] =
    "the child uses Process objects of its parent, which only a forked child "
    "has (CPython cannot pickle a Process for spawn or forkserver either)";

// Set by StartReportPid: in the child's memory only.
bool g_start_ran_in_this_process = false;

// Writes the current process's pid to `out`.
void StartReportPid(procspec::InheritedHandle out) {
  g_start_ran_in_this_process = true;  // Sets the child's copy only.
  absl::StatusOr<std::optional<procspec::Pid>> pid =
      procspec::current_process().pid();
  if (!pid.ok() || !pid->has_value()) procspec::Exit(3);
  if (!procspec::platform::WriteAll(out.get(), absl::StrCat(**pid)).ok()) {
    procspec::Exit(4);
  }
}
PROCSPEC_TARGET(StartReportPid);

// Waits to be released, then prints "child".
void StartWaitThenPrint(HandshakeChild handshake) {
  if (!handshake.WaitForRelease().ok()) procspec::Exit(3);
  std::printf("child\n");
}
PROCSPEC_TARGET(StartWaitThenPrint);

// run() runs in a new process (another pid, reported through a pipe), not in
// the parent: a flag the target sets stays unset on the parent's side.
CONFORMANCE_TEST(Start, CallsRunInAChildProcessNotInTheParent,
                 "process.start.calls_run_in_child") {
  ASSERT_OK_AND_ASSIGN(PipeEnds pipe, MakePipe());
  g_start_ran_in_this_process = false;
  procspec::Process p(StartReportPid,
                      std::tuple{procspec::InheritedHandle(pipe.write.get())});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string reported, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_FALSE(g_start_ran_in_this_process) << "run() ran in the parent";
  procspec::Pid child_pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(reported, &child_pid))
      << "the child reported '" << reported << "'";
  EXPECT_NE(child_pid, procspec::platform::CurrentPid());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  EXPECT_EQ(pid, std::optional<procspec::Pid>(child_pid));
}

// start() returns while the target is still blocked: the child is alive and
// its exitcode None, and the parent goes on.
CONFORMANCE_TEST(Start, ReturnsWhileTheTargetIsStillRunning,
                 "process.start.returns_without_waiting") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(LifecycleBlockThenExit,
                      std::tuple{handshake.ChildSide(), 0});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  EXPECT_TRUE(alive);
  ASSERT_OK_AND_ASSIGN(std::optional<int> running_code, p.exitcode());
  EXPECT_EQ(running_code, std::nullopt);
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// The seed's first example: the parent prints right after start() while the
// child is still held in its target; the child prints only once released.
CONFORMANCE_CHILD_ENTRY(lifecycle_start_then_print) {
  absl::StatusOr<Handshake> handshake = Handshake::Create();
  if (!handshake.ok()) return 100;
  procspec::Process p(StartWaitThenPrint, std::tuple{handshake->ChildSide()});
  if (!p.start().ok()) return 101;
  std::printf("main\n");
  std::fflush(stdout);
  if (!handshake->Release().ok()) return 102;
  absl::StatusOr<int> exitcode = JoinAndGetExitcode(p);
  if (!exitcode.ok()) return 103;
  return *exitcode;
}

// The parent's print comes first: start() returned without waiting for the
// target.
CONFORMANCE_TEST(Start, TheParentGoesOnBeforeTheChildFinishes,
                 "process.start.returns_without_waiting") {
  ASSERT_OK_AND_ASSIGN(procspec::platform::testing::CommandResult result,
                       RunChildEntry("lifecycle_start_then_print"));
  EXPECT_FALSE(result.status.signaled);
  EXPECT_EQ(result.status.value, 0) << result.err;
  EXPECT_EQ(result.out, "main\nchild\n");
}

// A second start() while the child runs fails and creates nothing: the pid is
// unchanged and no new child is listed.
CONFORMANCE_TEST(Start, TwiceWhileRunningIsAnAssertionError,
                 "process.start.twice_error") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(LifecycleBlockThenExit,
                      std::tuple{handshake.ChildSide(), 0});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid_before, p.pid());
  const std::size_t children_before = procspec::active_children().size();
  EXPECT_PYTHON_ERROR(p.start(), "AssertionError",
                      "cannot start a process twice");
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid_after, p.pid());
  EXPECT_EQ(pid_after, pid_before);
  EXPECT_EQ(procspec::active_children().size(), children_before);
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// start() after the child was joined fails; the recorded exitcode stays.
CONFORMANCE_TEST(Start, TwiceAfterJoinIsAnAssertionError,
                 "process.start.twice_error") {
  procspec::Process p(procspec::testing::ExitWith, std::tuple{5});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 5);
  EXPECT_PYTHON_ERROR(p.start(), "AssertionError",
                      "cannot start a process twice");
  ASSERT_OK_AND_ASSIGN(std::optional<int> after, p.exitcode());
  EXPECT_EQ(after, std::optional<int>(5));
}

// start() after the child exited but before anyone joined it fails too.
CONFORMANCE_TEST(Start, TwiceAfterExitWithoutJoinIsAnAssertionError,
                 "process.start.twice_error") {
  procspec::Process p(procspec::testing::ExitWith, std::tuple{6});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK(WaitForExitWithoutJoin(p));
  EXPECT_PYTHON_ERROR(p.start(), "AssertionError",
                      "cannot start a process twice");
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 6);
}

// A child cannot start an unstarted object its parent created (it holds a
// forked copy); the parent's object stays unstarted and the parent can still
// start it.
CONFORMANCE_TEST(Start, ObjectCreatedByTheParentCannotBeStartedInAChild,
                 "process.start.foreign_object_error") {
  CONFORMANCE_REQUIRE(RequireForkStartMethod(kForkedCopies));
  procspec::Process foreign(procspec::testing::ExitWith, std::tuple{9});
  KillOnExit reap_foreign(foreign);
  procspec::Process p([&foreign] {
    ExitUnlessError(foreign.start(), "AssertionError", kForeignStart, 10);
    // The forked copy stays unstarted after the refusal.
    absl::StatusOr<std::optional<procspec::Pid>> pid = foreign.pid();
    if (!pid.ok() || pid->has_value()) procspec::Exit(11);
  });
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "10: start() did not fail as CPython's; "
                            "11: the refused object looks started";
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> foreign_pid, foreign.pid());
  EXPECT_EQ(foreign_pid, std::nullopt);
  ASSERT_OK(foreign.start());
  ASSERT_OK_AND_ASSIGN(int foreign_exitcode, JoinAndGetExitcode(foreign));
  EXPECT_EQ(foreign_exitcode, 9);
}

// Closed beats started twice: an object started, joined and closed reports
// "process object is closed".
CONFORMANCE_TEST(Start, ClosedIsCheckedBeforeStartedTwice,
                 "process.start.check_order") {
  procspec::Process p(LifecycleNoop);
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK(p.close());
  EXPECT_PYTHON_ERROR(p.start(), "ValueError", "process object is closed");
}

// Closed beats created-by-another-process: in a child, an object the parent
// closed (started or not) reports "process object is closed".
CONFORMANCE_TEST(Start, ClosedIsCheckedBeforeTheCreator,
                 "process.start.check_order") {
  CONFORMANCE_REQUIRE(RequireForkStartMethod(kForkedCopies));
  procspec::Process closed_unstarted(LifecycleNoop);
  ASSERT_OK(closed_unstarted.close());
  procspec::Process closed_started(LifecycleNoop);
  ASSERT_OK(closed_started.start());
  ASSERT_OK(closed_started.join());
  ASSERT_OK(closed_started.close());
  procspec::Process p([&closed_unstarted, &closed_started] {
    ExitUnlessError(closed_unstarted.start(), "ValueError", kClosed, 10);
    ExitUnlessError(closed_started.start(), "ValueError", kClosed, 11);
  });
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "10: closed unstarted object; "
                            "11: closed started object";
}

// Started twice beats created-by-another-process: in a child, an object the
// parent started reports "cannot start a process twice", while an unstarted
// one (same creator) reports the creator check.
CONFORMANCE_TEST(Start, StartedTwiceIsCheckedBeforeTheCreator,
                 "process.start.check_order") {
  CONFORMANCE_REQUIRE(RequireForkStartMethod(kForkedCopies));
  procspec::Process started(LifecycleNoop);
  KillOnExit reap_started(started);
  ASSERT_OK(started.start());
  ASSERT_OK(started.join());
  procspec::Process unstarted(LifecycleNoop);
  procspec::Process p([&started, &unstarted] {
    ExitUnlessError(started.start(), "AssertionError", kStartedTwice, 10);
    ExitUnlessError(unstarted.start(), "AssertionError", kForeignStart, 11);
  });
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "10: inherited started object; "
                            "11: inherited unstarted object (control)";
}

// Created-by-another-process beats daemonic: a daemonic child starting an
// object its parent created reports the creator check, while an object it
// creates itself reports the daemonic check.
CONFORMANCE_TEST(Start, CreatorIsCheckedBeforeDaemonic,
                 "process.start.check_order") {
  CONFORMANCE_REQUIRE(RequireForkStartMethod(kForkedCopies));
  procspec::Process unstarted(LifecycleNoop);
  procspec::Process p(
      [&unstarted] {
        if (!procspec::current_process().daemon()) procspec::Exit(9);
        ExitUnlessError(unstarted.start(), "AssertionError", kForeignStart, 10);
        procspec::Process own(LifecycleNoop);
        ExitUnlessError(own.start(), "AssertionError", kDaemonic, 11);
      },
      {.daemon = true});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "9: the child is not daemonic; "
                            "10: inherited unstarted object; "
                            "11: own object (control)";
}

}  // namespace
}  // namespace conformance::lifecycle
