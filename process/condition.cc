// Condition and Event over a table of waiters in shared memory
// (process/internal/waiter_table.h). A Condition is its lock (CPython's
// rules: an RLock by default, or the Lock or RLock given) and a table; an
// Event is a flag and a table under the table's robust mutex. Unlike
// CPython's (semaphores counting sleepers and wakers, with notify() waiting
// for the woken), a waiter that dies in wait() wedges nobody.
#include <atomic>
#include <climits>
#include <functional>
#include <memory>
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
#include "process/internal/deadline.h"
#include "process/internal/semlock.h"
#include "process/internal/waiter_table.h"
#include "process/synchronize.h"

namespace procspec {
namespace sync_internal {

struct ConditionState {
  std::shared_ptr<SemLock> lock;
  std::shared_ptr<platform::SharedRegion> region;  // holds the table
  std::size_t offset = 0;                          // of the table
  WaiterTable waiters;
};

struct EventState {
  std::shared_ptr<platform::SharedRegion> region;  // the table at offset 0
  WaiterTable waiters;
};

namespace {

using platform::SharedRegion;
using platform::SharedSemaphore;

// A region with a waiter table at offset 0 and `extra` more bytes after it.
absl::StatusOr<std::shared_ptr<SharedRegion>> MakeTableRegion(
    std::size_t extra, WaiterTable& table) {
  absl::StatusOr<SharedRegion> region =
      platform::CreateSharedRegion(WaiterTable::Size() + extra);
  if (!region.ok()) return OSError(region.status());
  absl::StatusOr<WaiterTable> made = WaiterTable::Init(region->data());
  if (!made.ok()) return made.status();
  table = *made;
  return std::make_shared<SharedRegion>(*std::move(region));
}

// A ConditionState for `lock` (nullptr: make a `lock_kind` lock in the
// table's region).
absl::StatusOr<std::shared_ptr<ConditionState>> MakeState(
    std::shared_ptr<SemLock> lock, SemLock::Kind lock_kind) {
  auto state = std::make_shared<ConditionState>();
  const std::size_t extra = lock == nullptr ? SharedSemaphore::kSize : 0;
  absl::StatusOr<std::shared_ptr<SharedRegion>> region =
      MakeTableRegion(extra, state->waiters);
  if (!region.ok()) return region.status();
  if (lock == nullptr) {
    absl::StatusOr<std::shared_ptr<SemLock>> made =
        SemLock::CreateIn(*region, WaiterTable::Size(), lock_kind, 1, 1);
    if (!made.ok()) return made.status();
    lock = *std::move(made);
  }
  state->lock = std::move(lock);
  state->region = *std::move(region);
  return state;
}

// A region whose waiter table is at offset 0: without its slots' objects,
// however many waiters this process has had (a child's handle list is
// bounded: kMaxInheritedHandles).
RegionRef SendTable(const SharedRegion* region) {
  return SendRegion(region, 0, WaiterTable::SlotsOffset(), WaiterTable::Size());
}

absl::Status Empty() {
  return absl::FailedPreconditionError("an empty Condition handle");
}

std::atomic<void (*)()> g_wait_blocking_hook{nullptr};
std::atomic<void (*)()> g_wait_table_locked_hook{nullptr};

void RunHook(const std::atomic<void (*)()>& slot) {
  if (void (*hook)() = slot.load(std::memory_order_acquire)) hook();
}

}  // namespace

void SetWaitBlockingHook(void (*hook)()) {
  g_wait_blocking_hook.store(hook, std::memory_order_release);
}

void SetWaitTableLockedHook(void (*hook)()) {
  g_wait_table_locked_hook.store(hook, std::memory_order_release);
}

ConditionWire SaveCondition(const std::shared_ptr<ConditionState>& state) {
  if (state == nullptr) return ConditionWire();
  return ConditionWire{.lock = SaveSemLock(state->lock),
                       .waiters = SendTable(state->region.get())};
}

std::shared_ptr<ConditionState> LoadCondition(const ConditionWire& wire) {
  std::shared_ptr<SemLock> lock = LoadSemLock(wire.lock);
  std::shared_ptr<SharedRegion> region =
      ReceiveRegion(wire.waiters, WaiterTable::Size());
  if (lock == nullptr && region == nullptr) return nullptr;
  if (lock == nullptr || region == nullptr) {
    throw std::runtime_error("a received Condition is incomplete");
  }
  if (wire.waiters.offset != 0) {
    throw std::runtime_error("a received Condition has a bad offset");
  }
  auto state = std::make_shared<ConditionState>();
  state->lock = std::move(lock);
  state->waiters = WaiterTable::At(region->data());
  state->region = std::move(region);
  return state;
}

RegionRef SaveEvent(const std::shared_ptr<EventState>& state) {
  if (state == nullptr) return RegionRef();
  return SendTable(state->region.get());
}

std::shared_ptr<EventState> LoadEvent(const RegionRef& wire) {
  std::shared_ptr<SharedRegion> region =
      ReceiveRegion(wire, WaiterTable::Size());
  if (region == nullptr) return nullptr;
  if (wire.offset != 0) {
    throw std::runtime_error("a received Event has a bad offset");
  }
  auto state = std::make_shared<EventState>();
  state->waiters = WaiterTable::At(region->data());
  state->region = std::move(region);
  return state;
}

// Waits on `table` (its lock held by `hold`, released while blocked) until
// notified or `deadline`: true if notified. The table lock is held again on
// return. `release` runs after this thread counts as a waiter, before it
// blocks (a Condition releases its own lock there); `reacquire` after.
absl::StatusOr<bool> WaitInTable(const WaiterTable& table,
                                 std::optional<WaiterTable::TableLock>& hold,
                                 absl::Time deadline,
                                 const std::function<absl::Status()>& release) {
  absl::StatusOr<int> slot = table.Enter();
  if (!slot.ok()) return slot.status();
  RunHook(g_wait_table_locked_hook);
  hold.reset();
  absl::Status released = release();
  if (released.ok()) {
    RunHook(g_wait_blocking_hook);
    table.Block(*slot, deadline);
  }
  hold.emplace(table);
  // A table that cannot be locked again: the slot stays taken (until a
  // notification finds this thread gone).
  if (!hold->status().ok()) return hold->status();
  const bool notified = table.Leave(*slot);
  if (!released.ok()) return released;
  return notified;
}

}  // namespace sync_internal

using sync_internal::ConditionState;
using sync_internal::EventState;
using sync_internal::SemLock;
using sync_internal::WaiterTable;

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

WaitResult Condition::acquire(bool block, std::optional<double> timeout) const {
  if (state_ == nullptr) return false;
  if (block) {
    if (absl::Status checked = internal::CheckTimeout(timeout); !checked.ok())
      return checked;
  }
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
  absl::StatusOr<absl::Time> deadline = internal::TimeoutDeadline(timeout);
  if (!deadline.ok()) return deadline.status();
  std::optional<WaiterTable::TableLock> hold;
  hold.emplace(state.waiters);
  if (!hold->status().ok()) return hold->status();
  // Released once this thread counts as a waiter, so that a notify() after
  // the release (which needs the lock) reaches it: all of an RLock's levels.
  const int count = state.lock->Count();
  absl::StatusOr<bool> notified = sync_internal::WaitInTable(
      state.waiters, hold, *deadline, [&state, count]() -> absl::Status {
        for (int i = 0; i < count; ++i) {
          if (absl::Status status = state.lock->Release(); !status.ok())
            return status;
        }
        return absl::OkStatus();
      });
  hold.reset();
  // Take the lock back as it was (the levels this thread still holds, if a
  // release failed half-way, are not released twice).
  const int held = state.lock->IsMine() ? state.lock->Count() : 0;
  for (int i = held; i < count; ++i) state.lock->Acquire(true, std::nullopt);
  return notified;
}

absl::StatusOr<bool> Condition::WaitFor(const std::function<bool()>& predicate,
                                        std::optional<double> timeout) const {
  absl::StatusOr<absl::Time> deadline = internal::TimeoutDeadline(timeout);
  if (!deadline.ok()) return deadline.status();
  bool result = predicate();
  if (result) return result;
  std::optional<absl::Time> end;
  if (timeout.has_value()) end = *deadline;
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
  WaiterTable::TableLock hold(state.waiters);
  if (!hold.status().ok()) return hold.status();
  (void)state.waiters.Notify(n);
  return absl::OkStatus();
}

absl::Status Condition::notify_all() const { return notify(INT_MAX); }

std::string Condition::repr() const {
  if (state_ == nullptr) return "<Condition(unknown, unknown)>";
  int waiting = 0;
  {
    WaiterTable::TableLock hold(state_->waiters);
    if (hold.status().ok()) waiting = state_->waiters.Waiting();
  }
  return absl::StrCat("<Condition(",
                      sync_internal::LockRepr(state_->lock.get()), ", ",
                      waiting, ")>");
}

// ---- Event

absl::StatusOr<Event> Event::Create() {
  auto state = std::make_shared<EventState>();
  absl::StatusOr<std::shared_ptr<platform::SharedRegion>> region =
      sync_internal::MakeTableRegion(0, state->waiters);
  if (!region.ok()) return region.status();
  state->region = *std::move(region);
  return Event(std::move(state));
}

bool Event::is_set() const {
  if (state_ == nullptr) return false;
  WaiterTable::TableLock hold(state_->waiters);
  return hold.status().ok() && state_->waiters.flag();
}

void Event::set() const {
  if (state_ == nullptr) return;
  WaiterTable::TableLock hold(state_->waiters);
  if (!hold.status().ok()) return;
  state_->waiters.set_flag(true);
  (void)state_->waiters.Notify(INT_MAX);
}

void Event::clear() const {
  if (state_ == nullptr) return;
  WaiterTable::TableLock hold(state_->waiters);
  if (hold.status().ok()) state_->waiters.set_flag(false);
}

WaitResult Event::wait(std::optional<double> timeout) const {
  if (state_ == nullptr) return false;
  const WaiterTable& table = state_->waiters;
  absl::StatusOr<absl::Time> deadline = internal::TimeoutDeadline(timeout);
  if (!deadline.ok()) return deadline.status();
  std::optional<WaiterTable::TableLock> hold;
  hold.emplace(table);
  if (!hold->status().ok()) return hold->status();
  if (table.flag()) return true;
  absl::StatusOr<bool> waited = sync_internal::WaitInTable(
      table, hold, *deadline, [] { return absl::OkStatus(); });
  if (!waited.ok()) return waited.status();
  // As CPython: the flag as it is now (set() then clear() in between: false).
  return table.flag();
}

}  // namespace procspec
