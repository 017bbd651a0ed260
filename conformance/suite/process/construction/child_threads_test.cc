// Threads a target starts (process.child.non_daemon_threads_joined is
// implementation-defined): CPython's child joins its non-daemon threads after
// run() returns; in C++ a std::thread is joined by its owner, so procspec
// tracks none. These tests pin down what procspec does.
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/construction/construction_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using construction_testing::ReportPipe;
using construction_testing::SendLineTo;
using procspec::InheritedHandle;

// Starts four threads that each add up a sum and report, joins them, then
// reports the total.
void ChildThreadsJoined(InheritedHandle out) {
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int i = 1; i <= 4; ++i) {
    threads.emplace_back([i, &total, out] {
      int sum = 0;
      for (int k = 1; k <= 1000 * i; ++k) sum += k % 7;
      total += sum;
      SendLineTo(out, absl::StrCat("thread ", i, " done"));
    });
  }
  for (std::thread& thread : threads) thread.join();
  SendLineTo(out, absl::StrCat("target end total=", total.load()));
}
PROCSPEC_TARGET(ChildThreadsJoined);

// Leaves a detached thread blocked for ever, and returns.
void ChildThreadsDetached(InheritedHandle out) {
  absl::StatusOr<procspec::platform::PipeEnds> never =
      procspec::platform::MakePipe();
  if (!never.ok()) procspec::Exit(3);
  const procspec::platform::NativeHandle read_end = never->read.get();
  // Blocks for ever: this process holds the write end and never writes.
  std::thread([read_end, out] {
    SendLineTo(out, "thread blocking");
    (void)procspec::platform::ReadSome(read_end, 1);
    SendLineTo(out, "thread unblocked");
  }).detach();
  SendLineTo(out, "target returns");
  // The pipe ends stay open (released) so the thread keeps blocking.
  (void)never->read.release();
  (void)never->write.release();
}
PROCSPEC_TARGET(ChildThreadsDetached);

// Threads started and joined by the target run to completion before the child
// exits, and the child then exits with 0: their effects all reach the parent,
// before the target's last report.
CONFORMANCE_TEST(ChildThreads, JoinedThreadsCompleteBeforeTheChildExits,
                 "process.child.non_daemon_threads_joined") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ChildThreadsJoined, std::tuple{report.ChildEnd()});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  int expected_total = 0;
  for (int i = 1; i <= 4; ++i) {
    for (int k = 1; k <= 1000 * i; ++k) expected_total += k % 7;
  }
  for (int i = 1; i <= 4; ++i) {
    EXPECT_NE(seen.find(absl::StrCat("thread ", i, " done\n")),
              std::string::npos)
        << seen;
  }
  EXPECT_TRUE(absl::EndsWith(
      seen, absl::StrCat("target end total=", expected_total, "\n")))
      << seen;
}

// A detached thread still running when the target returns is not waited for
// (unlike CPython's non-daemon threads): the child exits with 0 at once and
// the thread dies with it.
CONFORMANCE_TEST(ChildThreads, DetachedThreadDiesWithTheChild,
                 "process.child.non_daemon_threads_joined") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ChildThreadsDetached, std::tuple{report.ChildEnd()});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK(p.join(absl::ToDoubleSeconds(ScaledTimeout(absl::Seconds(20)))));
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  ASSERT_TRUE(exitcode.has_value())
      << "the child waited for its detached thread";
  EXPECT_EQ(*exitcode, 0);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  EXPECT_EQ(seen.find("thread unblocked"), std::string::npos) << seen;
  EXPECT_NE(seen.find("target returns\n"), std::string::npos) << seen;
}

}  // namespace
}  // namespace conformance
