// Synchronization between processes: CPython 3.11's multiprocessing Lock,
// RLock, Semaphore, BoundedSemaphore, Condition and Event
// (Lib/multiprocessing/synchronize.py over
// Modules/_multiprocessing/semaphore.c), with CPython's rules and messages,
// and RobustLock, an extension.
//
//   absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
//   procspec::Process p(task, std::tuple{*lock});  // void task(procspec::Lock)
//   {
//     std::scoped_lock hold(*lock);  // or lock->acquire() / lock->release()
//     ...
//   }
//
// Every object is a cheap copyable handle: copies (including the one a child
// receives as a Process argument, under fork, spawn and forkserver) are the
// same lock. The state lives in shared memory (platform/shared_memory.h) that
// no name refers to; it is freed when the last handle in any process is gone.
// Under spawn and forkserver the handle crosses as its region's descriptor
// (spawn_internal::PassHandle), so a handle can only be sent as a Process
// argument (or in a registered Process class's state), like InheritedHandle.
//
// Waits are event-driven (the semaphore's futex); a timeout never returns
// before it has passed; EINTR is retried with the same deadline.
//
// A default-constructed handle is empty (it exists so that a spawned child can
// build its arguments before loading them): acquire() returns false and
// release() fails with FailedPrecondition on it.
#ifndef PROCSPEC_PROCESS_SYNCHRONIZE_H_
#define PROCSPEC_PROCESS_SYNCHRONIZE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace procspec {

class Condition;

// What a timed acquire() or Event::wait() returns: CPython's True or False, or
// the exception CPython would raise instead (ValueError "cannot convert float
// NaN to integer" for a NaN timeout). It converts to bool, false on an error,
// so that `if (lock.acquire())` reads as in Python; status() tells an error
// from a timeout.
class WaitResult {
 public:
  WaitResult(bool value) : value_(value) {}  // NOLINT: stands for a bool
  WaitResult(absl::Status error)             // NOLINT: or for an exception
      : status_(std::move(error)) {}
  operator bool() const { return value_; }  // NOLINT: used as a bool
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

 private:
  bool value_ = false;
  absl::Status status_;
};

namespace sync_internal {

class SemLock;
struct ConditionState;
struct EventState;
struct RobustState;

// Whether a region's semaphores and mutexes cross to a child as handles of
// their own beside the region's (platform::SharedRegion::ObjectsHaveHandles:
// Windows). Where they do not, nothing about them is on the wire.
bool RegionObjectsCross();

// The handles of a region's objects on the wire: pairs of the object's offset
// and the index spawn_internal::PassHandle gave its handle. Written only where
// RegionObjectsCross(); read one pair at a time (a count from the wire
// reserves nothing).
template <class Archive>
void SerializeObjectHandles(Archive& archive,
                            std::vector<std::int64_t>& objects) {
  if (!RegionObjectsCross()) return;
  std::uint64_t count = objects.size();
  archive(count);
  if constexpr (Archive::is_loading::value) {
    objects.clear();
    for (std::uint64_t i = 0; i < count; ++i) {
      std::int64_t value = 0;
      archive(value);
      objects.push_back(value);
    }
  } else {
    for (std::int64_t value : objects) archive(value);
  }
}

// A region and where an object lives in it, as sent to a child: `handle` is
// the index spawn_internal::PassHandle gave the region's descriptor (-1: an
// empty handle); `objects` the handles of its kernel objects (Windows).
struct RegionRef {
  std::int64_t handle = -1;
  std::uint64_t offset = 0;
  std::vector<std::int64_t> objects;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(handle, offset);
    SerializeObjectHandles(archive, objects);
  }
};

struct SemLockWire {
  RegionRef region;
  std::int32_t kind = 0;
  std::int32_t maxvalue = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(region, kind, maxvalue);
  }
};

// A Condition's lock and its table of waiters.
struct ConditionWire {
  SemLockWire lock;
  RegionRef waiters;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(lock, waiters);
  }
};

// Throws std::runtime_error outside a spawn bootstrap (as PassHandle does).
SemLockWire SaveSemLock(const std::shared_ptr<SemLock>& semlock);
// In a child: the same SemLock for the same region and offset, however many
// handles name it. Throws std::runtime_error on a bad wire.
std::shared_ptr<SemLock> LoadSemLock(const SemLockWire& wire);

// Test-only: `hook` runs in Condition.wait() and Event.wait() once the
// calling thread counts as a waiter and has released the lock, just before it
// blocks (nullptr: nothing runs). How a test knows that a waiter is blocked.
void SetWaitBlockingHook(void (*hook)());
// Test-only: `hook` runs in Condition.wait() and Event.wait() once the
// calling thread counts as a waiter, while it still holds the mutex of the
// object's table of waiters (Event's internal lock). How a test kills a
// process that holds it.
void SetWaitTableLockedHook(void (*hook)());

ConditionWire SaveCondition(const std::shared_ptr<ConditionState>& state);
std::shared_ptr<ConditionState> LoadCondition(const ConditionWire& wire);
RegionRef SaveEvent(const std::shared_ptr<EventState>& state);
std::shared_ptr<EventState> LoadEvent(const RegionRef& wire);
RegionRef SaveRobust(const std::shared_ptr<RobustState>& state);
std::shared_ptr<RobustState> LoadRobust(const RegionRef& wire);

// What Lock, RLock, Semaphore and BoundedSemaphore share: a handle on one
// semaphore.
class SemLockHandle {
 public:
  // Waits until the semaphore can be decremented (for ever without a timeout;
  // at most `timeout` seconds with one, a negative timeout counting as 0) and
  // returns true, or false if it could not; a NaN timeout is ValueError
  // "cannot convert float NaN to integer" (robustness.timeouts.nan). With
  // block=false only tries (the timeout is ignored).
  WaitResult acquire(bool block = true,
                     std::optional<double> timeout = std::nullopt) const;
  // Increments the semaphore. Lock and BoundedSemaphore: ValueError
  // "semaphore or lock released too many times" when it is at its initial
  // value; RLock: AssertionError "attempt to release recursive lock not owned
  // by thread" unless this thread holds it.
  absl::Status release() const;

  // std::scoped_lock / std::unique_lock (BasicLockable, Lockable).
  void lock() const { (void)acquire(); }
  bool try_lock() const { return acquire(false); }
  void unlock() const { (void)release(); }

  bool valid() const { return semlock_ != nullptr; }
  // Copies are the same object.
  friend bool operator==(const SemLockHandle& a, const SemLockHandle& b) {
    return a.semlock_ == b.semlock_;
  }

  template <class Archive>
  void save(Archive& archive) const {
    archive(SaveSemLock(semlock_));
  }
  template <class Archive>
  void load(Archive& archive) {
    SemLockWire wire;
    archive(wire);
    semlock_ = LoadSemLock(wire);
  }

 protected:
  SemLockHandle() = default;
  explicit SemLockHandle(std::shared_ptr<SemLock> semlock)
      : semlock_(std::move(semlock)) {}

  std::shared_ptr<SemLock> semlock_;

  friend class ::procspec::Condition;
};

}  // namespace sync_internal

// A non-recursive lock (a semaphore with maximum 1). It has no owner: any
// process or thread may release it, and a holder that dies leaves it held.
// Releasing it while unlocked: ValueError "semaphore or lock released too
// many times".
class Lock : public sync_internal::SemLockHandle {
 public:
  // Fails (OSError) when the OS has no memory or descriptors left.
  static absl::StatusOr<Lock> Create();
  Lock() = default;

  // CPython's repr: "<Lock(owner=None)>" when free, "<Lock(owner=MainProcess)>"
  // (this process's name) when this thread holds it, "SomeOtherThread" or
  // "SomeOtherProcess" otherwise, "unknown" for an empty handle.
  std::string repr() const;

 private:
  explicit Lock(std::shared_ptr<sync_internal::SemLock> semlock)
      : SemLockHandle(std::move(semlock)) {}
};

// A recursive lock owned by (process, thread): its owner may acquire it again
// and must release it as many times. Anyone else's release() fails with
// AssertionError "attempt to release recursive lock not owned by thread".
class RLock : public sync_internal::SemLockHandle {
 public:
  static absl::StatusOr<RLock> Create();
  RLock() = default;

  // CPython's repr: "<RLock(None, 0)>", "<RLock(MainProcess, 2)>" (owner,
  // count), "<RLock(SomeOtherThread, nonzero)>",
  // "<RLock(SomeOtherProcess, nonzero)>".
  std::string repr() const;

 private:
  explicit RLock(std::shared_ptr<sync_internal::SemLock> semlock)
      : SemLockHandle(std::move(semlock)) {}
};

// A counting semaphore. Semaphore(value=1); a negative value fails as CPython:
// OSError "[Errno 22] Invalid argument". release() past SEM_VALUE_MAX:
// ValueError "semaphore or lock released too many times".
class Semaphore : public sync_internal::SemLockHandle {
 public:
  static absl::StatusOr<Semaphore> Create(int value = 1);
  Semaphore() = default;

  // The current value (0 while processes wait on it); 0 for an empty handle.
  int get_value() const;
  // "<Semaphore(value=1)>".
  std::string repr() const;

 protected:
  explicit Semaphore(std::shared_ptr<sync_internal::SemLock> semlock)
      : SemLockHandle(std::move(semlock)) {}
};

// A semaphore whose value may not exceed its initial value: release() beyond
// it fails with ValueError "semaphore or lock released too many times".
class BoundedSemaphore : public Semaphore {
 public:
  static absl::StatusOr<BoundedSemaphore> Create(int value = 1);
  BoundedSemaphore() = default;

  // "<BoundedSemaphore(value=1, maxvalue=2)>".
  std::string repr() const;

 private:
  explicit BoundedSemaphore(std::shared_ptr<sync_internal::SemLock> semlock)
      : Semaphore(std::move(semlock)) {}
};

// A condition variable shared by processes (CPython's
// multiprocessing.Condition): a lock, plus a table of waiters in shared memory
// (CPython: semaphores counting sleepers and wakers), so that notify() wakes
// waiters in any process, and a waiter killed in wait() wedges nobody
// (robustness.sync.killed_waiter).
class Condition {
 public:
  // Condition(lock=None): a new RLock.
  static absl::StatusOr<Condition> Create();
  // Condition(lock): waits release and reacquire `lock`, which stays usable
  // on its own (the same object).
  static absl::StatusOr<Condition> Create(Lock lock);
  static absl::StatusOr<Condition> Create(RLock lock);
  Condition() = default;

  // The lock's acquire() and release().
  WaitResult acquire(bool block = true,
                     std::optional<double> timeout = std::nullopt) const;
  absl::Status release() const;
  void lock() const { (void)acquire(); }
  bool try_lock() const { return acquire(false); }
  void unlock() const { (void)release(); }

  // Releases the lock (all of an RLock's levels), waits until notified or
  // `timeout` seconds pass, reacquires the lock and returns false on timeout.
  // AssertionError "must acquire() condition before using wait()" unless this
  // thread holds the lock; OSError [Errno 28] (the lock still held) when
  // WaiterTable::kSlots (1024) threads wait on it already.
  absl::StatusOr<bool> wait(std::optional<double> timeout = std::nullopt) const;
  // Waits until `predicate()` is true or `timeout` passes, returning its last
  // value (true at once, lock held or not, if it already is).
  template <typename Predicate>
  absl::StatusOr<bool> wait_for(
      Predicate&& predicate,
      std::optional<double> timeout = std::nullopt) const {
    return WaitFor(std::function<bool()>(std::forward<Predicate>(predicate)),
                   timeout);
  }
  // Wakes up to `n` waiting processes or threads, the longest waiting first
  // (a waiter that died is skipped). Returns at once (CPython returns once
  // the woken have said so). AssertionError "lock is not owned" unless this
  // thread holds the lock.
  absl::Status notify(int n = 1) const;
  absl::Status notify_all() const;

  // CPython's repr: the lock's repr and the number of waiters,
  // "<Condition(<RLock(None, 0)>, 0)>".
  std::string repr() const;

  bool valid() const { return state_ != nullptr; }

  template <class Archive>
  void save(Archive& archive) const {
    archive(sync_internal::SaveCondition(state_));
  }
  template <class Archive>
  void load(Archive& archive) {
    sync_internal::ConditionWire wire;
    archive(wire);
    state_ = sync_internal::LoadCondition(wire);
  }

 private:
  explicit Condition(std::shared_ptr<sync_internal::ConditionState> state)
      : state_(std::move(state)) {}
  absl::StatusOr<bool> WaitFor(const std::function<bool()>& predicate,
                               std::optional<double> timeout) const;

  std::shared_ptr<sync_internal::ConditionState> state_;
};

// A flag shared by processes (CPython's multiprocessing.Event). Starts clear.
// CPython builds it from a Condition(Lock()) and a Semaphore(0); here it is a
// flag beside a table of waiters under one robust mutex, so that a process
// killed while it waits, or while it holds that mutex, wedges nobody
// (robustness.sync.killed_waiter).
class Event {
 public:
  static absl::StatusOr<Event> Create();
  Event() = default;

  bool is_set() const;
  // Sets the flag and wakes every waiter, in any process.
  void set() const;
  void clear() const;
  // Returns true at once if the flag is set; else waits until it is set (true)
  // or `timeout` seconds have passed (false, never earlier). A NaN timeout:
  // ValueError "cannot convert float NaN to integer".
  WaitResult wait(std::optional<double> timeout = std::nullopt) const;

  bool valid() const { return state_ != nullptr; }

  template <class Archive>
  void save(Archive& archive) const {
    archive(sync_internal::SaveEvent(state_));
  }
  template <class Archive>
  void load(Archive& archive) {
    sync_internal::RegionRef wire;
    archive(wire);
    state_ = sync_internal::LoadEvent(wire);
  }

 private:
  explicit Event(std::shared_ptr<sync_internal::EventState> state)
      : state_(std::move(state)) {}

  std::shared_ptr<sync_internal::EventState> state_;
};

// Beyond CPython: a lock that tells its next acquirer that the previous
// holder died while holding it (a POSIX robust mutex's EOWNERDEAD), where a
// Lock stays held for ever (process.terminate.lock_stays_held). Owned by the
// thread that acquired it. After kOwnerDied the new holder repairs what the
// lock protects and calls make_consistent() before release(); a release()
// without it makes the lock unusable (every later acquire() fails with
// RuntimeError). See docs/design.md.
class RobustLock {
 public:
  enum class AcquireResult {
    kNotAcquired,  // block=False, or the timeout passed
    kAcquired,
    kOwnerDied,  // acquired; the previous holder died holding it
  };

  static absl::StatusOr<RobustLock> Create();
  RobustLock() = default;

  // As Lock::acquire, but says whether the previous holder died. Fails with
  // RuntimeError "cannot acquire a RobustLock this thread already holds" (it
  // would deadlock), and RuntimeError "RobustLock is not recoverable: its
  // holder died and it was released without make_consistent()".
  absl::StatusOr<AcquireResult> acquire(
      bool block = true, std::optional<double> timeout = std::nullopt) const;
  // After kOwnerDied, by the holder: the lock works normally again after the
  // next release(). RuntimeError "make_consistent() is only valid after
  // acquire() reported that the previous owner died" otherwise.
  absl::Status make_consistent() const;
  // RuntimeError "cannot release un-acquired lock" unless this thread holds
  // it.
  absl::Status release() const;

  bool valid() const { return state_ != nullptr; }
  friend bool operator==(const RobustLock& a, const RobustLock& b) {
    return a.state_ == b.state_;
  }

  template <class Archive>
  void save(Archive& archive) const {
    archive(sync_internal::SaveRobust(state_));
  }
  template <class Archive>
  void load(Archive& archive) {
    sync_internal::RegionRef wire;
    archive(wire);
    state_ = sync_internal::LoadRobust(wire);
  }

 private:
  explicit RobustLock(std::shared_ptr<sync_internal::RobustState> state)
      : state_(std::move(state)) {}

  std::shared_ptr<sync_internal::RobustState> state_;
};

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_SYNCHRONIZE_H_
