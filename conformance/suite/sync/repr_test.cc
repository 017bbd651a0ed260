// CPython's reprs of Lock, RLock, Semaphore, BoundedSemaphore and Condition,
// as seen by the holder, another thread and another process.
#include <memory>
#include <string>
#include <thread>
#include <tuple>

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

namespace conformance {
namespace {

using ::conformance::sync_testing::ReportingChild;
using ::conformance::testing::SendLine;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;

// Sends the reprs of `lock` and `rlock`.
void SyncReportReprs(procspec::Lock lock, procspec::RLock rlock,
                     InheritedHandle out) {
  SendLine(out.get(), lock.repr());
  SendLine(out.get(), rlock.repr());
}
PROCSPEC_TARGET(SyncReportReprs);

CONFORMANCE_TEST(Repr, ShowsOwnerCountAndValueAsCPythonDoes,
                 "sync.repr.format") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(procspec::RLock rlock, procspec::RLock::Create());
  EXPECT_EQ(lock.repr(), "<Lock(owner=None)>");
  EXPECT_EQ(rlock.repr(), "<RLock(None, 0)>");
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(rlock.acquire());
  ASSERT_TRUE(rlock.acquire());
  const std::string me = procspec::current_process().name();
  EXPECT_EQ(lock.repr(), "<Lock(owner=" + me + ")>");
  EXPECT_EQ(rlock.repr(), "<RLock(" + me + ", 2)>");
  std::string lock_in_thread, rlock_in_thread;
  std::thread([&] {
    lock_in_thread = lock.repr();
    rlock_in_thread = rlock.repr();
  }).join();
  EXPECT_EQ(lock_in_thread, "<Lock(owner=SomeOtherThread)>");
  EXPECT_EQ(rlock_in_thread, "<RLock(SomeOtherThread, nonzero)>");

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> child,
                       ReportingChild::Start(SyncReportReprs, lock, rlock));
  ASSERT_OK_AND_ASSIGN(std::string line, child->ReadLine());
  EXPECT_EQ(line, "<Lock(owner=SomeOtherProcess)>");
  ASSERT_OK_AND_ASSIGN(line, child->ReadLine());
  EXPECT_EQ(line, "<RLock(SomeOtherProcess, nonzero)>");
  ASSERT_OK_AND_ASSIGN(int exitcode, child->Join());
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK(lock.release());
  ASSERT_OK(rlock.release());
  ASSERT_OK(rlock.release());

  ASSERT_OK_AND_ASSIGN(procspec::Semaphore semaphore,
                       procspec::Semaphore::Create(2));
  EXPECT_EQ(semaphore.repr(), "<Semaphore(value=2)>");
  ASSERT_OK_AND_ASSIGN(procspec::BoundedSemaphore bounded,
                       procspec::BoundedSemaphore::Create(2));
  ASSERT_TRUE(bounded.acquire());
  EXPECT_EQ(bounded.repr(), "<BoundedSemaphore(value=1, maxvalue=2)>");
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  EXPECT_EQ(cond.repr(), "<Condition(<RLock(None, 0)>, 0)>");
  ASSERT_OK_AND_ASSIGN(procspec::Condition over_lock,
                       procspec::Condition::Create(lock));
  EXPECT_EQ(over_lock.repr(), "<Condition(<Lock(owner=None)>, 0)>");
}

}  // namespace
}  // namespace conformance
