// RobustLock (beyond CPython): a lock whose next acquirer learns that the
// previous holder died holding it. Its owner is a thread; misuse fails with
// RuntimeError rather than deadlocking.
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/sync/sync_testing.h"
#include "gtest/gtest.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::sync_testing::TimeOf;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using Result = ::procspec::RobustLock::AcquireResult;

// Exit code: how acquire(block, timeout=5) went: 10 + the result, or 1 on an
// error. With `release`, releases it after a successful acquire (exit 2 if
// that fails); with `consistent`, makes it consistent first if the owner died
// (exit 3).
void SyncRobustTry(procspec::RobustLock lock, bool block, bool consistent,
                   bool release) {
  absl::StatusOr<Result> result = lock.acquire(block, 5);
  if (!result.ok()) procspec::Exit(1);
  if (*result == Result::kOwnerDied && consistent &&
      !lock.make_consistent().ok()) {
    procspec::Exit(3);
  }
  if (*result != Result::kNotAcquired && release && !lock.release().ok()) {
    procspec::Exit(2);
  }
  procspec::Exit(10 + static_cast<int>(*result));
}
PROCSPEC_TARGET(SyncRobustTry);

// Acquires, signals ready, waits for the release, releases (exit 1/2).
void SyncRobustHold(procspec::RobustLock lock, HandshakeChild handshake) {
  absl::StatusOr<Result> result = lock.acquire(false);
  if (!result.ok() || *result != Result::kAcquired) procspec::Exit(1);
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
  if (!lock.release().ok()) procspec::Exit(2);
}
PROCSPEC_TARGET(SyncRobustHold);

int RunToExitcode(procspec::Process& child) {
  KillOnExit guard(child);
  if (!child.start().ok()) return -1;
  absl::StatusOr<int> exitcode = JoinSoon(child);
  return exitcode.ok() ? *exitcode : -2;
}

constexpr int Code(Result result) { return 10 + static_cast<int>(result); }

// A child that exits holding the lock: the parent's acquire() says
// kOwnerDied; after make_consistent() and release() it is an ordinary lock
// again. A holder that releases it without make_consistent() leaves it
// unusable: every acquire() is RuntimeError from then on.
CONFORMANCE_TEST(RobustLock, ReportsAHolderThatDiedAndCanBeRepaired,
                 "sync.robust_lock.owner_died") {
  ASSERT_OK_AND_ASSIGN(procspec::RobustLock lock,
                       procspec::RobustLock::Create());
  procspec::Process dies_holding(SyncRobustTry,
                                 std::tuple{lock, true, false, false});
  EXPECT_EQ(RunToExitcode(dies_holding), Code(Result::kAcquired));
  // A child finds the dead owner, repairs and releases it.
  procspec::Process repairs(SyncRobustTry, std::tuple{lock, true, true, true});
  EXPECT_EQ(RunToExitcode(repairs), Code(Result::kOwnerDied));
  ASSERT_OK_AND_ASSIGN(Result result, lock.acquire(false));
  EXPECT_EQ(result, Result::kAcquired);
  EXPECT_PYTHON_ERROR(lock.make_consistent(), "RuntimeError",
                      "make_consistent() is only valid after acquire() "
                      "reported that the previous owner died");
  ASSERT_OK(lock.release());

  // Dies holding it again; this time the next holder does not repair it.
  procspec::Process dies_again(SyncRobustTry,
                               std::tuple{lock, true, false, false});
  EXPECT_EQ(RunToExitcode(dies_again), Code(Result::kAcquired));
  ASSERT_OK_AND_ASSIGN(result, lock.acquire(true, 5));
  EXPECT_EQ(result, Result::kOwnerDied);
  ASSERT_OK(lock.release());
  EXPECT_PYTHON_ERROR(lock.acquire(false), "RuntimeError",
                      "RobustLock is not recoverable: its holder died and it "
                      "was released without make_consistent()");
  procspec::Process sees_it_broken(SyncRobustTry,
                                   std::tuple{lock, true, false, true});
  EXPECT_EQ(RunToExitcode(sees_it_broken), 1);
}

// While another process holds it: acquire(timeout) is kNotAcquired, not
// before the timeout. Its owner is a thread: a release() by anyone else is
// RuntimeError "cannot release un-acquired lock", and the owner acquiring it
// again is RuntimeError instead of a deadlock.
CONFORMANCE_TEST(RobustLock, OwnedByAThreadWithTimeouts,
                 "sync.robust_lock.owner_thread") {
  ASSERT_OK_AND_ASSIGN(procspec::RobustLock lock,
                       procspec::RobustLock::Create());
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process holder(SyncRobustHold,
                           std::tuple{lock, handshake.ChildSide()});
  KillOnExit guard(holder);
  ASSERT_OK(holder.start());
  ASSERT_OK(handshake.WaitReady());
  absl::StatusOr<Result> result;
  const absl::Duration took = TimeOf([&] { result = lock.acquire(true, 0.1); });
  ASSERT_OK(result);
  EXPECT_EQ(*result, Result::kNotAcquired);
  EXPECT_GE(took, absl::Milliseconds(100));
  ASSERT_OK_AND_ASSIGN(Result negative, lock.acquire(true, -1));
  EXPECT_EQ(negative, Result::kNotAcquired);
  EXPECT_PYTHON_ERROR(lock.release(), "RuntimeError",
                      "cannot release un-acquired lock");
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(holder));
  EXPECT_EQ(exitcode, 0);

  ASSERT_OK_AND_ASSIGN(Result mine, lock.acquire());
  EXPECT_EQ(mine, Result::kAcquired);
  EXPECT_PYTHON_ERROR(lock.acquire(), "RuntimeError",
                      "cannot acquire a RobustLock this thread already holds");
  absl::Status from_thread;
  std::thread([&] { from_thread = lock.release(); }).join();
  EXPECT_PYTHON_ERROR(from_thread, "RuntimeError",
                      "cannot release un-acquired lock");
  EXPECT_OK(lock.release());
}

}  // namespace
}  // namespace conformance
