// The primitives as Process arguments (the same object in the child, under
// every start method), and their memory: anonymous, nothing left in /dev/shm.
#include <algorithm>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/sync/sync_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::sync_testing::DevShmEntries;
using ::conformance::sync_testing::StartAndJoin;
namespace platform = ::procspec::platform;

// Gets the same Lock twice (exit 1 unless both copies are one object), takes
// the Lock, RLock, Semaphore and BoundedSemaphore without blocking (exit 2
// if one is not free) and keeps them (the RLock is released: exit 3 if the
// release fails, its owner being this process).
void SyncTakeEverything(procspec::Lock lock, procspec::Lock same_lock,
                        procspec::RLock rlock, procspec::Semaphore semaphore,
                        procspec::BoundedSemaphore bounded) {
  if (!(lock == same_lock)) procspec::Exit(1);
  if (!lock.acquire(false)) procspec::Exit(2);
  if (same_lock.acquire(false)) procspec::Exit(2);
  if (!rlock.acquire(false) || !rlock.acquire(false)) procspec::Exit(2);
  if (!semaphore.acquire(false) || !bounded.acquire(false)) procspec::Exit(2);
  if (!rlock.release().ok() || !rlock.release().ok()) procspec::Exit(3);
}
PROCSPEC_TARGET(SyncTakeEverything);

// Ordinary memory a child changes.
int g_counter = 0;

// Changes the global, the Semaphore and the Event.
void SyncChangeStateBothWays(procspec::Semaphore semaphore,
                             procspec::Event event) {
  g_counter += 5;
  if (!semaphore.release().ok() || !semaphore.release().ok()) {
    procspec::Exit(1);
  }
  event.set();
  procspec::Exit(g_counter == 5 ? 0 : 2);
}
PROCSPEC_TARGET(SyncChangeStateBothWays);

// This process's shared memory objects in /dev/shm (the "posix" backend's
// names begin "procspec-<pid>-"; other programs' entries are not ours to
// judge).
std::vector<std::string> OwnDevShmEntries() {
  const std::string prefix = absl::StrCat("procspec-", platform::CurrentPid());
  std::vector<std::string> own;
  for (const std::string& name : DevShmEntries())
    if (absl::StartsWith(name, prefix)) own.push_back(name);
  return own;
}

// What SyncTakeEverything takes: a Lock, an RLock, a Semaphore(2) and a
// BoundedSemaphore(1).
struct Primitives {
  procspec::Lock lock;
  procspec::RLock rlock;
  procspec::Semaphore semaphore;
  procspec::BoundedSemaphore bounded;
};

absl::StatusOr<Primitives> CreatePrimitives() {
  absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
  if (!lock.ok()) return lock.status();
  absl::StatusOr<procspec::RLock> rlock = procspec::RLock::Create();
  if (!rlock.ok()) return rlock.status();
  absl::StatusOr<procspec::Semaphore> semaphore =
      procspec::Semaphore::Create(2);
  if (!semaphore.ok()) return semaphore.status();
  absl::StatusOr<procspec::BoundedSemaphore> bounded =
      procspec::BoundedSemaphore::Create(1);
  if (!bounded.ok()) return bounded.status();
  return Primitives{*std::move(lock), *std::move(rlock), *std::move(semaphore),
                    *std::move(bounded)};
}

// Every primitive passed to a child is the object the parent has: what the
// child takes is gone in the parent; two arguments naming one Lock are one
// object in the child.
CONFORMANCE_TEST(Handles, ChildGetsTheSameObjects,
                 "sync.handles.process_argument") {
  ASSERT_OK_AND_ASSIGN(Primitives primitives, CreatePrimitives());
  auto& [lock, rlock, semaphore, bounded] = primitives;
  procspec::Process child(SyncTakeEverything,
                          std::tuple{lock, lock, rlock, semaphore, bounded});
  ASSERT_OK_AND_ASSIGN(int exitcode, StartAndJoin(child));
  EXPECT_EQ(exitcode, 0);
  EXPECT_FALSE(lock.acquire(false)) << "the child took the Lock and exited";
  EXPECT_TRUE(rlock.acquire(false)) << "the child released the RLock";
  EXPECT_OK(rlock.release());
  EXPECT_EQ(semaphore.get_value(), 1);
  EXPECT_EQ(bounded.get_value(), 0);
  ASSERT_OK(lock.release());
  ASSERT_OK(bounded.release());
}

// The child's change to a global stays in the child; its changes through a
// Semaphore and an Event are the parent's too.
CONFORMANCE_TEST(Handles, ChangesThroughPrimitivesAreSharedOrdinaryMemoryIsNot,
                 "sync.state.shared_through_primitives",
                 "module.state.not_shared") {
  g_counter = 0;
  ASSERT_OK_AND_ASSIGN(procspec::Semaphore semaphore,
                       procspec::Semaphore::Create(0));
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  procspec::Process child(SyncChangeStateBothWays,
                          std::tuple{semaphore, event});
  ASSERT_OK_AND_ASSIGN(int exitcode, StartAndJoin(child));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(g_counter, 0) << "ordinary memory is not shared";
  EXPECT_EQ(semaphore.get_value(), 2);
  EXPECT_TRUE(event.is_set());
}

// Shared memory has no name: while the primitives exist, are used by a child
// and after they are gone, this process has nothing in /dev/shm.
CONFORMANCE_TEST(Handles, NothingIsLeftInDevShm,
                 "sync.handles.anonymous_memory") {
  const std::vector<std::string> before = OwnDevShmEntries();
  EXPECT_EQ(before, std::vector<std::string>());
  {
    ASSERT_OK_AND_ASSIGN(Primitives primitives, CreatePrimitives());
    auto& [lock, rlock, semaphore, bounded] = primitives;
    EXPECT_EQ(OwnDevShmEntries(), std::vector<std::string>());
    procspec::Process child(SyncTakeEverything,
                            std::tuple{lock, lock, rlock, semaphore, bounded});
    ASSERT_OK_AND_ASSIGN(int exitcode, StartAndJoin(child));
    EXPECT_EQ(exitcode, 0);
    EXPECT_EQ(OwnDevShmEntries(), std::vector<std::string>());
  }
  EXPECT_EQ(OwnDevShmEntries(), std::vector<std::string>());
}

}  // namespace
}  // namespace conformance
