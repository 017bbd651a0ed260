// Costs of the synchronization primitives beside their physical floors, in the
// same binary and run, as medians of repeated batches (not a test):
//  - an uncontended Lock acquire()+release() pair, beside a raw CAS/exchange
//    lock on a futex word in shared memory and a process-shared pthread
//    mutex;
//  - a round trip between two processes handing two Locks back and forth
//    (each releases the Lock the other waits on), beside the same round trip
//    over two raw futex flags in shared memory, two Semaphores, and two pipes
//    (a 1-byte write and read each way).
//   bazel run -c opt //bench:sync_bench [-- --backend=posix]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/sync_floor.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"
#include "process/inherited_handle.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace {

using procspec::bench::floor::RawFutexFlag;
using procspec::bench::floor::RawSharedLock;
using procspec::bench::floor::RawSharedMutex;

constexpr int kReps = 21;           // batches; the median batch is reported
constexpr int kLockPairs = 200000;  // per batch
constexpr int kTripReps = 9;
constexpr int kRoundTrips = 4000;        // per batch
constexpr std::size_t kFlagOffset = 64;  // the second flag, a cache line on

void Fail(const char* what) {
  std::fprintf(stderr, "sync_bench: %s failed\n", what);
  procspec::Exit(1);
}

// The median of `reps` batches of `count` operations, per operation.
absl::Duration Median(std::vector<absl::Duration> per_op) {
  std::sort(per_op.begin(), per_op.end());
  return per_op[per_op.size() / 2];
}

absl::Duration Batch(int count, const std::function<void()>& op) {
  const absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) op();
  return (absl::Now() - start) / count;
}

void LockEcho(procspec::Lock ping, procspec::Lock pong, int count) {
  for (int i = 0; i < count; ++i) {
    if (!ping.acquire() || !pong.release().ok()) procspec::Exit(1);
  }
}
PROCSPEC_TARGET(LockEcho);

void SemaphoreEcho(procspec::Semaphore ping, procspec::Semaphore pong,
                   int count) {
  for (int i = 0; i < count; ++i) {
    if (!ping.acquire() || !pong.release().ok()) procspec::Exit(1);
  }
}
PROCSPEC_TARGET(SemaphoreEcho);

void FutexEcho(procspec::InheritedHandle region, int count) {
  absl::StatusOr<procspec::platform::SharedRegion> mapped =
      procspec::platform::MapSharedRegion(region.get());
  if (!mapped.ok()) procspec::Exit(1);
  RawFutexFlag ping = RawFutexFlag::At(mapped->data());
  RawFutexFlag pong =
      RawFutexFlag::At(static_cast<char*>(mapped->data()) + kFlagOffset);
  for (int i = 0; i < count; ++i) {
    ping.Wait();
    pong.Post();
  }
}
PROCSPEC_TARGET(FutexEcho);

void PipeEcho(procspec::InheritedHandle in, procspec::InheritedHandle out,
              int count) {
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::string> byte =
        procspec::platform::ReadExactly(in.get(), 1);
    if (!byte.ok() || !procspec::platform::WriteAll(out.get(), *byte).ok())
      procspec::Exit(1);
  }
}
PROCSPEC_TARGET(PipeEcho);

void Join(procspec::Process& p) {
  if (!p.join().ok() || !p.exitcode().ok() || p.exitcode()->value_or(1) != 0)
    Fail("an echo child");
}

// Median round trip: `trip` once per round trip while `child` echoes
// kTripReps * kRoundTrips times.
absl::Duration RoundTrips(procspec::Process& child,
                          const std::function<void()>& trip) {
  if (!child.start().ok()) Fail("start");
  std::vector<absl::Duration> batches;
  for (int rep = 0; rep < kTripReps; ++rep) {
    batches.push_back(Batch(kRoundTrips, trip));
  }
  Join(child);
  return Median(batches);
}

void Row(const char* what, absl::Duration median, absl::Duration floor) {
  std::printf("%-58s %10.1f ns  %6.2fx\n", what,
              absl::ToDoubleNanoseconds(median),
              absl::FDivDuration(median, floor));
}

}  // namespace

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  bool uncontended_only = false;  // --uncontended_only: for a profiler
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--uncontended_only") == 0) {
      uncontended_only = true;
    } else if (std::strncmp(argv[i], "--backend=", 10) == 0 &&
               !procspec::platform::SelectBackend(argv[i] + 10).ok()) {
      return 2;
    }
  }

  // ---- Uncontended acquire+release, batches interleaved so that a noisy
  // moment costs every contender alike.
  absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
  absl::StatusOr<procspec::platform::SharedRegion> floor_region =
      procspec::platform::CreateSharedRegion(4096);
  if (!lock.ok() || !floor_region.ok()) Fail("setup");
  const RawSharedLock raw_lock = RawSharedLock::Init(floor_region->data());
  const RawSharedMutex raw_mutex = RawSharedMutex::Init(
      static_cast<char*>(floor_region->data()) + kFlagOffset);
  absl::StatusOr<procspec::platform::SharedSemaphore> raw_sem =
      procspec::platform::SharedSemaphore::Init(
          static_cast<char*>(floor_region->data()) + 2 * kFlagOffset, 1);
  if (!raw_sem.ok()) Fail("setup");
  std::vector<absl::Duration> lock_pairs, raw_pairs, mutex_pairs, sem_pairs;
  for (int rep = 0; rep < kReps; ++rep) {
    lock_pairs.push_back(Batch(kLockPairs, [&] {
      if (!lock->acquire() || !lock->release().ok()) Fail("Lock");
    }));
    raw_pairs.push_back(Batch(kLockPairs, [&] {
      raw_lock.Lock();
      raw_lock.Unlock();
    }));
    sem_pairs.push_back(Batch(kLockPairs, [&] {
      if (!raw_sem->Wait(absl::InfiniteFuture()) || !*raw_sem->PostBelow(1))
        Fail("SharedSemaphore");
    }));
    mutex_pairs.push_back(Batch(kLockPairs, [&] {
      raw_mutex.Lock();
      raw_mutex.Unlock();
    }));
  }
  const absl::Duration raw_pair = Median(raw_pairs);
  if (uncontended_only) {
    Row("raw CAS/exchange lock acquire+release (floor)", raw_pair, raw_pair);
    Row("Lock acquire+release, uncontended", Median(lock_pairs), raw_pair);
    Row("its semaphore (platform SharedSemaphore Wait+PostBelow)",
        Median(sem_pairs), raw_pair);
    return 0;
  }

  // ---- Round trips between two processes.
  absl::StatusOr<procspec::Lock> lock_ping = procspec::Lock::Create();
  absl::StatusOr<procspec::Lock> lock_pong = procspec::Lock::Create();
  if (!lock_ping.ok() || !lock_pong.ok() || !lock_ping->acquire() ||
      !lock_pong->acquire()) {
    Fail("Lock setup");
  }
  procspec::Process lock_child(
      LockEcho, std::tuple{*lock_ping, *lock_pong, kTripReps * kRoundTrips});
  const absl::Duration lock_trip = RoundTrips(lock_child, [&] {
    if (!lock_ping->release().ok() || !lock_pong->acquire()) Fail("Lock trip");
  });

  absl::StatusOr<procspec::platform::SharedRegion> flag_region =
      procspec::platform::CreateSharedRegion(4096);
  if (!flag_region.ok()) Fail("region");
  const RawFutexFlag ping = RawFutexFlag::Init(flag_region->data());
  const RawFutexFlag pong =
      RawFutexFlag::Init(static_cast<char*>(flag_region->data()) + kFlagOffset);
  procspec::Process futex_child(
      FutexEcho, std::tuple{procspec::InheritedHandle(flag_region->handle()),
                            kTripReps * kRoundTrips});
  const absl::Duration futex_trip = RoundTrips(futex_child, [&] {
    ping.Post();
    pong.Wait();
  });

  absl::StatusOr<procspec::Semaphore> sem_ping = procspec::Semaphore::Create(0);
  absl::StatusOr<procspec::Semaphore> sem_pong = procspec::Semaphore::Create(0);
  if (!sem_ping.ok() || !sem_pong.ok()) Fail("Semaphore setup");
  procspec::Process sem_child(
      SemaphoreEcho, std::tuple{*sem_ping, *sem_pong, kTripReps * kRoundTrips});
  const absl::Duration sem_trip = RoundTrips(sem_child, [&] {
    if (!sem_ping->release().ok() || !sem_pong->acquire()) Fail("Sem trip");
  });

  absl::StatusOr<procspec::platform::PipeEnds> to_child =
      procspec::platform::MakePipe();
  absl::StatusOr<procspec::platform::PipeEnds> to_parent =
      procspec::platform::MakePipe();
  if (!to_child.ok() || !to_parent.ok()) Fail("pipes");
  procspec::Process pipe_child(
      PipeEcho, std::tuple{procspec::InheritedHandle(to_child->read.get()),
                           procspec::InheritedHandle(to_parent->write.get()),
                           kTripReps * kRoundTrips});
  const absl::Duration pipe_trip = RoundTrips(pipe_child, [&] {
    if (!procspec::platform::WriteAll(to_child->write.get(), "x").ok() ||
        !procspec::platform::ReadExactly(to_parent->read.get(), 1).ok()) {
      Fail("pipe trip");
    }
  });

  std::printf("backend %s; medians of %d batches of %d pairs, %d of %d trips\n",
              std::string(procspec::platform::CurrentBackend().name()).c_str(),
              kReps, kLockPairs, kTripReps, kRoundTrips);
  std::printf("%-58s %13s  %7s\n", "operation", "median", "ratio");
  Row("raw CAS/exchange lock acquire+release (floor)", raw_pair, raw_pair);
  Row("Lock acquire+release, uncontended", Median(lock_pairs), raw_pair);
  Row("its semaphore (platform SharedSemaphore Wait+PostBelow)",
      Median(sem_pairs), raw_pair);
  Row("pthread pshared mutex lock+unlock", Median(mutex_pairs), raw_pair);
  Row("raw futex flag round trip, two processes (floor)", futex_trip,
      futex_trip);
  Row("Lock round trip, two processes", lock_trip, futex_trip);
  Row("Semaphore round trip, two processes", sem_trip, futex_trip);
  Row("raw pipe round trip, 1 byte each way", pipe_trip, futex_trip);
  return 0;
}
