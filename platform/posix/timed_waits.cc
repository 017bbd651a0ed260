// The posix backend's timed waits (platform.h): POSIX's, on the realtime
// clock.
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include <cerrno>

#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/posix/internal/thread_sanitizer.h"
#include "platform/posix/posix_backend.h"

namespace procspec::platform::posix {

bool PosixBackend::WaitSemaphoreUntil(void* semaphore, absl::Time deadline) {
  const timespec until = absl::ToTimespec(deadline);
  // sem_timedwait fails with ETIMEDOUT only once the realtime clock has
  // reached `until`: never early. EINTR goes round with the same deadline.
  while (sem_timedwait(static_cast<sem_t*>(semaphore), &until) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

int PosixBackend::LockMutexUntil(void* mutex, absl::Time deadline) {
  const timespec until = absl::ToTimespec(deadline);
  const int error =
      pthread_mutex_timedlock(static_cast<pthread_mutex_t*>(mutex), &until);
  if (error == EOWNERDEAD) internal::NoteMutexLockedUnseen(mutex);
  return error;
}

}  // namespace procspec::platform::posix
