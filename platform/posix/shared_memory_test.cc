// Shared regions, process-shared semaphores and robust mutexes, for every
// backend. Children (Backend::Fork) report by exit code; they block on
// semaphores or pipes, never sleep.
#include "platform/shared_memory.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"

namespace procspec::platform {
namespace {

constexpr ExitStatus Exited(int code) {
  return ExitStatus{.signaled = false, .value = code};
}

// This process's entries in /dev/shm (the "posix" backend's names begin
// "procspec-<pid>-"; other programs' entries, e.g. a concurrent test's, are
// not ours to judge).
std::vector<std::string> OwnDevShmEntries() {
  const std::string prefix = "procspec-" + std::to_string(getpid()) + "-";
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/dev/shm", error), end;
       !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  return names;
}

std::optional<ExitStatus> WaitFor(ChildProcess& child) {
  absl::StatusOr<std::optional<ExitStatus>> status =
      child.Wait(absl::Now() + absl::Seconds(30));
  if (!status.ok()) return std::nullopt;
  return *status;
}

class SharedMemoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_TRUE(SelectBackend(GetParam()).ok()); }
  Backend& backend() { return CurrentBackend(); }

  // Makes mutex_, a RobustMutex in a fresh region_.
  void CreateRobustMutex() {
    absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
    ASSERT_OK(region);
    region_ = *std::move(region);
    absl::StatusOr<RobustMutex> mutex = RobustMutex::Init(region_.data());
    ASSERT_OK(mutex);
    mutex_ = *mutex;
  }

  // Forks a child that locks `mutex` (exit 1 if it cannot) and exits holding
  // it, and waits for it to exit.
  void LockInAChildThatExits(RobustMutex& mutex) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        backend().Fork({}, [&](ChildContext&) {
          absl::StatusOr<RobustMutex::LockResult> result =
              mutex.Lock(absl::InfiniteFuture());
          return result.ok() && *result == RobustMutex::LockResult::kLocked ? 0
                                                                            : 1;
        });
    ASSERT_OK(child);
    ASSERT_EQ(WaitFor(**child), Exited(0));
  }

  SharedRegion region_;
  RobustMutex mutex_;
};

TEST_P(SharedMemoryTest, RegionIsZeroedCloseOnExecAndLeavesNoName) {
  EXPECT_EQ(OwnDevShmEntries(), std::vector<std::string>());
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(4096);
  ASSERT_OK(region);
  ASSERT_TRUE(region->valid());
  EXPECT_EQ(region->size(), 4096u);
  const auto* bytes = static_cast<const unsigned char*>(region->data());
  for (std::size_t i = 0; i < region->size(); ++i) ASSERT_EQ(bytes[i], 0);
  EXPECT_TRUE(testing::IsCloseOnExec(region->handle()).value_or(false));
  // Nothing in the file system names it, even while it is alive.
  EXPECT_EQ(OwnDevShmEntries(), std::vector<std::string>());
  struct stat info;
  ASSERT_EQ(fstat(static_cast<int>(region->handle()), &info), 0);
  if (GetParam() == "posix") {
    EXPECT_EQ(info.st_mode & 0777, 0600u);
  }
  EXPECT_EQ(info.st_nlink, 0u) << "the object must have no name";
}

TEST_P(SharedMemoryTest, EmptyRegionIsAnError) {
  EXPECT_FALSE(CreateSharedRegion(0).ok());
}

TEST_P(SharedMemoryTest, DestructionUnmapsAndCloses) {
  NativeHandle handle = kInvalidHandle;
  {
    absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
    ASSERT_OK(region);
    handle = region->handle();
    SharedRegion moved = *std::move(region);
    EXPECT_FALSE(region->valid());
    EXPECT_TRUE(testing::IsOpen(handle));
  }
  EXPECT_FALSE(testing::IsOpen(handle));
}

TEST_P(SharedMemoryTest, MapSharedRegionSeesTheSameMemoryAndKeepsTheCallers) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(100);
  ASSERT_OK(region);
  absl::StatusOr<SharedRegion> second = MapSharedRegion(region->handle());
  ASSERT_OK(second);
  EXPECT_NE(second->handle(), region->handle());
  EXPECT_TRUE(testing::IsCloseOnExec(second->handle()).value_or(false));
  EXPECT_GE(second->size(), 100u);
  std::memcpy(region->data(), "shared", 7);
  EXPECT_STREQ(static_cast<const char*>(second->data()), "shared");
  second = SharedRegion();
  EXPECT_TRUE(testing::IsOpen(region->handle()));
}

TEST_P(SharedMemoryTest, MapSharedRegionRejectsWhatIsNotSharedMemory) {
  EXPECT_EQ(MapSharedRegion(kInvalidHandle).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  EXPECT_EQ(MapSharedRegion(pipe->read.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
  const NativeHandle closed = pipe->write.get();
  pipe->write.reset();
  EXPECT_EQ(MapSharedRegion(closed).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(SharedMemoryTest, ForkedChildWritesAreSeenByTheParent) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
  ASSERT_OK(region);
  auto* word = static_cast<std::atomic<std::int64_t>*>(region->data());
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      backend().Fork({}, [&](ChildContext&) {
        word->store(42);
        return 0;
      });
  ASSERT_OK(child);
  EXPECT_EQ(WaitFor(**child), Exited(0));
  EXPECT_EQ(word->load(), 42);
}

TEST_P(SharedMemoryTest, SemaphoreCountsAndTries) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(4096);
  ASSERT_OK(region);
  absl::StatusOr<SharedSemaphore> sem =
      SharedSemaphore::Init(region->data(), 2);
  ASSERT_OK(sem);
  EXPECT_EQ(sem->Value(), 2);
  EXPECT_TRUE(sem->Wait(absl::InfinitePast()));
  EXPECT_TRUE(sem->Wait(absl::InfiniteFuture()));
  EXPECT_EQ(sem->Value(), 0);
  EXPECT_FALSE(sem->Wait(absl::InfinitePast()));
  ASSERT_OK(sem->Post());
  EXPECT_EQ(sem->Value(), 1);
  // Another mapping of the same memory is the same semaphore.
  absl::StatusOr<SharedRegion> second = MapSharedRegion(region->handle());
  ASSERT_OK(second);
  EXPECT_EQ(SharedSemaphore::At(second->data()).Value(), 1);
}

TEST_P(SharedMemoryTest, SemaphoreTimedWaitDoesNotReturnBeforeTheDeadline) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
  ASSERT_OK(region);
  absl::StatusOr<SharedSemaphore> sem =
      SharedSemaphore::Init(region->data(), 0);
  ASSERT_OK(sem);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(50);
  EXPECT_FALSE(sem->Wait(deadline));
  EXPECT_GE(absl::Now(), deadline);
}

TEST_P(SharedMemoryTest, SemaphoreLimits) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
  ASSERT_OK(region);
  EXPECT_FALSE(SharedSemaphore::Init(
                   region->data(),
                   static_cast<unsigned>(SharedSemaphore::MaxValue()) + 1u)
                   .ok());
  absl::StatusOr<SharedSemaphore> sem = SharedSemaphore::Init(
      region->data(), static_cast<unsigned>(SharedSemaphore::MaxValue()));
  ASSERT_OK(sem);
  EXPECT_EQ(sem->Value(), SharedSemaphore::MaxValue());
  const absl::Status overflow = sem->Post();
  EXPECT_FALSE(overflow.ok());
  EXPECT_NE(overflow.message().find("[Errno 75]"), std::string::npos)
      << overflow;
}

// Signals that interrupt a timed wait (EINTR) neither end it early nor make it
// succeed: the wait resumes with the same deadline. The waiting thread is
// signalled until the wait returns, so some signals land while it blocks.
TEST_P(SharedMemoryTest, SemaphoreWaitRetriesEintrToTheSameDeadline) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
  ASSERT_OK(region);
  absl::StatusOr<SharedSemaphore> sem =
      SharedSemaphore::Init(region->data(), 0);
  ASSERT_OK(sem);
  struct sigaction action = {};
  struct sigaction previous = {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: sem_timedwait would fail with EINTR
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  std::atomic<bool> done{false};
  bool acquired = true;
  absl::Time deadline;
  absl::Time returned;
  std::thread waiter([&] {
    deadline = absl::Now() + absl::Milliseconds(100);
    acquired = sem->Wait(deadline);
    returned = absl::Now();
    done = true;
  });
  int sent = 0;
  while (!done.load()) {
    pthread_kill(waiter.native_handle(), SIGUSR1);
    ++sent;
    sched_yield();
  }
  waiter.join();
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_FALSE(acquired);
  EXPECT_GE(returned, deadline);
  EXPECT_GT(sent, 1);
}

// A child blocks in Wait until the parent posts: the wake crosses processes.
TEST_P(SharedMemoryTest, SemaphorePostWakesAWaitingChild) {
  absl::StatusOr<SharedRegion> region = CreateSharedRegion(128);
  ASSERT_OK(region);
  char* base = static_cast<char*>(region->data());
  absl::StatusOr<SharedSemaphore> go = SharedSemaphore::Init(base, 0);
  absl::StatusOr<SharedSemaphore> waiting =
      SharedSemaphore::Init(base + SharedSemaphore::kSize, 0);
  ASSERT_TRUE(go.ok() && waiting.ok());
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      backend().Fork({}, [&](ChildContext&) {
        if (!waiting->Post().ok()) return 1;
        return go->Wait(absl::InfiniteFuture()) ? 0 : 2;
      });
  ASSERT_OK(child);
  ASSERT_TRUE(waiting->Wait(absl::Now() + absl::Seconds(30)));
  ASSERT_OK(go->Post());
  EXPECT_EQ(WaitFor(**child), Exited(0));
  EXPECT_EQ(go->Value(), 0);
}

TEST_P(SharedMemoryTest, RobustMutexLocksAndChecksTheOwner) {
  ASSERT_NO_FATAL_FAILURE(CreateRobustMutex());
  RobustMutex* const mutex = &mutex_;
  EXPECT_EQ(mutex->Unlock().code(), absl::StatusCode::kPermissionDenied)
      << "not locked";
  absl::StatusOr<RobustMutex::LockResult> locked =
      mutex->Lock(absl::InfiniteFuture());
  ASSERT_OK(locked);
  EXPECT_EQ(*locked, RobustMutex::LockResult::kLocked);
  // The same thread again, blocking or not: an error, not a deadlock.
  EXPECT_EQ(mutex->Lock(absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mutex->Lock(absl::InfinitePast()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Another thread cannot unlock it, and times out.
  absl::Status other_unlock;
  std::optional<RobustMutex::LockResult> other_lock;
  absl::Time other_deadline;
  std::thread other([&] {
    other_unlock = mutex->Unlock();
    other_deadline = absl::Now() + absl::Milliseconds(30);
    absl::StatusOr<RobustMutex::LockResult> result =
        mutex->Lock(other_deadline);
    if (result.ok()) other_lock = *result;
  });
  other.join();
  EXPECT_EQ(other_unlock.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other_lock, RobustMutex::LockResult::kTimedOut);
  EXPECT_GE(absl::Now(), other_deadline);
  EXPECT_OK(mutex->Unlock());
}

// A child locks the mutex and exits holding it: the parent's next lock says
// the owner died; once made consistent it works as before.
TEST_P(SharedMemoryTest, RobustMutexReportsAnOwnerThatDied) {
  ASSERT_NO_FATAL_FAILURE(CreateRobustMutex());
  RobustMutex* const mutex = &mutex_;
  ASSERT_NO_FATAL_FAILURE(LockInAChildThatExits(*mutex));
  absl::StatusOr<RobustMutex::LockResult> result =
      mutex->Lock(absl::Now() + absl::Seconds(30));
  ASSERT_OK(result);
  EXPECT_EQ(*result, RobustMutex::LockResult::kOwnerDied);
  ASSERT_OK(mutex->MakeConsistent());
  ASSERT_OK(mutex->Unlock());
  result = mutex->Lock(absl::InfinitePast());
  ASSERT_OK(result);
  EXPECT_EQ(*result, RobustMutex::LockResult::kLocked);
  EXPECT_EQ(mutex->MakeConsistent().code(), absl::StatusCode::kInvalidArgument)
      << "already consistent";
  EXPECT_OK(mutex->Unlock());
}

TEST_P(SharedMemoryTest, RobustMutexNotMadeConsistentIsNotRecoverable) {
  ASSERT_NO_FATAL_FAILURE(CreateRobustMutex());
  RobustMutex* const mutex = &mutex_;
  ASSERT_NO_FATAL_FAILURE(LockInAChildThatExits(*mutex));
  absl::StatusOr<RobustMutex::LockResult> result =
      mutex->Lock(absl::InfinitePast());
  ASSERT_OK(result);
  EXPECT_EQ(*result, RobustMutex::LockResult::kOwnerDied);
  ASSERT_OK(mutex->Unlock());
  result = mutex->Lock(absl::InfinitePast());
  ASSERT_OK(result);
  EXPECT_EQ(*result, RobustMutex::LockResult::kNotRecoverable);
  result = mutex->Lock(absl::InfiniteFuture());
  ASSERT_OK(result);
  EXPECT_EQ(*result, RobustMutex::LockResult::kNotRecoverable);
  // Seeing it did not lock it: another process sees the same at once, by a
  // try, a timed and an untimed lock.
  absl::StatusOr<std::unique_ptr<ChildProcess>> other =
      backend().Fork({}, [&](ChildContext&) {
        for (absl::Time deadline :
             {absl::InfinitePast(), absl::Now() + absl::Seconds(30),
              absl::InfiniteFuture()}) {
          absl::StatusOr<RobustMutex::LockResult> seen = mutex->Lock(deadline);
          if (!seen.ok() || *seen != RobustMutex::LockResult::kNotRecoverable)
            return 1;
        }
        return 0;
      });
  ASSERT_OK(other);
  EXPECT_EQ(WaitFor(**other), Exited(0));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SharedMemoryTest,
                         ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace procspec::platform
