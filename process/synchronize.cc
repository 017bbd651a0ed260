// Lock, RLock, Semaphore and BoundedSemaphore: thin handles on a SemLock
// (process/internal/semlock.h), as in CPython's synchronize.py.
#include "process/synchronize.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/shared_memory.h"
#include "process/internal/deadline.h"
#include "process/internal/semlock.h"
#include "process/process.h"

namespace procspec {

using sync_internal::SemLock;

namespace sync_internal {

WaitResult SemLockHandle::acquire(bool block,
                                  std::optional<double> timeout) const {
  if (semlock_ == nullptr) return false;
  // block=false ignores the timeout, as CPython does.
  if (block) {
    if (absl::Status checked = internal::CheckTimeout(timeout); !checked.ok())
      return checked;
  }
  return semlock_->Acquire(block, timeout);
}

absl::Status SemLockHandle::release() const {
  if (semlock_ == nullptr) {
    return absl::FailedPreconditionError("release() on an empty handle");
  }
  return semlock_->Release();
}

std::string LockRepr(SemLock* semlock) {
  const bool recursive =
      semlock != nullptr && semlock->kind() == SemLock::Kind::kRecursiveMutex;
  std::string name = "unknown";
  std::string count = "unknown";
  if (semlock != nullptr) {
    if (semlock->IsMine()) {
      // CPython appends "|<thread name>" in a thread other than the main one;
      // C++ threads have no names.
      name = current_process().name();
      count = absl::StrCat(semlock->Count());
    } else if (semlock->GetValue() == 1) {
      name = "None";
      count = "0";
    } else if (semlock->Count() > 0) {
      name = "SomeOtherThread";
      count = "nonzero";
    } else {
      name = "SomeOtherProcess";
      count = "nonzero";
    }
  }
  if (recursive) return absl::StrCat("<RLock(", name, ", ", count, ")>");
  return absl::StrCat("<Lock(owner=", name, ")>");
}

}  // namespace sync_internal

absl::StatusOr<Lock> Lock::Create() {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock =
      SemLock::Create(SemLock::Kind::kSemaphore, 1, 1);
  if (!semlock.ok()) return semlock.status();
  return Lock(*std::move(semlock));
}

std::string Lock::repr() const {
  return sync_internal::LockRepr(semlock_.get());
}

absl::StatusOr<RLock> RLock::Create() {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock =
      SemLock::Create(SemLock::Kind::kRecursiveMutex, 1, 1);
  if (!semlock.ok()) return semlock.status();
  return RLock(*std::move(semlock));
}

std::string RLock::repr() const {
  if (semlock_ == nullptr) return "<RLock(unknown, unknown)>";
  return sync_internal::LockRepr(semlock_.get());
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

std::string Semaphore::repr() const {
  if (semlock_ == nullptr) return "<Semaphore(value=unknown)>";
  return absl::StrCat("<Semaphore(value=", semlock_->GetValue(), ")>");
}

absl::StatusOr<BoundedSemaphore> BoundedSemaphore::Create(int value) {
  absl::StatusOr<std::shared_ptr<SemLock>> semlock =
      SemLock::Create(SemLock::Kind::kSemaphore, value, value);
  if (!semlock.ok()) return semlock.status();
  return BoundedSemaphore(*std::move(semlock));
}

std::string BoundedSemaphore::repr() const {
  if (semlock_ == nullptr) {
    return "<BoundedSemaphore(value=unknown, maxvalue=unknown)>";
  }
  return absl::StrCat("<BoundedSemaphore(value=", semlock_->GetValue(),
                      ", maxvalue=", semlock_->maxvalue(), ")>");
}

}  // namespace procspec
