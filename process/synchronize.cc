// Lock, RLock, Semaphore and BoundedSemaphore: thin handles on a SemLock
// (process/internal/semlock.h), as in CPython's synchronize.py.
#include "process/synchronize.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/shared_memory.h"
#include "process/internal/semlock.h"

namespace procspec {

using sync_internal::SemLock;

namespace sync_internal {

bool SemLockHandle::acquire(bool block, std::optional<double> timeout) const {
  if (semlock_ == nullptr) return false;
  return semlock_->Acquire(block, timeout);
}

absl::Status SemLockHandle::release() const {
  if (semlock_ == nullptr) {
    return absl::FailedPreconditionError("release() on an empty handle");
  }
  return semlock_->Release();
}

}  // namespace sync_internal

absl::StatusOr<Lock> Lock::Create() {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock =
      SemLock::Create(SemLock::Kind::kSemaphore, 1, 1);
  if (!semlock.ok()) return semlock.status();
  return Lock(*std::move(semlock));
}

absl::StatusOr<RLock> RLock::Create() {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock =
      SemLock::Create(SemLock::Kind::kRecursiveMutex, 1, 1);
  if (!semlock.ok()) return semlock.status();
  return RLock(*std::move(semlock));
}

absl::StatusOr<Semaphore> Semaphore::Create(int value) {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock = SemLock::Create(
      SemLock::Kind::kSemaphore, value, platform::SharedSemaphore::MaxValue());
  if (!semlock.ok()) return semlock.status();
  return Semaphore(*std::move(semlock));
}

int Semaphore::get_value() const {
  return semlock_ == nullptr ? 0 : semlock_->GetValue();
}

absl::StatusOr<BoundedSemaphore> BoundedSemaphore::Create(int value) {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock =
      SemLock::Create(SemLock::Kind::kSemaphore, value, value);
  if (!semlock.ok()) return semlock.status();
  return BoundedSemaphore(*std::move(semlock));
}

}  // namespace procspec
