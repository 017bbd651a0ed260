// A fork server under limits: many descriptors in one request, a descriptor
// limit lower in the server than in the requester, fork() failing in the
// server. Each request the server cannot serve is answered with its error,
// as the fork start method reports it, and the server goes on.
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/forkserver.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// Exits 0 if every lock but the last can be taken (and is given back) and the
// last, which the parent holds, cannot: they are the parent's locks.
void RobustnessTryLocks(std::vector<procspec::Lock> locks) {
  int wrong = 0;
  for (std::size_t i = 0; i < locks.size(); ++i) {
    const bool taken = locks[i].acquire(/*block=*/false);
    if (taken) (void)locks[i].release();
    if (taken == (i + 1 == locks.size())) ++wrong;
  }
  procspec::Exit(wrong == 0 ? 0 : 1);
}
PROCSPEC_TARGET(RobustnessTryLocks);

// `count` locks, the last held by this process.
absl::StatusOr<std::vector<procspec::Lock>> HeldLocks(int count) {
  std::vector<procspec::Lock> locks;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
    if (!lock.ok()) return lock.status();
    locks.push_back(*std::move(lock));
  }
  if (!locks.back().acquire()) return absl::InternalError("acquire failed");
  return locks;
}

// Starts RobustnessTryLocks with `locks` under `options`: its exit code, or
// the start error.
std::string TryLocksIn(const std::vector<procspec::Lock>& locks,
                       procspec::Options options) {
  procspec::Process p(RobustnessTryLocks, std::tuple{locks},
                      std::move(options));
  KillOnExit guard(p);
  if (absl::Status s = p.start(); !s.ok()) {
    return absl::StrCat(procspec::PythonExceptionType(s), ": ", s.message());
  }
  absl::StatusOr<int> code = JoinSoon(p);
  return code.ok() ? absl::StrCat(*code) : code.status().ToString();
}

// 200 Locks as arguments, under the instance's start method: each is one
// descriptor passed to the child (by SCM_RIGHTS in several messages under
// forkserver).
CONFORMANCE_TEST(HandleLimits, TwoHundredLocksAsArguments,
                 "robustness.handles.many") {
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Lock> locks, HeldLocks(200));
  EXPECT_EQ(TryLocksIn(locks, {}), "0");
}

// In a helper forked from the test: starts its own fork server (spawned by the
// first start()) with the descriptor limit at `low` (and the hard limit too
// with `low_hard`), puts the limits back, then asks that server for a child
// given 30 Locks, then for a plain one.
void RobustnessServerUnderLowLimit(InheritedHandle report_pipe, int low,
                                   bool low_hard) {
  Report report;
  absl::StatusOr<std::pair<long, long>> before = os::DescriptorLimit();
  absl::Status lowered = before.ok()
                             ? os::SetDescriptorLimit(low, low_hard ? low : -1)
                             : before.status();
  if (!lowered.ok()) {
    report.Add("error", lowered.ToString());
  } else {
    report.Add("first", TryLocksIn({}, InContext("forkserver")));
    const std::optional<platform::Pid> server =
        procspec::forkserver::server_pid();
    // Raising the hard limit again takes privilege.
    const absl::Status restored =
        os::SetDescriptorLimit(before->first, before->second);
    report.Add("restored", restored.ok() ? "yes" : restored.ToString());
    absl::StatusOr<std::vector<procspec::Lock>> locks = HeldLocks(30);
    report.Add("locks", locks.ok() ? "ok" : locks.status().ToString());
    if (locks.ok())
      report.Add("many", TryLocksIn(*locks, InContext("forkserver")));
    report.Add("after", TryLocksIn({}, InContext("forkserver")));
    report.Add("same_server",
               procspec::forkserver::server_pid() == server ? "yes" : "no");
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
}
PROCSPEC_TARGET(RobustnessServerUnderLowLimit);

std::map<std::string, std::string> RunLowLimitHelper(int low, bool low_hard,
                                                     std::string* text) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  if (!pipe.ok()) return {{"error", pipe.status().ToString()}};
  procspec::Process helper(
      RobustnessServerUnderLowLimit,
      std::tuple{InheritedHandle(pipe->write.get()), low, low_hard},
      InContext("fork"));
  KillOnExit guard(helper);
  if (absl::Status s = helper.start(); !s.ok())
    return {{"error", s.ToString()}};
  pipe->write.reset();
  absl::StatusOr<std::string> read = ReadToEnd(pipe->read.get());
  absl::StatusOr<int> code = JoinSoon(helper);
  *text = read.ok() ? *read : read.status().ToString();
  std::map<std::string, std::string> report = ParseReport(*text);
  report["helper_exitcode"] =
      code.ok() ? absl::StrCat(*code) : code.status().ToString();
  return report;
}

// The server inherits a soft limit far below its requester's: it raises its
// own to the hard limit at start, so 32 descriptors in one request are
// received whole.
CONFORMANCE_TEST(ForkServerLimits, ServerRaisesItsDescriptorLimit,
                 "robustness.forkserver.descriptor_limit") {
  std::string text;
  std::map<std::string, std::string> report =
      RunLowLimitHelper(24, /*low_hard=*/false, &text);
  EXPECT_EQ(report["helper_exitcode"], "0") << text;
  EXPECT_EQ(report["error"], "") << text;
  EXPECT_EQ(report["first"], "0") << text;
  EXPECT_EQ(report["locks"], "ok") << text;
  EXPECT_EQ(report["many"], "0") << text;
  EXPECT_EQ(report["after"], "0") << text;
  EXPECT_EQ(report["same_server"], "yes") << text;
}

// The server's hard limit is too low for a request: that request fails with
// EMFILE as an open() would, and the server serves the next one.
CONFORMANCE_TEST(ForkServerLimits, RequestBeyondTheServersLimitFailsAlone,
                 "robustness.forkserver.descriptor_limit") {
  std::string text;
  std::map<std::string, std::string> report =
      RunLowLimitHelper(24, /*low_hard=*/true, &text);
  if (report["restored"] != "yes" && report["error"].empty()) {
    CONFORMANCE_REQUIRE(Unsupported(absl::StrCat(
        "cannot raise the hard descriptor limit again: ", report["restored"])));
  }
  EXPECT_EQ(report["helper_exitcode"], "0") << text;
  EXPECT_EQ(report["error"], "") << text;
  EXPECT_EQ(report["first"], "0") << text;
  EXPECT_EQ(report["locks"], "ok") << text;
  EXPECT_EQ(report["many"], "OSError: [Errno 24] Too many open files") << text;
  EXPECT_EQ(report["after"], "0") << text;
  EXPECT_EQ(report["same_server"], "yes") << text;
}

// In a helper forked from the test: fork() fails (EAGAIN, as under
// RLIMIT_NPROC) in it and in every process it spawns; its fork server is
// spawned, and its fork fails.
void RobustnessServerForkFails(InheritedHandle report_pipe) {
  Report report;
  if (absl::Status denied = os::DenyForking(); !denied.ok()) {
    report.Add("deny", denied.ToString());
  } else {
    report.Add("deny", "ok");
    procspec::Process p(procspec::testing::ExitWith, std::tuple{0},
                        InContext("forkserver"));
    const absl::Status first = p.start();
    report.Add("type", procspec::PythonExceptionType(first));
    report.Add("message", first.message());
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
}
PROCSPEC_TARGET(RobustnessServerForkFails);

// The server's fork failing reaches the requester with its errno: the same
// exception type and text as the fork start method (CPython's os.fork:
// BlockingIOError).
CONFORMANCE_TEST(ForkServerLimits, ServerForkFailureKeepsItsErrno,
                 "robustness.forkserver.errno") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  procspec::Process helper(RobustnessServerForkFails,
                           std::tuple{InheritedHandle(pipe.write.get())},
                           InContext("fork"));
  KillOnExit guard(helper);
  ASSERT_OK(helper.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string text, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(helper));
  EXPECT_EQ(exitcode, 0) << text;
  std::map<std::string, std::string> report = ParseReport(text);
  if (report["deny"] != "ok") {
    CONFORMANCE_REQUIRE(
        Unsupported(absl::StrCat("cannot make fork() fail: ", report["deny"])));
  }
  EXPECT_EQ(report["type"], "BlockingIOError") << text;
  EXPECT_EQ(report["message"], "[Errno 11] Resource temporarily unavailable")
      << text;
}

}  // namespace
}  // namespace conformance::robustness
