#include "process/internal/waiter_table.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "platform/shared_memory.h"
#include "process/errors.h"

namespace procspec::sync_internal {
namespace {

using platform::RobustMutex;
using platform::SharedSemaphore;

static_assert(RobustMutex::kAlignment <= 16 &&
              SharedSemaphore::kAlignment <= 16);

enum SlotState : std::uint32_t {
  kFree = 0,      // nobody waits here (its mutex is unlocked, or its holder
                  // died between two steps: the next Enter recovers it)
  kWaiting = 1,   // a thread waits here, holding the mutex
  kNotified = 2,  // a notifier chose it and posted; the waiter has not left
  kBroken = 3,    // its mutex cannot be used: never used again
};

struct alignas(16) Header {
  unsigned char mutex[RobustMutex::kSize];
  std::atomic<std::uint64_t> next_ticket;  // the order of arrival
  std::atomic<std::uint32_t> used;         // slots initialized so far
  std::atomic<std::uint32_t> flag;         // Event's flag
};

struct alignas(16) Slot {
  unsigned char alive[RobustMutex::kSize];  // held by the waiter
  unsigned char wake[SharedSemaphore::kSize];
  std::atomic<std::uint64_t> ticket;
  std::atomic<std::uint32_t> state;
  std::uint32_t unused;
};

// The memory is zeroed, and an all-zero atomic is a valid zero (lock-free
// atomics of these widths are plain words on every platform we build for).
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
              std::atomic<std::uint32_t>::is_always_lock_free);

Header& HeaderAt(void* memory) { return *static_cast<Header*>(memory); }

Slot& SlotAt(void* memory, int index) {
  return reinterpret_cast<Slot*>(static_cast<char*>(memory) +
                                 sizeof(Header))[index];
}

RobustMutex AliveOf(Slot& slot) { return RobustMutex::At(slot.alive); }
SharedSemaphore WakeOf(Slot& slot) { return SharedSemaphore::At(slot.wake); }

std::uint32_t Load(const std::atomic<std::uint32_t>& word) {
  return word.load(std::memory_order_relaxed);
}

// Probes the mutex of a slot some thread waits on (or waited on), without
// blocking. kTimedOut: a live thread holds it. Otherwise the caller now holds
// it (its holder died: made consistent) or it is unusable (not held).
enum class Probe { kAlive, kDeadNowMine, kBroken };

Probe ProbeHolder(Slot& slot) {
  const RobustMutex alive = AliveOf(slot);
  absl::StatusOr<RobustMutex::LockResult> locked =
      alive.Lock(absl::InfinitePast());
  if (!locked.ok()) return Probe::kBroken;
  switch (*locked) {
    case RobustMutex::LockResult::kTimedOut:
      return Probe::kAlive;
    case RobustMutex::LockResult::kOwnerDied:
      if (!alive.MakeConsistent().ok()) {
        (void)alive.Unlock();
        return Probe::kBroken;
      }
      return Probe::kDeadNowMine;
    case RobustMutex::LockResult::kLocked:
      // Unheld although a waiter was recorded: the waiter left between two
      // steps of Leave and died. Free, like a dead one.
      return Probe::kDeadNowMine;
    case RobustMutex::LockResult::kNotRecoverable:
      return Probe::kBroken;
  }
  return Probe::kBroken;
}

// Frees a slot whose waiter is gone (the caller holds its mutex).
void Reclaim(Slot& slot) {
  slot.state.store(kFree, std::memory_order_relaxed);
  (void)AliveOf(slot).Unlock();
}

// Makes slot `index` usable (its mutex and semaphore) and counts it as used.
// A process that dies half-way leaves `used` unchanged: the next one redoes
// it.
bool InitSlot(void* memory, int index) {
  Slot& slot = SlotAt(memory, index);
  if (!RobustMutex::Init(slot.alive).ok()) return false;
  if (!SharedSemaphore::Init(slot.wake, 0).ok()) return false;
  slot.ticket.store(0, std::memory_order_relaxed);
  slot.state.store(kFree, std::memory_order_relaxed);
  HeaderAt(memory).used.store(static_cast<std::uint32_t>(index + 1),
                              std::memory_order_release);
  return true;
}

}  // namespace

std::size_t WaiterTable::SlotsOffset() { return sizeof(Header); }

std::size_t WaiterTable::Size() {
  return sizeof(Header) + kSlots * sizeof(Slot);
}

absl::StatusOr<WaiterTable> WaiterTable::Init(void* memory) {
  Header* header = new (memory) Header{};
  if (absl::StatusOr<RobustMutex> mutex = RobustMutex::Init(header->mutex);
      !mutex.ok()) {
    return OSError(mutex.status());
  }
  return WaiterTable(memory);
}

WaiterTable::TableLock::TableLock(const WaiterTable& table)
    : mutex_(HeaderAt(table.memory_).mutex) {
  const RobustMutex mutex = RobustMutex::At(mutex_);
  absl::StatusOr<RobustMutex::LockResult> locked =
      mutex.Lock(absl::InfiniteFuture());
  if (!locked.ok()) {
    status_ = OSError(locked.status());
  } else if (*locked == RobustMutex::LockResult::kOwnerDied) {
    // Every step under the lock leaves the table valid: nothing to repair.
    status_ = mutex.MakeConsistent();
    if (!status_.ok()) (void)mutex.Unlock();
  } else if (*locked != RobustMutex::LockResult::kLocked) {
    status_ = OSError(
        absl::InternalError("the waiter table's mutex is not recoverable"));
  }
  if (!status_.ok()) mutex_ = nullptr;
}

WaiterTable::TableLock::~TableLock() {
  if (mutex_ != nullptr) (void)RobustMutex::At(mutex_).Unlock();
}

absl::StatusOr<int> WaiterTable::Enter() const {
  Header& header = HeaderAt(memory_);
  const int used =
      static_cast<int>(header.used.load(std::memory_order_acquire));
  // A free slot, else a new one, else one whose waiter died.
  std::vector<int> candidates;
  for (int i = 0; i < used; ++i) {
    if (Load(SlotAt(memory_, i).state) == kFree) candidates.push_back(i);
  }
  if (candidates.empty() && used < kSlots && InitSlot(memory_, used)) {
    candidates.push_back(used);
  }
  if (candidates.empty()) {
    for (int i = 0; i < used; ++i) {
      Slot& slot = SlotAt(memory_, i);
      const std::uint32_t state = Load(slot.state);
      if (state != kWaiting && state != kNotified) continue;
      switch (ProbeHolder(slot)) {
        case Probe::kAlive:
          break;
        case Probe::kDeadNowMine:
          Reclaim(slot);
          candidates.push_back(i);
          break;
        case Probe::kBroken:
          slot.state.store(kBroken, std::memory_order_relaxed);
          break;
      }
    }
  }
  for (int index : candidates) {
    Slot& slot = SlotAt(memory_, index);
    const RobustMutex alive = AliveOf(slot);
    absl::StatusOr<RobustMutex::LockResult> locked =
        alive.Lock(absl::InfinitePast());
    if (!locked.ok()) {
      slot.state.store(kBroken, std::memory_order_relaxed);
      continue;
    }
    if (*locked == RobustMutex::LockResult::kOwnerDied) {
      // A thread died between two steps of Enter or Leave.
      if (!alive.MakeConsistent().ok()) {
        (void)alive.Unlock();
        slot.state.store(kBroken, std::memory_order_relaxed);
        continue;
      }
    } else if (*locked != RobustMutex::LockResult::kLocked) {
      // Held by a live thread outside the table's lock, or unusable: not
      // ours to take.
      slot.state.store(kBroken, std::memory_order_relaxed);
      continue;
    }
    // Posts left by a notification that raced with its waiter's timeout.
    while (WakeOf(slot).Wait(absl::InfinitePast())) {
    }
    slot.ticket.store(
        header.next_ticket.fetch_add(1, std::memory_order_relaxed),
        std::memory_order_relaxed);
    slot.state.store(kWaiting, std::memory_order_relaxed);
    return index;
  }
  return OSError(absl::ResourceExhaustedError(
      absl::StrCat("[Errno 28] No space left on device: more than ", kSlots,
                   " threads waiting on one Condition or Event")));
}

void WaiterTable::Block(int slot, absl::Time deadline) const {
  (void)WakeOf(SlotAt(memory_, slot)).Wait(deadline);
}

bool WaiterTable::Leave(int index) const {
  Slot& slot = SlotAt(memory_, index);
  const bool notified = Load(slot.state) == kNotified;
  slot.state.store(kFree, std::memory_order_relaxed);
  (void)AliveOf(slot).Unlock();
  return notified;
}

int WaiterTable::Notify(int n) const {
  const int used =
      static_cast<int>(HeaderAt(memory_).used.load(std::memory_order_acquire));
  std::vector<std::pair<std::uint64_t, int>> waiting;
  for (int i = 0; i < used; ++i) {
    Slot& slot = SlotAt(memory_, i);
    if (Load(slot.state) == kWaiting) {
      waiting.emplace_back(slot.ticket.load(std::memory_order_relaxed), i);
    }
  }
  std::sort(waiting.begin(), waiting.end());
  int notified = 0;
  for (const auto& [ticket, index] : waiting) {
    if (notified >= n) break;
    Slot& slot = SlotAt(memory_, index);
    switch (ProbeHolder(slot)) {
      case Probe::kAlive:
        slot.state.store(kNotified, std::memory_order_relaxed);
        if (WakeOf(slot).Post().ok()) ++notified;
        break;
      case Probe::kDeadNowMine:
        Reclaim(slot);
        break;
      case Probe::kBroken:
        slot.state.store(kBroken, std::memory_order_relaxed);
        break;
    }
  }
  return notified;
}

int WaiterTable::Waiting() const {
  const int used =
      static_cast<int>(HeaderAt(memory_).used.load(std::memory_order_acquire));
  int waiting = 0;
  for (int i = 0; i < used; ++i) {
    if (Load(SlotAt(memory_, i).state) == kWaiting) ++waiting;
  }
  return waiting;
}

bool WaiterTable::flag() const {
  return HeaderAt(memory_).flag.load(std::memory_order_relaxed) != 0;
}

void WaiterTable::set_flag(bool value) const {
  HeaderAt(memory_).flag.store(value ? 1 : 0, std::memory_order_relaxed);
}

}  // namespace procspec::sync_internal
