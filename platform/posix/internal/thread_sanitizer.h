// ThreadSanitizer's view of mutexes it cannot see being locked. gcc 12's
// runtime intercepts neither pthread_mutex_clocklock (linux's timed lock on
// CLOCK_MONOTONIC) nor the EOWNERDEAD result of pthread_mutex_timedlock (the
// lock is taken, but only a zero result is recorded), and then reports the
// matching pthread_mutex_unlock as an unlock of an unlocked mutex. After such
// a lock is taken, NoteMutexLockedUnseen tells it. Nothing in other builds.
#ifndef PROCSPEC_PLATFORM_POSIX_INTERNAL_THREAD_SANITIZER_H_
#define PROCSPEC_PLATFORM_POSIX_INTERNAL_THREAD_SANITIZER_H_

#if defined(__SANITIZE_THREAD__)  // gcc
#define PROCSPEC_THREAD_SANITIZER 1
#elif defined(__has_feature)  // clang
#if __has_feature(thread_sanitizer)
#define PROCSPEC_THREAD_SANITIZER 1
#endif
#endif
#ifndef PROCSPEC_THREAD_SANITIZER
#define PROCSPEC_THREAD_SANITIZER 0
#endif

#if PROCSPEC_THREAD_SANITIZER
#include <sanitizer/tsan_interface.h>
#endif

namespace procspec::platform::internal {

// The calling thread has just locked `mutex` (a pthread_mutex_t) by a call
// ThreadSanitizer did not record: it is told of a successful try-lock.
inline void NoteMutexLockedUnseen([[maybe_unused]] void* mutex) {
#if PROCSPEC_THREAD_SANITIZER
  __tsan_mutex_pre_lock(mutex, __tsan_mutex_try_lock);
  __tsan_mutex_post_lock(mutex, __tsan_mutex_try_lock, 0);
#endif
}

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_POSIX_INTERNAL_THREAD_SANITIZER_H_
