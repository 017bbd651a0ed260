// terminate() and locks: a Lock held by a child that is terminated is never
// released.
//
// The seed: p.terminate() ... 如果p还保存了一个锁那么也不会被释放，进而导致死锁
#include <string>
#include <tuple>

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

using ::conformance::sync_testing::TimeOf;
using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::SendLine;
using ::conformance::testing::StartAndAwaitReady;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;

// Acquires `lock` (exit 1 if it cannot at once), sends "ready", blocks until
// killed.
void SyncAcquireThenBlock(procspec::Lock lock, InheritedHandle ready) {
  if (!lock.acquire(false)) procspec::Exit(1);
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(SyncAcquireThenBlock);

// The same with a RobustLock.
void SyncRobustAcquireThenBlock(procspec::RobustLock lock,
                                InheritedHandle ready) {
  absl::StatusOr<procspec::RobustLock::AcquireResult> acquired =
      lock.acquire(false);
  if (!acquired.ok() ||
      *acquired != procspec::RobustLock::AcquireResult::kAcquired) {
    procspec::Exit(1);
  }
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(SyncRobustAcquireThenBlock);

// The deadlock the seed warns of, bounded by a timeout: the child holding the
// Lock is terminated (exitcode -15), and the parent's acquire(timeout=0.5)
// then returns False, not before 0.5 s: nothing released the lock.
CONFORMANCE_TEST(HeldLock, TerminatedHolderNeverReleasesTheLock,
                 "process.terminate.lock_stays_held") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(SyncAcquireThenBlock,
                          std::tuple{lock, InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -15);
  bool acquired = true;
  const absl::Duration took =
      TimeOf([&] { acquired = lock.acquire(true, 0.5); });
  EXPECT_FALSE(acquired) << "the dead child's Lock was released";
  EXPECT_GE(took, absl::Milliseconds(500));
  EXPECT_FALSE(lock.acquire(false));
  // It can still be released by anyone (a Lock has no owner), which is the
  // only way out.
  EXPECT_OK(lock.release());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
}

// The RobustLock variant (beyond CPython): the next acquire() after the
// holder was terminated succeeds at once and reports that the previous owner
// died, instead of timing out; once made consistent it works as before.
CONFORMANCE_TEST(HeldLock, RobustLockReportsTheTerminatedHolder,
                 "process.terminate.lock_stays_held",
                 "sync.robust_lock.owner_died") {
  ASSERT_OK_AND_ASSIGN(procspec::RobustLock lock,
                       procspec::RobustLock::Create());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(SyncRobustAcquireThenBlock,
                          std::tuple{lock, InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  // While the holder lives, it is held.
  ASSERT_OK_AND_ASSIGN(procspec::RobustLock::AcquireResult result,
                       lock.acquire(false));
  EXPECT_EQ(result, procspec::RobustLock::AcquireResult::kNotAcquired);
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -15);
  ASSERT_OK_AND_ASSIGN(result, lock.acquire(true, 0.5));
  EXPECT_EQ(result, procspec::RobustLock::AcquireResult::kOwnerDied);
  EXPECT_OK(lock.make_consistent());
  EXPECT_OK(lock.release());
  ASSERT_OK_AND_ASSIGN(result, lock.acquire(false));
  EXPECT_EQ(result, procspec::RobustLock::AcquireResult::kAcquired);
  EXPECT_OK(lock.release());
}

}  // namespace
}  // namespace conformance
