// Queue.put() when its feeder thread cannot be created (RLIMIT_NPROC or
// RLIMIT_AS make pthread_create fail): put() returns RuntimeError "can't start
// new thread", the item is not accepted (its slot is given back), and a later
// put() tries to start the feeder again, so no put() that returned OK leaves
// an item that is never delivered.
//
// Root ignores RLIMIT_NPROC, so a child of the test installs a seccomp filter
// that makes thread creation fail (platform/testing/fault_injection.h), puts,
// and reports what it saw through a pipe.
#include <exception>
#include <map>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/queue.h"
#include "process/spawn.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// put(`value`), an escaping exception reported as such.
std::string PutOutcome(procspec::Queue& q, int value, bool block) {
  try {
    const absl::Status status = q.put(value, block);
    if (status.ok()) return "ok";
    return absl::StrCat(procspec::PythonExceptionType(status), ": ",
                        status.message());
  } catch (const std::exception& e) {
    return absl::StrCat("exception: ", e.what());
  }
}

// In a child of the test: denies thread creation, then puts twice on `q`
// (bounded to one item, so that a slot kept by a refused put shows up as
// queue.Full), and reports.
void RobustnessPutWithoutThreads(InheritedHandle report_pipe,
                                 procspec::Queue q) {
  Report report;
  if (absl::Status denied = os::DenyThreadCreation(); !denied.ok()) {
    report.Add("deny", denied.ToString());
  } else {
    report.Add("deny", "ok");
    report.Add("first", PutOutcome(q, 1, /*block=*/true));
    report.Add("second", PutOutcome(q, 2, /*block=*/false));
    absl::StatusOr<int> size = q.qsize();
    report.Add("qsize", size.ok() ? absl::StrCat(*size) : "error");
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
  // No exit handling: it would wait for a feeder that a put() claimed to
  // have, and a sanitizer's exit-time work may need a thread.
  platform::FlushStandardStreams();
  platform::ExitImmediately(0);
}
PROCSPEC_TARGET(RobustnessPutWithoutThreads);

CONFORMANCE_TEST(QueueFeederFailure, PutFailsCleanlyWithoutAThread,
                 "robustness.queue.feeder_thread_failure") {
  ASSERT_OK_AND_ASSIGN(procspec::Queue q, procspec::Queue::Create(1));
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  procspec::Process child(RobustnessPutWithoutThreads,
                          std::tuple{InheritedHandle(pipe.write.get()), q});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string text, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(child));
  EXPECT_EQ(exitcode, 0);
  std::map<std::string, std::string> report = ParseReport(text);
  if (report["deny"] != "ok") {
    CONFORMANCE_REQUIRE(Unsupported(
        absl::StrCat("cannot make thread creation fail: ", report["deny"])));
  }
  constexpr char kRefused[] = "RuntimeError: can't start new thread";
  EXPECT_EQ(report["first"], kRefused) << text;
  // Tries again (not queue.Full: the refused item gave its slot back; not
  // "ok": nothing would write it).
  EXPECT_EQ(report["second"], kRefused) << text;
  EXPECT_EQ(report["qsize"], "0") << text;
  // Nothing reached the pipe, and the slot is free here too.
  EXPECT_PYTHON_ERROR(q.get<int>(true, 0.2), "Empty", "");
  ASSERT_OK_AND_ASSIGN(int size, q.qsize());
  EXPECT_EQ(size, 0);
  ASSERT_OK(q.put(3, /*block=*/false));
  ASSERT_OK_AND_ASSIGN(int got, q.get<int>(true, 30));
  EXPECT_EQ(got, 3);
}

}  // namespace
}  // namespace conformance::robustness
