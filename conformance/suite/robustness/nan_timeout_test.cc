// One rule for a NaN timeout, in every call that takes a timeout: ValueError
// "cannot convert float NaN to integer", at once (CPython 3.11's text from
// join, Queue.get and connection.wait; CPython is inconsistent elsewhere).
// A +inf timeout waits for ever, as no timeout does.
//
// Each call runs in a child of the test that reports what it returned, and is
// joined with a deadline: a call that blocks for ever is a failure naming it,
// not a stuck test.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/connection.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/queue.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Describe(const absl::Status& status) {
  if (status.ok()) return "ok";
  return absl::StrCat(procspec::PythonExceptionType(status), ": ",
                      status.message());
}
template <typename T>
std::string Describe(const absl::StatusOr<T>& result) {
  return Describe(result.status());
}
std::string Describe(const procspec::WaitResult& result) {
  if (!result.ok()) return Describe(result.status());
  return result ? "True" : "False";
}

// The outcome of `call` with a NaN timeout (an unknown call: "unknown").
std::string CallWithNaN(const std::string& call) {
  if (call == "Process.join") {
    // Spawned, so that it holds no copy of the report pipe, and ended with
    // this process if a join that never returns has it killed.
    procspec::Process p(
        RobustnessBlockUntilKilled, std::tuple{},
        {.die_with_parent = true, .context = *procspec::get_context("spawn")});
    if (!p.start().ok()) return "cannot start";
    const std::string outcome = Describe(p.join(kNaN));
    (void)p.kill();
    (void)p.join();
    return outcome;
  }
  if (call == "Lock.acquire(held)" || call == "Lock.acquire(free)") {
    absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
    if (call == "Lock.acquire(held)" && !lock->acquire()) return "not held";
    return Describe(lock->acquire(true, kNaN));
  }
  if (call == "RLock.acquire") {
    return Describe(procspec::RLock::Create()->acquire(true, kNaN));
  }
  if (call == "Semaphore.acquire") {
    return Describe(procspec::Semaphore::Create(0)->acquire(true, kNaN));
  }
  if (call == "BoundedSemaphore.acquire") {
    return Describe(procspec::BoundedSemaphore::Create(1)->acquire(true, kNaN));
  }
  if (call == "RobustLock.acquire") {
    return Describe(procspec::RobustLock::Create()->acquire(true, kNaN));
  }
  if (call == "Event.wait") {
    return Describe(procspec::Event::Create()->wait(kNaN));
  }
  if (call == "Condition.acquire") {
    return Describe(procspec::Condition::Create()->acquire(true, kNaN));
  }
  if (call == "Condition.wait" || call == "Condition.wait_for") {
    absl::StatusOr<procspec::Condition> cond = procspec::Condition::Create();
    if (!cond->acquire()) return "not held";
    if (call == "Condition.wait") return Describe(cond->wait(kNaN));
    return Describe(cond->wait_for([] { return false; }, kNaN));
  }
  if (call == "Connection.poll") {
    absl::StatusOr<std::pair<procspec::Connection, procspec::Connection>> pipe =
        procspec::Pipe(false);
    return Describe(pipe->first.poll(kNaN));
  }
  if (call == "connection.wait") {
    absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
    return Describe(procspec::connection::wait({pipe->read.get()}, kNaN));
  }
  if (call == "Queue.get") {
    return Describe(procspec::Queue::Create()->get<int>(true, kNaN));
  }
  if (call == "Queue.put") {
    absl::StatusOr<procspec::Queue> q = procspec::Queue::Create(1);
    if (!q->put(1).ok()) return "cannot fill";
    return Describe(q->put(2, true, kNaN));
  }
  if (call == "JoinableQueue.get") {
    return Describe(procspec::JoinableQueue::Create()->get<int>(true, kNaN));
  }
  return "unknown";
}

void RobustnessNaNTimeout(InheritedHandle out, std::string call) {
  (void)platform::WriteAll(out.get(), CallWithNaN(call));
  procspec::Exit(0);
}
PROCSPEC_TARGET(RobustnessNaNTimeout);

CONFORMANCE_TEST(NaNTimeout, EveryTimedCallRaisesValueError,
                 "robustness.timeouts.nan") {
  const std::vector<std::string> calls = {
      "Process.join",       "Lock.acquire(held)", "Lock.acquire(free)",
      "RLock.acquire",      "Semaphore.acquire",  "BoundedSemaphore.acquire",
      "RobustLock.acquire", "Event.wait",         "Condition.acquire",
      "Condition.wait",     "Condition.wait_for", "Connection.poll",
      "connection.wait",    "Queue.get",          "Queue.put",
      "JoinableQueue.get",
  };
  for (const std::string& call : calls) {
    SCOPED_TRACE(call);
    ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
    procspec::Process child(
        RobustnessNaNTimeout,
        std::tuple{InheritedHandle(pipe.write.get()), call});
    KillOnExit guard(child);
    ASSERT_OK(child.start());
    pipe.write.reset();
    const bool returned = child.join(ScaledTimeout(absl::Seconds(10))).ok() &&
                          child.exitcode().ok() &&
                          child.exitcode()->has_value();
    if (!returned) {
      ASSERT_OK(child.kill());
    }
    ASSERT_OK_AND_ASSIGN(std::string outcome, ReadToEnd(pipe.read.get()));
    EXPECT_TRUE(returned) << call << "(timeout=nan) blocked";
    EXPECT_EQ(outcome, "ValueError: cannot convert float NaN to integer");
  }
}

// block=false ignores the timeout, NaN included, as CPython does.
CONFORMANCE_TEST(NaNTimeout, NonBlockingCallsIgnoreIt,
                 "robustness.timeouts.nan") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  EXPECT_EQ(Describe(lock.acquire(false, kNaN)), "True");
  EXPECT_EQ(Describe(lock.acquire(false, kNaN)), "False");
  ASSERT_OK_AND_ASSIGN(procspec::Queue q, procspec::Queue::Create());
  EXPECT_PYTHON_ERROR(q.get<int>(false, kNaN), "Empty", "");
}

// +inf is "for ever" (no deadline): the calls return once their condition
// holds, as they do without a timeout.
CONFORMANCE_TEST(NaNTimeout, InfiniteTimeoutWaitsForEver,
                 "robustness.timeouts.infinite") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  EXPECT_EQ(Describe(lock.acquire(true, kInf)), "True");
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  event.set();
  EXPECT_EQ(Describe(event.wait(kInf)), "True");
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  ASSERT_TRUE(cond.acquire(true, kInf));
  ASSERT_OK_AND_ASSIGN(bool ready, cond.wait_for([] { return true; }, kInf));
  EXPECT_TRUE(ready);
  ASSERT_OK(cond.release());
  ASSERT_OK_AND_ASSIGN(procspec::Queue q, procspec::Queue::Create());
  ASSERT_OK(q.put(7, true, kInf));
  ASSERT_OK_AND_ASSIGN(int got, q.get<int>(true, kInf));
  EXPECT_EQ(got, 7);
  procspec::Process p(procspec::testing::ExitWith, std::tuple{3});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  ASSERT_OK(p.join(kInf));
  ASSERT_OK_AND_ASSIGN(std::optional<int> code, p.exitcode());
  EXPECT_EQ(code, 3);
}

}  // namespace
}  // namespace conformance::robustness
