// The Windows shared memory and its kernel semaphores and mutexes, within one
// process (the conformance suite checks them across processes).
#include "platform/shared_memory.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "platform/platform.h"

namespace procspec::platform {
namespace {

TEST(WindowsSharedMemoryTest, RegionIsZeroedAndMapsAgainThroughItsHandle) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(100);
  ASSERT_TRUE(region.ok()) << region.status();
  ASSERT_GE(region->size(), 100u);
  EXPECT_EQ(static_cast<const char*>(region->data())[99], 0);
  static_cast<char*>(region->data())[0] = 'x';
  absl::StatusOr<SharedRegion> second = MapSharedRegion(region->handle());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->handle(), region->handle());
  EXPECT_EQ(static_cast<const char*>(second->data())[0], 'x');
}

TEST(WindowsSharedMemoryTest, MappingABadHandleIsInvalidArgument) {
  EXPECT_EQ(MapSharedRegion(kInvalidHandle).status().code(),
            absl::StatusCode::kInvalidArgument);
  // An open handle that names no file mapping: a pipe.
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_EQ(MapSharedRegion(pipe->read.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WindowsSharedMemoryTest, SemaphoreCountsWaitsToItsDeadlineAndKeepsAMax) {
  absl::StatusOr<SharedRegion> region =
      CreateSharedRegion(SharedSemaphore::kSize);
  ASSERT_TRUE(region.ok()) << region.status();
  absl::StatusOr<SharedSemaphore> sem =
      SharedSemaphore::Init(region->data(), 1);
  ASSERT_TRUE(sem.ok()) << sem.status();
  EXPECT_EQ(sem->Value(), 1);
  EXPECT_TRUE(sem->Wait(absl::InfinitePast()));
  EXPECT_FALSE(sem->Wait(absl::InfinitePast()));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(50);
  EXPECT_FALSE(sem->Wait(deadline));
  EXPECT_GE(absl::Now(), deadline);
  EXPECT_EQ(sem->PostBelow(1).value_or(false), true);
  EXPECT_EQ(sem->PostBelow(1).value_or(true), false);
  EXPECT_EQ(sem->Value(), 1);
  // Another mapping finds the same semaphore by address.
  absl::StatusOr<SharedRegion> second = MapSharedRegion(region->handle());
  ASSERT_TRUE(second.ok()) << second.status();
  const SharedSemaphore same = SharedSemaphore::At(second->data());
  EXPECT_TRUE(same.Wait(absl::InfinitePast()));
  EXPECT_EQ(sem->Value(), 0);
}

TEST(WindowsSharedMemoryTest, MutexIsErrorCheckingAndReportsADeadOwner) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(RobustMutex::kSize);
  ASSERT_TRUE(region.ok()) << region.status();
  absl::StatusOr<RobustMutex> mutex = RobustMutex::Init(region->data());
  ASSERT_TRUE(mutex.ok()) << mutex.status();
  EXPECT_EQ(mutex->Unlock().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_EQ(mutex->Lock(absl::InfiniteFuture())
                .value_or(RobustMutex::LockResult::kTimedOut),
            RobustMutex::LockResult::kLocked);
  // Its holder locking again: refused, blocking or not (not recursive).
  EXPECT_EQ(mutex->Lock(absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mutex->MakeConsistent().code(), absl::StatusCode::kInvalidArgument);
  std::thread([&] {
    EXPECT_EQ(mutex->Lock(absl::InfinitePast())
                  .value_or(RobustMutex::LockResult::kLocked),
              RobustMutex::LockResult::kTimedOut);
  }).join();
  ASSERT_TRUE(mutex->Unlock().ok());
  // A thread that ends holding it: the next locker is told, and repairs.
  std::thread([&] {
    EXPECT_EQ(mutex->Lock(absl::InfiniteFuture())
                  .value_or(RobustMutex::LockResult::kTimedOut),
              RobustMutex::LockResult::kLocked);
  }).join();
  ASSERT_EQ(mutex->Lock(absl::InfiniteFuture())
                .value_or(RobustMutex::LockResult::kTimedOut),
            RobustMutex::LockResult::kOwnerDied);
  EXPECT_TRUE(mutex->MakeConsistent().ok());
  EXPECT_TRUE(mutex->Unlock().ok());
  // Unlocked without repair after a dead owner: unusable for ever.
  std::thread([&] { (void)mutex->Lock(absl::InfiniteFuture()); }).join();
  ASSERT_EQ(mutex->Lock(absl::InfiniteFuture())
                .value_or(RobustMutex::LockResult::kTimedOut),
            RobustMutex::LockResult::kOwnerDied);
  EXPECT_TRUE(mutex->Unlock().ok());
  EXPECT_EQ(mutex->Lock(absl::InfiniteFuture())
                .value_or(RobustMutex::LockResult::kTimedOut),
            RobustMutex::LockResult::kNotRecoverable);
}

}  // namespace
}  // namespace procspec::platform
