// Condition and Event across processes: notify() and set() in one process
// wake wait() in another; timeouts; the not-owned errors. A waiting child
// says "ready" while it holds the condition's lock, and wait() releases the
// lock only once it counts as a sleeper, so the parent's acquire() returns
// only when the child is really waiting: no lost wakeup, no sleep.
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/sync/sync_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::sync_testing::Describe;
using ::conformance::sync_testing::ReportingChild;
using ::conformance::sync_testing::RunToExitcode;
using ::conformance::sync_testing::TimeOf;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::SendLine;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;

// ---- Targets ----

// Acquires `cond` (exit 1 if it cannot), sends "ready", waits (for ever if
// `timeout` is negative) and sends "notified" or "timeout", then checks it
// holds the lock again (exit 2) and releases it (exit 3).
void SyncConditionWait(procspec::Condition cond, double timeout,
                       InheritedHandle out) {
  if (!cond.acquire(true, 30)) procspec::Exit(1);
  SendLine(out.get(), "ready");
  absl::StatusOr<bool> notified =
      cond.wait(timeout < 0 ? std::nullopt : std::optional<double>(timeout));
  SendLine(out.get(), !notified.ok() ? Describe(notified.status())
                      : *notified    ? "notified"
                                     : "timeout");
  if (!cond.notify().ok()) procspec::Exit(2);  // "lock is not owned" if not
  if (!cond.release().ok()) procspec::Exit(3);
}
PROCSPEC_TARGET(SyncConditionWait);

// Under `cond`'s lock: makes `state` positive and notifies all.
void SyncConditionChangeState(procspec::Condition cond,
                              procspec::Semaphore state) {
  if (!cond.acquire(true, 30)) procspec::Exit(1);
  if (!state.release().ok()) procspec::Exit(2);
  if (!cond.notify_all().ok()) procspec::Exit(3);
  if (!cond.release().ok()) procspec::Exit(4);
}
PROCSPEC_TARGET(SyncConditionChangeState);

// Sends what wait(0) and notify() say without the lock.
void SyncConditionUnowned(procspec::Condition cond, InheritedHandle out) {
  SendLine(out.get(), Describe(cond.wait(0).status()));
  SendLine(out.get(), Describe(cond.notify()));
}
PROCSPEC_TARGET(SyncConditionUnowned);

// Sends "ready", then what event.wait(timeout) returns (for ever if
// negative): "set" or "timeout".
void SyncEventWait(procspec::Event event, double timeout, InheritedHandle out) {
  SendLine(out.get(), "ready");
  const bool set =
      event.wait(timeout < 0 ? std::nullopt : std::optional<double>(timeout));
  SendLine(out.get(), set ? "set" : "timeout");
}
PROCSPEC_TARGET(SyncEventWait);

// Exit code: 10 + is_set(); sets the event if `set`, clears it if `clear`.
void SyncEventUse(procspec::Event event, bool set, bool clear) {
  const int was_set = event.is_set() ? 1 : 0;
  if (set) event.set();
  if (clear) event.clear();
  procspec::Exit(10 + was_set);
}
PROCSPEC_TARGET(SyncEventUse);

// ---- Helpers ----

// Starts a child waiting on `cond` and returns once it is waiting.
absl::StatusOr<std::unique_ptr<ReportingChild>> StartWaiter(
    const procspec::Condition& cond, double timeout) {
  absl::StatusOr<std::unique_ptr<ReportingChild>> waiter =
      ReportingChild::Start(SyncConditionWait, cond, timeout);
  if (!waiter.ok()) return waiter.status();
  absl::StatusOr<std::string> line = (*waiter)->ReadLine();
  if (!line.ok()) return line.status();
  if (*line != "ready") return absl::InternalError("no ready: " + *line);
  return waiter;
}

// ---- Condition ----

// notify() wakes a child waiting on the Condition (default RLock) and
// returns once it has woken; the child's wait() returns True with the lock
// held again.
CONFORMANCE_TEST(Condition, NotifyWakesAWaiterInAnotherProcess,
                 "sync.condition.notify", "sync.handles.process_argument") {
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> waiter,
                       StartWaiter(cond, -1));
  // Only possible once the child waits (wait() released the lock).
  ASSERT_TRUE(cond.acquire(true, 30));
  ASSERT_OK(cond.notify());
  ASSERT_OK(cond.release());
  ASSERT_OK_AND_ASSIGN(std::string line, waiter->ReadLine());
  EXPECT_EQ(line, "notified");
  ASSERT_OK_AND_ASSIGN(int exitcode, waiter->Join());
  EXPECT_EQ(exitcode, 0);
}

// notify_all() wakes every waiting child; notify(n) wakes at most n: with
// two waiters, notify(1) wakes one and a second notify(1) the other. A
// Condition over a Lock works the same, and the Lock is the one it waits on.
CONFORMANCE_TEST(Condition, NotifyAllWakesEveryWaiterAndNotifyNAtMostN,
                 "sync.condition.notify") {
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  std::vector<std::unique_ptr<ReportingChild>> waiters;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> waiter,
                         StartWaiter(cond, -1));
    waiters.push_back(std::move(waiter));
  }
  ASSERT_TRUE(cond.acquire(true, 30));
  ASSERT_OK(cond.notify_all());
  ASSERT_OK(cond.release());
  for (const std::unique_ptr<ReportingChild>& waiter : waiters) {
    ASSERT_OK_AND_ASSIGN(std::string line, waiter->ReadLine());
    EXPECT_EQ(line, "notified");
    ASSERT_OK_AND_ASSIGN(int exitcode, waiter->Join());
    EXPECT_EQ(exitcode, 0);
  }

  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(procspec::Condition over_lock,
                       procspec::Condition::Create(lock));
  std::vector<std::unique_ptr<ReportingChild>> pair;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> waiter,
                         StartWaiter(over_lock, -1));
    pair.push_back(std::move(waiter));
  }
  ASSERT_TRUE(over_lock.acquire(true, 30));
  EXPECT_FALSE(lock.acquire(false)) << "the Condition holds its Lock";
  ASSERT_OK(over_lock.notify(1));
  ASSERT_OK(over_lock.release());
  // Exactly one reports; the parent learns which.
  const platform::NativeHandle ends[] = {pair[0]->read_end(),
                                         pair[1]->read_end()};
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::size_t> ready,
      platform::WaitReadable(ends, absl::Now() + testing::EventTimeout()));
  ASSERT_FALSE(ready.empty());
  const std::size_t first = ready[0];
  ASSERT_OK_AND_ASSIGN(std::string line, pair[first]->ReadLine());
  EXPECT_EQ(line, "notified");
  ASSERT_OK_AND_ASSIGN(int exitcode, pair[first]->Join());
  EXPECT_EQ(exitcode, 0);
  // The other still waits: a second notify(1) finds it.
  ASSERT_TRUE(over_lock.acquire(true, 30));
  ASSERT_OK(over_lock.notify(1));
  ASSERT_OK(over_lock.release());
  ASSERT_OK_AND_ASSIGN(line, pair[1 - first]->ReadLine());
  EXPECT_EQ(line, "notified");
  ASSERT_OK_AND_ASSIGN(exitcode, pair[1 - first]->Join());
  EXPECT_EQ(exitcode, 0);
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
}

// wait(timeout) without a notify returns False, not before the timeout, with
// the lock held again (in the parent, and in a child); a negative timeout
// returns False at once.
CONFORMANCE_TEST(Condition, WaitTimeoutReturnsFalseNotBeforeIt,
                 "sync.condition.wait_timeout") {
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  ASSERT_TRUE(cond.acquire());
  std::optional<bool> result;
  const absl::Duration took = TimeOf([&] {
    absl::StatusOr<bool> waited = cond.wait(0.1);
    if (waited.ok()) result = *waited;
  });
  EXPECT_EQ(result, false);
  EXPECT_GE(took, absl::Milliseconds(100));
  absl::StatusOr<bool> negative = cond.wait(-1);
  ASSERT_OK(negative);
  EXPECT_FALSE(*negative);
  // The lock is held again after wait().
  EXPECT_OK(cond.notify());
  ASSERT_OK(cond.release());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> waiter,
                       StartWaiter(cond, 0.1));
  ASSERT_OK_AND_ASSIGN(std::string line, waiter->ReadLine());
  EXPECT_EQ(line, "timeout");
  ASSERT_OK_AND_ASSIGN(int exitcode, waiter->Join());
  EXPECT_EQ(exitcode, 0);
}

// wait(), notify() and notify_all() need the lock: AssertionError "must
// acquire() condition before using wait()" / "lock is not owned", in the
// parent, in a child, and while another process holds the lock.
CONFORMANCE_TEST(Condition, WaitAndNotifyWithoutTheLockAreAssertionErrors,
                 "sync.condition.not_owned_error") {
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  EXPECT_PYTHON_ERROR(cond.wait(), "AssertionError",
                      "must acquire() condition before using wait()");
  EXPECT_PYTHON_ERROR(cond.notify(), "AssertionError", "lock is not owned");
  EXPECT_PYTHON_ERROR(cond.notify_all(), "AssertionError", "lock is not owned");
  // Held by this process: the child does not own it either.
  ASSERT_TRUE(cond.acquire());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> child,
                       ReportingChild::Start(SyncConditionUnowned, cond));
  ASSERT_OK_AND_ASSIGN(std::string line, child->ReadLine());
  EXPECT_EQ(line,
            "AssertionError: must acquire() condition before using wait()");
  ASSERT_OK_AND_ASSIGN(line, child->ReadLine());
  EXPECT_EQ(line, "AssertionError: lock is not owned");
  ASSERT_OK_AND_ASSIGN(int exitcode, child->Join());
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK(cond.release());
}

// wait_for(predicate, timeout): True at once when the predicate already
// holds (lock held or not); False, not before the timeout, when it never
// does; True once another process changes the state and notifies.
CONFORMANCE_TEST(Condition, WaitForReturnsThePredicatesValue,
                 "sync.condition.wait_for") {
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  ASSERT_OK_AND_ASSIGN(procspec::Semaphore state,
                       procspec::Semaphore::Create(0));
  absl::StatusOr<bool> at_once = cond.wait_for([] { return true; });
  ASSERT_OK(at_once);
  EXPECT_TRUE(*at_once);
  ASSERT_TRUE(cond.acquire());
  std::optional<bool> result;
  const absl::Duration took = TimeOf([&] {
    absl::StatusOr<bool> waited =
        cond.wait_for([&] { return state.get_value() > 0; }, 0.1);
    if (waited.ok()) result = *waited;
  });
  EXPECT_EQ(result, false);
  EXPECT_GE(took, absl::Milliseconds(100));
  // The child needs the lock to change the state: it gets it while
  // wait_for() waits.
  procspec::Process child(SyncConditionChangeState, std::tuple{cond, state});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  absl::StatusOr<bool> changed =
      cond.wait_for([&] { return state.get_value() > 0; }, 30);
  ASSERT_OK(changed);
  EXPECT_TRUE(*changed);
  ASSERT_OK(cond.release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 0);
}

// ---- Event ----

// set() in the parent wakes a child blocked in wait(); the flag is shared:
// set or cleared in one process, it reads so in the others.
CONFORMANCE_TEST(Event, SetWakesAWaiterAndTheFlagIsShared,
                 "sync.event.set_wait", "sync.handles.process_argument") {
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  EXPECT_FALSE(event.is_set());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> waiter,
                       ReportingChild::Start(SyncEventWait, event, -1.0));
  ASSERT_OK_AND_ASSIGN(std::string line, waiter->ReadLine());
  ASSERT_EQ(line, "ready");
  event.set();
  EXPECT_TRUE(event.is_set());
  ASSERT_OK_AND_ASSIGN(line, waiter->ReadLine());
  EXPECT_EQ(line, "set");
  ASSERT_OK_AND_ASSIGN(int exitcode, waiter->Join());
  EXPECT_EQ(exitcode, 0);

  // A child sees the flag set, and clears it.
  procspec::Process clearer(SyncEventUse, std::tuple{event, false, true});
  EXPECT_EQ(RunToExitcode(clearer), 11);
  EXPECT_FALSE(event.is_set());
  // A child sees it clear, and sets it.
  procspec::Process setter(SyncEventUse, std::tuple{event, true, false});
  EXPECT_EQ(RunToExitcode(setter), 10);
  EXPECT_TRUE(event.is_set());
  EXPECT_TRUE(event.wait(0)) << "set: wait() returns True at once";
  event.clear();
  EXPECT_FALSE(event.is_set());
}

// wait(timeout) on a clear Event returns False, not before the timeout, in
// the parent and in a child; a negative timeout returns False at once.
CONFORMANCE_TEST(Event, WaitTimeoutReturnsFalseNotBeforeIt,
                 "sync.event.wait_timeout") {
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  bool set = true;
  const absl::Duration took = TimeOf([&] { set = event.wait(0.1); });
  EXPECT_FALSE(set);
  EXPECT_GE(took, absl::Milliseconds(100));
  EXPECT_FALSE(event.wait(-1));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> waiter,
                       ReportingChild::Start(SyncEventWait, event, 0.1));
  ASSERT_OK_AND_ASSIGN(std::string line, waiter->ReadLine());
  ASSERT_EQ(line, "ready");
  ASSERT_OK_AND_ASSIGN(line, waiter->ReadLine());
  EXPECT_EQ(line, "timeout");
  ASSERT_OK_AND_ASSIGN(int exitcode, waiter->Join());
  EXPECT_EQ(exitcode, 0);
}

}  // namespace
}  // namespace conformance
