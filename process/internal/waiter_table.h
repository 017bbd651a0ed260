// Who waits on a Condition or an Event, kept in shared memory so that a waiter
// that dies wedges nobody.
//
// Each waiting thread takes a slot: it holds the slot's robust mutex while it
// waits and blocks on the slot's semaphore. A notifier marks the oldest
// waiting slots notified and posts their semaphores, and does not wait for
// the woken (CPython's Condition does, which is how a dead waiter wedges it).
// A slot whose mutex reports that its holder died (EOWNERDEAD) is freed
// instead of notified, so a notification goes to a live waiter. The table's
// own mutex is robust too, and every change made under it leaves the table
// valid at each step, so a process that dies holding it needs no repair
// beyond making the mutex consistent.
//
// Every method but Block() is called with the table locked (TableLock).
#ifndef PROCSPEC_PROCESS_INTERNAL_WAITER_TABLE_H_
#define PROCSPEC_PROCESS_INTERNAL_WAITER_TABLE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace procspec::sync_internal {

class WaiterTable {
 public:
  // The most threads that may wait at once, in all processes.
  static constexpr int kSlots = 1024;
  // The bytes a table occupies in a region (a multiple of 16); place it at a
  // multiple of 16.
  static std::size_t Size();
  // Where the waiter slots begin in the table (they end at Size()). Their
  // mutexes and semaphores are made by whichever process first waits in them
  // and are found by name: their handles need not cross with the region.
  static std::size_t SlotsOffset();

  // Makes a table at `memory` (Size() zeroed bytes of a shared region).
  static absl::StatusOr<WaiterTable> Init(void* memory);
  // The table an earlier Init made at `memory`.
  static WaiterTable At(void* memory) { return WaiterTable(memory); }

  WaiterTable() = default;

  // Holds the table's mutex for its lifetime (a dead holder's is recovered).
  // ok() is false if it could not be locked: the caller must not go on.
  class TableLock {
   public:
    explicit TableLock(const WaiterTable& table);
    TableLock(const TableLock&) = delete;
    TableLock& operator=(const TableLock&) = delete;
    ~TableLock();
    const absl::Status& status() const { return status_; }

   private:
    void* mutex_;
    absl::Status status_;
  };

  // The calling thread waits from now: its slot, or OSError [Errno 28] when
  // kSlots live threads wait already.
  absl::StatusOr<int> Enter() const;
  // Without the table lock: blocks until `slot` is notified or `deadline`
  // passes.
  void Block(int slot, absl::Time deadline) const;
  // The calling thread stops waiting on `slot`: true if it was notified.
  bool Leave(int slot) const;
  // Notifies up to `n` live waiters, oldest first, freeing dead waiters'
  // slots on the way; returns how many it notified.
  int Notify(int n) const;
  // The threads waiting (not yet notified); a dead one counts until a
  // notification frees its slot.
  int Waiting() const;

  // A flag kept with the table (Event's), read and written under its lock.
  bool flag() const;
  void set_flag(bool value) const;

 private:
  explicit WaiterTable(void* memory) : memory_(memory) {}
  void* memory_ = nullptr;
};

}  // namespace procspec::sync_internal

#endif  // PROCSPEC_PROCESS_INTERNAL_WAITER_TABLE_H_
