// The primitives within one process: between threads, empty handles, and
// serialization outside a Process's arguments. (Across processes, under every
// backend and start method: the conformance suite's synchronize area.)
#include "process/synchronize.h"

#include <atomic>
#include <cereal/archives/binary.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/status_matchers.h"
#include "process/errors.h"

namespace procspec {
namespace {

TEST(SynchronizeTest, LockBlocksAnotherThreadUntilReleased) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_OK(lock);
  ASSERT_TRUE(lock->acquire());
  std::atomic<bool> acquired{false};
  std::thread other([&] {
    acquired = lock->acquire(true, 30);
    (void)lock->release();
  });
  // The other thread cannot have it while this one holds it.
  EXPECT_FALSE(acquired.load());
  ASSERT_OK(lock->release());
  other.join();
  EXPECT_TRUE(acquired.load());
}

// A child forked outside Process (the backend's Fork: fork(), as user code
// calling fork() directly; both run the pthread_atfork handlers) holds
// nothing its parent's thread held: the counts start again (CPython's
// _after_fork), with no pid check on the way.
TEST(SynchronizeTest, AChildForkedOutsideProcessOwnsNothingItsParentHeld) {
  if (!platform::CurrentBackend().SupportsFork())
    GTEST_SKIP() << "the backend cannot fork";
  absl::StatusOr<RLock> rlock = RLock::Create();
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_TRUE(rlock.ok() && lock.ok());
  ASSERT_TRUE(rlock->acquire());
  ASSERT_TRUE(rlock->acquire());
  ASSERT_TRUE(lock->acquire());
  const std::string parent_rlock = rlock->repr();
  const std::string parent_lock = lock->repr();
  const std::uint64_t generation = platform::ForkGeneration();
  absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
      platform::CurrentBackend().Fork({}, [&](platform::ChildContext&) {
        int code = 0;
        const absl::Status released = rlock->release();
        if (released.ok() ||
            released.message() !=
                "attempt to release recursive lock not owned by thread") {
          code |= 1;
        }
        if (rlock->repr() != "<RLock(SomeOtherProcess, nonzero)>") code |= 2;
        if (lock->repr() != "<Lock(owner=SomeOtherProcess)>") code |= 4;
        if (rlock->acquire(false)) code |= 8;
        if (platform::ForkGeneration() == generation) code |= 16;
        return code;
      });
  ASSERT_OK(child);
  absl::StatusOr<std::optional<platform::ExitStatus>> status =
      (*child)->Wait(absl::InfiniteFuture());
  ASSERT_OK(status);
  EXPECT_EQ(*status, (platform::ExitStatus{.signaled = false, .value = 0}))
      << "1: the child could release its parent's RLock; 2, 4: the child's "
         "reprs said it held them; 8: the child acquired the parent's RLock; "
         "16: the fork generation did not change";
  // The parent's own counts are untouched.
  EXPECT_EQ(platform::ForkGeneration(), generation);
  EXPECT_EQ(rlock->repr(), parent_rlock);
  EXPECT_EQ(lock->repr(), parent_lock);
  EXPECT_OK(rlock->release());
  EXPECT_OK(rlock->release());
  EXPECT_FALSE(rlock->release().ok());
  EXPECT_OK(lock->release());
}

TEST(SynchronizeTest, CopiesAreTheSameObject) {
  absl::StatusOr<RLock> lock = RLock::Create();
  ASSERT_OK(lock);
  RLock copy = *lock;
  EXPECT_TRUE(copy == *lock);
  ASSERT_TRUE(lock->acquire());
  EXPECT_TRUE(copy.release().ok()) << "the copy shares the owner's count";
  absl::StatusOr<RLock> other = RLock::Create();
  ASSERT_OK(other);
  EXPECT_FALSE(*other == *lock);
}

TEST(SynchronizeTest, ConditionNotifyWakesAnotherThread) {
  absl::StatusOr<Condition> cond = Condition::Create();
  ASSERT_OK(cond);
  bool ready = false;
  std::thread waiter([&] {
    std::scoped_lock hold(*cond);
    absl::StatusOr<bool> woke = cond->wait_for([&] { return ready; }, 30);
    EXPECT_TRUE(woke.ok() && *woke);
  });
  {
    std::scoped_lock hold(*cond);
    ready = true;
    EXPECT_OK(cond->notify_all());
  }
  waiter.join();
}

TEST(SynchronizeTest, EventSetWakesAnotherThread) {
  absl::StatusOr<Event> event = Event::Create();
  ASSERT_OK(event);
  bool set = false;
  std::thread waiter([&] { set = event->wait(30); });
  event->set();
  waiter.join();
  EXPECT_TRUE(set);
}

TEST(SynchronizeTest, EmptyHandlesFailCleanly) {
  Lock lock;
  EXPECT_FALSE(lock.valid());
  EXPECT_FALSE(lock.acquire());
  EXPECT_FALSE(lock.release().ok());
  Semaphore semaphore;
  EXPECT_EQ(semaphore.get_value(), 0);
  Condition cond;
  EXPECT_FALSE(cond.acquire());
  EXPECT_FALSE(cond.wait(0).ok());
  EXPECT_FALSE(cond.notify().ok());
  Event event;
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(0));
  event.set();
  event.clear();
  RobustLock robust;
  EXPECT_FALSE(robust.acquire().ok());
  EXPECT_FALSE(robust.release().ok());
  EXPECT_FALSE(Condition::Create(Lock()).ok());
  EXPECT_FALSE(Condition::Create(RLock()).ok());
}

// Like CPython's "Lock objects should only be shared between processes
// through inheritance": a handle can be serialized only as a Process
// argument. An empty one carries nothing and can be.
TEST(SynchronizeTest, SerializingOutsideAProcessArgumentThrows) {
  absl::StatusOr<Lock> lock = Lock::Create();
  ASSERT_OK(lock);
  std::ostringstream out;
  cereal::BinaryOutputArchive archive(out);
  EXPECT_THROW(archive(*lock), std::runtime_error);
  absl::StatusOr<RobustLock> robust = RobustLock::Create();
  ASSERT_OK(robust);
  EXPECT_THROW(archive(*robust), std::runtime_error);
  EXPECT_NO_THROW(archive(Lock()));
}

TEST(SynchronizeTest, RobustLockBetweenThreads) {
  absl::StatusOr<RobustLock> lock = RobustLock::Create();
  ASSERT_OK(lock);
  absl::StatusOr<RobustLock::AcquireResult> mine = lock->acquire();
  ASSERT_OK(mine);
  EXPECT_EQ(*mine, RobustLock::AcquireResult::kAcquired);
  absl::StatusOr<RobustLock::AcquireResult> other;
  std::thread([&] { other = lock->acquire(false); }).join();
  ASSERT_OK(other);
  EXPECT_EQ(*other, RobustLock::AcquireResult::kNotAcquired);
  EXPECT_OK(lock->release());
  // A copy is the same lock, even once the original handle is gone.
  RobustLock copy = *lock;
  lock = absl::StatusOr<RobustLock>();
  ASSERT_OK(copy.acquire());
  absl::StatusOr<RobustLock::AcquireResult> again;
  std::thread([&] { again = copy.acquire(false); }).join();
  ASSERT_OK(again);
  EXPECT_EQ(*again, RobustLock::AcquireResult::kNotAcquired);
  EXPECT_OK(copy.release());
}

}  // namespace
}  // namespace procspec
