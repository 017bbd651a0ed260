#include "platform/linux/linux_backend.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/linux/pidfd.h"
#include "platform/posix/child_process.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/fork_registry.h"
#include "platform/posix/internal/thread_sanitizer.h"
#include "platform/posix/parent_watch.h"

namespace procspec::platform::linux_backend {
namespace {

// The CLOCK_MONOTONIC time at which as much time will have passed as is
// left now until `deadline` (none if it has passed).
timespec MonotonicDeadline(absl::Time deadline) {
  const absl::Duration left =
      std::max(deadline - absl::Now(), absl::ZeroDuration());
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return absl::ToTimespec(absl::DurationFromTimespec(now) + left);
}

bool ProbePidfd() {
  const int pidfd = OpenPidfd(getpid());
  if (pidfd < 0) return false;
  close(pidfd);
  return true;
}

// A child whose sentinel is its pidfd, which also addresses its signals: unlike
// kill(pid), it cannot reach another process that reused the pid.
class PidfdChildProcess final : public posix::PosixChildProcess {
 public:
  PidfdChildProcess(Pid pid, internal::RegisteredHandle pidfd)
      : PosixChildProcess(pid, std::move(pidfd), internal::RegisteredHandle()) {
  }

 protected:
  // A pidfd becomes readable exactly when the child has ended, whatever
  // happens to the child's descriptors.
  bool SentinelIsExact() const override { return true; }
  absl::Status DeliverLocked(int signal_number) override {
    if (SendSignalToPidfd(sentinel(), signal_number) == 0 || errno == ESRCH) {
      return absl::OkStatus();
    }
    return internal::ErrnoError(errno, "pidfd_send_signal");
  }
};

}  // namespace

LinuxBackend::LinuxBackend() : has_pidfd_(ProbePidfd()) {}

absl::StatusOr<PipeEnds> LinuxBackend::MakePipe() {
  // Atomically close-on-exec, so no lock against concurrent forks is needed.
  return MakePipeLocked();
}

absl::StatusOr<UniqueHandle> LinuxBackend::CreateSharedMemory(
    std::size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError(
        "[Errno 22] Invalid argument: empty shared memory");
  }
  // No name anywhere (the "procspec" label only shows in /proc/<pid>/fd), and
  // close-on-exec atomically.
  UniqueHandle handle(memfd_create("procspec", MFD_CLOEXEC));
  if (!handle.valid()) return internal::ErrnoError(errno, "memfd_create");
  // A memfd is made with mode 0777: only processes that may already read
  // this one's descriptors (/proc/<pid>/fd) can reach it, but say so in its
  // mode too (0600, as CPython's sem_open and the posix backend's shm_open).
  if (fchmod(static_cast<int>(handle.get()), 0600) != 0) {
    return internal::ErrnoError(errno, "fchmod");
  }
  while (ftruncate(static_cast<int>(handle.get()), static_cast<off_t>(size)) !=
         0) {
    if (errno != EINTR) return internal::ErrnoError(errno, "ftruncate");
  }
  return handle;
}

UniqueHandle LinuxBackend::OpenProcessHandle(Pid pid) {
  if (!has_pidfd_) return UniqueHandle();
  return UniqueHandle(OpenPidfd(pid));
}

int LinuxBackend::SignalProcessHandle(NativeHandle handle, int signal_number) {
  return SendSignalToPidfd(handle, signal_number) == 0 ? 0 : errno;
}

bool LinuxBackend::WaitSemaphoreUntil(void* sem, absl::Time deadline) {
  const timespec until = MonotonicDeadline(deadline);
  // ETIMEDOUT only once the monotonic clock has reached `until`: never early.
  // EINTR goes round with the same deadline.
  while (sem_clockwait(static_cast<sem_t*>(sem), CLOCK_MONOTONIC, &until) !=
         0) {
    if (errno != EINTR) return false;
  }
  return true;
}

int LinuxBackend::WaitWordUntil(const void* word, std::uint32_t expected,
                                absl::Time deadline) {
  // Not FUTEX_PRIVATE_FLAG: the word is in memory other processes map. The
  // bitset form takes an absolute CLOCK_MONOTONIC time (no clock flag).
  timespec until;
  const timespec* timeout = nullptr;
  if (deadline != absl::InfiniteFuture()) {
    until = MonotonicDeadline(deadline);
    timeout = &until;
  }
  if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, timeout, nullptr,
              FUTEX_BITSET_MATCH_ANY) == 0) {
    return 0;
  }
  // EAGAIN: the word had changed already, as good as a wake-up.
  return errno == EAGAIN ? 0 : errno;
}

void LinuxBackend::WakeWord(const void* word) {
  syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

int LinuxBackend::LockMutexUntil(void* mutex, absl::Time deadline) {
  const timespec until = MonotonicDeadline(deadline);
  const int error = pthread_mutex_clocklock(
      static_cast<pthread_mutex_t*>(mutex), CLOCK_MONOTONIC, &until);
  if (error == 0 || error == EOWNERDEAD) internal::NoteMutexLockedUnseen(mutex);
  return error;
}

std::optional<int> LinuxBackend::ThreadCount() const {
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string stat;
  char buffer[512];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    stat.append(buffer, static_cast<std::size_t>(got));
  }
  close(fd);
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'. num_threads is field 20, the 18th
  // after comm.
  const std::size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  const std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(close_paren + 1), ' ', absl::SkipEmpty());
  int threads = 0;
  if (fields.size() < 18 || !absl::SimpleAtoi(fields[17], &threads) ||
      threads < 1) {
    return std::nullopt;
  }
  // The die_with_parent watcher holds no lock a forked child could need: it
  // is not one of the threads the fork warning is about.
  return std::max(1, threads - WatcherThreads());
}

absl::StatusOr<PipeEnds> LinuxBackend::MakePipeLocked() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return internal::ErrnoError(errno, "pipe2");
  return PipeEnds{UniqueHandle(fds[0]), UniqueHandle(fds[1])};
}

bool LinuxBackend::AdoptCanFailAfterFork() const { return has_pidfd_; }

absl::StatusOr<std::string> LinuxBackend::OwnExecutable() {
  std::string path(PATH_MAX, '\0');
  const ssize_t length = readlink("/proc/self/exe", path.data(), path.size());
  if (length < 0) return internal::ErrnoError(errno, "readlink /proc/self/exe");
  path.resize(static_cast<std::size_t>(length));
  return path;
}

int LinuxBackend::AddCloseFromAction(posix_spawn_file_actions_t* actions,
                                     int lowest) {
  return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

absl::StatusOr<posix::ForkPlumbing> LinuxBackend::PrepareLocked(
    const ForkOptions& options) {
  if (!has_pidfd_) return PosixBackend::PrepareLocked(options);
  // Nothing to make before fork(): both pidfds are opened after it.
  return posix::ForkPlumbing();
}

absl::StatusOr<std::unique_ptr<ChildProcess>> LinuxBackend::AdoptLocked(
    Pid child, posix::ForkPlumbing& plumbing) {
  if (!has_pidfd_) return PosixBackend::AdoptLocked(child, plumbing);
  // The child cannot have been reaped yet (only this object will reap it), so
  // the pid still names it even if it has already exited.
  const int pidfd = OpenPidfd(child);
  if (pidfd < 0) return internal::ErrnoError(errno, "pidfd_open");
  return std::make_unique<PidfdChildProcess>(
      child, internal::RegisteredHandle::AdoptLocked(UniqueHandle(pidfd)));
}

absl::Status LinuxBackend::ArmDieWithParentLocked(
    Pid parent, posix::ForkPlumbing& plumbing) {
  // Not PR_SET_PDEATHSIG: it fires when the *thread* that forked ends, and a
  // parent that started the child from a short-lived thread lives on. A pidfd
  // of the parent becomes readable only when the whole parent process has
  // ended, so a thread blocked on it watches the process.
  if (!has_pidfd_)
    return PosixBackend::ArmDieWithParentLocked(parent, plumbing);
  UniqueHandle pidfd(OpenPidfd(parent));
  if (!pidfd.valid() && errno != ESRCH)
    return internal::ErrnoError(errno, "pidfd_open");
  // Still our parent after pidfd_open: the pidfd names it. Otherwise it ended
  // before there was anything to watch it with.
  if (!pidfd.valid() || getppid() != parent) kill(getpid(), SIGKILL);
  return KillSelfWhenReadableLocked(pidfd.get());
}

absl::StatusOr<std::unique_ptr<ParentWatch>> LinuxBackend::WatchParentLocked(
    Pid parent, posix::ForkPlumbing& plumbing) {
  if (!has_pidfd_) return PosixBackend::WatchParentLocked(parent, plumbing);
  UniqueHandle pidfd(OpenPidfd(parent));
  if (!pidfd.valid() && errno != ESRCH)
    return internal::ErrnoError(errno, "pidfd_open");
  // If the parent is still this process's parent after pidfd_open, the pidfd
  // names it: its pid cannot have been reused while it was alive. Otherwise it
  // has gone (we were re-parented) and the pidfd, if any, may name a stranger.
  if (pidfd.valid() && getppid() == parent) {
    return std::make_unique<posix::SentinelParentWatch>(
        parent, internal::RegisteredHandle::AdoptLocked(std::move(pidfd)));
  }
  // A parent that is already gone: a pipe with no writer is readable at once,
  // for ever.
  absl::StatusOr<PipeEnds> gone = MakePipeLocked();
  if (!gone.ok()) return gone.status();
  return std::make_unique<posix::SentinelParentWatch>(
      parent, internal::RegisteredHandle::AdoptLocked(std::move(gone->read)));
}

Backend& LinuxBackendInstance() {
  static auto* backend = new LinuxBackend();
  return *backend;
}

}  // namespace procspec::platform::linux_backend
