#include "platform/posix/child_process.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "platform/internal/errors.h"
#include "platform/internal/posix_io.h"

namespace procspec::platform::posix {

PosixChildProcess::PosixChildProcess(Pid pid,
                                     internal::RegisteredHandle sentinel,
                                     internal::RegisteredHandle parent_watch)
    : pid_(pid),
      creator_(CurrentPid()),
      sentinel_(std::move(sentinel)),
      parent_watch_(std::move(parent_watch)) {}

absl::Status PosixChildProcess::CheckCreator() const {
  if (CurrentPid() == creator_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("process ", pid_, " is a child of process ", creator_,
                   ", not of this one"));
}

absl::StatusOr<std::optional<ExitStatus>> PosixChildProcess::Wait(
    absl::Time deadline) {
  // Before the lock: in a forked copy of this object the mutex may be held by a
  // thread that does not exist there.
  if (absl::Status status = CheckCreator(); !status.ok()) return status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.has_value()) return status_;
  }
  // Blocks without the lock, so other threads can signal or wait meanwhile.
  const NativeHandle handles[] = {sentinel_.get()};
  absl::StatusOr<std::vector<std::size_t>> ready =
      WaitReadable(handles, deadline);
  if (!ready.ok()) return ready.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Another thread may have reaped it meanwhile; otherwise a timeout means
    // "still running".
    if (status_.has_value() || ready->empty()) return status_;
    absl::StatusOr<std::optional<ExitStatus>> reaped = TryReapLocked();
    if (!reaped.ok() || reaped->has_value()) return reaped;
  }
  // The sentinel fired but the child is not reapable yet: an exiting process's
  // descriptors are closed before it becomes a zombie, so the pipe reports end
  // of file a moment early. (A pidfd only fires once the zombie exists.) The
  // wait below lasts for that moment, unless the child closed the pipe itself,
  // which only code that closes descriptors it does not own would do.
  if (absl::Status status = AwaitReapable(); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.has_value()) return status_;
  absl::StatusOr<std::optional<ExitStatus>> reaped = TryReapLocked();
  if (reaped.ok() && !reaped->has_value()) {
    return absl::InternalError(
        absl::StrCat("process ", pid_, " ended but could not be reaped"));
  }
  return reaped;
}

absl::StatusOr<std::optional<ExitStatus>> PosixChildProcess::TryReapLocked() {
  int wait_status = 0;
  pid_t result;
  do {
    result = waitpid(static_cast<pid_t>(pid_), &wait_status, WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == 0) return std::nullopt;
  if (result < 0) {
    if (errno == ECHILD) {
      return absl::InternalError(
          absl::StrCat("process ", pid_,
                       " was reaped by someone else (is SIGCHLD ignored?)"));
    }
    return internal::ErrnoError(errno, "waitpid");
  }
  status_ = internal::DecodeWaitStatus(wait_status);
  // Lock order: mu_, then the fork mutex that Reset takes. Fork never takes
  // mu_.
  parent_watch_.Reset();
  return status_;
}

absl::Status PosixChildProcess::AwaitReapable() const {
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) !=
         0) {
    if (errno == EINTR) continue;
    // Another thread reaped it between our unlock and this call; the caller
    // finds the status.
    if (errno == ECHILD) return absl::OkStatus();
    return internal::ErrnoError(errno, "waitid");
  }
  return absl::OkStatus();
}

absl::Status PosixChildProcess::SendSignal(Signal signal) {
  if (absl::Status status = CheckCreator(); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mu_);
  // Once reaped, the pid may already name an unrelated process.
  if (status_.has_value()) return absl::OkStatus();
  return DeliverLocked(SignalNumber(signal));
}

absl::Status PosixChildProcess::DeliverLocked(int signal_number) {
  // An unreaped child exists at least as a zombie, so ESRCH cannot mean a
  // reused pid; CPython ignores ProcessLookupError here too.
  if (kill(static_cast<pid_t>(pid_), signal_number) == 0 || errno == ESRCH) {
    return absl::OkStatus();
  }
  return internal::ErrnoError(errno, "kill");
}

}  // namespace procspec::platform::posix
