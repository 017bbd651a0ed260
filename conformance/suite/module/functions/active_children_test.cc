// active_children(): lists the live children, reaps the finished ones, and
// starts empty in every child.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/functions/functions_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::module_functions {
namespace {

using ::conformance::testing::KillOnExit;
using ::conformance::testing::RequireOwnZombie;
namespace platform = ::procspec::platform;
using ::conformance::module_testing::WaitUntilEnded;
using ::conformance::testing::JoinAndGetExitcode;

// name, pid, daemon: what active_children() says of a child.
using Listed = std::tuple<std::string, procspec::Pid, bool>;

// The entries of active_children() whose pid is one of `pids` (the children
// this test started), sorted.
std::vector<Listed> ListedAmong(const std::set<procspec::Pid>& pids) {
  std::vector<Listed> listed;
  for (const procspec::ChildInfo& child : procspec::active_children()) {
    if (pids.count(child.pid) > 0) {
      listed.emplace_back(child.name, child.pid, child.daemon);
    }
  }
  std::sort(listed.begin(), listed.end());
  return listed;
}

// Blocks until a byte (or end of file) arrives on `hold`.
void ModuleGrandchildWait(procspec::InheritedHandle hold) {
  (void)platform::ReadSome(hold.get(), 1);
}
PROCSPEC_TARGET(ModuleGrandchildWait);

// Exits 10 if its active_children() is not empty at first, 11 if it cannot
// start a child, 12 if it then does not list exactly that child.
void ModuleListOwnChildren() {
  if (!procspec::active_children().empty()) procspec::Exit(10);
  // The grandchild runs until the child has listed it.
  absl::StatusOr<platform::PipeEnds> hold = platform::MakePipe();
  if (!hold.ok()) procspec::Exit(11);
  procspec::Process grandchild(
      ModuleGrandchildWait,
      std::tuple{procspec::InheritedHandle(hold->read.get())},
      {.name = "grandchild"});
  if (!grandchild.start().ok()) procspec::Exit(11);
  const std::vector<procspec::ChildInfo> listed = procspec::active_children();
  (void)platform::WriteAll(hold->write.get(), "x");
  (void)grandchild.join();
  if (listed.size() != 1 || listed[0].name != "grandchild") {
    procspec::Exit(12);
  }
}
PROCSPEC_TARGET(ModuleListOwnChildren);

procspec::Pid PidOf(procspec::Process& p) {
  absl::StatusOr<std::optional<procspec::Pid>> pid = p.pid();
  return pid.ok() && pid->has_value() ? **pid : -1;
}

// Two running children (one daemonic) are listed with their names, pids and
// daemon flags; a child that has exited and been joined, one that has exited
// without join(), and an unstarted object are not.
CONFORMANCE_TEST(ActiveChildren, ListsRunningChildrenOnly,
                 "module.active_children.lists_live") {
  ASSERT_OK_AND_ASSIGN(Handshake first_handshake, Handshake::Create());
  ASSERT_OK_AND_ASSIGN(Handshake second_handshake, Handshake::Create());
  procspec::Process running(ModuleHold, std::tuple{first_handshake.ChildSide()},
                            {.name = "ac-running"});
  procspec::Process running_daemon(ModuleHold,
                                   std::tuple{second_handshake.ChildSide()},
                                   {.name = "ac-daemon", .daemon = true});
  procspec::Process joined(ModuleNoop, {.name = "ac-joined"});
  procspec::Process exited(ModuleNoop, {.name = "ac-exited"});
  procspec::Process unstarted(ModuleNoop, {.name = "ac-unstarted"});
  KillOnExit reapers[] = {KillOnExit(running), KillOnExit(running_daemon),
                          KillOnExit(joined), KillOnExit(exited)};
  ASSERT_OK(joined.start());
  ASSERT_OK(joined.join());
  ASSERT_OK(running.start());
  ASSERT_OK(running_daemon.start());
  ASSERT_OK(exited.start());
  ASSERT_OK(first_handshake.WaitReady());
  ASSERT_OK(second_handshake.WaitReady());
  ASSERT_OK(WaitUntilEnded(exited));  // ended, not joined

  const std::set<procspec::Pid> pids = {PidOf(running), PidOf(running_daemon),
                                        PidOf(joined), PidOf(exited)};
  std::vector<Listed> expected = {{"ac-running", PidOf(running), false},
                                  {"ac-daemon", PidOf(running_daemon), true}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ListedAmong(pids), expected);
  for (const procspec::ChildInfo& child : procspec::active_children()) {
    EXPECT_NE(child.name, "ac-unstarted") << "an unstarted object is listed";
  }

  // Once released and ended, the running children drop off the list too.
  ASSERT_OK(first_handshake.Release());
  ASSERT_OK(second_handshake.Release());
  ASSERT_OK(WaitUntilEnded(running));
  ASSERT_OK(WaitUntilEnded(running_daemon));
  EXPECT_EQ(ListedAmong(pids), std::vector<Listed>{});
}

// With no children started, the list holds nothing this test started, and a
// child appears in it right after start().
CONFORMANCE_TEST(ActiveChildren, ListedFromStart,
                 "module.active_children.lists_live") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ModuleHold, std::tuple{handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  // Not waiting for the child to be ready: it is live from start() on.
  EXPECT_EQ(ListedAmong({PidOf(p)}),
            (std::vector<Listed>{{p.name(), PidOf(p), false}}));
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  EXPECT_EQ(ListedAmong({PidOf(p)}), std::vector<Listed>{});
}

// A child that exited without join() is a zombie until active_children()
// reaps it: afterwards it is gone from the OS, and its exitcode is recorded.
CONFORMANCE_TEST(ActiveChildren, ReapsAnExitedChildWithoutJoin,
                 "module.active_children.reaps_finished") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  CONFORMANCE_REQUIRE(RequireOwnZombie());
  procspec::Process p(procspec::testing::ExitWith, std::tuple{5});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  const procspec::Pid pid = PidOf(p);
  ASSERT_OK(WaitUntilEnded(p));
  // Ended but not reaped yet: the OS still has it (as a zombie).
  EXPECT_NE(platform::testing::StateOf(pid),
            platform::testing::ProcessState::kGone);
  EXPECT_EQ(ListedAmong({pid}), std::vector<Listed>{});
  // active_children() reaped it: no zombie is left.
  EXPECT_EQ(platform::testing::StateOf(pid),
            platform::testing::ProcessState::kGone)
      << platform::testing::ProcessStateName(platform::testing::StateOf(pid));
  ASSERT_OK_AND_ASSIGN(std::vector<platform::testing::ChildInfo> children,
                       platform::testing::ListChildren());
  for (const platform::testing::ChildInfo& child : children) {
    EXPECT_NE(child.pid, pid) << "still a child of the test process";
  }
  // The status was recorded when it was reaped.
  ASSERT_OK_AND_ASSIGN(std::optional<int> code, p.exitcode());
  EXPECT_EQ(code, std::optional<int>(5));
}

// active_children() reaps every finished child at once, including ones whose
// Process objects nobody polls.
CONFORMANCE_TEST(ActiveChildren, ReapsSeveralFinishedChildren,
                 "module.active_children.reaps_finished") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  procspec::Process first(ModuleNoop);
  procspec::Process second(procspec::testing::ExitWith, std::tuple{3});
  KillOnExit first_reaper(first);
  KillOnExit second_reaper(second);
  ASSERT_OK(first.start());
  ASSERT_OK(second.start());
  ASSERT_OK(WaitUntilEnded(first));
  ASSERT_OK(WaitUntilEnded(second));
  const procspec::Pid first_pid = PidOf(first);
  const procspec::Pid second_pid = PidOf(second);
  (void)procspec::active_children();
  EXPECT_EQ(platform::testing::StateOf(first_pid),
            platform::testing::ProcessState::kGone);
  EXPECT_EQ(platform::testing::StateOf(second_pid),
            platform::testing::ProcessState::kGone);
  ASSERT_OK_AND_ASSIGN(std::optional<int> first_code, first.exitcode());
  ASSERT_OK_AND_ASSIGN(std::optional<int> second_code, second.exitcode());
  EXPECT_EQ(first_code, std::optional<int>(0));
  EXPECT_EQ(second_code, std::optional<int>(3));
}

// A new child's active_children() is empty although its parent has another
// child running (a sibling is not the child's child); once it starts a child
// of its own, that one is listed.
CONFORMANCE_TEST(ActiveChildren, EmptyInANewChild,
                 "module.active_children.child_starts_empty") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process sibling(ModuleHold, std::tuple{handshake.ChildSide()});
  KillOnExit sibling_reaper(sibling);
  ASSERT_OK(sibling.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_EQ(ListedAmong({PidOf(sibling)}).size(), 1u);

  procspec::Process child(ModuleListOwnChildren);
  KillOnExit child_reaper(child);
  ASSERT_OK(child.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(child));
  EXPECT_EQ(code, 0) << "10: the new child listed children; 12: it did not "
                        "list exactly its own child";
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int sibling_code, JoinAndGetExitcode(sibling));
  EXPECT_EQ(sibling_code, 0);
}

}  // namespace
}  // namespace conformance::module_functions
