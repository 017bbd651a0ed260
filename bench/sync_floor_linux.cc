// The benchmark floors of sync_floor.h, on Linux futexes.
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>

#include "bench/sync_floor.h"

namespace procspec::bench::floor {
namespace {

std::atomic<std::uint32_t>* Word(void* memory) {
  return static_cast<std::atomic<std::uint32_t>*>(memory);
}

// Process-shared (no FUTEX_PRIVATE_FLAG): the word is in shared memory.
void FutexWait(std::atomic<std::uint32_t>* word, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT,
          expected, nullptr, nullptr, 0);
}

void FutexWake(std::atomic<std::uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE, 1,
          nullptr, nullptr, 0);
}

}  // namespace

// 0 free, 1 held, 2 held with (possible) sleepers (Drepper's "Futexes Are
// Tricky", mutex 2).
RawSharedLock RawSharedLock::Init(void* memory) {
  new (memory) std::atomic<std::uint32_t>(0);
  return RawSharedLock(memory);
}

void RawSharedLock::Lock() const {
  std::atomic<std::uint32_t>* word = Word(word_);
  std::uint32_t state = 0;
  if (word->compare_exchange_strong(state, 1, std::memory_order_acquire)) {
    return;
  }
  if (state != 2) state = word->exchange(2, std::memory_order_acquire);
  while (state != 0) {
    FutexWait(word, 2);
    state = word->exchange(2, std::memory_order_acquire);
  }
}

void RawSharedLock::Unlock() const {
  std::atomic<std::uint32_t>* word = Word(word_);
  if (word->exchange(0, std::memory_order_release) == 2) FutexWake(word);
}

RawSharedMutex RawSharedMutex::Init(void* memory) {
  static_assert(sizeof(pthread_mutex_t) <= kSize);
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(static_cast<pthread_mutex_t*>(memory), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return RawSharedMutex(memory);
}

void RawSharedMutex::Lock() const {
  pthread_mutex_lock(static_cast<pthread_mutex_t*>(mutex_));
}

void RawSharedMutex::Unlock() const {
  pthread_mutex_unlock(static_cast<pthread_mutex_t*>(mutex_));
}

RawFutexFlag RawFutexFlag::Init(void* memory) {
  new (memory) std::atomic<std::uint32_t>(0);
  return RawFutexFlag(memory);
}

void RawFutexFlag::Post() const {
  std::atomic<std::uint32_t>* word = Word(word_);
  word->store(1, std::memory_order_release);
  FutexWake(word);
}

void RawFutexFlag::Wait() const {
  std::atomic<std::uint32_t>* word = Word(word_);
  while (word->exchange(0, std::memory_order_acquire) != 1) {
    FutexWait(word, 0);
  }
}

}  // namespace procspec::bench::floor
