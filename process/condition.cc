// Condition and Event: CPython's synchronize.py logic over SemLocks. A
// Condition is its lock plus three semaphores (sleepers, wakers, and the one
// waiters block on), so that notify() in one process wakes a wait() in
// another; an Event is a Condition(Lock()) and a Semaphore(0) as its flag.
#include <climits>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/shared_memory.h"
#include "process/errors.h"
#include "process/internal/semlock.h"
#include "process/synchronize.h"

namespace procspec {
namespace sync_internal {

struct ConditionState {
  std::shared_ptr<SemLock> lock;
  std::shared_ptr<SemLock> sleeping;  // Semaphore(0): one per waiter
  std::shared_ptr<SemLock> woken;     // Semaphore(0): one per woken waiter
  std::shared_ptr<SemLock> wait;      // Semaphore(0): what waiters block on
};

namespace {

using platform::SharedRegion;
using platform::SharedSemaphore;

// A region for `count` semaphores.
absl::StatusOr<std::shared_ptr<SharedRegion>> MakeRegion(int count) {
  absl::StatusOr<SharedRegion> region =
      platform::CreateSharedRegion(count * SharedSemaphore::kSize);
  if (!region.ok()) return OSError(region.status());
  return std::make_shared<SharedRegion>(*std::move(region));
}

// Semaphore(0) at slot `slot` of `region`.
absl::StatusOr<std::shared_ptr<SemLock>> CounterAt(
    const std::shared_ptr<SharedRegion>& region, int slot) {
  return SemLock::CreateIn(region, slot * SharedSemaphore::kSize,
                           SemLock::Kind::kSemaphore, 0,
                           SharedSemaphore::MaxValue());
}

// A ConditionState for `lock` (nullptr: make `lock_kind` in the same region
// as the three counters).
absl::StatusOr<std::shared_ptr<ConditionState>> MakeState(
    std::shared_ptr<SemLock> lock, SemLock::Kind lock_kind,
    std::shared_ptr<SharedRegion>* region_out = nullptr, int extra_slots = 0) {
  const int own_lock = lock == nullptr ? 1 : 0;
  absl::StatusOr<std::shared_ptr<SharedRegion>> region =
      MakeRegion(3 + own_lock + extra_slots);
  if (!region.ok()) return region.status();
  auto state = std::make_shared<ConditionState>();
  if (own_lock) {
    absl::StatusOr<std::shared_ptr<SemLock>> made =
        SemLock::CreateIn(*region, 3 * SharedSemaphore::kSize, lock_kind, 1, 1);
    if (!made.ok()) return made.status();
    lock = *std::move(made);
  }
  state->lock = std::move(lock);
  std::shared_ptr<SemLock>* counters[] = {&state->sleeping, &state->woken,
                                          &state->wait};
  for (int slot = 0; slot < 3; ++slot) {
    absl::StatusOr<std::shared_ptr<SemLock>> counter = CounterAt(*region, slot);
    if (!counter.ok()) return counter.status();
    *counters[slot] = *std::move(counter);
  }
  if (region_out != nullptr) *region_out = *region;
  return state;
}

absl::Status Empty() {
  return absl::FailedPreconditionError("an empty Condition handle");
}

}  // namespace

ConditionWire SaveCondition(const std::shared_ptr<ConditionState>& state) {
  if (state == nullptr) return ConditionWire();
  return ConditionWire{.lock = SaveSemLock(state->lock),
                       .sleeping = SaveSemLock(state->sleeping),
                       .woken = SaveSemLock(state->woken),
                       .wait = SaveSemLock(state->wait)};
}

std::shared_ptr<ConditionState> LoadCondition(const ConditionWire& wire) {
  auto state = std::make_shared<ConditionState>();
  state->lock = LoadSemLock(wire.lock);
  state->sleeping = LoadSemLock(wire.sleeping);
  state->woken = LoadSemLock(wire.woken);
  state->wait = LoadSemLock(wire.wait);
  if (state->lock == nullptr && state->sleeping == nullptr) return nullptr;
  if (state->lock == nullptr || state->sleeping == nullptr ||
      state->woken == nullptr || state->wait == nullptr) {
    throw std::runtime_error("a received Condition is incomplete");
  }
  return state;
}

}  // namespace sync_internal

using sync_internal::ConditionState;
using sync_internal::SemLock;

absl::StatusOr<Condition> Condition::Create() {
  absl::StatusOr<std::shared_ptr<ConditionState>> state =
      sync_internal::MakeState(nullptr, SemLock::Kind::kRecursiveMutex);
  if (!state.ok()) return state.status();
  return Condition(*std::move(state));
}

absl::StatusOr<Condition> Condition::Create(Lock lock) {
  if (!lock.valid()) return absl::InvalidArgumentError("an empty Lock handle");
  absl::StatusOr<std::shared_ptr<ConditionState>> state =
      sync_internal::MakeState(lock.semlock_, SemLock::Kind::kSemaphore);
  if (!state.ok()) return state.status();
  return Condition(*std::move(state));
}

absl::StatusOr<Condition> Condition::Create(RLock lock) {
  if (!lock.valid()) {
    return absl::InvalidArgumentError("an empty RLock handle");
  }
  absl::StatusOr<std::shared_ptr<ConditionState>> state =
      sync_internal::MakeState(lock.semlock_, SemLock::Kind::kRecursiveMutex);
  if (!state.ok()) return state.status();
  return Condition(*std::move(state));
}

bool Condition::acquire(bool block, std::optional<double> timeout) const {
  if (state_ == nullptr) return false;
  return state_->lock->Acquire(block, timeout);
}

absl::Status Condition::release() const {
  if (state_ == nullptr) return sync_internal::Empty();
  return state_->lock->Release();
}

absl::StatusOr<bool> Condition::wait(std::optional<double> timeout) const {
  if (state_ == nullptr) return sync_internal::Empty();
  ConditionState& state = *state_;
  if (!state.lock->IsMine()) {
    return AssertionError("must acquire() condition before using wait()");
  }
  // This thread is going to sleep.
  if (absl::Status status = state.sleeping->Release(); !status.ok()) {
    return status;
  }
  // Release the lock, all of an RLock's levels.
  const int count = state.lock->Count();
  for (int i = 0; i < count; ++i) {
    if (absl::Status status = state.lock->Release(); !status.ok()) {
      return status;
    }
  }
  // Wait for a notification or the timeout.
  const bool notified = state.wait->Acquire(true, timeout);
  // This thread has woken; take the lock back as it was.
  absl::Status woken = state.woken->Release();
  for (int i = 0; i < count; ++i) state.lock->Acquire(true, std::nullopt);
  if (!woken.ok()) return woken;
  return notified;
}

absl::StatusOr<bool> Condition::WaitFor(const std::function<bool()>& predicate,
                                        std::optional<double> timeout) const {
  bool result = predicate();
  if (result) return result;
  std::optional<absl::Time> end;
  if (timeout.has_value()) {
    end = absl::Now() + absl::Seconds(std::isnan(*timeout) ? 0.0 : *timeout);
  }
  std::optional<double> wait_time;
  while (!result) {
    if (end.has_value()) {
      const absl::Duration left = *end - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      wait_time = absl::ToDoubleSeconds(left);
    }
    absl::StatusOr<bool> waited = wait(wait_time);
    if (!waited.ok()) return waited.status();
    result = predicate();
  }
  return result;
}

absl::Status Condition::notify(int n) const {
  if (state_ == nullptr) return sync_internal::Empty();
  ConditionState& state = *state_;
  if (!state.lock->IsMine()) return AssertionError("lock is not owned");
  // CPython asserts that nobody is blocked on a token left over.
  if (state.wait->Acquire(false, std::nullopt)) return AssertionError("");
  // Account for the waiters that timed out since the last notify: take one
  // sleeper off for every woken one, and rezero woken.
  while (state.woken->Acquire(false, std::nullopt)) {
    if (!state.sleeping->Acquire(false, std::nullopt)) {
      return AssertionError(
          "notify: Bug in sleeping_count.acquire- res should not be False");
    }
  }
  int sleepers = 0;
  while (sleepers < n && state.sleeping->Acquire(false, std::nullopt)) {
    // Wake up one sleeper.
    if (absl::Status status = state.wait->Release(); !status.ok()) {
      return status;
    }
    ++sleepers;
  }
  if (sleepers > 0) {
    // Wait for each woken sleeper to say so.
    for (int i = 0; i < sleepers; ++i) {
      state.woken->Acquire(true, std::nullopt);
    }
    // Rezero wait in case some waiters timed out just now.
    while (state.wait->Acquire(false, std::nullopt)) {
    }
  }
  return absl::OkStatus();
}

absl::Status Condition::notify_all() const { return notify(INT_MAX); }

std::string Condition::repr() const {
  if (state_ == nullptr) return "<Condition(unknown, unknown)>";
  return absl::StrCat(
      "<Condition(", sync_internal::LockRepr(state_->lock.get()), ", ",
      state_->sleeping->GetValue() - state_->woken->GetValue(), ")>");
}

// ---- Event

absl::StatusOr<Event> Event::Create() {
  // One region: the three counters, the Condition's Lock and the flag.
  std::shared_ptr<platform::SharedRegion> region;
  absl::StatusOr<std::shared_ptr<ConditionState>> state =
      sync_internal::MakeState(nullptr, SemLock::Kind::kSemaphore, &region,
                               /*extra_slots=*/1);
  if (!state.ok()) return state.status();
  absl::StatusOr<std::shared_ptr<SemLock>> flag = SemLock::CreateIn(
      region, 4 * platform::SharedSemaphore::kSize, SemLock::Kind::kSemaphore,
      0, platform::SharedSemaphore::MaxValue());
  if (!flag.ok()) return flag.status();
  return Event(Condition(*std::move(state)), Semaphore(*std::move(flag)));
}

bool Event::is_set() const {
  if (!cond_.valid()) return false;
  std::scoped_lock hold(cond_);
  if (flag_.acquire(false)) {
    (void)flag_.release();
    return true;
  }
  return false;
}

void Event::set() const {
  if (!cond_.valid()) return;
  std::scoped_lock hold(cond_);
  (void)flag_.acquire(false);
  (void)flag_.release();
  (void)cond_.notify_all();
}

void Event::clear() const {
  if (!cond_.valid()) return;
  std::scoped_lock hold(cond_);
  (void)flag_.acquire(false);
}

bool Event::wait(std::optional<double> timeout) const {
  if (!cond_.valid()) return false;
  std::scoped_lock hold(cond_);
  if (flag_.acquire(false)) {
    (void)flag_.release();
  } else {
    (void)cond_.wait(timeout);
  }
  if (flag_.acquire(false)) {
    (void)flag_.release();
    return true;
  }
  return false;
}

}  // namespace procspec
