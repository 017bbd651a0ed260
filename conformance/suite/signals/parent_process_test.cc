// parent_process() once the parent has been SIGKILLed, observed by a
// grandchild re-parented to this test process (a child subreaper): fork only,
// like the rest of this area. The other parent_process() tests are in the
// signals_portable area.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/subreaper.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/common/signals_testing.h"
#include "gtest/gtest.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::signals_testing::BlockUntilKilled;
using ::conformance::signals_testing::JoinSoon;
using ::conformance::signals_testing::KillOnExit;
using ::conformance::signals_testing::OrphanGuard;
using ::conformance::signals_testing::ReadLine;
using ::conformance::signals_testing::SendLine;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

std::string Flag(bool value) { return value ? "True" : "False"; }

// Whether `handle` is readable right now (without waiting).
bool ReadableNow(procspec::Handle handle) {
  const platform::NativeHandle handles[] = {handle};
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(handles, absl::InfinitePast());
  return ready.ok() && !ready->empty();
}

// When its parent is SIGKILLed, a grandchild still running sees it: its
// parent_process().join() returns, is_alive() becomes False, the sentinel is
// ready, and its parent is now the subreaper (this test), which reaps it.
CONFORMANCE_TEST(ParentProcess, IsDeadAfterTheParentIsSigkilled,
                 "module.parent_process.dead_after_parent_killed",
                 "process.daemon.survives_sigkilled_parent") {
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  OrphanGuard orphan;
  procspec::Process child([&report] {
    procspec::Process grandchild(
        [&report] {
          procspec::ParentProcess* parent = procspec::parent_process();
          if (parent == nullptr) procspec::Exit(1);
          SendLine(report.write.get(), absl::StrCat(platform::CurrentPid(), " ",
                                                    Flag(parent->is_alive())));
          parent->join();
          SendLine(report.write.get(),
                   absl::StrCat("alive=", Flag(parent->is_alive()),
                                " sentinel_ready=",
                                Flag(ReadableNow(parent->sentinel()))));
        },
        {.daemon = true});
    if (!grandchild.start().ok()) procspec::Exit(1);
    BlockUntilKilled();
  });
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string before, ReadLine(report.read.get()));
  const std::size_t space = before.find(' ');
  ASSERT_NE(space, std::string::npos) << before;
  Pid grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(before.substr(0, space), &grandchild)) << before;
  orphan.Watch(grandchild);
  EXPECT_EQ(before.substr(space + 1), "True");

  ASSERT_OK(child.kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -9);
  ASSERT_OK_AND_ASSIGN(std::string after, ReadLine(report.read.get()));
  EXPECT_EQ(after, "alive=False sentinel_ready=True");
  // Re-parenting is checked here, not in the grandchild: a pipe parent-watch
  // ("posix") reports the parent's death when its descriptors close, a moment
  // before the kernel re-parents its children; by the time join() has seen the
  // killed child reapable, they have been re-parented to us (the subreaper).
  EXPECT_EQ(os::ParentOf(grandchild).value_or(0), platform::CurrentPid());
  ASSERT_OK_AND_ASSIGN(platform::ExitStatus status, os::ReapPid(grandchild));
  orphan.Forget();
  EXPECT_EQ(status, (platform::ExitStatus{.signaled = false, .value = 0}));
}

}  // namespace
}  // namespace conformance
