// pid/ident (None before start, then the child's own pid until close) and the
// sentinel (an error before start, then a handle that becomes ready exactly
// when the child ends).
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/functions/functions_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/connection.h"
#include "process/process.h"
#include "process/spawn.h"

namespace conformance::module_functions {
namespace {

using ::conformance::testing::KillOnExit;
using ::conformance::testing::RequireOwnZombie;
namespace platform = ::procspec::platform;
using ::conformance::module_testing::ReportPipe;
using ::conformance::module_testing::ReportWriter;
using ::conformance::module_testing::WaitUntilEnded;
using ::conformance::testing::JoinAndGetExitcode;

using OptionalPid = std::optional<procspec::Pid>;

// Sends its getpid(), then holds until released.
void ModuleReportPidThenHold(ReportWriter report, HandshakeChild handshake) {
  (void)report.Send(absl::StrCat(platform::CurrentPid()));
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
}
PROCSPEC_TARGET(ModuleReportPidThenHold);

// Sends its own current_process().pid, or "none".
void ModuleReportOwnPid(ReportWriter report) {
  absl::StatusOr<OptionalPid> own = procspec::current_process().pid();
  (void)report.Send(own.ok() && own->has_value() ? absl::StrCat(**own)
                                                 : "none");
}
PROCSPEC_TARGET(ModuleReportOwnPid);

double LongTimeout() {
  return absl::ToDoubleSeconds(ScaledTimeout(absl::Seconds(30)));
}

// Before start() pid and ident are None and repr shows no pid.
CONFORMANCE_TEST(Pid, NoneBeforeStart, "process.pid.none_before_start") {
  procspec::Process p(ModuleNoop, {.name = "unstarted"});
  ASSERT_OK_AND_ASSIGN(OptionalPid pid, p.pid());
  ASSERT_OK_AND_ASSIGN(OptionalPid ident, p.ident());
  EXPECT_EQ(pid, std::nullopt);
  EXPECT_EQ(ident, std::nullopt);
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='unstarted' parent=",
                                   platform::CurrentPid(), " initial>"));
}

// pid is None for a subclass object and for an object without a target too.
CONFORMANCE_TEST(Pid, NoneBeforeStartForAnyProcessObject,
                 "process.pid.none_before_start") {
  class Custom : public procspec::Process {
   public:
    void run() override {}
  };
  Custom custom;
  procspec::Process no_target;
  ASSERT_OK_AND_ASSIGN(OptionalPid custom_pid, custom.pid());
  ASSERT_OK_AND_ASSIGN(OptionalPid no_target_ident, no_target.ident());
  EXPECT_EQ(custom_pid, std::nullopt);
  EXPECT_EQ(no_target_ident, std::nullopt);
}

// After start() pid == ident == the getpid() the child reports; the values
// are the same while it runs, after it ended unjoined and after join().
CONFORMANCE_TEST(Pid, ChildsOwnPidUntilClose, "process.pid.child_pid") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ModuleReportPidThenHold,
                      std::tuple{report.Writer(), handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  report.CloseWriteEnd();
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(OptionalPid running_pid, p.pid());
  ASSERT_OK_AND_ASSIGN(OptionalPid running_ident, p.ident());
  ASSERT_TRUE(running_pid.has_value());
  EXPECT_EQ(running_ident, running_pid);
  EXPECT_NE(*running_pid, platform::CurrentPid());

  ASSERT_OK(handshake.Release());
  ASSERT_OK(WaitUntilEnded(p));
  ASSERT_OK_AND_ASSIGN(OptionalPid ended_pid, p.pid());
  EXPECT_EQ(ended_pid, running_pid);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(OptionalPid joined_pid, p.pid());
  ASSERT_OK_AND_ASSIGN(OptionalPid joined_ident, p.ident());
  EXPECT_EQ(joined_pid, running_pid);
  EXPECT_EQ(joined_ident, running_pid);

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> lines, report.ReadLines());
  ASSERT_EQ(lines.size(), 1u);
  procspec::Pid reported = 0;
  ASSERT_TRUE(absl::SimpleAtoi(lines[0], &reported)) << lines[0];
  EXPECT_EQ(reported, *running_pid) << "p.pid is not the child's getpid()";
  // repr shows the same pid.
  EXPECT_TRUE(absl::StrContains(p.repr(), absl::StrCat(" pid=", reported, " ")))
      << p.repr();
}

// Inside the child, its own current_process().pid is its getpid(), the same
// number the parent sees as p.pid.
CONFORMANCE_TEST(Pid, SameNumberInsideAndOutside, "process.pid.child_pid") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ModuleReportOwnPid, std::tuple{report.Writer()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  report.CloseWriteEnd();
  ASSERT_OK(p.join());
  ASSERT_OK_AND_ASSIGN(OptionalPid pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> lines, report.ReadLines());
  EXPECT_EQ(lines, std::vector<std::string>{absl::StrCat(*pid)});
}

// Reading the sentinel before start() fails with ValueError "process not
// started".
CONFORMANCE_TEST(Sentinel, BeforeStartFails,
                 "process.sentinel.not_started_error") {
  procspec::Process p(ModuleNoop);
  EXPECT_PYTHON_ERROR(p.sentinel(), "ValueError", "process not started");
  // Asking does not change anything: still startable, and then it has one.
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  EXPECT_OK(p.sentinel());
  ASSERT_OK(p.join());
}

// An object without a target, never started, has no sentinel either.
CONFORMANCE_TEST(Sentinel, BeforeStartFailsWithoutTarget,
                 "process.sentinel.not_started_error") {
  procspec::Process p;
  EXPECT_PYTHON_ERROR(p.sentinel(), "ValueError", "process not started");
}

// The sentinel is not ready while the child runs, and becomes ready when it
// ends, before anyone reaps it; it stays the same open handle, still ready,
// after join().
CONFORMANCE_TEST(Sentinel, ReadyWhenTheChildEnds,
                 "process.sentinel.ready_at_exit") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ModuleHold, std::tuple{handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(procspec::Handle sentinel, p.sentinel());
  EXPECT_TRUE(platform::testing::IsOpen(sentinel));
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> while_running,
                       procspec::connection::wait({sentinel}, 0));
  EXPECT_TRUE(while_running.empty()) << "ready while the child runs";

  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> ended,
                       procspec::connection::wait({sentinel}, LongTimeout()));
  EXPECT_EQ(ended, std::vector<procspec::Handle>{sentinel});
  ASSERT_OK_AND_ASSIGN(procspec::Handle again, p.sentinel());
  EXPECT_EQ(again, sentinel);

  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(procspec::Handle after_join, p.sentinel());
  EXPECT_EQ(after_join, sentinel);
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> after_join_ready,
                       procspec::connection::wait({sentinel}, 0));
  EXPECT_EQ(after_join_ready, std::vector<procspec::Handle>{sentinel});
}

// The sentinel's readiness does not reap the child: it is still there (as a
// zombie) until something reaps it.
CONFORMANCE_TEST(Sentinel, ReadyWithoutReaping,
                 "process.sentinel.ready_at_exit") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  CONFORMANCE_REQUIRE(RequireOwnZombie());
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(OptionalPid pid, p.pid());
  ASSERT_OK(WaitUntilEnded(p));
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> again,
                       procspec::connection::wait({*p.sentinel()}, 0));
  EXPECT_EQ(again.size(), 1u);
  EXPECT_NE(platform::testing::StateOf(*pid),
            platform::testing::ProcessState::kGone)
      << "waiting on the sentinel reaped the child";
  ASSERT_OK(p.join());
  EXPECT_EQ(platform::testing::StateOf(*pid),
            platform::testing::ProcessState::kGone);
}

// Waiting on two sentinels returns only the one whose child ended.
CONFORMANCE_TEST(Sentinel, OnlyTheEndedChildsSentinelIsReady,
                 "process.sentinel.ready_at_exit") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process held(ModuleHold, std::tuple{handshake.ChildSide()});
  procspec::Process quick(ModuleNoop);
  KillOnExit held_reaper(held);
  KillOnExit quick_reaper(quick);
  ASSERT_OK(held.start());
  ASSERT_OK(quick.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(procspec::Handle held_sentinel, held.sentinel());
  ASSERT_OK_AND_ASSIGN(procspec::Handle quick_sentinel, quick.sentinel());
  EXPECT_NE(held_sentinel, quick_sentinel);
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> ready,
                       procspec::connection::wait(
                           {held_sentinel, quick_sentinel}, LongTimeout()));
  EXPECT_EQ(ready, std::vector<procspec::Handle>{quick_sentinel});
  ASSERT_OK(handshake.Release());
  ASSERT_OK(held.join());
  ASSERT_OK(quick.join());
}

}  // namespace
}  // namespace conformance::module_functions
