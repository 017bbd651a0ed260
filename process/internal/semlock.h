// The core of the synchronization primitives: CPython's _multiprocessing
// SemLock (Modules/_multiprocessing/semaphore.c) over a process-shared
// semaphore in shared memory, and how a region's descriptor crosses to a child.
#ifndef PROCSPEC_PROCESS_INTERNAL_SEMLOCK_H_
#define PROCSPEC_PROCESS_INTERNAL_SEMLOCK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"
#include "process/synchronize.h"

namespace procspec::sync_internal {

// The deadline of acquire(block, timeout): InfinitePast for a non-blocking
// call (try only), InfiniteFuture without a timeout, else now + timeout, a
// negative (or NaN) timeout counting as 0, as CPython does.
absl::Time DeadlineFor(bool block, std::optional<double> timeout);

// In the parent, while a bootstrap is serialized: the reference to send for
// `offset` in `region` (nullptr: an empty handle). Throws std::runtime_error
// outside a bootstrap, as PassHandle does.
RegionRef SendRegion(const platform::SharedRegion* region, std::size_t offset);
// In the child: the region a RegionRef names, mapped once per process however
// many objects refer to it (nullptr for handle -1). Throws std::runtime_error
// when the descriptor cannot be mapped or the offset is out of range.
std::shared_ptr<platform::SharedRegion> ReceiveRegion(const RegionRef& ref,
                                                      std::size_t object_size);

// A semaphore with CPython's SemLock rules. Process-wide state (the semaphore)
// is in shared memory; `count` and the last acquiring thread are this
// process's own, as in CPython (reset in a forked child, as CPython's
// _after_fork does).
class SemLock {
 public:
  enum class Kind : std::int32_t { kSemaphore = 0, kRecursiveMutex = 1 };

  // A new semaphore with `value` in a region of its own. A negative value
  // fails as CPython's sem_open does: OSError [Errno 22] Invalid argument.
  static absl::StatusOr<std::shared_ptr<SemLock>> Create(Kind kind, int value,
                                                         int maxvalue);
  // A new semaphore at `offset` in `region` (several objects in one region).
  static absl::StatusOr<std::shared_ptr<SemLock>> CreateIn(
      std::shared_ptr<platform::SharedRegion> region, std::size_t offset,
      Kind kind, int value, int maxvalue);

  // acquire(block, timeout): CPython's rules (an RLock already held by this
  // thread only counts up).
  bool Acquire(bool block, std::optional<double> timeout);
  // release(): AssertionError for an RLock not held by this thread;
  // ValueError "semaphore or lock released too many times" at maxvalue.
  absl::Status Release();
  // CPython's _is_mine(), _count(), _get_value().
  bool IsMine();
  int Count();
  int GetValue() const { return semaphore_.Value(); }
  Kind kind() const { return kind_; }
  int maxvalue() const { return maxvalue_; }

  // For cereal (see synchronize.h): SaveSemLock and LoadSemLock.
  friend SemLockWire SaveSemLock(const std::shared_ptr<SemLock>& semlock);
  friend std::shared_ptr<SemLock> LoadSemLock(const SemLockWire& wire);

 private:
  SemLock(std::shared_ptr<platform::SharedRegion> region, std::size_t offset,
          Kind kind, int maxvalue);
  // Forgets the counts copied from the parent in a forked child. Requires mu_.
  void RefreshLocked();

  const std::shared_ptr<platform::SharedRegion> region_;
  const std::size_t offset_;
  const platform::SharedSemaphore semaphore_;
  const Kind kind_;
  const int maxvalue_;

  std::mutex mu_;
  platform::Pid pid_ = 0;  // the process count_ and last_thread_ belong to
  int count_ = 0;
  std::thread::id last_thread_;
};

// CPython's repr of a Lock or RLock (by the SemLock's kind), e.g.
// "<Lock(owner=None)>"; "unknown" parts for nullptr.
std::string LockRepr(SemLock* semlock);

}  // namespace procspec::sync_internal

#endif  // PROCSPEC_PROCESS_INTERNAL_SEMLOCK_H_
