// RobustLock (beyond CPython): a robust process-shared mutex in shared memory.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/shared_memory.h"
#include "process/errors.h"
#include "process/internal/deadline.h"
#include "process/internal/semlock.h"
#include "process/synchronize.h"

namespace procspec {
namespace sync_internal {

struct RobustState {
  explicit RobustState(std::shared_ptr<platform::SharedRegion> region_in)
      : region(std::move(region_in)),
        mutex(platform::RobustMutex::At(region->data())) {}

  const std::shared_ptr<platform::SharedRegion> region;
  const platform::RobustMutex mutex;
};

RegionRef SaveRobust(const std::shared_ptr<RobustState>& state) {
  if (state == nullptr) return RegionRef();
  return SendRegion(state->region.get(), 0);
}

std::shared_ptr<RobustState> LoadRobust(const RegionRef& wire) {
  std::shared_ptr<platform::SharedRegion> region =
      ReceiveRegion(wire, platform::RobustMutex::kSize);
  if (region == nullptr) return nullptr;
  if (wire.offset != 0) {
    throw std::runtime_error("a received RobustLock has a bad offset");
  }
  return std::make_shared<RobustState>(std::move(region));
}

}  // namespace sync_internal

namespace {

using sync_internal::RobustState;

// The RobustLocks a thread of this process holds. While the mutex is held its
// memory must stay mapped even if every handle is dropped: the C library keeps
// the held mutex on the thread's robust list, which points into it. A process
// that exits holding one (as a dying holder does, on purpose) leaves its state
// here, reachable from a global rather than kept alive by a cycle that leak
// checkers rightly report.
class HeldRobustLocks {
 public:
  static void Hold(const std::shared_ptr<RobustState>& state) {
    Instance& instance = Get();
    std::lock_guard<std::mutex> lock(instance.mu);
    instance.held.emplace(state.get(), state);
  }

  // The state's last reference may be the one kept here: it is dropped
  // outside the lock.
  static void Drop(const RobustState* state) {
    std::shared_ptr<RobustState> keep;
    Instance& instance = Get();
    std::lock_guard<std::mutex> lock(instance.mu);
    auto it = instance.held.find(state);
    if (it == instance.held.end()) return;
    keep = std::move(it->second);
    instance.held.erase(it);
  }

 private:
  struct Instance {
    std::mutex mu;
    std::map<const RobustState*, std::shared_ptr<RobustState>> held;
  };
  // Never destroyed: a thread may hold a lock while static destructors run.
  static Instance& Get() {
    static Instance* const instance = new Instance();
    return *instance;
  }
};

absl::Status Empty() {
  return absl::FailedPreconditionError("an empty RobustLock handle");
}

}  // namespace

absl::StatusOr<RobustLock> RobustLock::Create() {
  absl::StatusOr<platform::SharedRegion> region =
      platform::CreateSharedRegion(platform::RobustMutex::kSize);
  if (!region.ok()) return OSError(region.status());
  auto state = std::make_shared<sync_internal::RobustState>(
      std::make_shared<platform::SharedRegion>(*std::move(region)));
  absl::StatusOr<platform::RobustMutex> mutex =
      platform::RobustMutex::Init(state->region->data());
  if (!mutex.ok()) return OSError(mutex.status());
  return RobustLock(std::move(state));
}

absl::StatusOr<RobustLock::AcquireResult> RobustLock::acquire(
    bool block, std::optional<double> timeout) const {
  if (state_ == nullptr) return Empty();
  if (block) {
    if (absl::Status checked = internal::CheckTimeout(timeout); !checked.ok())
      return checked;
  }
  absl::StatusOr<platform::RobustMutex::LockResult> result =
      state_->mutex.Lock(sync_internal::DeadlineFor(block, timeout));
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kFailedPrecondition) {
      return RuntimeError(
          "cannot acquire a RobustLock this thread already holds");
    }
    return OSError(result.status());
  }
  AcquireResult acquired = AcquireResult::kNotAcquired;
  switch (*result) {
    case platform::RobustMutex::LockResult::kTimedOut:
      return AcquireResult::kNotAcquired;
    case platform::RobustMutex::LockResult::kNotRecoverable:
      return RuntimeError(
          "RobustLock is not recoverable: its holder died and it was "
          "released without make_consistent()");
    case platform::RobustMutex::LockResult::kLocked:
      acquired = AcquireResult::kAcquired;
      break;
    case platform::RobustMutex::LockResult::kOwnerDied:
      acquired = AcquireResult::kOwnerDied;
      break;
  }
  HeldRobustLocks::Hold(state_);
  return acquired;
}

absl::Status RobustLock::make_consistent() const {
  if (state_ == nullptr) return Empty();
  absl::Status status = state_->mutex.MakeConsistent();
  if (status.ok()) return status;
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return RuntimeError(
        "make_consistent() is only valid after acquire() reported that the "
        "previous owner died");
  }
  return OSError(status);
}

absl::Status RobustLock::release() const {
  if (state_ == nullptr) return Empty();
  absl::Status status = state_->mutex.Unlock();
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return RuntimeError("cannot release un-acquired lock");
  }
  if (!status.ok()) return OSError(status);
  HeldRobustLocks::Drop(state_.get());
  return absl::OkStatus();
}

}  // namespace procspec
