// Semaphore and BoundedSemaphore across processes: counts, get_value(), the
// bounded release error and the negative initial value.
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
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

using ::conformance::sync_testing::TimeOf;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;

// ---- Targets ----

// Takes `count` units without blocking (exit 1 if one is missing), checks that
// one more is not there (exit 2), then returns `give_back` units (exit 3 if a
// release fails).
void SyncSemaphoreTake(procspec::Semaphore semaphore, int count,
                       int give_back) {
  for (int i = 0; i < count; ++i)
    if (!semaphore.acquire(false)) procspec::Exit(1);
  if (semaphore.acquire(false)) procspec::Exit(2);
  for (int i = 0; i < give_back; ++i)
    if (!semaphore.release().ok()) procspec::Exit(3);
}
PROCSPEC_TARGET(SyncSemaphoreTake);

// Waits (at most 30 s) for one unit: exit 0 if it got it, 1 if not.
void SyncSemaphoreWaitOne(procspec::Semaphore semaphore) {
  procspec::Exit(semaphore.acquire(true, 30) ? 0 : 1);
}
PROCSPEC_TARGET(SyncSemaphoreWaitOne);

// Takes one unit of a BoundedSemaphore (exit 1 if it cannot), releases it
// (exit 2), and checks that one more release is ValueError (exit 3).
void SyncBoundedTakeAndOverRelease(procspec::BoundedSemaphore semaphore) {
  if (!semaphore.acquire(false)) procspec::Exit(1);
  if (!semaphore.release().ok()) procspec::Exit(2);
  if (procspec::PythonExceptionType(semaphore.release()) != "ValueError")
    procspec::Exit(3);
}
PROCSPEC_TARGET(SyncBoundedTakeAndOverRelease);

int RunToExitcode(procspec::Process& child) {
  KillOnExit guard(child);
  if (!child.start().ok()) return -1;
  absl::StatusOr<int> exitcode = JoinSoon(child);
  return exitcode.ok() ? *exitcode : -2;
}

// ---- Tests ----

// Semaphore(3) gives three acquires in all processes together: a child takes
// them all; the parent then sees get_value() 0, and its acquire(timeout) is
// False, not before the timeout. A release (here beyond the initial value: a
// Semaphore is not bounded) wakes a child waiting for a unit.
CONFORMANCE_TEST(Semaphore, CountsAcrossProcesses, "sync.semaphore.counts",
                 "sync.handles.process_argument") {
  ASSERT_OK_AND_ASSIGN(procspec::Semaphore semaphore,
                       procspec::Semaphore::Create(3));
  EXPECT_EQ(semaphore.get_value(), 3);
  procspec::Process taker(SyncSemaphoreTake, std::tuple{semaphore, 3, 0});
  EXPECT_EQ(RunToExitcode(taker), 0);
  EXPECT_EQ(semaphore.get_value(), 0);
  bool acquired = true;
  const absl::Duration took =
      TimeOf([&] { acquired = semaphore.acquire(true, 0.1); });
  EXPECT_FALSE(acquired);
  EXPECT_GE(took, absl::Milliseconds(100));
  for (int i = 0; i < 5; ++i) ASSERT_OK(semaphore.release());
  EXPECT_EQ(semaphore.get_value(), 5);
  procspec::Process giver(SyncSemaphoreTake, std::tuple{semaphore, 5, 2});
  EXPECT_EQ(RunToExitcode(giver), 0);
  EXPECT_EQ(semaphore.get_value(), 2);
  ASSERT_TRUE(semaphore.acquire(false));
  ASSERT_TRUE(semaphore.acquire(false));
  // A child blocked on the empty semaphore gets the unit the parent releases.
  procspec::Process waiter(SyncSemaphoreWaitOne, std::tuple{semaphore});
  KillOnExit guard(waiter);
  ASSERT_OK(waiter.start());
  ASSERT_OK(semaphore.release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(waiter));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(semaphore.get_value(), 0);
}

// Semaphore() and BoundedSemaphore() start at 1; a Semaphore created with 0
// blocks at once.
CONFORMANCE_TEST(Semaphore, DefaultValueIsOne, "sync.semaphore.counts") {
  ASSERT_OK_AND_ASSIGN(procspec::Semaphore semaphore,
                       procspec::Semaphore::Create());
  EXPECT_EQ(semaphore.get_value(), 1);
  ASSERT_OK_AND_ASSIGN(procspec::BoundedSemaphore bounded,
                       procspec::BoundedSemaphore::Create());
  EXPECT_EQ(bounded.get_value(), 1);
  ASSERT_OK_AND_ASSIGN(procspec::Semaphore empty,
                       procspec::Semaphore::Create(0));
  EXPECT_EQ(empty.get_value(), 0);
  EXPECT_FALSE(empty.acquire(true, 0));
}

// A negative initial value fails as CPython's does (sem_open's EINVAL):
// OSError "[Errno 22] Invalid argument".
CONFORMANCE_TEST(Semaphore, NegativeValueIsOSError,
                 "sync.semaphore.negative_value_error") {
  EXPECT_PYTHON_ERROR(procspec::Semaphore::Create(-1), "OSError",
                      "[Errno 22] Invalid argument");
  EXPECT_PYTHON_ERROR(procspec::BoundedSemaphore::Create(-1), "OSError",
                      "[Errno 22] Invalid argument");
}

// BoundedSemaphore(2): release() at the initial value fails with ValueError
// "semaphore or lock released too many times" (in the parent and in a child)
// and leaves the value unchanged.
CONFORMANCE_TEST(BoundedSemaphore, ReleaseBeyondInitialValueIsValueError,
                 "sync.bounded_semaphore.release_error") {
  ASSERT_OK_AND_ASSIGN(procspec::BoundedSemaphore semaphore,
                       procspec::BoundedSemaphore::Create(2));
  EXPECT_PYTHON_ERROR(semaphore.release(), "ValueError",
                      "semaphore or lock released too many times");
  EXPECT_EQ(semaphore.get_value(), 2);
  procspec::Process child(SyncBoundedTakeAndOverRelease, std::tuple{semaphore});
  EXPECT_EQ(RunToExitcode(child), 0);
  EXPECT_EQ(semaphore.get_value(), 2);
  ASSERT_TRUE(semaphore.acquire(false));
  EXPECT_EQ(semaphore.get_value(), 1);
  ASSERT_OK(semaphore.release());
  EXPECT_EQ(semaphore.get_value(), 2);
  EXPECT_PYTHON_ERROR(semaphore.release(), "ValueError",
                      "semaphore or lock released too many times");
  EXPECT_EQ(semaphore.get_value(), 2);
}

}  // namespace
}  // namespace conformance
