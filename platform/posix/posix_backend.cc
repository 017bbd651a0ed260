#include "platform/posix/posix_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "platform/internal/errors.h"
#include "platform/internal/fork_registry.h"
#include "platform/internal/posix_io.h"
#include "platform/posix/child_process.h"
#include "platform/posix/parent_watch.h"

namespace procspec::platform::posix {
namespace {

// EX_SOFTWARE: the child could not run `child_main` to its end through no fault
// of the OS.
constexpr int kChildBugExitCode = 70;

// In the child: one line on stderr, then exit without running anything of the
// parent's.
[[noreturn]] void ExitChildWithMessage(std::string_view message) {
  FlushStandardStreams();
  const std::string line =
      absl::StrCat("procspec: child process ", CurrentPid(), ": ",
                   absl::string_view(message.data(), message.size()), "\n");
  (void)WriteAll(STDERR_FILENO, line);
  ExitImmediately(kChildBugExitCode);
}

// Runs in a thread of a child forked with die_with_parent: `watch` is a
// duplicate of the parent watch's read end, which reaches end of file when the
// parent is gone.
void KillSelfWhenParentEnds(int watch) {
  char byte;
  while (true) {
    const ssize_t got = read(watch, &byte, 1);
    if (got == 0 || (got < 0 && errno != EINTR)) break;
  }
  kill(getpid(), SIGKILL);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::Fork(
    const ForkOptions& options,
    absl::FunctionRef<int(ChildContext&)> child_main) {
  if (options.die_with_parent && !SupportsDieWithParent()) {
    return absl::UnimplementedError(
        absl::StrCat("backend ", std::string(name()),
                     " cannot kill a child when its parent dies"));
  }
  // Outside the lock: flushing may block on a full pipe.
  FlushStandardStreams();
  std::unique_lock<std::mutex> lock(internal::ForkMutex());
  absl::StatusOr<ForkPlumbing> plumbing = PrepareLocked(options);
  if (!plumbing.ok()) return plumbing.status();
  const Pid parent = CurrentPid();
  const pid_t pid = fork();
  if (pid < 0) return internal::ErrnoError(errno, "fork");
  if (pid == 0) RunChild(lock, parent, options, *plumbing, child_main);

  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      AdoptLocked(pid, *plumbing);
  // Nobody could ever wait for this child; do not leave it running or as a
  // zombie. Unless it is already gone (ESRCH: auto-reaped because SIGCHLD is
  // ignored), when its pid may name a stranger by now.
  if (!child.ok() && !absl::IsNotFound(child.status())) {
    kill(pid, SIGKILL);
    int wait_status;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  return child;
}

void PosixBackend::RunChild(std::unique_lock<std::mutex>& lock, Pid parent,
                            const ForkOptions& options, ForkPlumbing& plumbing,
                            absl::FunctionRef<int(ChildContext&)> child_main) {
  // The parent's descriptors for its other children and for its own parent
  // watch.
  internal::CloseRegisteredInChildLocked();
  plumbing.sentinel_read.reset();
  plumbing.watch_write.reset();
  // Kept open until this process exits, so that the parent's sentinel fires
  // then, and registered so that no child of this process holds it open longer.
  if (plumbing.sentinel_write.valid())
    internal::RegisterLocked(plumbing.sentinel_write.release());

  ChildContext context;
  if (options.die_with_parent) {
    if (absl::Status status = ArmDieWithParentLocked(parent, plumbing);
        !status.ok()) {
      ExitChildWithMessage(
          absl::StrCat("cannot watch the parent: ", status.ToString()));
    }
  }
  absl::StatusOr<std::unique_ptr<ParentWatch>> watch =
      WatchParentLocked(parent, plumbing);
  if (!watch.ok()) {
    ExitChildWithMessage(
        absl::StrCat("cannot watch the parent: ", watch.status().ToString()));
  }
  context.parent = *std::move(watch);
  lock.unlock();

  int code = kChildBugExitCode;
  try {
    code = child_main(context);
  } catch (const std::exception& error) {
    ExitChildWithMessage(absl::StrCat("uncaught exception: ", error.what()));
  } catch (...) {
    ExitChildWithMessage(
        "uncaught exception of a type not derived from std::exception");
  }
  FlushStandardStreams();
  ExitImmediately(code & 0xff);
}

absl::StatusOr<PipeEnds> PosixBackend::MakePipeLocked() {
  return internal::MakePosixPipeLocked();
}

absl::StatusOr<ForkPlumbing> PosixBackend::PrepareLocked(const ForkOptions&) {
  absl::StatusOr<PipeEnds> sentinel = MakePipeLocked();
  if (!sentinel.ok()) return sentinel.status();
  absl::StatusOr<PipeEnds> watch = MakePipeLocked();
  if (!watch.ok()) return watch.status();
  return ForkPlumbing{
      .sentinel_read = std::move(sentinel->read),
      .sentinel_write = std::move(sentinel->write),
      .watch_read = std::move(watch->read),
      .watch_write = std::move(watch->write),
  };
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::AdoptLocked(
    Pid child, ForkPlumbing& plumbing) {
  // The child's ends: only the child may hold them, or its sentinel would not
  // fire at its exit.
  plumbing.sentinel_write.reset();
  plumbing.watch_read.reset();
  return std::make_unique<PosixChildProcess>(
      child,
      internal::RegisteredHandle::AdoptLocked(
          std::move(plumbing.sentinel_read)),
      internal::RegisteredHandle::AdoptLocked(std::move(plumbing.watch_write)));
}

absl::Status PosixBackend::ArmDieWithParentLocked(Pid, ForkPlumbing& plumbing) {
  // POSIX has no "signal me when my parent dies"; a thread blocked on the
  // parent watch is the portable equivalent. It reads its own duplicate, so
  // child_main may close the ParentWatch.
  const int watch =
      fcntl(static_cast<int>(plumbing.watch_read.get()), F_DUPFD_CLOEXEC, 0);
  if (watch < 0) return internal::ErrnoError(errno, "fcntl(F_DUPFD_CLOEXEC)");
  // Kept for the life of this process; registered so that its own children do
  // not hold it.
  internal::RegisterLocked(watch);
  try {
    std::thread(KillSelfWhenParentEnds, watch).detach();
  } catch (const std::system_error& error) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start a thread: ", error.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ParentWatch>> PosixBackend::WatchParentLocked(
    Pid parent, ForkPlumbing& plumbing) {
  return std::make_unique<SentinelParentWatch>(
      parent,
      internal::RegisteredHandle::AdoptLocked(std::move(plumbing.watch_read)));
}

Backend& PosixBackendInstance() {
  static auto* backend = new PosixBackend();
  return *backend;
}

}  // namespace procspec::platform::posix
