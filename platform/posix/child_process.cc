#include "platform/posix/child_process.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/posix_io.h"

namespace procspec::platform::posix {
namespace {

// How long a poll waits for a child whose sentinel has fired to become
// reapable (the moment between an exiting process's descriptors closing and
// its becoming a zombie; a child that closed its sentinel early takes it).
constexpr absl::Duration kExitMomentBound = absl::Milliseconds(250);

// The helper thread of a bounded wait: blocks until child `pid` is reapable
// (or gone), without reaping it, then writes a byte to `event`. It touches
// nothing of the ChildProcess, which may be destroyed first (the thread is
// detached then): a write to a pipe whose reader has gone fails with EPIPE,
// and the SIGPIPE it raises is blocked in this thread (and discarded with
// it).
void SignalWhenReapable(Pid pid, internal::RegisteredHandle event) {
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 &&
         errno == EINTR) {
  }
  const char byte = 1;
  while (write(static_cast<int>(event.get()), &byte, 1) < 0 && errno == EINTR) {
  }
  event.Reset();
}

}  // namespace

PosixChildProcess::PosixChildProcess(Pid pid,
                                     internal::RegisteredHandle sentinel,
                                     internal::RegisteredHandle parent_watch)
    : pid_(pid),
      creator_(CurrentPid()),
      sentinel_(std::move(sentinel)),
      parent_watch_(std::move(parent_watch)) {}

PosixChildProcess::~PosixChildProcess() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // Without the lock: in a forked copy it may be held by a thread that does
  // not exist there, and so does the helper thread: forget it.
  if (CurrentPid() != creator_) {
    (void)exit_waiter_.release();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (exit_waiter_ != nullptr) exit_waiter_->detach();
}

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
  NativeHandle event = sentinel_.get();
  bool exact = SentinelIsExact();
  // The sentinel has fired, but the child could not be reaped.
  bool ending = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.has_value()) return status_;
    // The truth, and all that most polls (is_alive, exitcode) need.
    absl::StatusOr<std::optional<ExitStatus>> reaped = TryReapLocked();
    if (!reaped.ok() || reaped->has_value()) return reaped;
    if (!exact && !exit_event_.valid()) {
      absl::StatusOr<bool> fired = internal::IsReadableNow(sentinel_.get());
      if (fired.ok() && *fired) {
        // Either the child's descriptors are closed and it is a moment from
        // becoming a zombie, or it closed its end early (an exec). From now
        // on wait for the child itself.
        absl::StatusOr<NativeHandle> exit_event = ExitEventLocked();
        if (!exit_event.ok()) return exit_event.status();
        ending = true;
      }
    }
    if (!exact && exit_event_.valid()) {
      event = exit_event_.get();
      exact = true;
    }
  }
  if (deadline <= absl::Now()) {
    if (!ending) return std::nullopt;
    // A poll does not wait for the child, but a sentinel that has just fired
    // almost always means that its exit is under way: so that a poll after
    // the sentinel fired finds the child ended, it waits for that moment,
    // with a bound for a child that closed its sentinel early (then only this
    // first poll waits: later ones find the helper thread started).
    deadline = absl::Now() + kExitMomentBound;
  }
  if (!exact && deadline == absl::InfiniteFuture()) {
    // As CPython's Popen.wait(None): a blocking wait on the child itself.
    // Without the lock, so other threads can signal or wait meanwhile.
    if (absl::Status status = AwaitReapable(); !status.ok()) return status;
    return ReapAfterEvent();
  }
  while (true) {
    const NativeHandle handles[] = {event};
    absl::StatusOr<std::vector<std::size_t>> ready =
        WaitReadable(handles, deadline);
    if (!ready.ok()) return ready.status();
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.has_value()) return status_;
    absl::StatusOr<std::optional<ExitStatus>> reaped = TryReapLocked();
    if (!reaped.ok() || reaped->has_value()) return reaped;
    if (ready->empty()) return std::nullopt;  // still running at the deadline
    if (exact) {
      return absl::InternalError(
          absl::StrCat("process ", pid_, " ended but could not be reaped"));
    }
    // The sentinel fired while the child cannot be reaped (see above).
    absl::StatusOr<NativeHandle> exit_event = ExitEventLocked();
    if (!exit_event.ok()) return exit_event.status();
    event = *exit_event;
    exact = true;
  }
}

absl::StatusOr<std::optional<ExitStatus>> PosixChildProcess::ReapAfterEvent() {
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
    if (errno != ECHILD) return internal::ErrnoError(errno, "waitpid");
    // Only this process's children can be waited for, and this is one of
    // them: something else here reaped it (a SIGCHLD handler, or SIGCHLD
    // ignored). It has ended; its status is lost.
    status_ = ExitStatus{.collected_elsewhere = true};
  } else {
    status_ = internal::DecodeWaitStatus(wait_status);
  }
  // Lock order: mu_, then the fork mutex that Reset takes. Fork never takes
  // mu_.
  parent_watch_.Reset();
  // The helper thread's waitid returns now that the child is reaped, and it
  // takes only the fork mutex: joining it is short, and leaves none of its
  // descriptors open.
  if (exit_waiter_ != nullptr) {
    exit_waiter_->join();
    exit_waiter_.reset();
  }
  return status_;
}

absl::Status PosixChildProcess::AwaitReapable() const {
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) !=
         0) {
    if (errno == EINTR) continue;
    // Reaped meanwhile, by another thread (the caller finds the status) or by
    // something else in this process (the caller finds ECHILD).
    if (errno == ECHILD) return absl::OkStatus();
    return internal::ErrnoError(errno, "waitid");
  }
  return absl::OkStatus();
}

absl::StatusOr<NativeHandle> PosixChildProcess::ExitEventLocked() {
  if (exit_event_.valid()) return exit_event_.get();
  internal::RegisteredHandle read_end, write_end;
  {
    std::lock_guard<std::mutex> fork_lock(internal::ForkMutex());
    absl::StatusOr<PipeEnds> pipe = internal::MakePosixPipeLocked();
    if (!pipe.ok()) return pipe.status();
    read_end = internal::RegisteredHandle::AdoptLocked(std::move(pipe->read));
    write_end = internal::RegisteredHandle::AdoptLocked(std::move(pipe->write));
  }
  // The thread starts with every signal blocked: it runs none of the host's
  // handlers, and the SIGPIPE of a write to a pipe nobody reads is discarded.
  sigset_t all, old_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  absl::Status started = absl::OkStatus();
  try {
    exit_waiter_ = std::make_unique<std::thread>(SignalWhenReapable, pid_,
                                                 std::move(write_end));
  } catch (const std::system_error& error) {
    started = absl::ResourceExhaustedError(
        absl::StrCat("cannot start a thread: ", error.what()));
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (!started.ok()) return started;
  {
    // The sentinel's number now names the helper's pipe too: it becomes
    // readable when the child ends, whatever the child did with its end.
    // Under the fork mutex, as dup2 leaves the copy inheritable until
    // FD_CLOEXEC is set again. If it fails, the sentinel merely stays early.
    std::lock_guard<std::mutex> fork_lock(internal::ForkMutex());
    if (dup2(static_cast<int>(read_end.get()),
             static_cast<int>(sentinel_.get())) >= 0) {
      (void)internal::SetCloseOnExec(sentinel_.get());
    }
  }
  exit_event_ = std::move(read_end);
  return exit_event_.get();
}

absl::Status PosixChildProcess::SendSignal(Signal signal) {
  if (absl::Status status = CheckCreator(); !status.ok()) return status;
  std::lock_guard<std::mutex> lock(mu_);
  // Once reaped, the pid may already name an unrelated process.
  if (status_.has_value()) return absl::OkStatus();
  return DeliverLocked(SignalNumber(signal));
}

absl::Status PosixChildProcess::DeliverLocked(int signal_number) {
  // Without a pidfd the signal goes to the pid, which names a stranger once
  // the child has been reaped, possibly by something else in this process (a
  // host's SIGCHLD handler). So ask first, without reaping (a zombie stays for
  // the call that asks for its status): ECHILD means reaped elsewhere, and a
  // zombie has nothing left to signal; either way nothing is sent. A child
  // that has not ended is still ours: it would have to end, be reaped by the
  // host and have its pid given to a new process between the two calls for
  // the signal to go astray (CPython's kill has no check at all).
  siginfo_t info;
  info.si_pid = 0;
  int result;
  do {
    result = waitid(P_PID, static_cast<id_t>(pid_), &info,
                    WEXITED | WNOHANG | WNOWAIT);
  } while (result < 0 && errno == EINTR);
  if (result < 0) {
    if (errno != ECHILD) return internal::ErrnoError(errno, "waitid");
    // Records the child as collected elsewhere.
    absl::StatusOr<std::optional<ExitStatus>> gone = TryReapLocked();
    return gone.status();
  }
  if (info.si_pid != 0) return absl::OkStatus();
  // An unreaped child exists at least as a zombie, so ESRCH cannot mean a
  // reused pid; CPython ignores ProcessLookupError here too.
  if (kill(static_cast<pid_t>(pid_), signal_number) == 0 || errno == ESRCH) {
    return absl::OkStatus();
  }
  return internal::ErrnoError(errno, "kill");
}

}  // namespace procspec::platform::posix
