// Backend's default timed waits (platform.h): POSIX's, on the realtime clock.
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include <cerrno>
#include <cstdint>

#include "absl/time/time.h"
#include "platform/internal/thread_sanitizer.h"
#include "platform/platform.h"

namespace procspec::platform {

bool Backend::WaitSemaphoreUntil(void* semaphore, absl::Time deadline) {
  const timespec until = absl::ToTimespec(deadline);
  // sem_timedwait fails with ETIMEDOUT only once the realtime clock has
  // reached `until`: never early. EINTR goes round with the same deadline.
  while (sem_timedwait(static_cast<sem_t*>(semaphore), &until) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

int Backend::WaitWordUntil(const void*, std::uint32_t, absl::Time) {
  return ENOSYS;
}

void Backend::WakeWord(const void*) {}

int Backend::LockMutexUntil(void* mutex, absl::Time deadline) {
  const timespec until = absl::ToTimespec(deadline);
  const int error =
      pthread_mutex_timedlock(static_cast<pthread_mutex_t*>(mutex), &until);
  if (error == EOWNERDEAD) internal::NoteMutexLockedUnseen(mutex);
  return error;
}

}  // namespace procspec::platform
