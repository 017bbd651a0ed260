// The physical floors the synchronization benchmarks (bench/sync_bench.cc)
// measure Lock against, in the same binary and run. Not for library code. Each
// object lives in caller-provided shared memory (a SharedRegion), so two
// processes mapping the same region use the same object.
#ifndef PROCSPEC_BENCH_SYNC_FLOOR_H_
#define PROCSPEC_BENCH_SYNC_FLOOR_H_

#include <cstddef>

namespace procspec::bench::floor {

// A raw lock on one 32-bit word: compare-and-swap 0 -> 1 to acquire, exchange
// to 0 to release, no spinning; a contended acquirer sleeps on a
// process-shared futex (Linux; a sem_t elsewhere is not provided). The
// uncontended path is two atomic read-modify-writes and no system call.
class RawSharedLock {
 public:
  static constexpr std::size_t kSize = 4;
  // Initializes an unlocked lock at `memory` (kSize bytes, 4-aligned).
  static RawSharedLock Init(void* memory);
  static RawSharedLock At(void* memory) { return RawSharedLock(memory); }

  void Lock() const;
  void Unlock() const;

 private:
  explicit RawSharedLock(void* memory) : word_(memory) {}
  void* word_;
};

// A process-shared pthread mutex (PTHREAD_PROCESS_SHARED, default type).
class RawSharedMutex {
 public:
  static constexpr std::size_t kSize = 64;
  static RawSharedMutex Init(void* memory);
  static RawSharedMutex At(void* memory) { return RawSharedMutex(memory); }
  void Lock() const;
  void Unlock() const;

 private:
  explicit RawSharedMutex(void* memory) : mutex_(memory) {}
  void* mutex_;
};

// A one-slot handoff between processes on one 32-bit word and a futex: Post()
// sets it and wakes a waiter; Wait() sleeps until it is set and clears it.
// Two of them make the floor of a wake-the-other-process round trip.
class RawFutexFlag {
 public:
  static constexpr std::size_t kSize = 4;
  static RawFutexFlag Init(void* memory);
  static RawFutexFlag At(void* memory) { return RawFutexFlag(memory); }
  void Post() const;
  void Wait() const;

 private:
  explicit RawFutexFlag(void* memory) : word_(memory) {}
  void* word_;
};

}  // namespace procspec::bench::floor

#endif  // PROCSPEC_BENCH_SYNC_FLOOR_H_
