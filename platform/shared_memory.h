// Memory shared between processes, and the process-shared synchronization
// objects that live in it (the building blocks of process/synchronize.h).
//
//   absl::StatusOr<SharedRegion> region = CreateSharedRegion(64);
//   absl::StatusOr<SharedSemaphore> sem = SharedSemaphore::Init(region->data(),
//   1);
//   ... pass region->handle() to a child (inherited under fork, SCM_RIGHTS or
//   across the exec otherwise); in the child:
//   absl::StatusOr<SharedRegion> mine = MapSharedRegion(handle);
//   SharedSemaphore same = SharedSemaphore::At(mine->data());
//
// A region is anonymous: "linux" makes it with memfd_create(MFD_CLOEXEC);
// "posix" with shm_open of a random name (O_CREAT|O_EXCL, mode 0600) that is
// unlinked at once by the process that made it: a short-lived helper forked
// for each region, in a process group of its own, which passes the
// descriptor back over a socket pair. A SIGKILL of the caller at any instant
// does not reach the helper, so nothing is ever left in /dev/shm or the file
// system. The memory lives as long as a descriptor or a mapping of it does,
// in any process.
//
// On Windows ("windows"), the region is an anonymous file mapping, and a
// semaphore or mutex is a kernel object (a semaphore, as CPython's SemLock is
// there; a mutex, whose WAIT_ABANDONED is the robust mutex's owner-died). No
// wait on an address works across processes on Windows, and a HANDLE is
// valid in one process only, so the memory records the object's kind and an
// identity, and each process finds its own handle by the record's address
// (At(memory) stays the one way in, for every OS). Why that design and not a
// second handle beside each object's address: the synchronization objects
// are many per region (a Queue has six, a Condition's table a mutex and a
// semaphore per waiter slot) and some are made by whichever process first
// needs them, so callers could not carry handles one by one. Instead the
// region carries them: object_handles() lists this process's, which cross to
// a child beside the region's handle in its handle list (held by the child
// before the parent can drop anything, so no object vanishes on the way),
// and AdoptObjectHandle() takes them in. An object made after its region
// crossed is opened by the name its identity gives; shared_memory.cc says
// why that name cannot be missing while anyone still needs its state. POSIX
// backends have nothing to pass (ObjectsHaveHandles() is false): their wire
// and memory are unchanged, the Lock's inline fast path included.
#ifndef PROCSPEC_PLATFORM_SHARED_MEMORY_H_
#define PROCSPEC_PLATFORM_SHARED_MEMORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform {

// A mapping (MAP_SHARED, read-write) of shared memory and the descriptor that
// names it. Move-only; unmaps and closes on destruction. The descriptor is
// close-on-exec; a forked child inherits the mapping itself.
class SharedRegion {
 public:
  SharedRegion() = default;
  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  // The first byte (aligned for any object), or nullptr for an empty region.
  void* data() const { return data_; }
  std::size_t size() const { return size_; }
  // The descriptor to pass to another process (MapSharedRegion there).
  NativeHandle handle() const { return handle_.get(); }
  bool valid() const { return data_ != nullptr; }

  // Maps all of `handle` (size from fstat) and takes ownership of it.
  static absl::StatusOr<SharedRegion> Adopt(UniqueHandle handle);

  // Whether the semaphores and mutexes that live in a region are kernel
  // objects with handles of their own (windows), which must cross to another
  // process beside the region's handle; false where they are bytes of the
  // memory (every POSIX backend), and then the two calls below are unused.
  static bool ObjectsHaveHandles();
  // The objects of this mapping whose handles this process holds: each as its
  // offset in the region and the handle to pass beside the region's.
  std::vector<std::pair<std::size_t, NativeHandle>> object_handles() const;
  // In a process that received the region: the object at `offset` is the one
  // `handle` (received beside the region's) names. Works on a duplicate.
  absl::Status AdoptObjectHandle(std::size_t offset, NativeHandle handle);

 private:
  SharedRegion(UniqueHandle handle, void* data, std::size_t size);
  void Reset();

  UniqueHandle handle_;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// `size` (> 0) bytes of zeroed shared memory, from CurrentBackend().
absl::StatusOr<SharedRegion> CreateSharedRegion(std::size_t size);
// Maps the shared memory `handle` names (e.g. one received from the process
// that created it). Works on a duplicate of `handle` (close-on-exec): the
// caller keeps `handle`. An invalid handle or one that names no shared memory
// fails with InvalidArgument.
absl::StatusOr<SharedRegion> MapSharedRegion(NativeHandle handle);

// A counting semaphore shared by every process that maps the memory it lives
// in. A view: copying it copies the address. Waits are event-driven; EINTR is
// retried with the same deadline. A deadline is an absl::Time; the wait lasts
// the time left until it when the wait starts, measured on CLOCK_MONOTONIC
// under "linux" and on the realtime clock under "posix" (sem_timedwait,
// POSIX's only kind: a step of the wall clock moves the timeout).
//
// Two kinds, chosen by the backend that makes it (Init) and recorded in the
// memory, so that every process that maps it agrees: where the backend can
// sleep on a word of memory ("linux": a futex), the semaphore is one 64-bit
// word, its value in the low half and the number of sleeping waiters in the
// high half; a decrement of a positive value and an increment with nobody
// asleep are one compare-and-swap, inline in the caller, and only the sleep
// and the wake-up call the backend (Backend::WaitWordUntil, WakeWord). The C
// library's sem_t is the same design out of line: two calls per uncontended
// acquire and release, which a lock pays on every use. Elsewhere ("posix",
// POSIX has no such sleep) it is a process-shared POSIX sem_t.
class SharedSemaphore {
 public:
  // The bytes a semaphore occupies in a region; place it at a multiple of
  // kAlignment.
  static constexpr std::size_t kSize = 64;
  static constexpr std::size_t kAlignment = 16;
  // The largest value (SEM_VALUE_MAX).
  static int MaxValue();

  // Makes a semaphore with `value` at `memory` (kSize bytes of a shared
  // region). A value above MaxValue() fails with InvalidArgument ([Errno 22]).
  static absl::StatusOr<SharedSemaphore> Init(void* memory, unsigned value);
  // The semaphore an earlier Init made at `memory` (possibly in another
  // process, through another mapping of the same region).
  static SharedSemaphore At(void* memory) {
    const auto* kind = static_cast<const std::uint32_t*>(memory) + kKindIndex;
    return SharedSemaphore(memory, *kind == kWordKind);
  }

  SharedSemaphore() = default;

  // Decrements the value, waiting until it is positive or `deadline` passes.
  // True if it decremented. A deadline in the past (absl::InfinitePast()) only
  // tries; absl::InfiniteFuture() waits for ever. Never returns false before
  // `deadline`.
  bool Wait(absl::Time deadline) const {
    if (word_ != nullptr && TryTakeWord()) return true;
    return WaitSlow(deadline);
  }
  // Increments the value, waking one waiter. Fails ([Errno 75] EOVERFLOW) at
  // MaxValue().
  absl::Status Post() const {
    if (word_ != nullptr && PostWordBelow(kWordMaxValue)) {
      return absl::OkStatus();
    }
    return PostSlow();
  }
  // Post() unless the value is `maxvalue` or more already: true if posted,
  // false if not (one call where Value() then Post() would be two; as racy:
  // two callers may both see the value below `maxvalue`).
  absl::StatusOr<bool> PostBelow(int maxvalue) const {
    if (word_ == nullptr) return PostBelowSemaphore(maxvalue);
    return PostWordBelow(static_cast<std::uint32_t>(maxvalue));
  }
  // The current value (0 when there are waiters).
  int Value() const;

 private:
  // The word: the value in the low 32 bits (the half a sleeper waits on),
  // the number of waiters registered to sleep in the high 32.
  static constexpr std::uint64_t kOneWaiter = std::uint64_t{1} << 32;
  static constexpr std::uint32_t kValueMask = 0xffffffffu;
  // MaxValue() (SEM_VALUE_MAX, checked in shared_memory.cc).
  static constexpr std::uint32_t kWordMaxValue = 0x7fffffffu;
  // Where the kind is recorded: a 32-bit slot past the C library's sem_t
  // (checked in shared_memory.cc), kWordKind for the word.
  static constexpr std::size_t kKindIndex = 12;
  static constexpr std::uint32_t kWordKind = 0x57524431;  // "WRD1"
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  SharedSemaphore(void* memory, bool word)
      : sem_(memory),
        word_(word ? static_cast<std::atomic<std::uint64_t>*>(memory)
                   : nullptr) {}

  // The uncontended paths of the word.
  bool TryTakeWord() const {
    std::uint64_t state = word_->load(std::memory_order_relaxed);
    while ((state & kValueMask) != 0) {
      if (word_->compare_exchange_weak(state, state - 1,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  bool PostWordBelow(std::uint32_t maxvalue) const {
    std::uint64_t state = word_->load(std::memory_order_relaxed);
    do {
      if ((state & kValueMask) >= maxvalue) return false;
    } while (!word_->compare_exchange_weak(state, state + 1,
                                           std::memory_order_release,
                                           std::memory_order_relaxed));
    if ((state >> 32) != 0) WakeOneWaiter();
    return true;
  }
  // Out of line: the sleep, the wake-up, and the sem_t kind.
  bool WaitSlow(absl::Time deadline) const;
  void WakeOneWaiter() const;
  absl::Status PostSlow() const;
  absl::StatusOr<bool> PostBelowSemaphore(int maxvalue) const;

  void* sem_ = nullptr;
  std::atomic<std::uint64_t>* word_ = nullptr;
};

// A robust process-shared mutex (POSIX pthread_mutex_t with
// PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST and PTHREAD_MUTEX_ERRORCHECK).
// It is owned by the *thread* that locked it; when that thread or its process
// ends while holding it, the next locker gets it with kOwnerDied and must call
// MakeConsistent() before Unlock(), or the mutex becomes unusable for ever
// (every later Lock says kNotRecoverable). A view.
class RobustMutex {
 public:
  static constexpr std::size_t kSize = 64;
  static constexpr std::size_t kAlignment = 16;

  enum class LockResult {
    kTimedOut,        // not locked: `deadline` passed
    kLocked,          // locked
    kOwnerDied,       // locked, but the previous owner died holding it
    kNotRecoverable,  // not locked: unusable (ENOTRECOVERABLE)
  };

  static absl::StatusOr<RobustMutex> Init(void* memory);
  static RobustMutex At(void* memory) { return RobustMutex(memory); }

  RobustMutex() = default;

  // Locks, waiting until `deadline` (a past deadline only tries). Fails with
  // FailedPrecondition ([Errno 35] EDEADLK) if this thread holds it already,
  // blocking or not.
  absl::StatusOr<LockResult> Lock(absl::Time deadline) const;
  // After kOwnerDied, by the thread that holds it: marks the state it protects
  // as repaired. InvalidArgument ([Errno 22]) otherwise.
  absl::Status MakeConsistent() const;
  // PermissionDenied ([Errno 1] EPERM) unless this thread holds it.
  absl::Status Unlock() const;

 private:
  explicit RobustMutex(void* memory) : mutex_(memory) {}
  void* mutex_ = nullptr;
};

}  // namespace procspec::platform

#endif  // PROCSPEC_PLATFORM_SHARED_MEMORY_H_
