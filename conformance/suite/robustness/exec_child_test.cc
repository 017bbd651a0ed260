// Waits that must not depend on the child's descriptors. A child whose target
// execs another program closes its copy of the sentinel pipe's write end (the
// exec closes it) long before it ends; a child that leaves a grandchild behind
// lets the grandchild hold that copy long after it ends. Neither may make
// is_alive() or exitcode block, join(timeout) overrun its deadline, or join()
// wait for anything but the child's own exit.
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/hostile_host.h"
#include "platform/testing/os_testing.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// Becomes `sleep <seconds>`.
void RobustnessExecSleep(int seconds) {
  os::ExecProgram({"sleep", absl::StrCat(seconds)});
}
PROCSPEC_TARGET(RobustnessExecSleep);

// Leaves a grandchild that holds every descriptor of this process until
// `gate` has a byte, says its pid on `report`, then exits 7.
void RobustnessExecChildLeaveGrandchild(InheritedHandle gate,
                                        InheritedHandle report) {
  absl::StatusOr<procspec::Pid> grandchild =
      os::ForkGrandchildBlockedOn(gate.get());
  if (!grandchild.ok()) procspec::Exit(100);
  (void)platform::WriteAll(report.get(), absl::StrCat(*grandchild, "\n"));
  procspec::Exit(7);
}
PROCSPEC_TARGET(RobustnessExecChildLeaveGrandchild);

template <typename Call>
absl::Duration Timed(Call call) {
  const absl::Time start = absl::Now();
  call();
  return absl::Now() - start;
}

CONFORMANCE_TEST(ExecChild, PollsAndTimedJoinDoNotWaitForAnExecedProgram,
                 "robustness.wait.polls_never_block") {
  // Long enough that waiting for it is unmistakable, short enough that the
  // test still ends (with a failure) where it is waited for.
  constexpr int kSleepSeconds = 3;
  procspec::Process p(RobustnessExecSleep, std::tuple{kSleepSeconds});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  std::optional<absl::Status> joined;
  const absl::Duration join_time =
      Timed([&] { joined = p.join(absl::Milliseconds(200)); });
  ASSERT_OK(*joined);
  absl::StatusOr<bool> alive;
  const absl::Duration alive_time = Timed([&] { alive = p.is_alive(); });
  absl::StatusOr<std::optional<int>> code;
  const absl::Duration exitcode_time = Timed([&] { code = p.exitcode(); });
  ASSERT_OK(p.kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(p));

  EXPECT_GE(join_time, absl::Milliseconds(200));
  EXPECT_LT(join_time, absl::Seconds(kSleepSeconds) - absl::Milliseconds(500))
      << "join(0.2) waited for the exec'd program";
  EXPECT_LT(alive_time, absl::Seconds(1)) << "is_alive() blocked";
  EXPECT_LT(exitcode_time, absl::Seconds(1)) << "exitcode blocked";
  ASSERT_OK(alive.status());
  EXPECT_TRUE(*alive);
  ASSERT_OK(code.status());
  EXPECT_EQ(*code, std::nullopt);
  EXPECT_EQ(exitcode, -9);
}

CONFORMANCE_TEST(ExecChild, JoinReturnsWhenTheChildExitsNotItsGrandchild,
                 "robustness.wait.join_at_child_exit") {
  if (StartMethod() == "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "under forkserver the server waits for the child and reports its "
        "status; a grandchild holding the server's sentinel is the fork "
        "server's own clause"));
  }
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds gate, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds done, platform::MakePipe());
  // Releases the grandchild when the test is done, or after a bound long
  // enough to tell a join that waited for it.
  const absl::Duration bound = ScaledTimeout(absl::Seconds(3));
  const platform::NativeHandle gate_write = gate.write.get();
  const platform::NativeHandle done_read = done.read.get();
  std::thread releaser([gate_write, done_read, bound] {
    const platform::NativeHandle handles[] = {done_read};
    (void)platform::WaitReadable(handles, absl::Now() + bound);
    (void)platform::WriteAll(gate_write, "g");
  });
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process p(RobustnessExecChildLeaveGrandchild,
                      std::tuple{InheritedHandle(gate.read.get()),
                                 InheritedHandle(report.write.get())});
  KillOnExit guard(p);
  absl::Status started = p.start();
  absl::Status joined;
  absl::Duration join_time;
  absl::StatusOr<bool> alive;
  absl::StatusOr<std::optional<int>> code;
  if (started.ok()) {
    join_time = Timed([&] { joined = p.join(); });
    alive = p.is_alive();
    code = p.exitcode();
  }
  (void)platform::WriteAll(done.write.get(), "d");
  releaser.join();
  ASSERT_OK(started);
  // The grandchild was re-parented when the child ended: to this process if
  // it is a subreaper (another test made it one), which then reaps it.
  ASSERT_OK_AND_ASSIGN(procspec::Pid grandchild,
                       conformance::testing::ReadPid(report.read.get()));
  absl::StatusOr<procspec::Pid> adoptive = os::ParentOf(grandchild);
  if (adoptive.ok() && *adoptive == platform::CurrentPid()) {
    ASSERT_OK(os::ReapPid(grandchild).status());
  }
  ASSERT_OK(joined);
  EXPECT_LT(join_time, bound / 2) << "join() waited for the grandchild";
  ASSERT_OK(alive.status());
  EXPECT_FALSE(*alive);
  ASSERT_OK(code.status());
  EXPECT_EQ(*code, std::optional<int>(7));
}

}  // namespace
}  // namespace conformance::robustness
