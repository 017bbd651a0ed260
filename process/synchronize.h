// Synchronization between processes: CPython 3.11's multiprocessing Lock,
// RLock, Semaphore and BoundedSemaphore (Lib/multiprocessing/synchronize.py
// over Modules/_multiprocessing/semaphore.c), with CPython's rules and
// messages.
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
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace procspec {

class Condition;

namespace sync_internal {

class SemLock;

// A region and where an object lives in it, as sent to a child: `handle` is
// the index spawn_internal::PassHandle gave the region's descriptor (-1: an
// empty handle).
struct RegionRef {
  std::int64_t handle = -1;
  std::uint64_t offset = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(handle, offset);
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

// Throws std::runtime_error outside a spawn bootstrap (as PassHandle does).
SemLockWire SaveSemLock(const std::shared_ptr<SemLock>& semlock);
// In a child: the same SemLock for the same region and offset, however many
// handles name it. Throws std::runtime_error on a bad wire.
std::shared_ptr<SemLock> LoadSemLock(const SemLockWire& wire);

// What Lock, RLock, Semaphore and BoundedSemaphore share: a handle on one
// semaphore.
class SemLockHandle {
 public:
  // Waits until the semaphore can be decremented (for ever without a timeout;
  // at most `timeout` seconds with one, a negative timeout counting as 0) and
  // returns true, or false if it could not. With block=false only tries (the
  // timeout is ignored).
  bool acquire(bool block = true,
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

 private:
  explicit BoundedSemaphore(std::shared_ptr<sync_internal::SemLock> semlock)
      : Semaphore(std::move(semlock)) {}
};

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_SYNCHRONIZE_H_
