// Shared memory and process-shared synchronization objects: POSIX.1-2008 only
// (shm_open, mmap, sem_t, robust pthread mutexes; fork and a socket pair for
// the helper that owns each shm_open name while it exists).
#include "platform/shared_memory.h"

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/fork_registry.h"
#include "platform/posix/internal/posix_io.h"
#include "platform/posix/internal/thread_sanitizer.h"
#include "platform/posix/posix_backend.h"

namespace procspec::platform {
namespace {

static_assert(sizeof(sem_t) <= SharedSemaphore::kSize);
static_assert(alignof(sem_t) <= SharedSemaphore::kAlignment);
// SharedSemaphore records its kind in the 32-bit slot at byte 48, past a
// sem_t.
static_assert(sizeof(sem_t) <= 48);
static_assert(SEM_VALUE_MAX == 0x7fffffff);

// A RobustMutex's memory: the mutex, and a token of the thread that holds it.
// The token lets Unlock() refuse a thread that does not hold the mutex itself,
// before the C library would: the result is the same EPERM, but a thread
// checker (ThreadSanitizer) never sees an unlock of a mutex that thread did
// not lock, which it reports as a bug even when the call fails cleanly.
struct RobustMutexMemory {
  pthread_mutex_t mutex;
  // ThisThreadToken() of the holder, set after each lock and cleared before
  // each unlock; a holder that died leaves its own until the next lock.
  std::atomic<std::uint64_t> holder;
};
static_assert(sizeof(RobustMutexMemory) <= RobustMutex::kSize);
static_assert(alignof(RobustMutexMemory) <= RobustMutex::kAlignment);
// In memory shared by processes: it must not need a lock of its own.
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

RobustMutexMemory& MemoryOf(void* memory) {
  return *static_cast<RobustMutexMemory*>(memory);
}

// The calling thread's token: its process's pid and its number in the
// process, never 0 and different for every live thread on the machine (a
// forked child's thread keeps its number, under the child's pid).
std::uint64_t ThisThreadToken() {
  static std::atomic<std::uint32_t> next_number{1};
  thread_local const std::uint32_t number =
      next_number.fetch_add(1, std::memory_order_relaxed);
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(CurrentPid()))
          << 32) |
         number;
}

// ftruncate, retried on EINTR.
absl::Status Resize(int fd, std::size_t size) {
  while (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) return internal::ErrnoError(errno, "ftruncate");
  }
  return absl::OkStatus();
}

// A name for shm_open: "/procspec-<pid>-<64 random bits>". Only ever used
// with O_EXCL, so a guessed or colliding name makes the caller try another,
// never share memory.
std::string RandomShmName() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return absl::StrFormat("/procspec-%d-%016x", getpid(), generator());
}

// ---- Making the object without leaving its name behind
//
// shm_open needs a name, and the name lives in /dev/shm until shm_unlink: a
// process SIGKILLed between the two calls would leave it there for ever. So
// the two calls are made by a helper forked for the purpose, in a process
// group of its own: a SIGKILL of this process (or of its process group) does
// not reach it, and it finishes its unlink whatever happens to its parent.
// It passes the descriptor back over a socket pair and exits; this process
// reaps it by its pid.

// What the helper sends: the errno of shm_open or shm_unlink (0 with the
// descriptor attached).
struct HelperReply {
  int error = 0;
};

union HelperControl {
  cmsghdr align;
  char bytes[CMSG_SPACE(sizeof(int))];
};

// In the forked helper: only async-signal-safe calls (the parent may have had
// other threads), and no return.
[[noreturn]] void RunShmHelper(int socket, const char* name) {
  // Out of the parent's process group, before the name exists.
  (void)setpgid(0, 0);
  HelperReply reply;
  HelperControl control;
  std::memset(&control, 0, sizeof(control));
  iovec iov{&reply, sizeof(reply)};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  const int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    reply.error = errno;
  } else if (shm_unlink(name) != 0) {
    reply.error = errno;
  } else {
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof(control.bytes);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
  }
  // A parent that is gone is no error of the helper's (MSG_NOSIGNAL: no
  // SIGPIPE); the name is unlinked already.
  while (sendmsg(socket, &message, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  _exit(0);
}

// Reaps the helper `pid`. ECHILD: already reaped (SIGCHLD ignored, or a
// handler of the program's that waits for any child); its work was done.
void ReapHelper(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The helper's reply for `name`: the descriptor, close-on-exec; nullopt if no
// helper can be forked (EAGAIN under RLIMIT_NPROC, a filter that denies it).
absl::StatusOr<std::optional<UniqueHandle>> OpenUnlinkedByHelper(
    const std::string& name) {
  UniqueHandle mine, theirs;
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(internal::ForkMutex());
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
      return internal::ErrnoError(errno, "socketpair");
    mine.reset(fds[0]);
    theirs.reset(fds[1]);
    if (absl::Status s = internal::SetCloseOnExec(fds[0]); !s.ok()) return s;
    if (absl::Status s = internal::SetCloseOnExec(fds[1]); !s.ok()) return s;
    pid = fork();
    if (pid == 0) RunShmHelper(fds[1], name.c_str());
  }
  if (pid < 0) return std::nullopt;
  theirs.reset();
  HelperReply reply;
  reply.error = EIO;  // if the helper died before it replied
  std::size_t got = 0;
  std::vector<UniqueHandle> handles;
  while (got < sizeof(reply)) {
    const NativeHandle wait_on[] = {mine.get()};
    absl::StatusOr<std::vector<std::size_t>> ready =
        WaitReadable(wait_on, absl::InfiniteFuture());
    if (!ready.ok()) break;
    // Received descriptors are inheritable until FD_CLOEXEC is set: no fork
    // of this library may happen in between.
    std::lock_guard<std::mutex> lock(internal::ForkMutex());
    HelperControl control;
    iovec iov{reinterpret_cast<char*>(&reply) + got, sizeof(reply) - got};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof(control.bytes);
    const ssize_t n = recvmsg(static_cast<int>(mine.get()), &message, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
        continue;
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
        (void)internal::SetCloseOnExec(fd);
        handles.emplace_back(fd);
      }
    }
    got += static_cast<std::size_t>(n);
  }
  ReapHelper(pid);
  if (got < sizeof(reply)) {
    return internal::ErrnoError(EIO, "shared memory helper");
  }
  if (reply.error != 0) return internal::ErrnoError(reply.error, "shm_open");
  if (handles.size() != 1)
    return internal::ErrnoError(EIO, "shared memory helper");
  return std::optional<UniqueHandle>(std::move(handles[0]));
}

// shm_open then shm_unlink in this process: only when no helper can be
// forked, when a SIGKILL between the two calls would leave the name.
absl::StatusOr<UniqueHandle> OpenUnlinkedHere(const std::string& name) {
  // shm_open sets FD_CLOEXEC itself (POSIX), atomically.
  const int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return internal::ErrnoError(errno, "shm_open");
  UniqueHandle handle(fd);
  if (shm_unlink(name.c_str()) != 0)
    return internal::ErrnoError(errno, "shm_unlink");
  return handle;
}

}  // namespace

namespace posix {

absl::StatusOr<UniqueHandle> PosixBackend::CreateSharedMemory(
    std::size_t size) {
  if (size == 0)
    return absl::InvalidArgumentError(
        "[Errno 22] Invalid argument: empty shared memory");
  for (int attempt = 0; attempt < 100; ++attempt) {
    // Named after this process, made in this one (the helper's copy of the
    // generator would not move on).
    const std::string name = RandomShmName();
    absl::StatusOr<std::optional<UniqueHandle>> made =
        OpenUnlinkedByHelper(name);
    if (!made.ok()) {
      if (absl::IsAlreadyExists(made.status())) continue;  // EEXIST
      return made.status();
    }
    absl::StatusOr<UniqueHandle> handle =
        made->has_value() ? std::move(**made) : OpenUnlinkedHere(name);
    if (!handle.ok()) {
      if (absl::IsAlreadyExists(handle.status())) continue;  // EEXIST
      return handle.status();
    }
    if (absl::Status status = Resize(static_cast<int>(handle->get()), size);
        !status.ok())
      return status;
    return handle;
  }
  return absl::AlreadyExistsError(
      "shm_open: no free name after 100 random attempts");
}

}  // namespace posix

// ---- SharedRegion

SharedRegion::SharedRegion(UniqueHandle handle, void* data, std::size_t size)
    : handle_(std::move(handle)), data_(data), size_(size) {}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : handle_(std::move(other.handle_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    Reset();
    handle_ = std::move(other.handle_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() { Reset(); }

void SharedRegion::Reset() {
  if (data_ != nullptr) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  handle_.reset();
}

absl::StatusOr<SharedRegion> SharedRegion::Adopt(UniqueHandle handle) {
  const int fd = static_cast<int>(handle.get());
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a shared memory descriptor: ",
                     internal::ErrnoError(errno, "fstat").message()));
  }
  if (info.st_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a shared memory descriptor: descriptor ", fd, " has no size"));
  }
  const auto size = static_cast<std::size_t>(info.st_size);
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a shared memory descriptor: ",
                     internal::ErrnoError(errno, "mmap").message()));
  }
  return SharedRegion(std::move(handle), data, size);
}

// A POSIX semaphore or mutex is bytes of the memory: nothing crosses beside
// the region's descriptor.
bool SharedRegion::ObjectsHaveHandles() { return false; }

std::vector<std::pair<std::size_t, NativeHandle>> SharedRegion::object_handles()
    const {
  return {};
}

absl::Status SharedRegion::AdoptObjectHandle(std::size_t offset,
                                             NativeHandle handle) {
  (void)offset;
  (void)handle;
  return absl::InvalidArgumentError(
      "a POSIX shared region's objects have no handles of their own");
}

absl::StatusOr<SharedRegion> MapSharedRegion(NativeHandle handle) {
  if (handle == kInvalidHandle) {
    return absl::InvalidArgumentError(
        "not a shared memory descriptor: invalid handle");
  }
  const int copy = fcntl(static_cast<int>(handle), F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    if (errno == EBADF) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not a shared memory descriptor: ",
          internal::ErrnoError(errno, "fcntl(F_DUPFD_CLOEXEC)").message()));
    }
    return internal::ErrnoError(errno, "fcntl(F_DUPFD_CLOEXEC)");
  }
  return SharedRegion::Adopt(UniqueHandle(copy));
}

// ---- SharedSemaphore

int SharedSemaphore::MaxValue() { return SEM_VALUE_MAX; }

absl::StatusOr<SharedSemaphore> SharedSemaphore::Init(void* memory,
                                                      unsigned value) {
  auto* const kind = static_cast<std::uint32_t*>(memory) + kKindIndex;
  if (CurrentBackend().HasWordWaits()) {
    if (value > static_cast<unsigned>(SEM_VALUE_MAX)) {
      return internal::ErrnoError(EINVAL, "sem_init");
    }
    new (memory) std::atomic<std::uint64_t>(value);
    *kind = kWordKind;
    return SharedSemaphore(memory, /*word=*/true);
  }
  if (sem_init(static_cast<sem_t*>(memory), /*pshared=*/1, value) != 0) {
    return internal::ErrnoError(errno, "sem_init");
  }
  *kind = 0;
  return SharedSemaphore(memory, /*word=*/false);
}

bool SharedSemaphore::WaitSlow(absl::Time deadline) const {
  if (word_ == nullptr) {
    sem_t* sem = static_cast<sem_t*>(sem_);
    if (deadline == absl::InfiniteFuture()) {
      // A try first: when it succeeds (uncontended), glibc's sem_wait would
      // have added a cancellation check and a call.
      if (sem_trywait(sem) == 0) return true;
      while (sem_wait(sem) != 0) {
        if (errno != EINTR) return false;
      }
      return true;
    }
    while (true) {
      if (sem_trywait(sem) == 0) return true;
      if (errno == EAGAIN) break;  // not available now
      if (errno != EINTR) return false;
    }
    if (absl::Now() >= deadline) return false;
    return CurrentBackend().WaitSemaphoreUntil(sem, deadline);
  }
  // The inline try found the value at 0.
  if (deadline != absl::InfiniteFuture() && absl::Now() >= deadline) {
    return TryTakeWord();
  }
  // Registered as a waiter before the value is checked again, in the same
  // word: a post either sees the waiter (and wakes a sleeper) or comes before
  // the check (which then sees the value). The C library's sem_t does the
  // same; a waiter killed while registered only costs each later post a
  // wake-up call.
  Backend& backend = CurrentBackend();
  const void* value_half = reinterpret_cast<const std::uint32_t*>(word_) +
                           (std::endian::native == std::endian::big ? 1 : 0);
  std::uint64_t state =
      word_->fetch_add(kOneWaiter, std::memory_order_relaxed) + kOneWaiter;
  bool timed_out = false;
  while (true) {
    if ((state & kValueMask) != 0) {
      // Takes one and leaves the waiters in one step.
      if (word_->compare_exchange_weak(state, state - 1 - kOneWaiter,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
      continue;
    }
    if (timed_out) {
      if (word_->compare_exchange_weak(state, state - kOneWaiter,
                                       std::memory_order_relaxed)) {
        return false;
      }
      continue;
    }
    // Sleeps while the value half is 0; EINTR goes round with the same
    // deadline.
    if (backend.WaitWordUntil(value_half, 0, deadline) == ETIMEDOUT) {
      timed_out = true;
    }
    state = word_->load(std::memory_order_relaxed);
  }
}

void SharedSemaphore::WakeOneWaiter() const {
  const void* value_half = reinterpret_cast<const std::uint32_t*>(word_) +
                           (std::endian::native == std::endian::big ? 1 : 0);
  CurrentBackend().WakeWord(value_half);
}

absl::Status SharedSemaphore::PostSlow() const {
  // The word's inline Post() found it at MaxValue().
  if (word_ != nullptr) return internal::ErrnoError(EOVERFLOW, "sem_post");
  if (sem_post(static_cast<sem_t*>(sem_)) != 0) {
    return internal::ErrnoError(errno, "sem_post");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SharedSemaphore::PostBelowSemaphore(int maxvalue) const {
  sem_t* sem = static_cast<sem_t*>(sem_);
  int value = 0;
  if (sem_getvalue(sem, &value) == 0 && value >= maxvalue) return false;
  if (sem_post(sem) != 0) return internal::ErrnoError(errno, "sem_post");
  return true;
}

int SharedSemaphore::Value() const {
  if (word_ != nullptr) {
    return static_cast<int>(word_->load(std::memory_order_relaxed) &
                            kValueMask);
  }
  int value = 0;
  if (sem_getvalue(static_cast<sem_t*>(sem_), &value) != 0) return 0;
  // POSIX allows a negative value (the number of waiters); glibc reports 0.
  return value < 0 ? 0 : value;
}

// ---- RobustMutex

absl::StatusOr<RobustMutex> RobustMutex::Init(void* memory) {
  pthread_mutexattr_t attributes;
  int error = pthread_mutexattr_init(&attributes);
  if (error != 0) return internal::ErrnoError(error, "pthread_mutexattr_init");
  error = pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  if (error == 0) {
    error = pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  }
  if (error == 0) {
    error = pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
  }
  RobustMutexMemory* const shared = new (memory) RobustMutexMemory{};
  if (error == 0) error = pthread_mutex_init(&shared->mutex, &attributes);
  pthread_mutexattr_destroy(&attributes);
  if (error != 0) return internal::ErrnoError(error, "pthread_mutex_init");
  return RobustMutex(memory);
}

absl::StatusOr<RobustMutex::LockResult> RobustMutex::Lock(
    absl::Time deadline) const {
  pthread_mutex_t* mutex = &MemoryOf(mutex_).mutex;
  // The pthread_mutex_*lock functions never fail with EINTR (POSIX): they
  // resume the wait themselves. A try is a timed lock with a deadline in the
  // past, not pthread_mutex_trylock: glibc's trylock of a not-recoverable
  // robust mutex returns ENOTRECOVERABLE but leaves it locked by the caller
  // (so every other process then waits instead of seeing ENOTRECOVERABLE).
  int error = 0;
  if (deadline == absl::InfiniteFuture()) {
    error = pthread_mutex_lock(mutex);
  } else if (deadline <= absl::UnixEpoch()) {
    // A try (see above): the realtime clock is past the epoch, so this fails
    // at once with ETIMEDOUT unless it can lock.
    const timespec until = absl::ToTimespec(absl::UnixEpoch());
    error = pthread_mutex_timedlock(mutex, &until);
    if (error == EOWNERDEAD) internal::NoteMutexLockedUnseen(mutex);
  } else {
    error = CurrentBackend().LockMutexUntil(mutex, deadline);
  }
  if (error == 0 || error == EOWNERDEAD) {
    MemoryOf(mutex_).holder.store(ThisThreadToken(), std::memory_order_relaxed);
  }
  switch (error) {
    case 0:
      return LockResult::kLocked;
    case EOWNERDEAD:
      return LockResult::kOwnerDied;
    case EBUSY:
    case ETIMEDOUT:
      return LockResult::kTimedOut;
    case ENOTRECOVERABLE:
      return LockResult::kNotRecoverable;
    case EDEADLK:
      return absl::FailedPreconditionError(
          internal::ErrnoError(error, "pthread_mutex_lock").message());
    default:
      return internal::ErrnoError(error, "pthread_mutex_lock");
  }
}

absl::Status RobustMutex::MakeConsistent() const {
  const int error = pthread_mutex_consistent(&MemoryOf(mutex_).mutex);
  if (error != 0)
    return internal::ErrnoError(error, "pthread_mutex_consistent");
  return absl::OkStatus();
}

absl::Status RobustMutex::Unlock() const {
  RobustMutexMemory& shared = MemoryOf(mutex_);
  const std::uint64_t token = ThisThreadToken();
  // Only the holder ever stores its own token, so a token that is not this
  // thread's (or 0) means this thread does not hold the mutex.
  if (shared.holder.load(std::memory_order_relaxed) != token)
    return internal::ErrnoError(EPERM, "pthread_mutex_unlock");
  shared.holder.store(0, std::memory_order_relaxed);
  const int error = pthread_mutex_unlock(&shared.mutex);
  if (error != 0) {
    shared.holder.store(token, std::memory_order_relaxed);
    return internal::ErrnoError(error, "pthread_mutex_unlock");
  }
  return absl::OkStatus();
}

}  // namespace procspec::platform
