// The core of the synchronization primitives: CPython's _multiprocessing
// SemLock (Modules/_multiprocessing/semaphore.c) over a process-shared
// semaphore in shared memory, and how a region's descriptor crosses to a child.
#ifndef PROCSPEC_PROCESS_INTERNAL_SEMLOCK_H_
#define PROCSPEC_PROCESS_INTERNAL_SEMLOCK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"
#include "process/errors.h"
#include "process/synchronize.h"

namespace procspec::sync_internal {

// The deadline of acquire(block, timeout): InfinitePast for a non-blocking
// call (try only), InfiniteFuture without a timeout, else now + timeout, a
// negative timeout counting as 0, as CPython does. A NaN timeout is the
// caller's to refuse first (internal::CheckTimeout).
absl::Time DeadlineFor(bool block, std::optional<double> timeout);

// In the parent, while a bootstrap is serialized: the reference to send for
// `offset` in `region` (nullptr: an empty handle). Throws std::runtime_error
// outside a bootstrap, as PassHandle does.
RegionRef SendRegion(const platform::SharedRegion* region, std::size_t offset,
                     std::size_t skip_begin = 0, std::size_t skip_end = 0);
// The handles of `region`'s kernel objects to send beside its own (see
// RegionRef::objects; empty where objects have none), and in the child, their
// adoption by the mapped region. Both throw std::runtime_error as SendRegion
// and ReceiveRegion do.
// Objects in [skip_begin, skip_end) are left out (a waiter table's slots).
std::vector<std::int64_t> SendObjectHandles(
    const platform::SharedRegion& region, std::size_t skip_begin = 0,
    std::size_t skip_end = 0);
void ReceiveObjectHandles(platform::SharedRegion& region,
                          const std::vector<std::int64_t>& objects);
// In the child: the region a RegionRef names, mapped once per process however
// many objects refer to it (nullptr for handle -1). Throws std::runtime_error
// when the descriptor cannot be mapped or the offset is out of range.
std::shared_ptr<platform::SharedRegion> ReceiveRegion(const RegionRef& ref,
                                                      std::size_t object_size);

// A semaphore with CPython's SemLock rules. Process-wide state (the semaphore)
// is in shared memory; `count` and the last acquiring thread are this
// process's own, as in CPython (reset in a forked child, as CPython's
// _after_fork does, however the child was forked). Thread-safe.
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
  // thread only counts up). Inline: a Lock's blocking acquire is one call
  // into the platform and no system call when uncontended.
  bool Acquire(bool block, std::optional<double> timeout) {
    if (kind_ == Kind::kRecursiveMutex || !block || timeout.has_value() ||
        !Serialized()) {
      return AcquireSlow(block, timeout);
    }
    if (!semaphore_.Wait(absl::InfiniteFuture())) return false;
    // This thread holds the semaphore: no other thread of this process can
    // change the count until it is posted (after the count, in Release).
    const std::uint32_t generation = Generation();
    StoreCount(generation, CountNow(generation) + 1, /*acquired=*/true);
    return true;
  }
  // release(): AssertionError for an RLock not held by this thread;
  // ValueError "semaphore or lock released too many times" at maxvalue.
  absl::Status Release() {
    if (kind_ == Kind::kRecursiveMutex || !Serialized()) return ReleaseSlow();
    // The count goes down before the post: once posted, another thread may
    // acquire and count up (CPython counts down after sem_post, under the
    // GIL). It goes back up if nothing was posted.
    const std::uint32_t generation = Generation();
    const int count = CountNow(generation);
    StoreCount(generation, count - 1, /*acquired=*/false);
    absl::StatusOr<bool> posted = semaphore_.PostBelow(maxvalue_);
    if (posted.ok() && *posted) return absl::OkStatus();
    StoreCount(generation, count, /*acquired=*/false);
    return TooManyOrOSError(posted.status());
  }
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
  bool AcquireSlow(bool block, std::optional<double> timeout);
  absl::Status ReleaseSlow();
  // ValueError "semaphore or lock released too many times" for an OK
  // `status` (PostBelow said no), else OSError(status).
  static absl::Status TooManyOrOSError(const absl::Status& status);

  static std::uint32_t Generation() {
    return static_cast<std::uint32_t>(platform::ForkGeneration());
  }
  static std::uint64_t Pack(std::uint32_t generation, int count) {
    return (std::uint64_t{generation} << 32) |
           static_cast<std::uint32_t>(count);
  }
  static int Unpack(std::uint64_t state, std::uint32_t generation) {
    if (static_cast<std::uint32_t>(state >> 32) != generation) return 0;
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(state));
  }
  // std::this_thread::get_id(), remembered per thread (a call into the C
  // library otherwise). A forked child's thread has its parent thread's id,
  // as pthread_self() says.
  static std::thread::id ThisThread() {
    thread_local std::thread::id id;
    if (id == std::thread::id()) id = std::this_thread::get_id();
    return id;
  }

  // This process's count of acquisitions not yet released (CPython's
  // `count`), 0 in a forked child until it acquires (CPython's _after_fork).
  // `generation` is the current platform::ForkGeneration(), truncated.
  int CountNow(std::uint32_t generation) const {
    return Unpack(state_.load(std::memory_order_acquire), generation);
  }
  // Sets it (and, with `acquired`, this thread as the last to acquire).
  void StoreCount(std::uint32_t generation, int count, bool acquired) {
    if (acquired) last_thread_.store(ThisThread(), std::memory_order_relaxed);
    state_.store(Pack(generation, count), std::memory_order_release);
  }
  // Adds `delta` to it atomically (a Semaphore's holders may be several
  // threads at once).
  void AddCount(std::uint32_t generation, int delta, bool acquired);
  // Whether the semaphore is a mutex (at most one holder at a time: Lock,
  // RLock, BoundedSemaphore(1)): then only the holder changes the count, while
  // it holds the semaphore, and the semaphore orders the changes.
  bool Serialized() const { return maxvalue_ == 1; }

  const std::shared_ptr<platform::SharedRegion> region_;
  const std::size_t offset_;
  const platform::SharedSemaphore semaphore_;
  const Kind kind_;
  const int maxvalue_;

  // No mutex and no system call on the uncontended path: the count
  // and the fork generation it belongs to are one word, high 32 bits the
  // generation (platform::ForkGeneration()), low 32 the count; a word from
  // another generation counts as 0. The last acquiring thread is written
  // before the count (release) and read after it (acquire), so a thread that
  // sees a positive count sees the thread that made it positive.
  std::atomic<std::uint64_t> state_{0};
  std::atomic<std::thread::id> last_thread_{};
};

// CPython's repr of a Lock or RLock (by the SemLock's kind), e.g.
// "<Lock(owner=None)>"; "unknown" parts for nullptr.
std::string LockRepr(SemLock* semlock);

}  // namespace procspec::sync_internal

#endif  // PROCSPEC_PROCESS_INTERNAL_SEMLOCK_H_
